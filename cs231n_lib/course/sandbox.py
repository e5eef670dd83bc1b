"""Run a student's code in a separate, limited process (course.worker) and talk to it.

Limits per worker: a per-command timeout (then the process group is killed), an address-space
cap (a 20 GB allocation becomes a MemoryError), a file-size cap, output capped in bytes, its own
scratch directory as working directory, a scrubbed environment, and — when the grader runs as
root — an unprivileged user that cannot read the solutions or the gradebook.
"""
import json
import os
import pwd
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import bridge

DEFAULT_MEMORY_BYTES = 4 * 2**30
DEFAULT_OUTPUT_CAP = 64 * 2**10
FILE_SIZE_CAP = 64 * 2**20
MAX_MESSAGE_BYTES = 300 * 2**20
UNPRIVILEGED_USER = "nobody"


class WorkerDied(RuntimeError):
    """The worker process ended (crash, os._exit, kill) or stopped answering."""


class WorkerTimeout(RuntimeError):
    """A command took longer than its time limit; the worker was killed."""


@dataclass
class Limits:
    timeout: float = 60.0            # seconds per cell or per function call
    memory_bytes: int = DEFAULT_MEMORY_BYTES
    output_cap: int = DEFAULT_OUTPUT_CAP
    drop_privileges: bool = True     # only possible when running as root


def _unprivileged_ids():
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def isolation_level(limits):
    """A short description of how isolated workers are on this machine."""
    if limits.drop_privileges and _unprivileged_ids() and _namespaces_work():
        return (f"private mount namespace (solutions, gradebook and submissions hidden), "
                f"user {UNPRIVILEGED_USER!r}")
    return "same user as the grader (no isolation: run the grader as root on Linux to get it)"


# ----------------------------------------------------------------------------- isolation (Linux)
CLONE_NEWNS = 0x00020000
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18


def _libc():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    return ctypes, libc


def _mount(source, target, fstype, flags, data=None):
    ctypes, libc = _libc()
    enc = lambda v: v.encode() if v is not None else None  # noqa: E731
    if libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source} on {target}: {os.strerror(errno)}")


def _closed_ancestors(path):
    """(ancestor, child) pairs where `ancestor` denies others traversal on the way to `path`."""
    path = Path(os.path.realpath(path))
    pairs = []
    for ancestor, child in zip(path.parents, [path] + list(path.parents)):
        if not (os.stat(ancestor).st_mode & 0o001):
            pairs.append((ancestor, child))
    return list(reversed(pairs))  # outermost first


@dataclass
class Isolation:
    """What a worker's private mount namespace hides and what it must still reach."""
    hide: list            # directories replaced by an empty tmpfs (solutions, gradebook, ...)
    reach: list           # paths the unprivileged user must still read (the interpreter)
    stage: Path           # empty directory for temporary bind mounts
    scratch: Path
    ids: tuple

    def apply(self):
        """In the child, before exec: new mount namespace, hide, re-expose, drop root."""
        ctypes, libc = _libc()
        if libc.unshare(CLONE_NEWNS) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS) failed")
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        reopened = set()
        for i, (ancestor, child) in enumerate(
                pair for target in self.reach for pair in _closed_ancestors(target)):
            if ancestor in reopened:
                continue
            reopened.add(ancestor)
            # Cover the closed directory with an open, empty one holding only the needed child.
            keep = self.stage / f"keep{i}"
            keep.mkdir(exist_ok=True)
            _mount(str(child), str(keep), None, MS_BIND | MS_REC)
            _mount("tmpfs", str(ancestor), "tmpfs", 0, "mode=755,size=1m")
            child.mkdir()
            _mount(str(keep), str(child), None, MS_BIND | MS_REC)
        for directory in self.hide:
            if Path(directory).is_dir():
                _mount("tmpfs", str(directory), "tmpfs", 0, "mode=000,size=1m")
        uid, gid = self.ids
        _mount("tmpfs", str(self.scratch), "tmpfs", 0,
               f"mode=700,uid={uid},gid={gid},size={FILE_SIZE_CAP * 2}")
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)


_NAMESPACES_OK = None


