"""How much faster is ``backprop-kit grade --workers 2`` (sandboxed) than plain nbgrader?

Builds a throw-away course of notebook 1 with ``--students`` submissions (perfect, partial,
blank and buggy students in turn), then, back to back in one run on the same course:

- ``nbgrader autograde 01-graphs --force``: nbgrader 0.9's own command, one process grading
  every student in turn with its default executor (a fresh kernel per notebook);
- ``backprop-kit grade --workers 2 --force``: the kit's grader, each submission in its own
  sandbox (bubblewrap when installed), two at a time.

Both commands are started as users start them (a new process each), and their scores are
compared afterwards. The per-submission overhead is each grader's time per submission on one
worker, against the bare cost of one submission: a fresh kernel running the perfect notebook
top to bottom with nbclient (best of three). The bar: at least 1.8x on a 2-core machine.

    OMP_NUM_THREADS=1 python bench/bench_grade.py [--students 40] [--rounds 1] [--overhead]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401 - single-threaded BLAS before NumPy loads
import nbformat
from bench_notebooks import run as run_notebook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.demo.samples import ASSIGNMENT, NOTEBOOK, SAMPLES, build  # noqa: E402
from autograder.demo.walkthrough import make_course  # noqa: E402
from autograder.grading.grade import gradebook_scores  # noqa: E402
from autograder.results.records import load_results  # noqa: E402
from autograder.sandbox.isolation import detect_isolation  # noqa: E402

HONEST = ["perfect", "partial", "blank", "buggy"]
BIN = Path(os.path.normpath(os.path.abspath(sys.executable))).parent


def make(root, students):
    course = make_course(root)
    release = nbformat.read(course.release_dir / ASSIGNMENT / NOTEBOOK, as_version=4)
    source = nbformat.read(course.source_dir / ASSIGNMENT / NOTEBOOK, as_version=4)
    samples = {s.student: s for s in SAMPLES}
    for i in range(students):
        sample = samples[HONEST[i % len(HONEST)]]
        folder = Path(root) / "submitted" / f"s{i:03d}" / ASSIGNMENT
        folder.mkdir(parents=True)
        for name, data in build(sample, release, source).items():
            (folder / name).write_bytes(data)
    return course


def timed(cmd, env, cwd):
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--overhead",
        action="store_true",
        help="also grade on one worker with and without the sandbox (its cost per submission)",
    )
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="backprop-kit-bench-grade-"))
    course = make(root, args.students)
    env = dict(os.environ)
    env.update(
        BACKPROP_KIT_COURSE=str(root),
        JUPYTER_CONFIG_PATH=str(ROOT / "autograder"),
        PATH=f"{BIN}:{env.get('PATH', '')}",
    )
    nbgrader = [str(BIN / "nbgrader"), "autograde", ASSIGNMENT, "--force"]
    kit = [str(BIN / "backprop-kit"), "--course", str(root), "grade", "--force"]
    kit += ["--workers", str(args.workers)]
    perfect = nbformat.read(Path(root) / "submitted" / "s000" / ASSIGNMENT / NOTEBOOK, as_version=4)
    bare = min(run_notebook(nbformat.from_dict(perfect), root) for _ in range(3))
    one = [str(BIN / "backprop-kit"), "--course", str(root), "grade", "--force"]
    one += ["--workers", "1", "--sandbox"]
    times = {"nbgrader": [], "kit": [], "sandboxed": [], "bare": []}
    for _ in range(args.rounds):
        times["nbgrader"].append(timed(nbgrader, env, root))
        nbgrader_scores = gradebook_scores(course, ASSIGNMENT)
        times["kit"].append(timed(kit, env, root))
        records = load_results(root, ASSIGNMENT)
        sandbox = {r.sandbox for r in records}
        per_kit = sum(r.seconds for r in records) / args.students
        if args.overhead:
            times["sandboxed"].append(timed(one + [detect_isolation().kind], env, root))
            times["bare"].append(timed(one + ["none"], env, root))
    kit_scores = gradebook_scores(course, ASSIGNMENT)
    if kit_scores != nbgrader_scores:
        diff = {s: (nbgrader_scores.get(s), kit_scores[s]) for s in kit_scores}
        sys.exit(f"the two graders disagree (nbgrader, kit): {diff}")
    n = args.students
    plain, ours = min(times["nbgrader"]), min(times["kit"])
    print(
        f"{n} submissions of {ASSIGNMENT}, {os.cpu_count()} CPUs, sandbox: "
        f"{', '.join(sorted(sandbox))}, best of {args.rounds} round(s), same scores from both"
    )
    print(f"  bare kernel + cells (nbclient, one notebook)  {bare:7.2f} s")
    print(
        f"  nbgrader autograde (one process)              {plain:7.1f} s  "
        f"{plain / n:5.2f} s/submission  overhead {plain / n - bare:+.2f} s"
    )
    print(
        f"  backprop-kit grade --workers {args.workers}                {ours:7.1f} s  "
        f"{ours / n:5.2f} s/submission wall; {per_kit:.2f} s each in a worker, overhead "
        f"{per_kit - bare:+.2f} s"
    )
    print(f"  speed-up: {plain / ours:.2f}x (bar: 1.8x)")
    if args.overhead:
        boxed, bare_run = min(times["sandboxed"]) / n, min(times["bare"]) / n
        print(
            f"  one worker, {detect_isolation().kind:10}  {boxed:5.2f} s/submission; "
            f"without a sandbox {bare_run:5.2f} s: the sandbox adds {boxed - bare_run:+.2f} s"
        )
    print(f"course left in {root}")


if __name__ == "__main__":
    main()
