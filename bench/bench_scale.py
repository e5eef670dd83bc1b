"""Scale: a generated class of N students graded by `course grade --jobs 2` and on Dask.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_scale.py [--students 300] [--jobs 2]
                                          [--skip-jobs] [--skip-dask] [--seed 0] [--keep DIR]

The class: `course demo`'s students are built once (cs231n_lib.course.demo.build_class); every
generated student s001..sNNN takes each notebook from a demo student drawn by a seeded RNG
(weights --mix: mostly correct, some with a known mistake in every exercise, some untouched
releases, a few infinite loops, killed processes, edited tests, adversarial answers, corrupt
files and missing notebooks). build_class says what score each demo notebook earns, so the
expected score of every generated notebook is known.

The class is graded as an instructor would, with the CLI in a subprocess:
  --jobs J       `.venv/bin/course grade CLASS --work-dir W --jobs J`
  Dask           a distributed.LocalCluster(n_workers=J, threads_per_worker=1, processes=True)
                 started here, and `course grade CLASS --work-dir W --scheduler ADDRESS`
A thread samples /proc every --interval seconds: the memory (PSS) of every process under this one, by
kind (the CLI, its pool processes or the Dask workers, the sandbox launchers, the sandboxed
student workers), summed and the largest per kind. Progress comes from the CLI's progress lines
(--jobs) or from the scheduler's count of finished tasks (Dask), so the memory at 10%, 50% and
100% of the notebooks shows whether memory grows per student.

Then it checks the results: every handed-in notebook graded (or reported not graded, for the
corrupt files), each score and each student's total equal to the expected one in the autograded
results and in the gradebook, and no sandboxed worker left running. It exits 1 if a check fails.
Nothing here asserts a time.
"""
import argparse
import logging
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy; the Dask workers inherit it

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cs231n_lib.course import demo, gradebook, paths, pipeline  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
COURSE = ROOT / ".venv" / "bin" / "course"
PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 2**20
# A real class: most notebooks correct, some wrong or untouched, a few pathological. dee, eve,
# fay, hal and ivy differ from ada in one notebook each (see demo.STORIES); gus hands in only
# the last notebook, corrupt, so drawing gus for another notebook means it was not handed in.
DEFAULT_MIX = "ada=50,ben=20,cy=10,dee=4,eve=4,fay=4,hal=3,ivy=3,gus=2"
KINDS = ("cli", "pool", "dask", "launcher", "student", "bench", "other")
KIND_NAMES = {"cli": "course grade (CLI process)", "pool": "pool processes (--jobs)",
              "dask": "Dask worker processes",
              "launcher": "fork servers (launcher, base, assignments)",
              "student": "sandboxed student workers (+ init)",
              "bench": "this process (Dask scheduler, nannies)",
              "other": "other (font cache, resource tracker)"}
# Names the fork server (cs231n_lib/course/sandbox_zygote.py) gives its processes.
STUDENT_NAMES = ("course-worker", "course-init", "course-student")
PROGRESS = re.compile(r"^\[(\d+)/(\d+)\] graded ")


# ---------------------------------------------------------------- the class

def parse_mix(text):
    mix = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        mix[name.strip()] = float(weight)
    return mix


def generate_class(folder, students, mix, seed):
    """Write the class; returns ({(student, assignment, notebook): expected score},
    {same key: the demo student it came from}, build_class's {(demo student, ...): score})."""
    folder = Path(folder)
    sources = pipeline.load_sources()
    demo_expected = demo.build_class(folder / "demo", sources)
    unknown = set(mix) - {k[0] for k in demo_expected}
    if unknown:
        raise SystemExit(f"--mix names no demo student: {', '.join(sorted(unknown))}")
    names, weights = zip(*sorted(mix.items()))
    rng = random.Random(seed)
    expected, origin = {}, {}
    for i in range(1, students + 1):
        student = f"s{i:03d}"
        for assignment, stem in sorted(sources):
            who = rng.choices(names, weights)[0]
            src = folder / "demo" / who / assignment / f"{stem}.ipynb"
            if not src.exists():     # gus hands in only his (corrupt) last notebook
                continue
            dst = folder / "class" / student / assignment / src.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            key = (student, assignment, stem)
            expected[key], origin[key] = demo_expected[(who, assignment, stem)], who
    return expected, origin, demo_expected


