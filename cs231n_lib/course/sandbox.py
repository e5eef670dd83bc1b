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
    # /tmp first: the library copy and the scratch folder usually live below it.
    entries.append({"kind": "tmpfs", "path": "/tmp", "options": f"mode=1777,size={size}"})
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
        _add_font_cache(self.dir / MATPLOTLIB_CACHE)
        for path in [self.dir, *self.dir.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


MATPLOTLIB_CACHE = "matplotlib-cache"
_FONT_CACHE = {}


def _add_font_cache(target):
    """Matplotlib's font list, built once per grading process and put in each library copy.

    Every worker has a fresh, empty MPLCONFIGDIR, so `import matplotlib.pyplot` in a set-up
    cell would scan the system's fonts again (~0.7 s per worker, a dozen workers per student).
    The worker copies this file into its own config folder before any student code runs; the
    library copy is read-only to workers, so no student can change another's copy. No cache
    (matplotlib missing, the build failed) just means the slow path."""
    if "dir" not in _FONT_CACHE:
        built = Path(tempfile.mkdtemp(prefix="course-mpl-"))
        env = {"MPLCONFIGDIR": str(built), "MPLBACKEND": "Agg", "PATH": os.environ.get("PATH", ""),
               "LANG": "C.UTF-8"}
        try:
            subprocess.run([sys.executable, "-I", "-c", "import matplotlib.font_manager"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=120, check=False)
        except (OSError, subprocess.SubprocessError):
            pass
        _FONT_CACHE["dir"] = built
        import atexit
        atexit.register(shutil.rmtree, built, ignore_errors=True)
    target.mkdir()
    for path in _FONT_CACHE["dir"].glob("fontlist-*.json"):
        shutil.copyfile(path, target / path.name)


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


class Worker:
    """One student process. exec() runs a cell, call() calls a function on plain data."""

    def __init__(self, library, limits=None, hide=(), base=None):
        self.limits = limits or Limits()
        self.library = library
        self.base = Path(base) if base else Path(tempfile.mkdtemp(prefix="course-student-"))
        os.chmod(self.base, 0o755)
        self.scratch = self.base / "scratch"
        self.hide = list(hide)
        self.proc = None
        self._answers = None
        self._buffer = b""
        self.mode = Mode("none", reason="--no-isolation") if self.limits.isolation == "none" else None
        # Stop waiting (and kill the worker) when the grading task is cancelled (Dask).
        self.cancelled = getattr(_CANCEL, "check", None) or (lambda: False)

    def _env(self):
        # Scrubbed: nothing from the grader's environment (no paths, tokens or grading flags).
        python_dir = os.path.dirname(os.path.realpath(sys.executable))
        return {
            "PATH": f"{python_dir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.scratch), "TMPDIR": str(self.scratch),
            "PYTHONPATH": str(self.library.dir) + os.pathsep + site_packages(),
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(self.scratch / ".matplotlib"),
            "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "COURSE_OUTPUT_CAP": str(self.limits.output_cap), "LANG": "C.UTF-8",
        }

    def _spec(self, answer_fd):
        mode = self.mode
        ids = _unprivileged_ids() if mode.kind == "root" else (os.getuid(), os.getgid())
        spec = {"grader_pid": os.getpid(), "mode": mode.kind, "namespaces": mode.namespaces,
                "uid": ids[0], "gid": ids[1], "answer_fd": answer_fd, "env": self._env(),
                "cwd": str(self.scratch), "root": str(self.base / "root"),
                "limits": {"memory_bytes": self.limits.memory_bytes, "file_bytes": FILE_SIZE_CAP},
                "ready_line": json.dumps({"sandbox": {"mode": mode.kind,
                                                      "namespaces": mode.namespaces}})}
        if mode.isolated:
            spec["layout"] = layout(self.library.dir, self.scratch, ids, self.hide)
        return spec

    def _resolve_mode(self):
        if self.mode is None:
            self.mode = probe()
            if self.limits.isolation == "required" and not self.mode.isolated:
                raise WorkerDied("refusing to run student code without isolation: "
                                 + self.mode.describe())

    def start(self, program=None, expect_ready=True):
        """(Re)start the worker process; waits until it is ready."""
        self.kill()
        self._resolve_mode()
        for sub in ("scratch", "root"):
            (self.base / sub).mkdir(exist_ok=True)
        read_fd, write_fd = os.pipe()
        # The spec goes through a pipe, not argv: student code may read its init's cmdline.
        spec_fd, spec_w = os.pipe()
        spec = marshal.dumps(self._spec(write_fd))
        assert len(spec) < 60000, "the sandbox spec must fit in a pipe buffer"
        os.write(spec_w, spec)
        os.close(spec_w)
        python = os.path.realpath(sys.executable)
        program = program or ["-m", "cs231n_lib.course.worker", str(write_fd)]
        argv = [python, "-I", "-S", str(LAUNCHER), str(spec_fd), "--", python, *program]
        try:
            # No preexec_fn: the launcher sets limits and the death signal itself, so the
            # grader can start workers from any thread (Dask) without fork-safety worries.
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                cwd=self.base, env={"LANG": "C.UTF-8"}, pass_fds=(write_fd, spec_fd),
                start_new_session=True)
        finally:
            os.close(write_fd)
            os.close(spec_fd)
        self._answers = read_fd
        self._buffer = b""
        timeout = max(30.0, self.limits.timeout)
        first = self._receive(timeout)            # what the launcher achieved, or its error
        if "sandbox" not in first:
            self.kill()
            raise WorkerDied(f"the sandbox could not be set up: {first.get('message', first)}")
        if expect_ready:
            self._receive(timeout)                # the worker's "ready" line
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
        if self._answers is not None:
            try:
                os.close(self._answers)
            except OSError:
                pass
            self._answers = None

    def close(self):
        self.kill()
        shutil.rmtree(self.base, ignore_errors=True)
