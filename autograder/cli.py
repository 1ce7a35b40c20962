"""The ``backprop-kit`` command: the course's instructor and student tools on nbgrader.

The instructor's commands are the pipeline's steps, in the order ``autograder.pipeline``
declares them; ``check`` (the student's), ``variant`` (office hours) and ``demo`` stand beside it.

backprop-kit release [ASSIGNMENT ...]   regenerate notebooks/ from solutions/
backprop-kit release --check            fail, listing them, if notebooks/ is out of date
backprop-kit check NOTEBOOK             run a notebook's visible tests, one line per task
backprop-kit variant STUDENT [TASK ...]  a student's numbers and answers for the value tasks
backprop-kit collect PATH               import a folder or LMS zip of submissions
backprop-kit collect --exchange         the latest submissions from nbgrader's exchange
backprop-kit grade                      grade what was collected: sandboxed, parallel, resumable
backprop-kit feedback                   an HTML page per student and notebook
backprop-kit feedback --release         ... and into the exchange, for the Assignments tab
backprop-kit report [--csv PATH]        grades CSV, task pass rates, hints, charts
backprop-kit demo                       the whole pipeline on a throw-away course
"""

import argparse
import logging
import sys

from autograder.course.layout import Course, CourseError
from autograder.pipeline import PIPELINE, step

__all__ = ["main"]

EXAMPLES = """examples:
  backprop-kit release                  regenerate every student notebook
  backprop-kit release 01-graphs        regenerate one assignment
  backprop-kit release --check          exit 1 and list notebooks that are out of date
  backprop-kit check notebooks/01-graphs/graphs.ipynb
  backprop-kit variant s1234567 forward-values hand-gradients
  backprop-kit collect ~/Downloads/graphs-submissions.zip --assignment 01-graphs
  backprop-kit collect --exchange --assignment 01-graphs
  backprop-kit grade --workers 2
  backprop-kit grade --scheduler tcp://scheduler.example.org:8786
  backprop-kit feedback && backprop-kit report --csv grades.csv
  backprop-kit feedback --assignment 01-graphs --release /srv/nbgrader/exchange
  backprop-kit demo
"""


def _parser():
    p = argparse.ArgumentParser(
        prog="backprop-kit",
        description="backprop-kit course tools (nbgrader underneath).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--course", help="course root (default: the repository)")
    p.add_argument(
        "--db-url",
        help="gradebook database URL (default: sqlite:///<course>/.nbgrader/gradebook.db; "
        "postgresql://... for a shared server)",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for s in PIPELINE:  # the pipeline's steps, in order, then the two tools beside it
        parser = sub.add_parser(s.command, help=s.summary, description=DESCRIPTIONS[s.command])
        OPTIONS[s.command](parser)
    c = sub.add_parser(
        "check",
        help="run a notebook's visible tests and report each task",
        description="Run the notebook top to bottom in a fresh kernel (the file is not "
        "changed) and print PASS / FAIL / TODO per task with the tests' messages.",
    )
    c.add_argument("notebook", help="path of the .ipynb to check")
    c.add_argument("--timeout", type=int, default=60, help="seconds per cell (default 60)")
    v = sub.add_parser(
        "variant",
        help="a student's numbers and answers for the value tasks (office hours)",
        description="Print the numbers each value task gives STUDENT (drawn from the id and the "
        "task, as the student's notebook and the grader draw them) and the answers to them. "
        "Tasks in a notebook with variants off show the slide's numbers.",
    )
    v.add_argument("student", help="the student id, as collected (the hub user name)")
    v.add_argument("tasks", nargs="*", metavar="TASK", help="value task ids (default: all)")
    d = sub.add_parser(
        "demo",
        help="collect, grade, feedback and report on a throw-away course with sample students",
        description="Build a course from the repository's solutions in a temporary folder, "
        "collect the bundled sample submissions (correct, partial, blank, buggy and hostile), "
        "grade them in sandboxes, write feedback and reports, and print the gradebook.",
    )
    d.add_argument("--keep", metavar="DIR", help="build the course in DIR and keep it")
    d.add_argument("--workers", type=int, default=2, help="sandboxes at a time (default 2)")
    return p


DESCRIPTIONS = {
    "release": "Run nbgrader's generate_assignment: solutions/<a>/ -> notebooks/<a>/.",
    "collect": "Copy each student's notebooks into submitted/<student>/<assignment>/ with "
    "a timestamp; a newer submission already collected is kept; damaged or unrecognised "
    "files are reported and set aside in .nbgrader/rejected/.",
    "grade": "Run each submission in its own sandbox and merge the scores into the "
    "gradebook. Re-running skips what is graded and unchanged; a killed run loses nothing.",
    "feedback": "feedback/<student>/<assignment>/<notebook>.html: the score, each task's "
    "result and hints, and the notebook as run; never the hidden tests or server paths.",
    "report": "Write reports/grades.csv (one row per student and notebook), tasks.csv, "
    "hints.csv, scores.png and tasks.png, and print a summary.",
}


def _release_options(r):
    r.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all")
    r.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 listing the notebooks that are out of date",
    )


def _collect_options(co):
    co.add_argument(
        "path", nargs="?", help="a folder of submissions or a .zip downloaded from an LMS"
    )
    co.add_argument("--assignment", help="the assignment id (default: inferred from names)")
    co.add_argument(
        "--exchange",
        nargs="?",
        const="",
        metavar="DIR",
        help="instead of PATH: each student's latest submission from nbgrader's exchange "
        "(DIR: its root; default $BACKPROP_KIT_EXCHANGE, else the course's Exchange.root); "
        "needs --assignment",
    )


