"""Student code cannot reach the course, the gradebook, the network or other processes, and
dies with the grader — as root and as an ordinary user (issue 11).

Every attack is a submission whose answer cell tries one way out and, if it gets out, defines a
wrong `rel_error` (losing 2 of its 5 points); if it is blocked, it defines the right one. So a
full score means "blocked", and the same class graded with --no-isolation (the control) shows
that each attack does get out when nothing stops it: these tests can fail.

As root, the tests also run `course grade` as an ordinary user (created here: `course-test`)
with Debian's python3 of the same version, in a private mount namespace where this checkout
and its site-packages are bind-mounted somewhere that user can read.
"""
import json
import os
import pwd
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from cs231n_lib.course import cli, gradebook_guard, paths, sandbox, variants
from fixture_course import ASSIGNMENT, NOTEBOOK, build_course

TESTS = Path(__file__).resolve().parent
TEST_USER = "course-test"
FULL, ATTACK_LOST = 5.0, 3.0   # rel_error is worth 2 of the fixture's 5 automatic points
VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="worker isolation uses Linux namespaces")


# ----------------------------------------------------------------------------- who grades

class Grader:
    """How to run `course grade` as one kind of user; `top` is a folder that user owns."""

    def __init__(self, name, prefix, env, top, owner=None, checkout=paths.ROOT, home=None):
        self.name, self.prefix, self.env, self.top = name, prefix, env, Path(top)
        self.owner, self.checkout, self.home = owner, Path(checkout), home

    def command(self, *args):
        return [*self.prefix, "-m", "cs231n_lib.course.cli", "grade", *map(str, args)]

    def give(self, path):
        """Hand a folder made by the test to the grading user."""
        if self.owner:
            subprocess.run(["chown", "-R", f"{self.owner}:", str(path)], check=True)

    def run(self, *args):
        return subprocess.run(self.command(*args), env=self.env, capture_output=True, text=True,
                              timeout=600)

    def start(self, *args):
        return subprocess.Popen(self.command(*args), env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _temp(top):
    """The grader's TMPDIR inside `top`, so a killed grader's library copies go with it."""
    (top / "tmp").mkdir(exist_ok=True)
    return str(top / "tmp")


def _own_env(top):
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OPENBLAS_NUM_THREADS": "1",
            "PYTHONPATH": str(TESTS), "HOME": os.environ.get("HOME", "/"), "LANG": "C.UTF-8",
            "TMPDIR": _temp(top)}


def _as_root():
    if os.geteuid() != 0:
        pytest.skip("the tests run as an ordinary user: root's mode is tested when run as root")
    top = Path(tempfile.mkdtemp(prefix="course-iso-root-"))
    return Grader("root", [sys.executable], _own_env(top), top, home=Path.home())


def _ordinary_user_means():
    """Why an ordinary user cannot be made here, or None."""
    for tool in ("useradd", "runuser", "unshare", "mount", "chown"):
        if not shutil.which(tool):
            return f"needs the {tool} command to create and become an ordinary user"
    if not Path(f"/usr/bin/python{VERSION}").exists():
        return (f"needs /usr/bin/python{VERSION} (the grader's Python version) for an "
                "ordinary user, since this Python lives where other users cannot read")
    return None