def describe_mix(origin, demo_expected):
    """What the class holds, notebook by notebook: correct ones, and which kind of others."""
    kinds = Counter()
    for (student, assignment, stem), who in origin.items():
        want, full = demo_expected[(who, assignment, stem)], demo_expected[("ada", assignment, stem)]
        if who == "ada" or (who not in ("ben", "cy", "gus") and want == full):
            kinds["correct"] += 1
        else:
            kinds[f"{who}: {demo.STORIES[who]}"] += 1
    return kinds


# ---------------------------------------------------------------- /proc sampling

def _stat(pid):
    with open(f"/proc/{pid}/stat", "rb") as f:
        rest = f.read().rsplit(b")", 1)[1].split()
    return int(rest[1]), int(rest[19])   # ppid, start time (fields 4 and 22)


def _cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode(errors="replace")


def _rss(pid):
    """The process's proportional set size (PSS): pages shared with other processes (a fork
    server's children share most of theirs) count for each in proportion, so sums are real
    memory. RSS where smaps_rollup cannot be read."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def processes_under(root_pid):
    """{pid: (ppid, starttime, cmdline, rss)} for root_pid and all its descendants."""
    parents = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = _stat(entry.name)
            except (OSError, IndexError, ValueError):
                pass   # exited meanwhile
    children = defaultdict(list)
    for pid, (ppid, _) in parents.items():
        children[ppid].append(pid)
    out, todo = {}, [root_pid]
    while todo:
        pid = todo.pop()
        try:
            out[pid] = (parents[pid][0], parents[pid][1], _cmdline(pid), _rss(pid))
        except (OSError, KeyError):
            continue
        todo.extend(children.get(pid, ()))
    return out


def classify(pid, procs, cli_pid, bench_pid):
    """The kind of one process of the tree."""
    cmd = procs[pid][2]
    if pid == bench_pid:
        return "bench"
    if pid == cli_pid:
        return "cli"
    if _comm(pid) in STUDENT_NAMES:
        return "student"      # forked by a fork server: the command line is still the launcher's
    if "sandbox_launch" in cmd:
        return "launcher"     # the launcher, the fork server and its assignment processes
    if "multiprocessing.spawn" in cmd and procs[pid][0] in (cli_pid, bench_pid):
        # the CLI's pool (a child of the CLI) or a Dask worker (spawned by a nanny in this process)
        return "pool" if procs[pid][0] == cli_pid else "dask"
    return "other"


class Sampler(threading.Thread):
    """Samples the memory (PSS) of this process's tree every `interval` seconds until stopped."""

    def __init__(self, interval, progress):
        super().__init__(daemon=True)
        self.interval, self.progress = interval, progress
        self.cli_pid = None
        self.samples = []          # (seconds, notebooks done, {kind: (sum, max, count)})
        self.seen = {}             # pid -> (starttime, kind) of every sandbox process seen
        self.stop = threading.Event()
        self.start_time = time.perf_counter()

    def sample(self):
        me = os.getpid()
        procs = processes_under(me)
        agg = {}
        for pid, (_, start, _, rss) in procs.items():
            kind = classify(pid, procs, self.cli_pid, me)
            if kind in ("student", "launcher"):
                self.seen[pid] = (start, kind)
            total, largest, count = agg.get(kind, (0, 0, 0))
            agg[kind] = (total + rss, max(largest, rss), count + 1)
        self.samples.append((time.perf_counter() - self.start_time, self.progress(), agg))

    def run(self):
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval)

    def finish(self):
        self.stop.set()
        self.join()
        self.sample()


def still_running(seen):
    """Sandbox processes seen during the run that still exist (same pid and start time)."""
    alive = []
    for pid, (start, kind) in seen.items():
        try:
            ppid, started = _stat(pid)
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0].decode()
            if started == start and state != "Z":   # a zombie has ended: only its entry is left
                alive.append((pid, kind, state, ppid, _cmdline(pid)[:80]))
        except (OSError, IndexError, ValueError):
            pass
    return alive


def our_workers_in_ps():
    """Sandbox processes in `ps -eo comm,args` (fork servers, workers), restricted to this
    checkout's Python (other checkouts on the machine may be grading at the same time)."""
    out = subprocess.run(["ps", "-eo", "comm:16,args"], capture_output=True, text=True).stdout
    found = []
    for line in out.splitlines():
        comm, _, args = line.partition(" ")
        args = args.strip()
        if args.startswith(str(PYTHON)) and "sandbox_launch" in args:
            found.append(f"{comm} {args}")
    return found


