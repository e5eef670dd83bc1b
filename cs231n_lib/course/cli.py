"""`course`: the instructors' command line.

  course release            regenerate notebooks/ from solutions/ (refuses unsafe releases)
  course run-solutions      execute the solution notebooks in place (stored outputs)
  course validate           every solution earns full points, every release earns 0
  course grade FOLDER       grade a class (nbgrader layout, flat LMS export or zips)
  course feedback           one HTML page per student per notebook (gradebook scores)
  course export             grades.csv, grades_by_assignment.csv (LMS) and grades.json
  course demo               grade a sample class and compare with the expected scores
  course train-demo         train a net on the embedded MNIST subset and write its plots

`course COMMAND --help` describes a command's options. Bad names, paths and options end with
a one-line error and exit status 2.
"""
import argparse
import sys
import time
from pathlib import Path

from . import paths


class UsageError(Exception):
    """A bad name, path or option: reported in one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line (and a pointer to --help)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _version():
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("cs231n_lib")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {value:g}")
    return value


def _check_assignments(names, root=paths.ROOT):
    """Unknown assignment names are a usage error that lists the known ones."""
    known = paths.assignments(root)
    unknown = [n for n in names or () if n not in known]
    if unknown:
        raise UsageError(f"unknown assignment {', '.join(unknown)} (known: {', '.join(known) or 'none'}, "
                         f"in {Path(root) / 'solutions'})")


def cmd_release(args):
    from .release import ReleaseError, generate_release
    _check_assignments(args.assignments)
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
    _check_assignments(args.assignments)
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


def _check_submissions_folder(folder):
    folder = Path(folder)
    if folder.is_file():
        raise UsageError(f"{folder} is a file; pass the folder that holds the submissions "
                         f"(e.g. {folder.parent}), laid out <student>/<assignment>/<notebook>.ipynb")
    if not folder.is_dir():
        raise UsageError(f"submissions folder {folder} does not exist")


def cmd_grade(args):
    from . import pipeline, sandbox
    from .batch import task_limits
    _check_submissions_folder(args.submissions)
    _check_assignments(args.assignment, args.course_root)
    roster = _read_roster(args.roster) if args.roster else None
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
    count = pipeline.count_submissions(args.submissions, root=args.course_root,
                                       names=args.assignment or None)
    if count == 0:
        print(f"warning: no submissions found in {args.submissions}"
              + (f" for {', '.join(args.assignment)}" if args.assignment else "")
              + "; nothing was graded", file=sys.stderr)
        return 1
    # Printed even with --quiet: which walls the grades were earned behind.
    print(f"student code isolation: {sandbox.isolation_level(sandbox.Limits(isolation=isolation))}",
          flush=True)
    progress = None if args.quiet else pipeline.Progress(count)
    try:
        report = pipeline.grade_folder(args.submissions, work, root=args.course_root,
                                       names=args.assignment or None, jobs=args.jobs,
                                       scheduler=args.scheduler,
                                       limits=task_limits(args.timeout, args.memory_gb,
                                                          args.output_kb, isolation),
                                       full=args.full, progress=progress,
                                       exercise_modules=args.exercise_module or ())
    except (FileNotFoundError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    finally:
        if progress:
            progress.close()
    if roster:
        from . import gradebook
        gradebook.apply_roster(work / "gradebook.db", pipeline.COURSE_ID, roster)
    others = pipeline.set_aside_other_assignments(report, args.submissions, args.course_root,
                                                  args.assignment)
    print()
    pipeline.print_report(report)
    for u in others:
        print(f"note: skipped {u.origin}: {u.reason}")
    print(f"\ngradebook: {work / 'gradebook.db'}   results: {work / 'autograded'}")
    if not report.ok:
        print(f"{len(report.unmatched) + len(report.ungraded)} submission(s) could not be graded "
              "(see NOT GRADED above)", file=sys.stderr)
        return 1
    return 0


def _read_roster(path):
    from .gradebook import read_roster
    try:
        return read_roster(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the roster {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _nothing_graded(exc):
    print(f"warning: {exc}", file=sys.stderr)
    return 1


def cmd_feedback(args):
    from . import pipeline
    try:
        written = pipeline.write_all_feedback(args.work_dir, root=args.course_root, out_dir=args.out)
    except pipeline.NothingGraded as exc:
        return _nothing_graded(exc)
    except OSError as exc:
        raise UsageError(f"cannot write feedback to {args.out or args.work_dir}: "
                         f"{exc.strerror or exc}; choose another --out") from None
    print(f"wrote {len(written)} feedback page(s) under {Path(args.out or Path(args.work_dir) / 'feedback')}")
    return 0


def cmd_export(args):
    from . import pipeline
    try:
        written = pipeline.export(args.work_dir, root=args.course_root, out_dir=args.out)
    except pipeline.NothingGraded as exc:
        return _nothing_graded(exc)
    except OSError as exc:
        raise UsageError(f"cannot write the export to {args.out or args.work_dir}: "
                         f"{exc.strerror or exc}; choose another --out") from None
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def cmd_validate(args):
    from .validate import validate_course
    _check_assignments(args.assignments)
    return validate_course(names=args.assignments or None, limits=_limits(args))


def cmd_demo(args):
    from .demo import run_demo
    return run_demo(out_dir=args.out, jobs=args.jobs, timeout=args.timeout)


def cmd_train_demo(args):
    from .train_demo import run_train_demo
    return run_train_demo(out_dir=args.out)


def build_parser():
    parser = Parser(prog="course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                help="one of the commands listed above")

    p = sub.add_parser("release", description="regenerate notebooks/ from solutions/ (refuses unsafe releases)")
    p.add_argument("assignments", nargs="*", help="assignment folders (default: all)")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("run-solutions", description="execute solution notebooks in place (stored outputs)")
    p.add_argument("assignments", nargs="*", help="assignment folders (default: all)")
    p.add_argument("--timeout", type=_positive_int, default=300, help="seconds per cell")
    p.set_defaults(func=cmd_run_solutions)

    def add_limits(p):
        p.add_argument("--timeout", type=_positive_float, default=60, help="seconds per cell or call (60)")
        p.add_argument("--memory-gb", type=_positive_float, default=4, help="memory cap per student process (4)")
        p.add_argument("--output-kb", type=_positive_float, default=64, help="output kept per cell, in KiB (64)")

    work_default = str(paths.WORK)

    def add_course(p):
        p.add_argument("--work-dir", default=work_default, help="gradebook and results folder")
        p.add_argument("--course-root", default=str(paths.ROOT),
                       help="folder holding solutions/ and notebooks/ (default: this repository)")
    p = sub.add_parser("grade", description="grade a folder of submissions")
    p.add_argument("submissions", help="folder: <student>/<assignment>/<nb>.ipynb, flat files or zips")
    p.add_argument("--assignment", action="append", help="only these assignments (repeatable)")
    p.add_argument("--jobs", type=_positive_int, default=1, help="grade N submissions in parallel")
    p.add_argument("--scheduler", help="address of a Dask distributed scheduler to grade on")
    p.add_argument("--full", action="store_true", help="also run the experiment cells")
    p.add_argument("--exercise-module", action="append",
                   help="extra exercise registry module to import (repeatable)")
    p.add_argument("--roster", help="CSV with id, first_name, last_name[, email]: names formgrader shows")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--no-isolation", action="store_true",
                   help="run student code without namespaces, as you; meant only for machines "
                        "whose kernel allows none (the report and the feedback say so)")
    add_course(p)
    add_limits(p)
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("feedback", description="write HTML feedback for every graded notebook")
    add_course(p)
    p.add_argument("--out", help="folder (default: WORK_DIR/feedback)")
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("export", description="write grades.csv, grades_by_assignment.csv and grades.json")
    add_course(p)
    p.add_argument("--out", help="folder (default: WORK_DIR/export)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("validate", description="solutions earn full points, releases earn 0")
    p.add_argument("assignments", nargs="*")
    add_limits(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("demo", description="the README's main job: grade a sample class")
    p.add_argument("--out", default=str(paths.ROOT / "build" / "demo"), help="output folder")
    p.add_argument("--jobs", type=_positive_int, default=2, help="parallel gradings (2)")
    p.add_argument("--timeout", type=_positive_float, default=10, help="seconds per cell (10)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train-demo", description="train a net on the embedded MNIST subset, write plots")
    p.add_argument("--out", default=str(paths.ROOT / "build" / "train_demo"), help="output folder")
    p.set_defaults(func=cmd_train_demo)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"course {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
