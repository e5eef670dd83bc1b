"""Run a student's code in a separate, limited, isolated process (course.worker) and talk to it.

Limits per worker: a per-command timeout (then the process group is killed), an address-space
cap (a 20 GB allocation becomes a MemoryError), a file-size cap, output capped in bytes, a
scrubbed environment, and death with the grader (PR_SET_PDEATHSIG).

Isolation (Linux namespaces, set up by course/sandbox_launch.py, same code as root or not): the
worker runs in a new root that holds only read-only system directories, the Python environment
(site-packages read-only), its own trip-wired copy of the library and an empty scratch tmpfs —
nothing of the course (no checkout, .git, solutions/, original cs231n_lib/, work folder,
gradebook, submissions, home). It has its own PID namespace (sees only itself; when its init
dies the kernel kills everything in it) and network namespace (no network). As root it also
runs as user `nobody`; as an ordinary user it runs in a user namespace without capabilities.
Python and ctypes rather than bubblewrap: nothing to install (an instructor on a JupyterHub
cannot apt-get), and as root the worker can drop to a real unprivileged user after the mounts.
"""
import importlib.util
import json
import marshal
import os
import pwd
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import bridge

DEFAULT_MEMORY_BYTES = 4 * 2**30
DEFAULT_OUTPUT_CAP = 64 * 2**10
FILE_SIZE_CAP = 64 * 2**20
MAX_MESSAGE_BYTES = 300 * 2**20
UNPRIVILEGED_USER = "nobody"
LAUNCHER = Path(__file__).with_name("sandbox_launch.py")
OPTIONAL_NAMESPACES = ("pid", "net", "ipc", "uts")


class WorkerDied(RuntimeError):
    """The worker process ended (crash, os._exit, kill) or stopped answering."""


class WorkerTimeout(RuntimeError):
    """A command took longer than its time limit; the worker was killed."""


class GradingCancelled(BaseException):
    """The task was cancelled (e.g. a Dask future); the worker is killed and grading stops.

    A BaseException so that no `except Exception` on the way turns it into a grade."""


@dataclass
class Limits:
    timeout: float = 60.0            # seconds per cell or per function call
    memory_bytes: int = DEFAULT_MEMORY_BYTES
    output_cap: int = DEFAULT_OUTPUT_CAP
    # "auto": the strongest isolation this machine allows (none if it allows none);
    # "required": refuse to start a worker without namespaces; "none": no isolation.
    isolation: str = "auto"


# ----------------------------------------------------------------------------- isolation mode

@dataclass
class Mode:
    """The isolation this machine gives workers, found by starting one (probe())."""
    kind: str                                   # "root" | "user" | "none"
    namespaces: list = field(default_factory=list)
    reason: str = ""                            # why weaker than wanted, if it is

    @property
    def isolated(self):
        return self.kind != "none"

    def describe(self):
        if not self.isolated:
            return (f"NONE - workers run as {_user_name()} with only time, memory and output "
                    f"limits; student code can read the course files and change the gradebook"
                    + (f" ({self.reason})" if self.reason else ""))
        who = (f"user {UNPRIVILEGED_USER!r}" if self.kind == "root"
               else f"an unprivileged user namespace as {_user_name()}")
        missing = [n for n in OPTIONAL_NAMESPACES if n not in self.namespaces]
        text = (f"namespaces ({', '.join(self.namespaces)}) with {who}: each worker sees only "
                "its scratch folder, its library copy and read-only Python")
        if "net" in self.namespaces:
            text += "; no network"
        if "pid" in self.namespaces:
            text += "; no other processes"
        if missing:
            text += f" [weaker: no {', '.join(missing)} namespace: {self.reason}]"
        return text


def _user_name():
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid {os.getuid()}"


def worker_ids(mode):
    """(uid, gid) student code runs as: `nobody` as root, else the grader's own."""
    return _unprivileged_ids() if mode.kind == "root" else (os.getuid(), os.getgid())


def _unprivileged_ids():
    try:
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


_PROBED = None


def probe():
    """The strongest isolation this machine allows, found once per process by trying it."""
    global _PROBED
    if _PROBED is None:
        _PROBED = _probe()
    return _PROBED


