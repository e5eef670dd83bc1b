"""The fork server's PID 1 waits for its worker or for the grader's lifeline, with or without
pidfd_open (kernels before 5.3 have none: it then looks every 20 ms)."""
import os
import sys
import time
from pathlib import Path

import pytest

import cs231n_lib.course

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux processes")


@pytest.fixture
def zygote(monkeypatch):
    # Loaded as the launcher loads it: by its own folder, beside sandbox_launch.
    monkeypatch.syspath_prepend(str(Path(cs231n_lib.course.__file__).parent))
    import sandbox_zygote
    return sandbox_zygote


def _child(lifeline_w, seconds, status):
    pid = os.fork()
    if pid == 0:
        os.close(lifeline_w)          # only the test (the grader) holds the lifeline
        time.sleep(seconds)
        os._exit(status)
    return pid


@pytest.mark.parametrize("pidfd", [True, False])
def test_the_worker_ending_and_the_lifeline_closing_are_both_seen(zygote, monkeypatch, pidfd):
    if not pidfd:
        def no_pidfd(pid):
            raise OSError(38, "Function not implemented")
        monkeypatch.setattr(os, "pidfd_open", no_pidfd)
    read, write = os.pipe()
    worker = _child(write, 0.2, 7)
    code = zygote._wait_for_either(worker, read)
    assert os.WIFEXITED(code) and os.WEXITSTATUS(code) == 7
    worker = _child(write, 30, 0)
    os.close(write)
    try:
        assert zygote._wait_for_either(worker, read) is None
        assert os.waitpid(worker, os.WNOHANG) == (0, 0)   # the lifeline ended it: still running
    finally:
        os.kill(worker, 9)
        os.waitpid(worker, 0)
        os.close(read)
