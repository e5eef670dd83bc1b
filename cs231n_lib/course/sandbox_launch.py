"""Start a student's worker inside Linux namespaces (run by course.sandbox, never imported).

    python -I -S sandbox_launch.py SPEC_FD -- PROGRAM ARGS...

SPEC_FD: a pipe holding the spec, a marshal'ed dict (kept off the command line, which student
code can read).

Standard library only and started with -I -S, so it costs a few milliseconds. It

1. ties itself to the grader (PR_SET_PDEATHSIG: it is killed when the grader dies);
2. unshares the namespaces in SPEC: user (when not root), mount, PID, network, IPC, UTS;
3. with a PID namespace, forks an init (PID 1) that builds the filesystem, mounts a private
   /proc, forks the worker and reaps; when the init dies the kernel kills the whole namespace;
4. builds a new root from SPEC's layout (a tmpfs holding only read-only binds of the system,
   the Python environment, the worker's library copy, a private scratch tmpfs and a few
   devices), pivots into it and detaches the old root, so nothing else of the machine exists;
5. as root: becomes the unprivileged user; sets no_new_privs; execs PROGRAM.
With mode "none" it only sets the resource limits and the death signal, then execs PROGRAM.

The first line written on SPEC["answer_fd"] is SPEC["ready_line"] (what was achieved, JSON made
by the grader) or why it failed ({"ok": false, "error": "SandboxError", ...}); then PROGRAM
speaks.

With SPEC["zygote"] there is no PROGRAM: after step 4 this process (the namespace's init) keeps
its privileges inside the sandbox and becomes the fork server of course/sandbox_zygote.py, which
forks every student's worker (with its own namespaces, scratch and no privileges) on request.
"""
import ctypes
import marshal
import os
import select
import sys

# _signal, not signal, and marshal, not json: they import no enum/re, which would double
# the launcher's start-up time (it runs once per worker start).
import _signal as signal

CLONE = {"user": 0x10000000, "mount": 0x00020000, "pid": 0x20000000, "net": 0x40000000,
         "ipc": 0x08000000, "uts": 0x04000000}
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE, MS_RELATIME = (
    1024, 2048, 4096, 16384, 1 << 18, 1 << 21)
# statvfs f_flag bits -> the mount flags that must be kept when remounting a locked mount.
ST_TO_MS = {1: MS_RDONLY, 2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC, 1024: MS_NOATIME,
            2048: MS_NODIRATIME, 4096: MS_RELATIME}
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "ppc64le": 203, "s390x": 217, "riscv64": 41}

libc = ctypes.CDLL(None, use_errno=True)


class SandboxError(Exception):
    """A step of the set-up failed; the message names the step and the kernel's reason."""


def _check(ret, what):
    if ret != 0:
        raise SandboxError(f"{what}: {os.strerror(ctypes.get_errno())}")


def _enc(value):
    return value.encode() if value is not None else None


def mount(source, target, fstype, flags, data=None):
    _check(libc.mount(_enc(source), _enc(target), _enc(fstype), flags, _enc(data)),
           f"mount {source or fstype} on {target}")


def remount_readonly(target):
    """Make one mount read-only, keeping the flags the kernel locks (atime, nosuid, ...)."""
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
    current = os.statvfs(target).f_flag
    for st, ms in ST_TO_MS.items():
        if current & st:
            flags |= ms
    mount(None, target, None, flags)


def die_with(parent_pid):
    """SIGKILL this process when its parent dies; exit now if the parent is already gone."""
    _check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(125)


def unshare(names, uid, gid):
    flags = 0
    for name in names:
        flags |= CLONE[name]
    _check(libc.unshare(flags), f"unshare({', '.join(names)})")
    if "user" in names:
        # The same ids inside as outside: not root in the namespace, so the exec'd worker
        # keeps no capabilities.
        for path, text in (("/proc/self/setgroups", "deny"), ("/proc/self/uid_map", f"{uid} {uid} 1"),
                           ("/proc/self/gid_map", f"{gid} {gid} 1")):
            with open(path, "w") as f:
                f.write(text)


def _inside(root, path):
    return os.path.join(root, path.lstrip("/"))


def _make_point(target, is_dir):
    if is_dir:
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "w").close()