def _as_ordinary_user():
    if os.geteuid() != 0:   # we are one already
        top = Path(tempfile.mkdtemp(prefix="course-iso-user-"))
        return Grader("ordinary user", [sys.executable], _own_env(top), top, home=Path.home())
    reason = _ordinary_user_means()
    if reason:
        pytest.skip(reason)
    home = Path("/home") / TEST_USER
    try:
        pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--home-dir", str(home), "--shell",
                        "/usr/sbin/nologin", TEST_USER], check=True)
    home.mkdir(parents=True, exist_ok=True)
    (home / "private-notes.txt").write_text("the instructor's own files")
    subprocess.run(["chown", "-R", f"{TEST_USER}:", str(home)], check=True)
    top = Path(tempfile.mkdtemp(prefix="course-iso-user-"))
    os.chmod(top, 0o755)
    # Debian's python3 with a venv whose .pth reaches this checkout and its site-packages,
    # bind-mounted (in a private mount namespace) where the ordinary user can read them.
    site = next(d for d in sandbox.site_packages().split(os.pathsep)
                if (Path(d) / "numpy").is_dir())
    (top / "site").mkdir()
    (top / "repo").mkdir()
    subprocess.run([f"/usr/bin/python{VERSION}", "-m", "venv", "--without-pip",
                    str(top / "venv")], check=True)
    (top / "venv" / "lib" / f"python{VERSION}" / "site-packages" / "course.pth").write_text(
        f"{top / 'repo'}\nimport site; site.addsitedir({str(top / 'site')!r})\n")
    # nbgrader runs the `alembic` command when it creates a gradebook.
    alembic = top / "venv" / "bin" / "alembic"
    alembic.write_text(f"#!{top / 'venv' / 'bin' / 'python'}\nfrom alembic.config import main\nmain()\n")
    alembic.chmod(0o755)
    mounts = 'mount --bind "$1" "$2" && mount --bind "$3" "$4" && shift 4 && exec "$@"'
    prefix = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", mounts, "sh",
              site, str(top / "site"), str(paths.ROOT), str(top / "repo"),
              "runuser", "-u", TEST_USER, "--", "env", "-i", f"PATH={top / 'venv' / 'bin'}:/usr/bin:/bin",
              "OPENBLAS_NUM_THREADS=1", "LANG=C.UTF-8", f"HOME={home}", f"TMPDIR={_temp(top)}",
              f"PYTHONPATH={top / 'repo' / 'tests'}", str(top / "venv" / "bin" / "python")]
    subprocess.run(["chown", f"{TEST_USER}:", str(top / "tmp")], check=True)
    return Grader(f"ordinary user {TEST_USER}", prefix, {"PATH": "/usr/sbin:/usr/bin:/bin"},
                  top, owner=TEST_USER, checkout=top / "repo", home=home)


@pytest.fixture(scope="module", params=["root", "ordinary user"])
def who(request):
    grader = _as_root() if request.param == "root" else _as_ordinary_user()
    yield grader
    shutil.rmtree(grader.top, ignore_errors=True)


# ----------------------------------------------------------------------------- the attacks

HELPERS = '''import os, sys, subprocess
def _readable(path):
    try:
        with open(path, "rb") as f:
            f.read(1)
        return True
    except OSError:
        return False
'''

ATTACKS = {
    "git": """
    files = [os.path.join(c, ".git") for c in {checkouts!r}] + [os.path.join({course!r}, ".git", "HEAD")]
    if any(os.path.exists(f) for f in files):
        return True
    show = subprocess.run(["git", "-C", {checkouts!r}[0], "show", "HEAD:README.md"], capture_output=True)
    return show.returncode == 0""",
    "original_library": """
    import importlib.util
    for checkout in {checkouts!r}:
        path = os.path.join(checkout, "cs231n_lib", "gradient_check.py")
        if _readable(path):
            spec = importlib.util.spec_from_file_location("original", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module.rel_error(1.0, 1.0) == 0.0
    return False""",
    "solutions": """
    return (_readable({solution!r}) or _readable({config!r})
            or any(os.path.isdir(os.path.join(c, "solutions")) for c in {checkouts!r}))""",
    "gradebook": """
    return _readable({db!r})""",
    "other_submission": """
    return _readable({other!r}) or os.path.isdir({class_dir!r})""",
    "home": """
    try:
        return any(not {python!r}.startswith(os.path.join({home!r}, name)) for name in os.listdir({home!r}))
    except OSError:
        return False""",
    "socket": """
    import socket
    with socket.create_connection(("127.0.0.1", {port}), timeout=3) as s:
        s.sendall(b"student code got out")
    return True""",
    "processes": """
    found = False
    for pid in (os.listdir("/proc") if os.path.isdir("/proc") else []):
        if pid.isdigit():
            try:
                with open(f"/proc/{{pid}}/cmdline", "rb") as f:
                    found = found or b"course.cli" in f.read()
            except OSError:
                pass
    return found""",
    "write_site_packages": """
    import numpy
    open(numpy.__file__, "r+b").close()   # opened for writing; nothing is changed
    return True""",
    "rewrite_library_copy": """
    import cs231n_lib.grading   # the trip-wired copy every worker of this grader imports
    open(cs231n_lib.grading.__file__, "a").close()   # opened for writing; nothing is changed
    return True""",
    "forge_gradebook": """
    import sqlite3
    try:
        db = sqlite3.connect({db!r})
        db.execute("create table if not exists forged (score real)")
        db.execute("update grade set manual_score = 1000, auto_score = 1000")
        db.commit()
        db.close()
    except sqlite3.Error:
        return False
    for name in ("results.json", "grades.csv"):
        with open(os.path.join(os.path.dirname({db!r}), name), "w") as f:
            f.write("forged")
    return True""",
}