def _namespaces_work():
    """Probe once whether this machine lets us isolate workers (root on Linux, mounts allowed)."""
    global _NAMESPACES_OK
    if _NAMESPACES_OK is None:
        ids = _unprivileged_ids()
        if not ids or not sys.platform.startswith("linux"):
            _NAMESPACES_OK = False
        else:
            with tempfile.TemporaryDirectory(prefix="course-probe-") as tmp:
                os.chmod(tmp, 0o755)
                iso = Isolation(hide=[], reach=[sys.executable], stage=Path(tmp) / "stage",
                                scratch=Path(tmp) / "scratch", ids=ids)
                iso.stage.mkdir()
                iso.scratch.mkdir()
                try:
                    subprocess.run([os.path.realpath(sys.executable), "-c", "import numpy"],
                                   preexec_fn=iso.apply, check=True, timeout=60,
                                   env={"PYTHONPATH": site_packages(), "HOME": "/"},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    _NAMESPACES_OK = True
                except (subprocess.SubprocessError, OSError):
                    _NAMESPACES_OK = False
    return _NAMESPACES_OK


def site_packages():
    """The grader's site-packages (numpy, matplotlib), made visible to workers via PYTHONPATH."""
    import site
    return os.pathsep.join(site.getsitepackages())


TRIPWIRE = """def {name}(*args, **kwargs):
    raise ReferenceUsed("{name} calls the course's reference implementation "
                        "{module}.{name} instead of implementing it: this earns no points")
"""
TRIPWIRE_CLASS = """

class ReferenceUsed(RuntimeError):
    \"\"\"Raised when graded code calls a reference implementation it should replace.\"\"\"
"""


class LibraryCopy:
    """A private copy of cs231n_lib for workers, so they need no path into the repository.

    `tripwires` lists (module, function) references that the graded exercises replace: in the
    copy their bodies are removed and calling them raises ReferenceUsed, so an answer that
    delegates to the reference (by import, alias or getattr) earns nothing.
    """

    def __init__(self, tripwires=()):
        import cs231n_lib
        self.dir = Path(tempfile.mkdtemp(prefix="course-lib-"))
        package = self.dir / "cs231n_lib"
        source = Path(cs231n_lib.__file__).parent
        shutil.copytree(source, package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        # The embedded datasets sit beside the package (data/), where cs231n_lib.data looks.
        shutil.copytree(source.parent / "data", self.dir / "data",
                        ignore=shutil.ignore_patterns("*.py", "*.md"), dirs_exist_ok=True)
        by_module = {}
        for module, name in tripwires:
            by_module.setdefault(module, set()).add(name)
        for module, names in by_module.items():
            _install_tripwires(package.parent / (module.replace(".", "/") + ".py"), module, names)
        import compileall
        compileall.compile_dir(str(package), quiet=1)  # workers then import without compiling
        for path in [self.dir, *self.dir.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def _install_tripwires(path, module, names):
    """Replace the named top-level functions of a module file by ReferenceUsed tripwires."""
    import ast
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    spans = []
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            spans.append((first - 1, node.end_lineno, node.name))
    for first, last, name in sorted(spans, reverse=True):
        lines[first:last] = [TRIPWIRE.format(name=name, module=module)]
    path.write_text("".join(lines) + TRIPWIRE_CLASS)


def _limit_child(limits):
    """Runs in the child between fork and exec: resource limits."""
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_CAP, FILE_SIZE_CAP))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-large write fails instead of killing


class Worker:
    """One student process. exec() runs a cell, call() calls a function on plain data."""

    def __init__(self, library, limits=None, hide=()):
        self.limits = limits or Limits()
        self.library = library
        self.base = Path(tempfile.mkdtemp(prefix="course-student-"))
        os.chmod(self.base, 0o755)
        self.scratch = self.base / "scratch"
        self.proc = None
        self._buffer = b""
        self.isolation = None
        if self.limits.drop_privileges and _unprivileged_ids() and _namespaces_work():
            self.isolation = Isolation(hide=[Path(h) for h in hide], reach=[sys.executable],
                                       stage=self.base / "stage", scratch=self.scratch,
                                       ids=_unprivileged_ids())

    def _env(self):
        # Scrubbed: nothing from the grader's environment (no paths, tokens or grading flags).
        return {
            "PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin",
            "HOME": str(self.scratch), "TMPDIR": str(self.scratch),
            "PYTHONPATH": str(self.library.dir) + os.pathsep + site_packages(),
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(self.scratch / ".matplotlib"),
            "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "COURSE_OUTPUT_CAP": str(self.limits.output_cap), "LANG": "C.UTF-8",
        }

    def _prepare_child(self):
        # Runs in the child after fork: limits first (as root), then the namespace and setuid.
        _limit_child(self.limits)
        if self.isolation:
            self.isolation.apply()
            os.chdir(self.scratch)

    def start(self):
        """(Re)start the worker process; waits until it is ready."""
        self.kill()
        for sub in ("scratch", "stage"):
            (self.base / sub).mkdir(exist_ok=True)
        read_fd, write_fd = os.pipe()
        # The base interpreter (not the venv's symlink): inside the namespace it is re-exposed.
        python = os.path.realpath(sys.executable) if self.isolation else sys.executable
        try:
            self.proc = subprocess.Popen(
                [python, "-m", "cs231n_lib.course.worker", str(write_fd)],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                cwd=self.base, env=self._env(), pass_fds=(write_fd,), start_new_session=True,
                preexec_fn=self._prepare_child)
        finally:
            os.close(write_fd)
        self._answers = read_fd
        self._buffer = b""
        self._receive(timeout=max(30.0, self.limits.timeout))  # the "ready" line
        return self

    def _send(self, message):
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerDied(self._death_reason()) from exc

    def _receive(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise WorkerTimeout(f"no answer within {timeout:.0f} s")
            ready, _, _ = select.select([self._answers], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                reason = self._death_reason()
                self.kill()
                raise WorkerDied(reason)
            self._buffer += chunk
            if len(self._buffer) > MAX_MESSAGE_BYTES:
                self.kill()
                raise WorkerDied(f"sent more than {MAX_MESSAGE_BYTES} bytes in one answer")
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError as exc:
            raise WorkerDied("sent an answer that is not valid JSON") from exc

    def _death_reason(self):
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "stopped answering"
        if code < 0:
            return f"the Python process was killed by signal {signal.Signals(-code).name}"
        return f"the Python process exited with status {code}"

    def exec(self, code, timeout=None):
        """Run one cell; returns the worker's reply dict (ok, output, error, message)."""
        self._send({"op": "exec", "code": code})
        return self._receive(timeout or self.limits.timeout)

    def call(self, fn_name, args, kwargs, timeout=None):
        """Call fn_name(*args, **kwargs) in the student's namespace; plain data in and out."""
        self._send({"op": "call", "fn": fn_name, "args": bridge.encode(list(args)),
                    "kwargs": bridge.encode(dict(kwargs))})
        return self._receive(timeout or self.limits.timeout)

    def kill(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        for stream in (self.proc.stdin,):
            try:
                stream.close()
            except OSError:
                pass
        try:
            os.close(self._answers)
        except OSError:
            pass

    def close(self):
        self.kill()
        shutil.rmtree(self.base, ignore_errors=True)