# ---------------------------------------------------------------- one grading run

def grade(label, class_dir, work, count, args, scheduler=None, cluster=None):
    """Run `course grade` in a subprocess while sampling; returns a dict of measurements."""
    cmd = [str(COURSE), "grade", str(class_dir), "--work-dir", str(work),
           "--timeout", f"{args.timeout:g}"]
    cmd += ["--scheduler", scheduler] if scheduler else ["--jobs", str(args.jobs)]
    done = [0]
    if cluster is not None:
        from distributed.diagnostics.plugin import SchedulerPlugin

        class Finished(SchedulerPlugin):
            """Counts the grading tasks whose result reached the scheduler (Dask's CLI prints
            no progress); runs in this process, where LocalCluster keeps its scheduler."""
            name = f"bench-scale-progress-{label}"

            def transition(self, key, start, finish, *args, **kwargs):
                if finish == "memory" and str(key).startswith("grade_task"):
                    done[0] += 1

        cluster.scheduler.add_plugin(Finished())

    def progress():
        return done[0]
    sampler = Sampler(args.interval, progress)
    print(f"\n== {label}: {' '.join(cmd[1:])}", flush=True)
    log_path = work.parent / f"{work.name}.log"
    start = time.perf_counter()
    sampler.start()
    finished_at = None
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                cwd=ROOT)
        sampler.cli_pid = proc.pid
        try:
            for line in proc.stdout:
                log.write(line)
                m = PROGRESS.match(line)
                if m:
                    done[0] = int(m.group(1))
                    if done[0] == count:
                        finished_at = time.perf_counter() - start
                    if done[0] in {max(1, count * k // 10) for k in range(1, 11)}:
                        print(f"  {line.rstrip()[:110]}", flush=True)
            status = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    wall = time.perf_counter() - start
    sampler.finish()
    if cluster is not None:
        finished_at = next((t for t, n, _ in sampler.samples if n >= count), None)
    leftover = still_running(sampler.seen)
    if cluster is not None:
        # A Dask worker keeps its fork server for the next tasks until the cluster closes
        # (checked then); no student's process may outlive the grading.
        leftover = [entry for entry in leftover if entry[1] == "student"]
    print(f"  exit status {status} after {wall:.1f} s (log: {log_path})", flush=True)
    return {"label": label, "wall": wall, "finished_at": finished_at, "status": status,
            "samples": sampler.samples, "count": count, "work": work, "leftover": leftover,
            "ps": our_workers_in_ps(), "seen": sampler.seen, "sandboxes": len(sampler.seen)}


# ---------------------------------------------------------------- checks

def verify(run, expected):
    """Every notebook graded with its expected score, in the results and the gradebook."""
    problems = []
    results, _ = pipeline.load_graded(run["work"])
    got = {(r.student, r.assignment, r.notebook): r for r in results}
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    if missing:
        problems.append(f"{len(missing)} notebook(s) without a result, e.g. {missing[:3]}")
    if extra:
        problems.append(f"{len(extra)} unexpected result(s), e.g. {extra[:3]}")
    wrong = [(k, expected[k], r.score if r.graded else "ungraded") for k, r in got.items()
             if k in expected and not pipeline._meets(r, expected[k])]
    if wrong:
        problems.append(f"{len(wrong)} score(s) differ from the expected ones, e.g. {wrong[:3]}")
    grades = gradebook.read_grades(Path(run["work"]) / "gradebook.db", pipeline.COURSE_ID)
    in_book = [k for k, want in expected.items() if want != "ungraded"]
    absent = [k for k in in_book if k not in grades]
    if absent:
        problems.append(f"{len(absent)} graded notebook(s) missing from the gradebook, e.g. {absent[:3]}")
    book_wrong = [(k, expected[k], grades[k].automatic) for k in in_book
                  if k in grades and abs(grades[k].automatic - expected[k]) > 1e-9]
    if book_wrong:
        problems.append(f"{len(book_wrong)} gradebook score(s) differ, e.g. {book_wrong[:3]}")
    totals_want, totals_got = defaultdict(float), defaultdict(float)
    for k, want in expected.items():
        totals_want[k[0]] += 0.0 if want == "ungraded" else want
        if k in grades:
            totals_got[k[0]] += grades[k].automatic
    off = [s for s in totals_want if abs(totals_want[s] - totals_got[s]) > 1e-9]
    if off:
        problems.append(f"{len(off)} student total(s) differ from the expected ones, e.g. {off[:3]}")
    # `course grade` exits 1 when a notebook could not be graded (the corrupt files), else 0
    want_status = 1 if "ungraded" in expected.values() else 0
    if run["status"] != want_status:
        problems.append(f"course grade exited with {run['status']}, expected {want_status}")
    if run["leftover"]:
        problems.append(f"{len(run['leftover'])} sandbox process(es) still running: {run['leftover'][:5]}")
    if run["ps"]:
        problems.append(f"ps shows {len(run['ps'])} sandbox process(es) of this checkout left")
    ungraded = sum(1 for r in results if not r.graded)
    run.update(problems=problems, graded=len(results) - ungraded, ungraded=ungraded,
               students=len(totals_want), db_bytes=(Path(run["work"]) / "gradebook.db").stat().st_size,
               work_bytes=sum(p.stat().st_size for p in Path(run["work"]).rglob("*") if p.is_file()))
    return problems


# ---------------------------------------------------------------- report

def at_progress(samples, n):
    """The first sample taken once n notebooks were done."""
    return next((s for s in samples if s[1] >= n), None)


def memory_table(run):
    samples, count = run["samples"], run["count"]
    marks = [("10%", max(1, count // 10)), ("50%", max(1, count // 2)), ("100%", count)]
    picked = [(name, at_progress(samples, n)) for name, n in marks]
    kinds = [k for k in KINDS if any(k in s[2] for s in samples)]
    head = "".join(f"{f'{name} ({s[1]} nb, {s[0]:.0f} s)' if s else name:>22}" for name, s in picked)
    print(f"\n{run['label']}: PSS in MB, sum / largest process (count) at each point of progress")
    print(f"{'':<40}{head}{'peak over the run':>22}")
    for kind in kinds:
        cells = []
        for _, s in picked:
            total, largest, n = s[2].get(kind, (0, 0, 0)) if s else (0, 0, 0)
            cells.append(f"{total / MB:.0f} / {largest / MB:.0f} ({n})" if n else "-")
        peak_sum = max(s[2].get(kind, (0, 0, 0))[0] for s in samples)
        peak_max = max(s[2].get(kind, (0, 0, 0))[1] for s in samples)
        peak_n = max(s[2].get(kind, (0, 0, 0))[2] for s in samples)
        cells.append(f"{peak_sum / MB:.0f} / {peak_max / MB:.0f} ({peak_n})")
        print(f"{KIND_NAMES[kind]:<40}" + "".join(f"{c:>22}" for c in cells))
    # Growth of the long-lived grading processes (student workers and launchers live for one
    # notebook). One sample depends on which notebooks are being graded at that moment, and a
    # pool process builds a library copy per assignment when it first meets one, so the row
    # below is the largest sum seen in each tenth of the notebooks: a leak makes it climb.
    lasting = [k for k in ("cli", "pool", "dask") if k in kinds]
    tenths = [[] for _ in range(10)]
    for s in samples:
        if 0 < s[1] <= count:
            tenths[min(9, (s[1] - 1) * 10 // count)].append(
                sum(s[2].get(k, (0, 0, 0))[0] for k in lasting))
    tops = [max(t) if t else None for t in tenths]
    print(f"long-lived grading processes ({', '.join(lasting)}), largest PSS sum in each tenth of "
          "the notebooks, MB:\n  " + " ".join(f"{t / MB:.0f}" if t else "-" for t in tops))
    if tops[1] and tops[9]:
        # from the second tenth (past the warm-up) to the last; per notebook between their middles
        run["growth"] = (tops[9] - tops[1]) / (0.8 * count)
        print(f"  second tenth -> last tenth: {(tops[9] - tops[1]) / MB:+.1f} MB = "
              f"{run['growth'] / 1024:+.1f} KB per notebook graded")
    first, last = picked[0][1], picked[2][1]
    if "dask" in kinds and first and last:
        bench = last[2]["bench"][0] - first[2]["bench"][0]
        print(f"this process (Dask scheduler and nannies): {bench / MB:+.1f} MB from 10% to 100%")
    run["peak_total"] = max(sum(v[0] for k, v in s[2].items() if k != "bench") for s in samples)


def summary(runs, students, notebooks):
    print(f"\n{students} students, {notebooks} notebooks handed in")
    head = (f"{'run':<26}{'wall s':>8}{'nb/min':>8}{'graded':>8}{'to 100%':>9}{'peak PSS':>10}"
            f"{'CLI':>7}{'pool/Dask':>10}{'student':>9}{'growth':>10}{'gradebook':>11}")
    print(head)
    print("-" * len(head))
    for r in runs:
        def peak(kind, idx=1):
            return max(s[2].get(kind, (0, 0, 0))[idx] for s in r["samples"]) / MB
        helper = max(peak("pool"), peak("dask"))
        growth = f"{r['growth'] / 1024:+.0f} KB" if "growth" in r else "-"
        to_full = f"{r['finished_at']:.0f} s" if r["finished_at"] else "-"
        print(f"{r['label']:<26}{r['wall']:8.1f}{60 * r['count'] / r['wall']:8.1f}{r['graded']:8d}"
              f"{to_full:>9}{r['peak_total'] / MB:8.0f} M{peak('cli'):5.0f} M{helper:8.0f} M"
              f"{peak('student'):7.0f} M{growth:>10}{r['db_bytes'] / MB:9.1f} M")
    print("wall: the CLI from start to exit; to 100%: until the last notebook's result arrived "
          "(then the gradebook, autograded copies and formgrader files are written)")
    print("peak PSS: all grading processes together (not this one); CLI, pool/Dask, student: "
          "the largest single process; growth: long-lived processes, largest sum in the second tenth of "
          "the notebooks -> in the last tenth, per notebook")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=300, help="class size (300)")
    parser.add_argument("--jobs", type=int, default=2, help="pool processes, and Dask workers (2)")
    parser.add_argument("--skip-jobs", action="store_true", help="skip `course grade --jobs`")
    parser.add_argument("--skip-dask", action="store_true", help="skip the Dask LocalCluster run")
    parser.add_argument("--seed", type=int, default=0, help="seed of the class's mix (0)")
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"demo students' weights ({DEFAULT_MIX})")
    parser.add_argument("--timeout", type=float, default=10,
                        help="seconds per cell or call, passed to course grade (10, as `course demo`)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between RSS samples (0.5)")
    parser.add_argument("--keep", help="build everything in this folder and keep it")
    args = parser.parse_args()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-scale-"))
    for old in ("demo", "class", "work-jobs", "work-dask", "dask"):   # a reused --keep folder
        shutil.rmtree(tmp / old, ignore_errors=True)
    tmp.mkdir(parents=True, exist_ok=True)
    failed = []
    try:
        expected, origin, demo_expected = generate_class(tmp, args.students, parse_mix(args.mix),
                                                         args.seed)
        count = len(expected)
        print(f"class: {args.students} students, {count} notebooks in {tmp / 'class'} "
              f"(seed {args.seed}; load average {os.getloadavg()[0]:.1f})")
        for what, n in sorted(describe_mix(origin, demo_expected).items(), key=lambda kv: -kv[1]):
            print(f"  {n:5d}  {what}")
        runs = []
        if not args.skip_jobs:
            runs.append(grade(f"course grade --jobs {args.jobs}", tmp / "class", tmp / "work-jobs",
                              count, args))
        if not args.skip_dask:
            from distributed import LocalCluster
            with LocalCluster(n_workers=args.jobs, threads_per_worker=1, processes=True,
                              dashboard_address=None, local_directory=str(tmp / "dask"),
                              # hides the heartbeat tracebacks of workers that outlive the
                              # scheduler by a moment at close; a lost task fails the checks
                              silence_logs=logging.CRITICAL) as cluster:
                runs.append(grade(f"Dask LocalCluster, {args.jobs} workers", tmp / "class",
                                  tmp / "work-dask", count, args, scheduler=cluster.scheduler_address,
                                  cluster=cluster))
            # the cluster is closed: its workers, and any sandbox they started, must be gone
            runs[-1]["leftover"] += still_running(runs[-1]["seen"])
            runs[-1]["ps"] += our_workers_in_ps()
        for r in runs:
            problems = verify(r, expected)
            memory_table(r)
            for p in problems:
                print(f"CHECK FAILED ({r['label']}): {p}")
            if not problems:
                print(f"checks: {r['graded']} notebooks graded + {r['ungraded']} reported not graded "
                      f"(corrupt files), every score and student total as expected (results and "
                      f"gradebook), {r['sandboxes']} sandbox processes seen, none left running")
            failed += problems
        summary(runs, args.students, count)
        print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