HONEST = ["honest", "other"]


def attack_cell(body, **where):
    """An answer cell: wrong rel_error if the attack got out, the right one if it was blocked."""
    from fixture_course import ANSWERS
    right = "\n".join("    " + line for line in ANSWERS["rel_error"].splitlines())
    return (HELPERS + "def _attack():" + body.format(**where) + "\n"
            "try:\n    _out = bool(_attack())\nexcept (OSError, ImportError) as _exc:\n"
            "    _out = False\nif _out:\n    def rel_error(a, b):\n        return -1.0\n"
            "else:\n" + right + "\n")


class Listener:
    """A TCP server on the host's loopback that records whether anyone connected."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self):
        self.sock.close()


def build_class(grader, name, attacks, listener):
    """A fixture course, a class (one student per attack plus honest ones) and a work folder."""
    top = grader.top / name
    course, klass, work = top / "course", top / "class", top / "work"
    source = build_course(course)
    (course / ".git").mkdir()
    (course / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    where = dict(
        checkouts=[str(grader.checkout), str(paths.ROOT)], course=str(course),
        solution=str(course / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"),
        config=str(course / "nbgrader_config.py"), db=str(work / "gradebook.db"),
        other=str(klass / "other" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"), class_dir=str(klass),
        home=str(grader.home), python=os.path.realpath(sys.base_prefix), port=listener.port)
    for student in HONEST + list(attacks):
        nb = source if student in HONEST else variants.with_answer(
            source, "rel_error", attack_cell(ATTACKS[student], **where))
        path = klass / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(nb))
    work.mkdir()
    os.chmod(top, 0o755)
    grader.give(top)
    return course, klass, work


def graded(work):
    """{student: (score, problems)} from the autograded results."""
    out = {}
    for path in (work / "autograded").glob(f"*/{ASSIGNMENT}/{NOTEBOOK}.grading.json"):
        data = json.loads(path.read_text())
        out[data["student"]] = (data["score"], data["problems"])
    return out


def gradebook_state(db):
    with sqlite3.connect(db) as c:
        tables = {r[0] for r in c.execute("select name from sqlite_master where type='table'")}
        scores = c.execute("select auto_score, manual_score from grade").fetchall()
    return tables, scores


@pytest.fixture(scope="module")
def listener():
    server = Listener()
    yield server
    server.close()


def grade_class(grader, name, attacks, listener, *extra):
    course, klass, work = build_class(grader, name, attacks, listener)
    before = listener.connections
    done = grader.run(klass, "--course-root", course, "--work-dir", work, "--exercise-module",
                      "fixture_course", "--timeout", "10", *extra)
    return done, work, graded(work), listener.connections - before


# ----------------------------------------------------------------------------- isolated

def test_every_attack_is_blocked_and_every_honest_point_kept(who, listener):
    done, work, results, connections = grade_class(who, "isolated", ATTACKS, listener,
                                                   "--jobs", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(l for l in done.stdout.splitlines() if l.startswith("student code isolation:"))
    assert line.startswith("student code isolation: namespaces ("), line
    assert "pid" in line and "net" in line, line
    print(f"{who.name}: {line}")
    assert sorted(results) == sorted(HONEST + list(ATTACKS)), done.stdout + done.stderr
    got_out = {s: problems for s, (score, problems) in results.items() if score != FULL}
    assert not got_out, f"attacks that got out as {who.name}: {got_out}"
    assert connections == 0
    assert not any("TAMPERING" in p for _, problems in results.values() for p in problems)
    tables, scores = gradebook_state(work / "gradebook.db")
    assert "forged" not in tables and all(m is None for _, m in scores)
    assert not (work / "results.json").exists() and not (work / "grades.csv").exists()


# ----------------------------------------------------------------------------- the control

def test_without_isolation_the_attacks_get_out_and_the_gradebook_is_restored(who, listener):
    """The control: the same attacks do get out with --no-isolation (so the test above can
    fail), the forged work folder is restored, the forger is named and all results written."""
    attacks = ATTACKS if who.owner is None else ["gradebook", "other_submission", "socket",
                                                 "forge_gradebook"]
    # Serially as the ordinary user, so the forger is named alone; on two processes as root.
    jobs = "1" if who.owner else "2"
    done, work, results, connections = grade_class(who, "control", attacks, listener,
                                                   "--no-isolation", "--jobs", jobs)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "student code isolation: NONE" in done.stdout
    assert sorted(results) == sorted(HONEST + list(attacks))
    for student, (score, problems) in results.items():
        want = FULL if student in HONEST else ATTACK_LOST
        assert score == want, (student, score, problems)
        assert any("graded without isolation" in p for p in problems), problems
        tampering = [p for p in problems if "TAMPERING" in p]
        if student == "forge_gradebook" or jobs == "1":
            assert bool(tampering) == (student == "forge_gradebook"), (student, tampering)
    named = [s for s, (_, problems) in results.items() if any("TAMPERING" in p for p in problems)]
    # On two processes, a change seen while the forger runs also names the tasks running then.
    assert "forge_gradebook" in named and len(named) < len(results), named
    assert connections == 1
    tables, scores = gradebook_state(work / "gradebook.db")
    assert "forged" not in tables
    assert scores and all(m is None and a in (None, 0.0, 1.0, 2.0) for a, m in scores), scores
    assert not (work / "results.json").exists() and not (work / "grades.csv").exists()


def test_grading_refuses_without_namespaces_unless_told(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sandbox, "_PROBED", sandbox.Mode("none", reason="kernel says no"))
    code = cli.main(["grade", str(tmp_path), "--work-dir", str(tmp_path / "work")])
    err = capsys.readouterr().err
    assert code == 2
    assert "refusing to grade" in err and "kernel says no" in err and "--no-isolation" in err
    assert not (tmp_path / "work").exists()


# ----------------------------------------------------------------------------- between students

NOTE_CELL = """
    import tempfile
    folders = ["/tmp", "/var/tmp", "/dev/shm", os.environ.get("HOME", "/"), os.getcwd(),
               tempfile.gettempdir()]
    notes = [os.path.join(folder, "note-from-another-student") for folder in folders]
    found = any(os.path.exists(note) for note in notes)   # before writing: folders may repeat
    for note in notes:
        try:
            with open(note, "w") as f:
                f.write("the answers of the last student")
        except OSError:
            pass
    return found"""


def _remove_notes(who):
    """Notes the control left in this machine's shared folders (they would fool a re-run)."""
    for folder in ("/tmp", "/var/tmp", "/dev/shm", str(who.top / "tmp")):
        try:
            os.remove(os.path.join(folder, "note-from-another-student"))
        except OSError:
            pass


