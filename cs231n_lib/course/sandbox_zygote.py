"""The fork server inside the sandbox: student workers are forked, never started from scratch.

Run by course/sandbox_launch.py after it has built the sandbox (namespaces, new root), never
imported by the grader. Standard library only at import time: it is loaded before the new root
hides the checkout.

    base       imports numpy, matplotlib.pyplot, tqdm (what every notebook's set-up imports),
               once per grading process; then serves "spawn" requests on its control socket.
    assignment forked from the base, one per (library copy, set-up cells): shows only its own
               trip-wired library copy, imports it and runs the notebook's leading set-up cells
               (the course's own code: loading MNIST, imports) once.
    student    forked from the assignment process for every submission, never reused: new
               mount, PID, IPC, UTS and network namespaces, a fresh scratch tmpfs and /proc, no
               privileges, its limits; then the worker answers the grader (course/worker.py).

So a submission pays a fork (milliseconds) instead of an interpreter start, the imports and the
set-up cells (about a second per notebook). Nothing a student's process does reaches another's:
each is forked from a process that never ran student code, with copy-on-write memory, its own
scratch and namespaces, and no file descriptor but its two pipes.

A spawn request is a JSON message on the control socket (SOCK_SEQPACKET) with four file
descriptors: commands (read), answers (write), lifeline (read) and status (write). The student's
PID 1 kills its namespace when the lifeline's other end closes (the grader killed the worker or
died) and writes the worker's wait status on the status pipe when the worker ends.
"""
import ctypes
import json
import os
import select
import socket
import sys

import sandbox_launch as launch

MAX_MESSAGE = 1 << 20
MAX_ASSIGNMENTS = 12       # assignment processes kept per base (least recently used go)
CAP_LAST = 63
PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
O_PATH = getattr(os, "O_PATH", 0o10000000)
PR_SET_NAME = 15
WORKER_NAME = "course-worker"    # what ps shows for a process running student code


def name_process(name):
    """The process's name in ps and /proc/PID/comm (the command line stays the launcher's)."""
    launch.libc.prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)


# ----------------------------------------------------------------------------- helpers

def _error_line(fd, message):
    """Tell the grader on `fd` why there will be no worker (the launcher's SandboxError line)."""
    try:
        launch.report({"answer_fd": fd}, message)
    except OSError:   # the grader is gone
        pass