def use_probed(mode):
    """Take the isolation mode another process of this machine found (a pool's parent)."""
    global _PROBED
    _PROBED = mode


def _probe():
    if not sys.platform.startswith("linux"):
        return Mode("none", reason="namespaces need Linux")
    kind = "root" if os.geteuid() == 0 else "user"
    base = ["mount"] if kind == "root" else ["user", "mount"]
    tries = [list(OPTIONAL_NAMESPACES), ["pid", "net"], ["pid"], ["net"], []]
    if kind == "user":
        # Without a PID namespace a worker running as the grader's user could ptrace the
        # grader: that is no isolation.
        tries = [t for t in tries if "pid" in t]
    first_error = ""
    for optional in tries:
        mode = Mode(kind, base + optional)
        error = _try_mode(mode)
        if error is None:
            mode.reason = first_error
            return mode
        first_error = first_error or error
    return Mode("none", reason=f"the kernel refused: {first_error}")


def _try_mode(mode):
    """None if a worker-like process starts in `mode` and imports numpy, else the error."""
    with tempfile.TemporaryDirectory(prefix="course-probe-") as tmp:
        os.chmod(tmp, 0o755)
        library = type("NoLibrary", (), {"dir": Path(tmp) / "lib"})()
        library.dir.mkdir()
        worker = Worker(library, Limits(isolation="none"), base=Path(tmp))
        worker.mode = mode
        try:
            worker.start(program=["-c", "import numpy, sys; sys.stdout.write('ok')"],
                         expect_ready=False)
            worker.proc.wait(timeout=60)
            if worker.proc.returncode != 0:
                return f"the test process exited with status {worker.proc.returncode}"
            return None
        except (WorkerDied, WorkerTimeout, OSError, subprocess.SubprocessError) as exc:
            return str(exc)
        finally:
            worker.close()


_CANCEL = threading.local()


@contextmanager
def cancellable(check):
    """Workers started in this thread inside the block stop waiting (and die) once check()."""
    previous = getattr(_CANCEL, "check", None)
    _CANCEL.check = check
    try:
        yield
    finally:
        _CANCEL.check = previous


def die_with_parent():
    """SIGKILL this process when its parent dies (a grading pool process, so that a killed
    `course grade --jobs N` leaves no pool process, hence no worker, behind)."""
    import ctypes
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG
        if os.getppid() == 1:
            os._exit(1)


def isolation_level(limits=None):
    """One line saying how isolated workers are (what `course grade` prints)."""
    limits = limits or Limits()
    if limits.isolation == "none":
        return Mode("none", reason="--no-isolation").describe()
    return probe().describe()


def site_packages():
    """Directories of installed packages the grader uses (numpy, matplotlib, ...).

    The sys.path directories that hold installed distributions (named site-packages or
    dist-packages, or holding *.dist-info), wherever .pth files or PYTHONPATH put them; so
    never the current directory, the standard library (bound with the interpreter) or the
    course checkout (an editable install's source, tests/)."""
    import site
    dirs = []
    for entry in [*sys.path, *site.getsitepackages()]:
        real = os.path.realpath(entry) if entry else ""
        if real and real not in dirs and _holds_packages(real):
            dirs.append(real)
    return os.pathsep.join(dirs)


def _holds_packages(directory):
    if not os.path.isdir(directory):
        return False
    if os.path.basename(directory) in ("site-packages", "dist-packages"):
        return True
    return any(name.endswith(".dist-info") for name in os.listdir(directory))


def _hidden_paths(extra):
    """What must not show through a bound tree: the course, the home folder, ``extra``."""
    from . import paths
    candidates = [paths.ROOT, Path.home(), *map(Path, extra)]
    return sorted({os.path.realpath(p) for p in candidates if os.path.exists(p)})