@pytest.mark.parametrize("isolated", [True, False])
def test_nothing_passes_from_one_students_worker_to_the_next(who, listener, isolated):
    """Two students graded one after the other by the same fork server: each leaves a note in
    every writable folder it finds and loses points if it finds one. Isolated, neither finds
    one; the control (--no-isolation) shows the second does find the first's."""
    attacks = {"note_a": NOTE_CELL, "note_b": NOTE_CELL}
    ATTACKS.update(attacks)
    _remove_notes(who)
    try:
        extra = () if isolated else ("--no-isolation",)
        done, work, results, _ = grade_class(who, f"notes-{isolated}", list(attacks), listener,
                                             "--jobs", "1", *extra)
    finally:
        for name in attacks:
            ATTACKS.pop(name)
        _remove_notes(who)
    assert done.returncode == 0, done.stdout + done.stderr
    scores = sorted(results[name][0] for name in attacks)
    if isolated:
        assert scores == [FULL, FULL], results
    else:
        assert scores == [ATTACK_LOST, FULL], results


# ----------------------------------------------------------------------------- no orphans

def _children():
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            table.setdefault(int(fields[1]), []).append((int(entry), fields[0]))
    return table


def _descendants(pid):
    table, found, todo = _children(), [], [pid]
    while todo:
        for child, state in table.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _comm(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _sandboxed(pids):
    """The processes of the sandbox (fork server, its helpers, the workers) among pids."""
    return [p for p in pids if "sandbox_launch" in _cmdline(p)]


def _students(pids):
    """The processes running student code (named by course/sandbox_zygote.py)."""
    return [p for p in pids if _comm(p) == "course-worker"]


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pids):
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def _wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s for {what}")


