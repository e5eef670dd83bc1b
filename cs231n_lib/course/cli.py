"""`course`: the instructors' command line.

  course release            regenerate notebooks/ from solutions/ (refuses unsafe releases)
  course run-solutions      execute the solution notebooks in place (stored outputs)
  course validate           every solution earns full points, every release earns 0
  course grade FOLDER       grade a class (nbgrader layout, flat LMS export or zips)
  course feedback           one HTML page per student per notebook
  course export             grades.csv + grades.json
  course demo               grade a sample class and compare with the expected scores
  course train-demo         train a net on the embedded MNIST subset and write its plots
"""
import argparse
import sys
import time
from pathlib import Path

from . import paths


def cmd_release(args):
    from .release import ReleaseError, generate_release
    start = time.perf_counter()
    try:
        written = generate_release(names=args.assignments or None)
    except (ReleaseError, ValueError) as exc:
        print(f"release failed: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path.relative_to(paths.ROOT)}")
    print(f"release of {len(written)} notebook(s) in {time.perf_counter() - start:.1f} s")
    return 0


def cmd_run_solutions(args):
    """Re-execute solution notebooks in place so their stored outputs are current."""
    from .execute import execute_notebook
    status = 0
    for nb_path in paths.solution_notebooks(names=args.assignments or None):
        try:
            _, seconds = execute_notebook(nb_path, timeout=args.timeout)
            print(f"{nb_path.relative_to(paths.ROOT)}: executed in {seconds:.1f} s")
        except Exception as exc:  # report and go on with the others
            print(f"{nb_path.relative_to(paths.ROOT)}: FAILED: {exc}", file=sys.stderr)
            status = 1
    return status


def _limits(args):
    from .batch import task_limits
    return task_limits(args.timeout, args.memory_gb, args.output_kb)


def cmd_grade(args):
    from . import pipeline, sandbox
    from .batch import task_limits
    work = Path(args.work_dir)
    isolation = "none" if args.no_isolation else "required"
    if not args.no_isolation and not sandbox.probe().isolated:
        print(f"grade: refusing to grade: this machine gives student code no isolation "
              f"({sandbox.probe().reason}). Student code would run as you and could read "
              "solutions/ and rewrite the gradebook. Enable unprivileged user namespaces "
              "(sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces) or run "
              "as root; or pass --no-isolation to grade anyway (the report and every "
              "feedback page will say so).", file=sys.stderr)
        return 2
    # Printed even with --quiet: which walls the grades were earned behind.
    print(f"student code isolation: {sandbox.isolation_level(sandbox.Limits(isolation=isolation))}",
          flush=True)

    def progress(result):
        if not args.quiet:
            state = f"{result.score:g}/{result.max_score:g}" if result.graded else "NOT GRADED"
            print(f"graded {result.student} {result.assignment}/{result.notebook}: {state} "
                  f"({result.seconds:.1f} s)", flush=True)
    try:
        report = pipeline.grade_folder(args.submissions, work, root=args.course_root,
                                       names=args.assignment or None, jobs=args.jobs,
                                       scheduler=args.scheduler,
                                       limits=task_limits(args.timeout, args.memory_gb,
                                                          args.output_kb, isolation),
                                       full=args.full, progress=progress,
                                       exercise_modules=args.exercise_module or ())
    except (FileNotFoundError, ValueError) as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 2
    print()
    pipeline.print_report(report)
    print(f"\ngradebook: {work / 'gradebook.db'}   results: {work / 'autograded'}")
    if not report.ok:
        print(f"{len(report.unmatched) + len(report.ungraded)} submission(s) could not be graded "
              "(see NOT GRADED above)", file=sys.stderr)
        return 1
    return 0


def cmd_feedback(args):
    from . import pipeline
    written = pipeline.write_all_feedback(args.work_dir, root=args.course_root, out_dir=args.out)
    print(f"wrote {len(written)} feedback page(s) under {Path(args.out or Path(args.work_dir) / 'feedback')}")
    return 0 if written else 1


def cmd_export(args):
    from . import pipeline
    csv_path, json_path = pipeline.export(args.work_dir, root=args.course_root, out_dir=args.out)
    print(f"wrote {csv_path} and {json_path}")
    return 0


def cmd_validate(args):
    from .validate import validate_course
    return validate_course(names=args.assignments or None, limits=_limits(args))


def cmd_demo(args):
    from .demo import run_demo
    return run_demo(out_dir=args.out, jobs=args.jobs, timeout=args.timeout)


def cmd_train_demo(args):
    from .train_demo import run_train_demo
    return run_train_demo(out_dir=args.out)


def build_parser():
    parser = argparse.ArgumentParser(prog="course", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="regenerate notebooks/ from solutions/ (refuses unsafe releases)")
    p.add_argument("assignments", nargs="*", help="assignment folders (default: all)")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("run-solutions", help="execute solution notebooks in place (stored outputs)")
    p.add_argument("assignments", nargs="*", help="assignment folders (default: all)")
    p.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    p.set_defaults(func=cmd_run_solutions)

    def add_limits(p):
        p.add_argument("--timeout", type=float, default=60, help="seconds per cell or call (60)")
        p.add_argument("--memory-gb", type=float, default=4, help="memory cap per student process (4)")
        p.add_argument("--output-kb", type=float, default=64, help="output kept per cell, in KiB (64)")

    work_default = str(paths.WORK)

    def add_course(p):
        p.add_argument("--work-dir", default=work_default, help="gradebook and results folder")
        p.add_argument("--course-root", default=str(paths.ROOT),
                       help="folder holding solutions/ and notebooks/ (default: this repository)")
    p = sub.add_parser("grade", help="grade a folder of submissions")
    p.add_argument("submissions", help="folder: <student>/<assignment>/<nb>.ipynb, flat files or zips")
    p.add_argument("--assignment", action="append", help="only these assignments (repeatable)")
    p.add_argument("--jobs", type=int, default=1, help="grade N submissions in parallel")
    p.add_argument("--scheduler", help="address of a Dask distributed scheduler to grade on")
    p.add_argument("--full", action="store_true", help="also run the experiment cells")
    p.add_argument("--exercise-module", action="append",
                   help="extra exercise registry module to import (repeatable)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--no-isolation", action="store_true",
                   help="run student code without namespaces, as you; meant only for machines "
                        "whose kernel allows none (the report and the feedback say so)")
    add_course(p)
    add_limits(p)
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("feedback", help="write HTML feedback for every graded notebook")
    add_course(p)
    p.add_argument("--out", help="folder (default: WORK_DIR/feedback)")
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("export", help="write grades.csv and grades.json")
    add_course(p)
    p.add_argument("--out", help="folder (default: WORK_DIR/export)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("validate", help="solutions earn full points, releases earn 0")
    p.add_argument("assignments", nargs="*")
    add_limits(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("demo", help="the README's main job: grade a sample class")
    p.add_argument("--out", default=str(paths.ROOT / "build" / "demo"), help="output folder")
    p.add_argument("--jobs", type=int, default=2, help="parallel gradings (2)")
    p.add_argument("--timeout", type=float, default=10, help="seconds per cell (10)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train-demo", help="train a net on the embedded MNIST subset, write plots")
    p.add_argument("--out", default=str(paths.ROOT / "build" / "train_demo"), help="output folder")
    p.set_defaults(func=cmd_train_demo)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