def _close(*fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _reap():
    """Collect every ended child (forked helpers and, as PID 1, orphans) without blocking."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _receive(sock):
    """One request and its file descriptors, or (None, []) when the other side is gone."""
    try:
        data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 8)
    except OSError:
        return None, []
    if not data:
        _close(*fds)
        return None, []
    return json.loads(data), fds


def _serve_forever(sock, handle):
    """Call handle(request, fds) for every request on sock; return when it closes."""
    while True:
        _reap()
        ready, _, _ = select.select([sock], [], [], 1.0)
        if not ready:
            continue
        request, fds = _receive(sock)
        if request is None:
            return
        try:
            handle(request, fds)
        except Exception as exc:   # e.g. fork failed: this request fails, the server goes on
            if len(fds) > 1:
                _error_line(fds[1], f"could not start the worker: {exc}")
        finally:
            _close(*fds)


def drop_capabilities():
    """No capability left (in a user namespace the process keeps the grader's uid)."""
    libc = launch.libc
    for cap in range(CAP_LAST + 1):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)      # EINVAL past the kernel's last cap
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()   # _LINUX_CAPABILITY_VERSION_3
    launch._check(libc.capset(ctypes.byref(header), data), "capset")


# ----------------------------------------------------------------------------- base

class Base:
    """The first process: common imports, then one assignment process per library copy."""

    def __init__(self, spec, control):
        self.spec, self.control = spec, control
        self.assignments = {}      # key -> (pid, socket)

    def handle_all(self):
        _serve_forever(self.control, self.handle)

    def handle(self, request, fds):
        key = json.dumps([request["library"], request["prefix"]])
        for attempt in range(2):
            if key not in self.assignments:
                self._start_assignment(key, request)
            pid, sock = self.assignments.pop(key)
            self.assignments[key] = (pid, sock)          # most recently used last
            try:
                socket.send_fds(sock, [json.dumps(request).encode()], fds)
                return
            except OSError as exc:   # it died (memory?): start it again once
                self._stop(key)
                if attempt:
                    _error_line(fds[1], f"the assignment's fork server died: {exc}")

    def _start_assignment(self, key, request):
        while len(self.assignments) >= MAX_ASSIGNMENTS:
            self._stop(next(iter(self.assignments)))
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                # Nothing of the base's: not its control socket, the other assignments' or
                # the pipes of the request being forwarded (a worker's end would stay open).
                _close_all_but({theirs.fileno()})
                Assignment(self.spec, request, theirs).run()
            finally:
                os._exit(0)
        theirs.close()
        self.assignments[key] = (pid, ours)

    def _stop(self, key):
        pid, sock = self.assignments.pop(key)
        sock.close()        # it sees the end of its socket and exits; its children die with it
        _reap()


def serve(spec):
    """The base process's life: called by sandbox_launch once the sandbox is built."""
    control = socket.socket(fileno=spec["answer_fd"])
    zygote = spec["zygote"]
    os.environ.clear()
    os.environ.update(spec["env"])
    sys.argv = ["course-worker"]
    sys.dont_write_bytecode = True
    # Started without site (-S) so the launcher is quick; the worker gets what site gives a
    # normal interpreter (site-packages, .pth files, the exit/quit/help builtins).
    import site
    site.main()
    launcher_dir = os.path.dirname(os.path.abspath(launch.__file__))
    sys.path[:] = [p for p in sys.path if p != launcher_dir]   # out of sight in the sandbox
    sys.path[:0] = [p for p in zygote["sys_path"] if p not in sys.path]
    os.makedirs(spec["env"]["MPLCONFIGDIR"], exist_ok=True)
    _copy_font_cache(zygote.get("font_cache"), spec["env"]["MPLCONFIGDIR"])
    import importlib
    for name in zygote["preload"]:
        try:
            importlib.import_module(name)
        except Exception:   # a missing package fails later, in the cell that needs it
            pass
    name_process("course-server")
    launch.report(spec, None)
    Base(spec, control).handle_all()


def _copy_font_cache(source, target):
    import shutil
    if source and os.path.isdir(source):
        for name in os.listdir(source):
            if name.startswith("fontlist-") and name.endswith(".json"):
                shutil.copyfile(os.path.join(source, name), os.path.join(target, name))


# ----------------------------------------------------------------------------- assignment

class Assignment:
    """One library copy and one notebook's set-up cells, ready to fork students from."""

    def __init__(self, spec, request, sock):
        self.spec, self.sock = spec, sock
        self.library, self.prefix = request["library"], request["prefix"]
        self.isolated = spec["mode"] != "none"
        self.error = None
        self.namespace, self.replies = None, []

    def run(self):
        name_process("course-assign")
        launch.die_with(None)      # without a PID namespace nothing else would end it
        try:
            if self.isolated:
                launch.unshare(["mount"], os.getuid(), os.getgid())
                show_only(self.library, self.spec)
            sys.path.insert(0, self.library)
            # What a student's subprocess would see, as when workers were started one by one.
            os.environ["PYTHONPATH"] = os.pathsep.join(
                [self.library] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
            from cs231n_lib.course import worker
            self.worker = worker
            self.namespace, self.replies = worker.run_prefix(self.prefix)
        except Exception as exc:   # reported to every student forked from here
            self.error = f"the course library could not be prepared: {type(exc).__name__}: {exc}"
        _serve_forever(self.sock, self.spawn)

    def spawn(self, request, fds):
        if self.error:
            _error_line(fds[1], self.error)
            return
        pid = os.fork()
        if pid == 0:
            try:
                self.sock.close()
                Student(self, request, fds).run()
            except BaseException as exc:   # noqa: BLE001 - whatever happens, never return
                _error_line(fds[1], exc)
            finally:
                os._exit(125)


def show_only(library, spec):
    """In this mount namespace, the shelf of library copies shows only `library`.

    The base sees every copy (one per assignment, each with other trip-wires): a student of
    one assignment must not import another's copy, where their exercise is not trip-wired."""
    shelf = os.path.dirname(library)
    if not os.path.isdir("/proc/self/fd"):     # no /proc (no PID namespace): mask the others
        for name in os.listdir(shelf):
            other = os.path.join(shelf, name)
            if other != library and os.path.isdir(other):
                launch.mount("tmpfs", other, "tmpfs", launch.MS_NOSUID | launch.MS_NODEV,
                             "mode=0755,size=4k")
                launch.remount_readonly(other)
        return
    fd = os.open(library, O_PATH | os.O_DIRECTORY)
    try:
        launch.mount("tmpfs", shelf, "tmpfs", launch.MS_NOSUID | launch.MS_NODEV,
                     "mode=0755,size=64k")
        os.makedirs(library)
        launch.mount(f"/proc/self/fd/{fd}", library, None, launch.MS_BIND | launch.MS_REC)
    finally:
        os.close(fd)
    launch.remount_readonly(library)
    launch.remount_readonly(shelf)


# ----------------------------------------------------------------------------- student

class Student:
    """Forked for one submission: its own namespaces, scratch, /proc, limits and no privileges."""

    def __init__(self, assignment, request, fds):
        self.assignment, self.request = assignment, request
        self.commands, self.answers, self.lifeline, self.status = fds
        self.spec = assignment.spec

    def run(self):
        name_process("course-student")
        keep = {self.commands, self.answers, self.lifeline, self.status}
        _close_all_but(keep)
        spec = self.spec
        launch.die_with(None)
        if not self.assignment.isolated:
            self._own_scratch()
            self._start_worker(init=False)
            return
        names = [n for n in spec["namespaces"] if n not in ("user",)]
        launch.unshare(names, os.getuid(), os.getgid())
        if "pid" not in names:
            self._fresh_mounts(with_proc=False)
            self._drop_privileges()
            self._start_worker(init=False)
            return
        init = os.fork()
        if init:
            # Outside the new PID namespace: only waits, holding nothing of the student's.
            _close(*keep)
            os.waitpid(init, 0)
            os._exit(0)
        launch.die_with(None)
        name_process("course-init")
        self._fresh_mounts(with_proc=True)
        self._drop_privileges()
        self._start_worker(init=True)

    def _own_scratch(self):
        """Without namespaces: a scratch folder of its own (removed when the worker ends)."""
        import tempfile
        scratch = tempfile.mkdtemp(prefix="worker-", dir=self.spec["cwd"])
        os.environ.update(HOME=scratch, TMPDIR=scratch,
                          MPLCONFIGDIR=os.path.join(scratch, ".matplotlib"))
        tempfile.tempdir = None
        self.scratch = scratch

    def _fresh_mounts(self, with_proc):
        scratch = self.spec["cwd"]
        uid, gid = self._ids()
        size = self.spec["scratch_bytes"]
        launch.mount("tmpfs", scratch, "tmpfs", launch.MS_NOSUID | launch.MS_NODEV,
                     f"mode=0700,uid={uid},gid={gid},size={size}")
        if with_proc:
            launch.mount("proc", "/proc", "proc", launch.MS_NOSUID | launch.MS_NODEV | launch.MS_NOEXEC)

    def _ids(self):
        if self.spec["mode"] == "root":
            return self.spec["uid"], self.spec["gid"]
        return os.getuid(), os.getgid()

    def _drop_privileges(self):
        if self.spec["mode"] == "root":
            launch.drop_privileges(self.spec)
        else:
            drop_capabilities()
        launch.die_with(None)              # setuid cleared it

    def _start_worker(self, init):
        launch.report(dict(self.spec, answer_fd=self.answers), None)
        worker = os.fork()
        if worker == 0:
            if not init:
                os.setpgid(0, 0)   # its own process group, killed as a whole when it ends
            self._run_worker()
        _close(self.commands, self.answers)
        watch(worker, self.lifeline, self.status, kill_group=not init,
              remove=getattr(self, "scratch", None))

    def _run_worker(self):
        try:
            launch.die_with(None)
            name_process(WORKER_NAME)
            _close(self.lifeline, self.status)
            launch.set_limits(self.request["limits"])
            launch._check(launch.libc.prctl(launch.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
                          "prctl(NO_NEW_PRIVS)")
            os.chdir(getattr(self, "scratch", self.spec["cwd"]))
            import io
            import signal
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
                signal.signal(sig, signal.SIG_DFL)
            os.dup2(self.commands, 0)
            _close(self.commands)
            sys.stdin = io.StringIO("")    # student code must not read the command stream
            assignment = self.assignment
            assignment.worker.serve(0, self.answers, assignment.namespace, assignment.replies,
                                    output_cap=self.request.get("output_cap"))
        except BaseException as exc:   # noqa: BLE001 - e.g. a limit the kernel refused
            _error_line(self.answers, f"the worker could not start: {exc}")
        finally:
            os._exit(0)


def _close_all_but(keep):
    """Close every file descriptor but `keep` (and 0-2): the worker gets only its pipes."""
    try:
        names = os.listdir("/proc/self/fd")
        fds = sorted(int(n) for n in names)
    except OSError:
        fds = range(3, 1024)
    for fd in fds:
        if fd > 2 and fd not in keep:
            _close(fd)


def watch(worker, lifeline, status, kill_group, remove=None):
    """Wait for the worker's end (report its status) or the lifeline's (kill it); then exit.

    As the PID namespace's init, exiting makes the kernel kill everything in it."""
    code = _wait_for_either(worker, lifeline)
    if kill_group:      # no PID namespace: the worker's process group goes instead
        _kill_group(worker)
    if remove:
        import shutil
        shutil.rmtree(remove, ignore_errors=True)
    if code is not None:
        try:
            os.write(status, str(code).encode())
        except OSError:
            pass
    os._exit(0)


def _wait_for_either(worker, lifeline):
    """The worker's wait status once it ends, or None once the lifeline closes first."""
    try:
        pidfd = os.pidfd_open(worker)
    except (AttributeError, OSError):   # a kernel before 5.3: look every 20 ms instead
        pidfd = None
    while True:
        watched = [lifeline] if pidfd is None else [lifeline, pidfd]
        ready, _, _ = select.select(watched, [], [], None if pidfd is not None else 0.02)
        if pidfd is None or pidfd in ready:
            pid, code = os.waitpid(worker, 0 if pidfd is not None else os.WNOHANG)
            if pid:
                return code
        if lifeline in ready:
            return None


def _kill_group(pgid):
    import signal
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