def _grade_options(g):
    g.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    g.add_argument("--workers", type=int, default=2, help="sandboxes at a time (default 2)")
    g.add_argument("--force", action="store_true", help="grade again what is already graded")
    g.add_argument("--cell-timeout", type=float, default=60, help="seconds per cell (60)")
    g.add_argument("--notebook-timeout", type=float, default=600, help="seconds per notebook (600)")
    g.add_argument("--memory-mb", type=int, default=2048, help="memory per submission (2048)")
    g.add_argument(
        "--sandbox",
        choices=["bubblewrap", "unshare", "none"],
        help="force a sandbox kind (default: the strongest available)",
    )
    g.add_argument(
        "--no-warm",
        action="store_true",
        help="a new Python per notebook instead of a fresh child of a warm slot (slower)",
    )
    g.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run the sandboxes on this Dask scheduler's workers (default: "
        "$BACKPROP_KIT_SCHEDULER; unset: on this machine); `pip install -e '.[cluster]'`",
    )


def _feedback_options(f):
    f.add_argument("--assignment", help="only this assignment")
    f.add_argument("--student", action="append", help="only this student (repeatable)")
    f.add_argument(
        "--release",
        nargs="?",
        const="",
        metavar="DIR",
        help="also put each page where nbgrader's fetch_feedback and the Assignments tab find "
        "it (DIR: the exchange root; default $BACKPROP_KIT_EXCHANGE, else the course's "
        "Exchange.root); needs submissions collected with --exchange",
    )


def _report_options(r):
    r.add_argument("--assignment", help="only this assignment")
    r.add_argument("--csv", help="where to write the grades CSV (default reports/grades.csv)")
    r.add_argument("--out", help="folder for the other files (default reports/)")


OPTIONS = {
    "release": _release_options,
    "collect": _collect_options,
    "grade": _grade_options,
    "feedback": _feedback_options,
    "report": _report_options,
}


def main(argv=None):
    args = _parser().parse_args(argv)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "demo":
            from autograder.demo.walkthrough import run_demo

            return run_demo(keep=args.keep, workers=args.workers)
        course = _course(args)
        if args.command == "variant":
            from autograder.course.variants import describe

            print(describe(course, args.student, args.tasks))
            return 0
        return COMMANDS[args.command](course, args)
    except CourseError as err:
        print(f"backprop-kit {args.command}: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"\nbackprop-kit {args.command}: interrupted. What was finished is kept; "
            f"run the same command again to go on.",
            file=sys.stderr,
        )
        return 130


def _course(args):
    return Course(args.course, db_url=args.db_url)


def _collect(course, args):
    if (args.path is None) == (args.exchange is None):
        raise CourseError(
            "collect needs PATH (a folder or .zip) or --exchange, not "
            + ("both" if args.path else "neither")
        )
    if args.exchange is not None:
        from autograder.intake.exchange import collect_exchange

        report = collect_exchange(course, args.assignment, args.exchange or None)
        print(report.format())
        return report.exit_code
    report = step("collect").load()(course, args.path, args.assignment)
    print(report.format())
    return report.exit_code


def _grade(course, args):
    from autograder.grading.cluster import scheduler_address
    from autograder.sandbox.isolation import Limits, detect_isolation

    grade = step("grade").load()

    try:
        limits = Limits(
            cell_seconds=args.cell_timeout,
            notebook_seconds=args.notebook_timeout,
            memory_mb=args.memory_mb,
        )
    except ValueError as err:
        raise CourseError(str(err)) from None
    scheduler = scheduler_address(args.scheduler)
    isolation = None
    if scheduler is None:  # on a cluster, each worker finds its own sandbox
        isolation = detect_isolation(args.sandbox) if args.sandbox else detect_isolation()
        if args.sandbox and isolation.kind != args.sandbox:
            raise CourseError(f"--sandbox {args.sandbox} is not available here: {isolation.detail}")
        if isolation.kind != "bubblewrap":
            print(f"warning: {isolation.detail}", file=sys.stderr)
    run = grade(
        course,
        args.assignment,
        workers=args.workers,
        force=args.force,
        limits=limits,
        isolation=isolation,
        scheduler=scheduler,
        sandbox=args.sandbox,
        warm=not args.no_warm,
    )
    print(run.format())
    return 0


def _feedback(course, args):
    pages = step("feedback").load()(course, args.assignment, args.student)
    print(f"wrote {len(pages)} feedback pages under {course.root / 'feedback'}")
    if args.release is not None:
        from autograder.results.exchange_feedback import release_feedback

        print(release_feedback(course, pages, args.release or None).format())
    return 0


def _report(course, args):
    report = step("report").load()(course, args.assignment, csv_path=args.csv, out_dir=args.out)
    print(report.format())
    return 0


def _release(course, args):
    from autograder.course.release import stale

    release = step("release").load()

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
    from autograder.grading.visible import check_notebook, format_report
    from chainrule.testcells import PASS

    results = check_notebook(args.notebook, timeout=args.timeout)
    print(format_report(args.notebook, results))
    return 0 if all(r.status == PASS for r in results) else 1


COMMANDS = {
    "release": _release,
    "collect": _collect,
    "grade": _grade,
    "feedback": _feedback,
    "report": _report,
}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
