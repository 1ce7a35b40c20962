"""The ``backprop-kit`` command: the course's instructor and student tools on nbgrader.

backprop-kit release [ASSIGNMENT ...]   regenerate notebooks/ from solutions/
backprop-kit release --check            fail, listing them, if notebooks/ is out of date
backprop-kit check NOTEBOOK             run a notebook's visible tests, one line per task
"""

import argparse
import logging
import sys

from .course import Course, CourseError

__all__ = ["main"]

EXAMPLES = """examples:
  backprop-kit release                  regenerate every student notebook
  backprop-kit release 01-graphs        regenerate one assignment
  backprop-kit release --check          exit 1 and list notebooks that are out of date
  backprop-kit check notebooks/01-graphs/graphs.ipynb
"""


def _parser():
    p = argparse.ArgumentParser(
        prog="backprop-kit",
        description="backprop-kit course tools (nbgrader underneath).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--course", help="course root (default: the repository)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    r = sub.add_parser(
        "release",
        help="generate the student notebooks in notebooks/ from solutions/",
        description="Run nbgrader's generate_assignment: solutions/<a>/ -> notebooks/<a>/.",
    )
    r.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all")
    r.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 listing the notebooks that are out of date",
    )
    c = sub.add_parser(
        "check",
        help="run a notebook's visible tests and report each task",
        description="Run the notebook top to bottom in a fresh kernel (the file is not "
        "changed) and print PASS / FAIL / TODO per task with the tests' messages.",
    )
    c.add_argument("notebook", help="path of the .ipynb to check")
    c.add_argument("--timeout", type=int, default=60, help="seconds per cell (default 60)")
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    try:
        if args.command == "release":
            return _release(Course(args.course), args)
        return _check(args)
    except CourseError as err:
        print(f"backprop-kit {args.command}: {err}", file=sys.stderr)
        return 2


def _release(course, args):
    from .release import release, stale

    if args.check:
        problems = stale(course, args.assignments)
        if problems:
            print("Student notebooks are out of date with solutions/:", file=sys.stderr)
            for line in problems:
                print(f"  {line}", file=sys.stderr)
            print("Run `backprop-kit release` and commit notebooks/.", file=sys.stderr)
            return 1
        print(f"notebooks/ is up to date with solutions/ ({course.root})")
        return 0
    for nb in release(course, args.assignments):
        print(f"wrote {nb.relative_to(course.root)}")
    return 0


def _check(args):
    from .check import check_notebook, format_report

    results = check_notebook(args.notebook, timeout=args.timeout)
    print(format_report(args.notebook, results))
    return 0 if all(r.status == "pass" for r in results) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