def _under(path, parent):
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def layout(library_dir, scratch, ids, hide=()):
    """The worker's whole filesystem, as entries for sandbox_launch.build_root."""
    entries, bound = [], []

    def bind(source, readonly=True):
        real = os.path.realpath(source)
        if os.path.exists(real) and not any(_under(real, b) for b in bound if os.path.isdir(b)):
            entries.append({"kind": "bind", "source": real, "path": real, "readonly": readonly})
            bound.append(real)

    uid, gid = ids
    size = FILE_SIZE_CAP * 2
    # /tmp first: the library copy and the scratch folder usually live below it. Read-only:
    # every worker a fork server starts shares its /tmp, so only the scratch folder (a fresh
    # tmpfs per worker, also TMPDIR and HOME) is writable, and nothing passes between students.
    entries.append({"kind": "tmpfs", "path": "/tmp", "options": "mode=0755,size=64k",
                    "readonly": True})
    for name in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = "/" + name
        if os.path.islink(path):
            entries.append({"kind": "symlink", "path": path, "target": os.readlink(path)})
        elif os.path.isdir(path):
            bind(path)
    for name in ("ld.so.cache", "ld.so.conf", "localtime", "nsswitch.conf"):
        bind("/etc/" + name)
    # Masks first where the course or home lies inside a bound tree (e.g. a checkout under
    # /usr/local); the Python environment is bound after, so it shows even if inside them.
    for path in _hidden_paths(hide):
        if any(_under(path, b) for b in bound):
            entries.append({"kind": "tmpfs", "path": path, "options": "mode=0755,size=4k",
                            "readonly": True})
    bind(sys.base_prefix)
    bind(os.path.dirname(os.path.realpath(sys.executable)))
    for directory in site_packages().split(os.pathsep):
        bind(directory)
        # A non-editable install of the course library: never readable by path.
        original = os.path.join(os.path.realpath(directory), "cs231n_lib")
        if os.path.isdir(original):
            entries.append({"kind": "tmpfs", "path": original, "options": "mode=0755,size=4k",
                            "readonly": True})
    bind(str(library_dir))
    entries.append({"kind": "tmpfs", "path": "/dev", "options": "mode=0755,size=64k",
                    "readonly": True})
    for device in ("null", "zero", "full", "random", "urandom"):
        entries.append({"kind": "bind", "source": "/dev/" + device, "path": "/dev/" + device,
                        "readonly": False})
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        entries.append({"kind": "symlink", "path": "/dev/" + name, "target": target})
    entries.append({"kind": "proc", "path": "/proc"})
    entries.append({"kind": "tmpfs", "path": str(scratch),
                    "options": f"mode=0700,uid={uid},gid={gid},size={size}"})
    return entries


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

    Copies live on a shelf (a folder per grading process, or the one the pipeline hands its
    pool processes): one compiled pristine copy, and per set of trip-wires a tree of hard links
    to it in which only the trip-wired modules are new files. Making a copy then takes
    milliseconds instead of a copy and a compilation of the whole package.
    """

    def __init__(self, tripwires=(), shelf=None):
        shelf = Path(shelf) if shelf else default_shelf()
        pristine = _pristine_copy(shelf)
        self.dir = Path(tempfile.mkdtemp(prefix="lib-", dir=shelf))
        _link_tree(pristine, self.dir)
        by_module = {}
        for module, name in tripwires:
            by_module.setdefault(module, set()).add(name)
        for module, names in by_module.items():
            _install_tripwires(self.dir / (module.replace(".", "/") + ".py"), module, names)
        os.chmod(self.dir, 0o755)

    @classmethod
    def existing(cls, directory):
        """A copy another process made (the pipeline's, for its pool processes); not ours to
        clean up."""
        copy = cls.__new__(cls)
        copy.dir = Path(directory)
        copy.cleanup = lambda: None
        return copy

    @property
    def shelf(self):
        return self.dir.parent

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


MATPLOTLIB_CACHE = "matplotlib-cache"
PRISTINE = "pristine"
_SHELF = {}
_SHELF_LOCK = threading.Lock()


def default_shelf():
    """This process's shelf of library copies (removed when the process ends)."""
    with _SHELF_LOCK:
        if "dir" not in _SHELF:
            shelf = Path(tempfile.mkdtemp(prefix="course-libs-"))
            os.chmod(shelf, 0o755)
            _SHELF["dir"] = shelf
            import atexit
            atexit.register(shutil.rmtree, shelf, ignore_errors=True)
        return _SHELF["dir"]


def _pristine_copy(shelf):
    """shelf/pristine: the library and its data, compiled, read-only; made once per shelf."""
    target = shelf / PRISTINE
    with _SHELF_LOCK:
        if not target.exists():
            import cs231n_lib
            building = Path(tempfile.mkdtemp(prefix=".building-", dir=shelf))
            source = Path(cs231n_lib.__file__).parent
            shutil.copytree(source, building / "cs231n_lib",
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            # The embedded datasets sit beside the package (data/), where cs231n_lib.data looks.
            shutil.copytree(source.parent / "data", building / "data",
                            ignore=shutil.ignore_patterns("*.py", "*.md"), dirs_exist_ok=True)
            import compileall
            compileall.compile_dir(str(building / "cs231n_lib"), quiet=1)  # workers never compile
            _add_font_cache(building / MATPLOTLIB_CACHE)
            for path in [building, *building.rglob("*")]:
                os.chmod(path, 0o755 if path.is_dir() else 0o644)
            try:
                os.rename(building, target)
            except OSError:   # another process sharing the shelf made it first
                shutil.rmtree(building, ignore_errors=True)
    return target


def _link_tree(source, target):
    """target mirrors source with hard links (the files are read-only to everyone)."""
    for folder, dirs, files in os.walk(source):
        into = Path(target) / os.path.relpath(folder, source)
        into.mkdir(exist_ok=True)
        os.chmod(into, 0o755)
        for name in files:
            os.link(os.path.join(folder, name), into / name)


def _grader_font_cache():
    """The folder holding this user's matplotlib font list, or None."""
    home_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for folder in (os.environ.get("MPLCONFIGDIR"), os.path.join(home_cache, "matplotlib")):
        if folder and os.path.isdir(folder) and any(
                n.startswith("fontlist-") and n.endswith(".json") for n in os.listdir(folder)):
            return Path(folder)
    return None


def _add_font_cache(target):
    """Matplotlib's font list for the fork server, so its `import matplotlib.pyplot` does not
    scan the system's fonts (~1 s). Taken from the grader's own matplotlib cache; made there
    (as matplotlib itself would) when missing. No cache just means the slow path."""
    target.mkdir(exist_ok=True)
    found = _grader_font_cache()
    if found is None:
        env = dict(os.environ, MPLBACKEND="Agg")
        try:
            subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120,
                           check=False)
        except (OSError, subprocess.SubprocessError):
            pass
        found = _grader_font_cache()
    for path in (found.glob("fontlist-*.json") if found else ()):
        shutil.copyfile(path, target / path.name)
        os.chmod(target / path.name, 0o644)
    os.chmod(target, 0o755)


def _install_tripwires(path, module, names):
    """Replace the named top-level functions of a module file by ReferenceUsed tripwires.

    The file is a hard link to the pristine copy: it is replaced, never written through."""
    import ast
    import py_compile
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    spans = []
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            spans.append((first - 1, node.end_lineno, node.name))
    for first, last, name in sorted(spans, reverse=True):
        lines[first:last] = [TRIPWIRE.format(name=name, module=module)]
    path.unlink()
    path.write_text("".join(lines) + TRIPWIRE_CLASS)
    compiled = Path(importlib.util.cache_from_source(str(path)))
    if compiled.exists():
        compiled.unlink()
    py_compile.compile(str(path), cfile=str(compiled), doraise=True)
    for item in (path, compiled):
        os.chmod(item, 0o644)


def sandbox_spec(mode, answer_fd, env, base, bound, hide, **extra):
    """What sandbox_launch needs: who, which namespaces, the environment, and a new root under
    `base` showing `bound` (a library copy or the shelf of them) and a scratch folder."""
    ids = worker_ids(mode)
    scratch = Path(base) / "scratch"
    spec = {"grader_pid": os.getpid(), "mode": mode.kind, "namespaces": mode.namespaces,
            "uid": ids[0], "gid": ids[1], "answer_fd": answer_fd, "env": env,
            "cwd": str(scratch), "root": str(Path(base) / "root"),
            "ready_line": json.dumps({"sandbox": {"mode": mode.kind,
                                                  "namespaces": mode.namespaces}}), **extra}
    if mode.isolated:
        spec["layout"] = layout(bound, scratch, ids, hide)
    return spec


def _expect_sandbox_line(first, on_failure):
    """The launcher's first line says what it achieved; anything else is why it failed."""
    if "sandbox" not in first:
        on_failure()
        raise WorkerDied(f"the sandbox could not be set up: {first.get('message', first)}")


def worker_env(scratch, library_dir=None, output_cap=None):
    """A worker's environment. Scrubbed: nothing from the grader's (no paths, tokens or
    grading flags)."""
    python_dir = os.path.dirname(os.path.realpath(sys.executable))
    path = ([str(library_dir)] if library_dir else []) + [site_packages()]
    env = {
        "PATH": f"{python_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(scratch), "TMPDIR": str(scratch),
        "PYTHONPATH": os.pathsep.join(path), "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(Path(scratch) / ".matplotlib"),
        "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
    }
    if output_cap is not None:
        env["COURSE_OUTPUT_CAP"] = str(output_cap)
    return env


class ForkServer:
    """The fork server of one grading process (course/sandbox_zygote.py, started in the sandbox
    by sandbox_launch.py): it has imported numpy and matplotlib before any student code and
    forks each worker, in namespaces of its own, on request."""

    PRELOAD = ("numpy", "matplotlib", "matplotlib.pyplot", "tqdm", "tqdm.auto", "json", "io")

    def __init__(self, mode, shelf, hide):
        self.mode, self.shelf, self.hide = mode, Path(shelf), list(hide)
        self.base = Path(tempfile.mkdtemp(prefix="course-server-"))
        os.chmod(self.base, 0o755)
        self.scratch = self.base / "scratch"
        self.proc = self.control = None
        self.lock = threading.Lock()

    def _spec(self, control_fd):
        return sandbox_spec(
            self.mode, control_fd, worker_env(self.scratch), self.base, self.shelf, self.hide,
            scratch_bytes=FILE_SIZE_CAP * 2,   # each worker's limits come with its request
            zygote={"sys_path": site_packages().split(os.pathsep), "preload": list(self.PRELOAD),
                    "font_cache": str(self.shelf / PRISTINE / MATPLOTLIB_CACHE)})

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        import socket
        self.stop()
        for sub in ("scratch", "root"):
            (self.base / sub).mkdir(exist_ok=True)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        spec_fd, spec_w = os.pipe()
        spec = marshal.dumps(self._spec(theirs.fileno()))
        assert len(spec) < 60000, "the sandbox spec must fit in a pipe buffer"
        os.write(spec_w, spec)
        os.close(spec_w)
        python = os.path.realpath(sys.executable)
        try:
            # -S: no site at start (quick); PYTHONHASHSEED as every worker always had it.
            self.proc = subprocess.Popen(
                [python, "-S", "-s", str(LAUNCHER), str(spec_fd)], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.base,
                env={"LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
                     "PYTHONNOUSERSITE": "1"},
                pass_fds=(theirs.fileno(), spec_fd), start_new_session=True)
        finally:
            theirs.close()
            os.close(spec_fd)
        self.control = ours
        ready, _, _ = select.select([ours], [], [], 120)
        first = ours.recv(1 << 16) if ready else b""
        try:
            first = json.loads(first)
        except ValueError:
            first = {"message": "the fork server did not start" if not ready else first}
        _expect_sandbox_line(first, self.stop)

    def spawn(self, library_dir, prefix, limits):
        """A new worker: (commands, answers, lifeline, status) file descriptors, the grader's ends."""
        import socket
        request = json.dumps({"library": str(library_dir), "prefix": list(prefix),
                              "output_cap": limits.output_cap,
                              "limits": {"memory_bytes": limits.memory_bytes,
                                         "file_bytes": FILE_SIZE_CAP}}).encode()
        with self.lock:
            for attempt in range(2):
                if not self.alive():
                    self.start()
                pipes = [os.pipe() for _ in range(4)]
                theirs = [pipes[0][0], pipes[1][1], pipes[2][0], pipes[3][1]]
                ours = [pipes[0][1], pipes[1][0], pipes[2][1], pipes[3][0]]
                try:
                    socket.send_fds(self.control, [request], theirs)
                    return ours
                except OSError:
                    for fd in ours:
                        os.close(fd)
                    self.stop()
                    if attempt:
                        raise WorkerDied("the fork server died")
                finally:
                    for fd in theirs:
                        os.close(fd)

    def stop(self):
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait()
            self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


_SERVERS = {}
_SERVERS_LOCK = threading.Lock()
MAX_SERVERS = 2


def fork_server(mode, shelf, hide):
    """The running fork server for this isolation mode, shelf and hidden paths (made on demand;
    the least recently used goes when there are more than MAX_SERVERS)."""
    ids = worker_ids(mode)
    # The same filesystem for the workers (hidden paths usually need no mask): the same server.
    shape = json.dumps(layout(shelf, "/scratch", ids, hide)) if mode.isolated else ""
    key = (mode.kind, tuple(mode.namespaces), str(shelf), shape)
    with _SERVERS_LOCK:
        server = _SERVERS.pop(key, None) or ForkServer(mode, shelf, hide)
        _SERVERS[key] = server
        while len(_SERVERS) > MAX_SERVERS:
            _SERVERS.pop(next(iter(_SERVERS))).close()
        return server


def stop_fork_servers():
    with _SERVERS_LOCK:
        while _SERVERS:
            _SERVERS.popitem()[1].close()


import atexit  # noqa: E402
atexit.register(stop_fork_servers)


class Worker:
    """One student process. exec() runs a cell, call() calls a function on plain data.

    Forked by the fork server (ForkServer), never reused: start() gives a fresh one; `prefix`
    names the course's leading set-up cells, which the server runs once per assignment."""

    def __init__(self, library, limits=None, hide=(), base=None):
        self.limits = limits or Limits()
        self.library = library
        self.base = Path(base) if base else None
        self.hide = list(hide)
        self.proc = None
        self._commands = self._answers = self._lifeline = self._status = None
        self._unpacker = bridge.Unpacker(MAX_MESSAGE_BYTES)
        self.mode = Mode("none", reason="--no-isolation") if self.limits.isolation == "none" else None
        # Stop waiting (and kill the worker) when the grading task is cancelled (Dask).
        self.cancelled = getattr(_CANCEL, "check", None) or (lambda: False)

    def _resolve_mode(self):
        if self.mode is None:
            self.mode = probe()
            if self.limits.isolation == "required" and not self.mode.isolated:
                raise WorkerDied("refusing to run student code without isolation: "
                                 + self.mode.describe())

    def start(self, program=None, expect_ready=True, prefix=()):
        """A new worker process; waits until it is ready. Returns the prefix cells' replies."""
        self.kill()
        self._resolve_mode()
        if program is not None:
            return self._start_program(program, expect_ready)
        server = fork_server(self.mode, self.library.dir.parent, self.hide)
        fds = server.spawn(self.library.dir, prefix, self.limits)
        self._commands = os.fdopen(fds[0], "wb")
        self._answers, self._lifeline, self._status = fds[1:]
        self._unpacker = bridge.Unpacker(MAX_MESSAGE_BYTES)
        timeout = max(30.0, self.limits.timeout)
        _expect_sandbox_line(self.receive(timeout), self.kill)
        ready = self.receive(timeout + 30.0 * len(prefix))   # the worker's "ready" line
        if "ready" not in ready:
            self.kill()
            raise WorkerDied(f"the worker could not start: {ready.get('message', ready)}")
        return ready.get("prefix", [])

    def _start_program(self, program, expect_ready):
        """Run `program` (python arguments) in a sandbox of its own (the isolation probe)."""
        self.base = self.base or Path(tempfile.mkdtemp(prefix="course-student-"))
        os.chmod(self.base, 0o755)
        for sub in ("scratch", "root"):
            (self.base / sub).mkdir(exist_ok=True)
        read_fd, write_fd = os.pipe()
        spec_fd, spec_w = os.pipe()
        spec = marshal.dumps(self._program_spec(write_fd))
        os.write(spec_w, spec)
        os.close(spec_w)
        python = os.path.realpath(sys.executable)
        argv = [python, "-I", "-S", str(LAUNCHER), str(spec_fd), "--", python, *program]
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                cwd=self.base, env={"LANG": "C.UTF-8"}, pass_fds=(write_fd, spec_fd),
                start_new_session=True)
        finally:
            os.close(write_fd)
            os.close(spec_fd)
        self._commands = self.proc.stdin
        self._answers = read_fd
        self._unpacker = bridge.Unpacker(MAX_MESSAGE_BYTES)
        timeout = max(30.0, self.limits.timeout)
        _expect_sandbox_line(self.receive(timeout), self.kill)
        if expect_ready:
            self.receive(timeout)
        return []

    def _program_spec(self, answer_fd):
        env = worker_env(self.base / "scratch", self.library.dir, self.limits.output_cap)
        return sandbox_spec(
            self.mode, answer_fd, env, self.base, self.library.dir, self.hide,
            limits={"memory_bytes": self.limits.memory_bytes, "file_bytes": FILE_SIZE_CAP})

    def send(self, message):
        """Send one message (a dict of plain data trees) to the worker."""
        try:
            self._commands.write(bridge.pack(message))
            self._commands.flush()
        except (BrokenPipeError, OSError, ValueError, AttributeError) as exc:
            raise WorkerDied(self._death_reason()) from exc

    def receive(self, timeout):
        """The worker's next message; WorkerTimeout, WorkerDied or GradingCancelled."""
        deadline = time.monotonic() + timeout
        try:
            message = self._unpacker.next()
            while message is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.kill()
                    raise WorkerTimeout(f"no answer within {timeout:.0f} s")
                ready, _, _ = select.select([self._answers], [], [], min(remaining, 0.5))
                if self.cancelled():
                    self.kill()
                    raise GradingCancelled("grading was cancelled")
                if not ready:
                    continue
                chunk = os.read(self._answers, 1 << 20)
                if not chunk:
                    reason = self._death_reason()
                    self.kill()
                    raise WorkerDied(reason)
                self._unpacker.feed(chunk)
                message = self._unpacker.next()
        except bridge.BridgeError as exc:
            self.kill()
            raise WorkerDied(str(exc)) from exc
        return message

    def _death_reason(self):
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                return "stopped answering"
            return _describe_exit(code if code >= 0 else None, -code if code < 0 else None)
        if self._status is None:
            return "stopped answering"
        ready, _, _ = select.select([self._status], [], [], 2.0)
        text = os.read(self._status, 64) if ready else b""
        if not text.strip().isdigit():
            return "stopped answering"
        status = int(text)
        if os.WIFSIGNALED(status):
            return _describe_exit(None, os.WTERMSIG(status))
        return _describe_exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 125, None)

    def exec(self, code, timeout=None):
        """Run one cell; returns the worker's reply dict (ok, output, error, message)."""
        self.send({"op": "exec", "code": code})
        return self.receive(timeout or self.limits.timeout)

    def call(self, fn_name, args, kwargs, timeout=None):
        """Call fn_name(*args, **kwargs) in the student's namespace; plain data in and out."""
        self.send({"op": "call", "fn": fn_name, "args": bridge.encode(list(args)),
                    "kwargs": bridge.encode(dict(kwargs))})
        return self.receive(timeout or self.limits.timeout)

    def kill(self):
        """End the worker and everything it started; returns once they are gone."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        if self._lifeline is not None:
            # Its PID 1 kills the namespace when the lifeline closes, then closes the status pipe.
            _close_fd(self._lifeline)
            self._lifeline = None
            if self._status is not None:
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    ready, _, _ = select.select([self._status], [], [], 0.5)
                    if ready and not os.read(self._status, 64):
                        break
        for name in ("_status", "_answers"):
            fd = getattr(self, name)
            if fd is not None:
                _close_fd(fd)
                setattr(self, name, None)
        if self._commands is not None:
            try:
                self._commands.close()
            except OSError:
                pass
            self._commands = None

    def close(self):
        self.kill()
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)


def _close_fd(fd):
    try:
        os.close(fd)
    except OSError:
        pass


def _describe_exit(code, signal_number):
    if signal_number is not None:
        return f"the Python process was killed by signal {signal.Signals(signal_number).name}"
    return f"the Python process exited with status {code}"