def _ps_workers():
    if not shutil.which("ps"):
        return "(ps is not installed)"
    ps = subprocess.run(["ps", "-eo", "pid,user,ppid,comm,args"], capture_output=True,
                        text=True).stdout
    return "\n".join(l[:200] for l in ps.splitlines() if "sandbox_launch" in l or "course-" in l)


@pytest.mark.parametrize("how,jobs", [("SIGKILL", 1), ("SIGKILL", 2), ("SIGTERM", 1),
                                      ("Ctrl-C", 2)])
def test_no_worker_outlives_a_killed_grader(who, listener, how, jobs):
    if who.owner and how != "SIGKILL":
        pytest.skip("as an ordinary user only SIGKILL is repeated (the same mechanism)")
    course, klass, work = build_class(who, f"orphans-{how}-{jobs}", [], listener)
    loop = variants.with_answer(json.loads((klass / "other" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
                                           .read_text()), "rel_error", "while True:\n    pass\n")
    for student in HONEST:
        (klass / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb").write_text(json.dumps(loop))
    proc = who.start(klass, "--course-root", course, "--work-dir", work, "--exercise-module",
                     "fixture_course", "--timeout", "600", "--jobs", str(jobs))
    try:
        def running_workers():
            pids = _sandboxed(_descendants(proc.pid))
            return pids if len(_students(pids)) >= min(jobs, 2) else None
        workers = _wait_for(running_workers, 120, "the students' infinite loops to start")
        # The Python process itself (runuser's and env's command lines name it too).
        grader = next(p for p in [proc.pid, *_descendants(proc.pid)]
                      if _cmdline(p).split()[1:3] == ["-m", "cs231n_lib.course.cli"])
        if how == "Ctrl-C":
            os.killpg(os.getpgid(grader), signal.SIGINT)   # what the terminal sends
        else:
            os.kill(grader, getattr(signal, how))
        workers += _sandboxed(_descendants(proc.pid))
        try:
            _wait_for(lambda: not _alive(workers), 30, "the workers to die")
        except AssertionError:
            raise AssertionError(f"workers outlived the grader ({how}):\n{_ps_workers()}")
    finally:
        for pid in _alive([proc.pid, *_descendants(proc.pid)]):
            os.kill(pid, signal.SIGKILL)
        proc.wait()


def test_cancelling_a_dask_task_kills_its_worker(tmp_path):
    distributed = pytest.importorskip("distributed")
    from cs231n_lib.course import batch, pipeline
    course = tmp_path / "course"
    source = build_course(course)
    loop = variants.with_answer(source, "rel_error", "while True:\n    pass\n")
    task = pipeline.make_tasks(
        [type("S", (), dict(student="s", assignment=ASSIGNMENT, notebook=NOTEBOOK,
                            text=json.dumps(loop), notes=[]))()],
        {(ASSIGNMENT, NOTEBOOK): source}, [], batch.task_limits(600, 2, 64), False,
        ["fixture_course"])[0]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        before = set(_descendants(os.getpid()))
        future = client.submit(batch.grade_task, task, pure=False)

        def worker_pids():
            pids = _students(set(_descendants(os.getpid())) - before)
            return pids or None
        workers = _wait_for(worker_pids, 120, "the student's infinite loop to start")
        future.cancel()
        try:
            _wait_for(lambda: not _alive(workers), 30, "the worker to die")
        except AssertionError:
            raise AssertionError(f"a cancelled task's worker survived:\n{_ps_workers()}")


# ----------------------------------------------------------------------------- the guard

def test_guard_restores_changed_added_and_removed_files(tmp_path):
    work = tmp_path / "work"
    (work / "autograded" / "ada").mkdir(parents=True)
    (work / "gradebook.db").write_bytes(b"scores")
    (work / "autograded" / "ada" / "nb.grading.json").write_text('{"score": 1}')
    guard = gradebook_guard.Guard(work)
    assert guard.changed() == [] and guard.full_check() == []
    (work / "gradebook.db").write_bytes(b"forged")
    (work / "results.json").write_text("forged")
    (work / "autograded" / "ada" / "nb.grading.json").write_text('{"score": 1000}')
    assert guard.changed() == ["gradebook.db", "results.json"]     # the quick check
    changes = guard.full_check()
    assert changes == ["autograded/ada/nb.grading.json", "gradebook.db", "results.json"]
    assert guard.restore(changes) == []
    assert (work / "gradebook.db").read_bytes() == b"scores"
    assert not (work / "results.json").exists()
    assert json.loads((work / "autograded" / "ada" / "nb.grading.json").read_text()) == {"score": 1}
    # A gradebook replaced by a link to elsewhere is put back as a file, the target untouched.
    outside = tmp_path / "outside"
    outside.write_text("not the gradebook")
    (work / "gradebook.db").unlink()
    (work / "gradebook.db").symlink_to(outside)
    shutil.rmtree(work / "autograded")
    guard.restore(guard.full_check())
    assert not (work / "gradebook.db").is_symlink()
    assert (work / "gradebook.db").read_bytes() == b"scores"
    assert outside.read_text() == "not the gradebook"
    assert (work / "autograded" / "ada" / "nb.grading.json").exists()
    assert guard.full_check() == []


def test_a_task_that_finished_but_was_not_checked_yet_stays_a_suspect():
    """Two tasks can finish within the same moment: when the first one's check sees a change,
    the second (done, its check still to come) may have made it and must be named too."""
    from cs231n_lib.course import batch

    class Future:
        def __init__(self, running, done):
            self._running, self._done = running, done

        def running(self):
            return self._running

        def done(self):
            return self._done

    current, finished, running, queued, checked = (Future(False, True), Future(False, True),
                                                    Future(True, False), Future(False, False),
                                                    Future(False, True))
    futures = {current: 0, finished: 1, running: 2, queued: 3, checked: 4}
    assert batch.suspects(futures, {current, checked}) == [1, 2]