def build_root(spec, with_proc):
    """Mount the new root at spec['root'] following spec['layout'], then pivot into it."""
    root = spec["root"]
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing below propagates to the host
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=4m")
    readonly = [root]
    for entry in spec["layout"]:
        kind, path = entry["kind"], entry["path"]
        target = _inside(root, path)
        if kind == "bind":       # a read-only view of a host path, at the same path
            is_dir = os.path.isdir(entry["source"])
            _make_point(target, is_dir)
            mount(entry["source"], target, None, MS_BIND | MS_REC)
            if entry.get("readonly", True):
                readonly.append(target)
        elif kind == "symlink":
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.symlink(entry["target"], target)
        elif kind == "tmpfs":    # scratch (writable) or a mask over something hidden
            _make_point(target, True)
            mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, entry["options"])
            if entry.get("readonly"):
                readonly.append(target)
        elif kind == "proc":
            if with_proc:
                _make_point(target, True)
                mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        else:
            raise SandboxError(f"unknown layout entry {kind!r}")
    # Read-only last (deepest first), so mount points could still be made above.
    for target in sorted(readonly, key=len, reverse=True):
        remount_readonly(target)
    os.chdir(root)
    machine = os.uname().machine
    if machine not in SYS_PIVOT_ROOT:
        raise SandboxError(f"pivot_root: unknown machine {machine}")
    # pivot_root(".", "."): the old root ends up on top of the new one; detaching it leaves
    # nothing of the host but what was bound above.
    _check(libc.syscall(SYS_PIVOT_ROOT[machine], b".", b"."), "pivot_root")
    _check(libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")


def drop_privileges(spec):
    if spec["mode"] == "root":
        os.setgroups([])
        os.setgid(spec["gid"])
        os.setuid(spec["uid"])


def exec_program(spec, argv):
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    os.chdir(spec["cwd"])
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    os.execve(argv[0], argv, spec["env"])


def run_init(spec, argv, lifeline, status_w):
    """PID 1 of the namespace: build the root, start the worker, reap, report its status."""
    die_with(None)
    if select.select([lifeline], [], [], 0)[0]:   # the launcher died before prctl took effect
        os._exit(125)
    build_root(spec, with_proc=True)
    if spec.get("zygote"):
        os.close(lifeline)
        os.close(status_w)
        run_zygote(spec)
    drop_privileges(spec)
    die_with(None)                                # setuid cleared it
    report(spec, None)
    child = os.fork()
    if child == 0:
        die_with(None)
        exec_program(spec, argv)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(125)
        if pid == child:
            os.write(status_w, str(status).encode())
            os._exit(0)


def report(spec, error):
    if error is None:
        line = spec["ready_line"]
    else:
        text = "".join(c if " " <= c < "\x7f" and c not in '"\\' else " " for c in str(error))
        line = '{"ok": false, "error": "SandboxError", "message": "%s"}' % text[:1000]
    os.write(spec["answer_fd"], (line + "\n").encode())


def mirror_status(status):
    """Exit as the worker did (same code, or killed by the same signal)."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 125)


def set_limits(limits):
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"], limits["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-large write fails, not kills


def run_zygote(spec):
    """Serve as the fork server (course/sandbox_zygote.py) until the grader lets go; never returns."""
    try:
        sandbox_zygote.serve(spec)
    except BaseException as exc:   # noqa: BLE001 - the grader must hear why, then we are gone
        report(spec, f"the fork server failed: {type(exc).__name__}: {exc}")
    finally:
        os._exit(0)


sandbox_zygote = None


def main():
    global sandbox_zygote
    spec_fd = int(sys.argv[1])
    with os.fdopen(spec_fd, "rb") as spec_file:
        spec = marshal.loads(spec_file.read())
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    if spec.get("zygote"):
        # Loaded now: once the new root is in place the checkout is out of sight.
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import sandbox_zygote
    try:
        die_with(spec["grader_pid"])
        if not spec.get("zygote"):   # a fork server limits each worker it forks instead
            set_limits(spec["limits"])
        names = spec["namespaces"]
        if spec["mode"] == "none":   # no isolation: limits and death with the grader only
            if spec.get("zygote"):
                run_zygote(spec)
            report(spec, None)
            exec_program(spec, argv)
        unshare(names, os.getuid(), os.getgid())
        # A new user namespace clears the death signal and dumpability: set them again.
        die_with(spec["grader_pid"])
        libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        if "pid" not in names:
            build_root(spec, with_proc=False)
            if spec.get("zygote"):
                run_zygote(spec)
            drop_privileges(spec)
            report(spec, None)
            exec_program(spec, argv)
        lifeline, keep = os.pipe()
        status_r, status_w = os.pipe()
        init = os.fork()
    except (SandboxError, OSError) as exc:
        report(spec, exc)
        os._exit(125)
    if init == 0:
        os.close(keep)
        os.close(status_r)
        try:
            run_init(spec, argv, lifeline, status_w)
        except (SandboxError, OSError) as exc:
            report(spec, exc)
            os._exit(125)
    os.close(status_w)
    _, init_status = os.waitpid(init, 0)
    worker_status = os.read(status_r, 64)
    mirror_status(int(worker_status) if worker_status else init_status)


if __name__ == "__main__":
    main()
