"""Grading throughput: plain `nbgrader autograde` vs the course grader, side by side in one run.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_grading.py [--students ada,ben,cy]

Builds the demo class (correct, known mistakes, untouched release by default) and grades it
four ways, printing submissions/minute and ratios:
  nbgrader (full)     plain `nbgrader autograde`: every cell, experiments included, in-kernel tests
  nbgrader (fast)     the in-kernel path on the same cells the course grader runs (experiments
                      removed): the baseline for the cost of out-of-kernel checking
  course grade        out-of-kernel checks, serial
  course grade -j 2   the same on two processes
and the time to grade one complete correct submission on one core: notebooks 01-08 (the issue's
"8 notebooks" line) and all of them, with this process and its fork servers pinned to one CPU.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_scale import processes_under  # noqa: E402  (this folder, beside this script)
from cs231n_lib.course import autograde, demo, paths, pipeline, variants  # noqa: E402


def nbgrader_autograde(class_dir, work, strip_experiments):
    """Time nbgrader autograde over every submission (one process, in-kernel tests)."""
    course = autograde.Course(work)
    submissions = sorted(class_dir.glob("*/*/*.ipynb"))
    start = time.perf_counter()
    for path in submissions:
        student, assignment = path.parts[-3], path.parts[-2]
        nb = json.loads(path.read_text())
        if strip_experiments:
            nb = variants.without_experiments(nb)
        course.submit(assignment, student, path.name, nb)
        course.autograde(assignment, student)
    return time.perf_counter() - start, len(submissions)


def course_grade(class_dir, work, jobs):
    start = time.perf_counter()
    report = pipeline.grade_folder(class_dir, work, jobs=jobs)
    return time.perf_counter() - start, len(report.results)


def on_one_core(run):
    """run() with this process and every process it started pinned to one CPU (Linux)."""
    if not hasattr(os, "sched_setaffinity"):
        return run()
    before = os.sched_getaffinity(0)
    cpu = {min(before)}
    for pid in processes_under(os.getpid()):
        try:
            os.sched_setaffinity(pid, cpu)
        except OSError:
            pass
    try:
        return run()
    finally:
        for pid in processes_under(os.getpid()):
            try:
                os.sched_setaffinity(pid, before)
            except OSError:
                pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", default="ada,ben,cy", help="demo students to grade")
    parser.add_argument("--skip-full", action="store_true", help="skip plain nbgrader on full notebooks")
    args = parser.parse_args()
    keep = set(args.students.split(","))
    tmp = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        sources = pipeline.load_sources()
        demo.build_class(tmp / "all", sources)
        class_dir = tmp / "class"
        for student_dir in (tmp / "all").iterdir():
            if student_dir.name in keep:
                shutil.copytree(student_dir, class_dir / student_dir.name)
        rows = []
        if not args.skip_full:
            rows.append(("nbgrader autograde (full notebooks)",) + nbgrader_autograde(class_dir, tmp / "w1", False))
        rows.append(("nbgrader autograde (experiments removed)",) + nbgrader_autograde(class_dir, tmp / "w2", True))
        rows.append(("course grade (serial)",) + course_grade(class_dir, tmp / "w3", 1))
        rows.append(("course grade --jobs 2",) + course_grade(class_dir, tmp / "w4", 2))
        one = tmp / "one"
        shutil.copytree(class_dir / "ada", one / "ada")
        eight = tmp / "eight"
        shutil.copytree(class_dir / "ada", eight / "ada",
                        ignore=lambda folder, names: [n for n in names if n.startswith("09")])
        singles = [on_one_core(lambda: course_grade(eight, tmp / "w5", 1)),
                   on_one_core(lambda: course_grade(one, tmp / "w6", 1))]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    baseline = next(r for r in rows if "experiments removed" in r[0])
    print(f"\n{len(keep)} students x {len(sources)} notebooks (assignments: {', '.join(paths.assignments())})\n")
    print(f"{'method':<42} {'seconds':>8} {'subs/min':>9} {'vs in-kernel fast path':>24}")
    for name, seconds, n in rows:
        print(f"{name:<42} {seconds:8.1f} {60 * n / seconds:9.1f} {seconds / baseline[1]:23.2f}x time")
    print()
    for single_seconds, count in singles:
        print(f"one complete correct submission ({count} notebooks), one core: {single_seconds:.1f} s")


if __name__ == "__main__":
    main()
