"""`course`: the instructors' command line (release, run the solutions, demo)."""
import argparse
import sys
import time

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


def cmd_demo(args):
    from .demo import run_demo
    return run_demo(out_dir=args.out)


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

    p = sub.add_parser("demo", help="the README's main job")
    p.add_argument("--out", default=str(paths.ROOT / "build" / "demo"), help="output folder")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
