"""How much faster is ``backprop-kit grade --workers 2`` (sandboxed) than plain nbgrader?

Builds a throw-away course of one assignment with ``--students`` submissions, then, back to
back in one run on the same course:

- ``nbgrader autograde ASSIGNMENT --force``: nbgrader 0.9's own command, one process grading
  every student in turn with its default executor (a fresh kernel per notebook);
- ``backprop-kit grade --workers 2 --force``: the kit's grader, each submission in its own
  sandbox (bubblewrap when installed), two at a time, in warm slots (a fresh child of a parent
  whose imports are done);
- the same with ``--no-warm``: a new Python per submission, as before warm slots;
- the same with ``--scheduler``: each notebook a task on a Dask scheduler with two one-thread
  workers on 127.0.0.1 (skipped without ``distributed``); its gradebook must equal local grading's.

Notebook 1 (the default) gets perfect, partial, blank and buggy students in turn; any other
assignment (``--assignment 07-two-layer-net``) gets perfect (the solution's answers) and
untouched students in turn. Both graders are started as users start them (a new process
each), and their scores must agree. A worker's time per submission is the records' own
``seconds`` (find, run, score one submission); the bare cost of one submission is a fresh kernel
running the perfect notebook top to bottom with nbclient (best of three). The bars: at least
8x nbgrader, and at most 0.5 s per submission in a worker, on a 2-core machine.

    OMP_NUM_THREADS=1 python bench/bench_grade.py [--students 40] [--assignment A] [--overhead]
"""

import argparse
import json
import os
import shutil
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

from autograder.course.layout import REPO_ROOT, Course, sqlite_gradebook_url  # noqa: E402
from autograder.course.release import release as release_notebooks  # noqa: E402
from autograder.demo.samples import ASSIGNMENT, NOTEBOOK, SAMPLES, build, solved  # noqa: E402
from autograder.demo.walkthrough import make_course  # noqa: E402
from autograder.grading.grade import gradebook_scores  # noqa: E402
from autograder.results.records import load_results  # noqa: E402

HONEST = ["perfect", "partial", "blank", "buggy"]
BIN = Path(os.path.normpath(os.path.abspath(sys.executable))).parent


def make(root, students, assignment=ASSIGNMENT):
    """A course at ``root`` with ``students`` submissions of ``assignment``; the perfect
    student's first notebook (for the bare-kernel timing)."""
    if assignment == ASSIGNMENT:
        course = make_course(root)
    else:
        course = Course(root, db_url=sqlite_gradebook_url(root))
        shutil.copytree(Course(REPO_ROOT).source_dir / assignment, course.source_dir / assignment)
        release_notebooks(course, [assignment])
    samples = {s.student: s for s in SAMPLES}
    names = sorted(p.name for p in (course.release_dir / assignment).glob("*.ipynb"))
    for i in range(students):
        folder = Path(root) / "submitted" / f"s{i:03d}" / assignment
        folder.mkdir(parents=True)
        for name in names:
            release = nbformat.read(course.release_dir / assignment / name, as_version=4)
            source = nbformat.read(course.source_dir / assignment / name, as_version=4)
            if assignment == ASSIGNMENT and name == NOTEBOOK:
                files = build(samples[HONEST[i % len(HONEST)]], release, source)
            else:
                nb = solved(release, source) if i % 2 == 0 else release
                files = {name: nbformat.writes(nb).encode()}
            for file_name, data in files.items():
                (folder / file_name).write_bytes(data)
    return course, folder.parent.parent / "s000" / assignment / names[0]


def timed(cmd, env, cwd):
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


def kit_row(label, cmd, env, root, course, assignment, expected, n):
    """Run one kit command, check its gradebook against nbgrader's, and return its figures."""
    seconds = timed(cmd, env, root)
    records = load_results(root, assignment)
    scores = gradebook_scores(course, assignment)
    if scores != expected:
        diff = {s: (expected.get(s), scores.get(s)) for s in set(expected) | set(scores)}
        sys.exit(f"{label} disagrees with nbgrader (nbgrader, kit): {diff}")
    per_worker = sum(r.seconds for r in records) / n
    return {"label": label, "wall": seconds, "worker": per_worker, "sandbox": records[0].sandbox}


def start_dask(folder, workers):
    """A ``dask scheduler`` and ``workers`` one-thread ``dask worker``s on 127.0.0.1, each a
    new process; returns (the scheduler's address, the processes)."""
    from distributed import Client

    file = Path(folder) / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    dask = [str(BIN / "dask")]
    shared = ["--scheduler-file", str(file), "--no-dashboard"]
    procs = [subprocess.Popen([*dask, "scheduler", *shared, "--port", "0"], **quiet)]
    deadline = time.monotonic() + 60
    while not file.is_file() and time.monotonic() < deadline:
        time.sleep(0.1)
    for _ in range(workers):
        procs.append(subprocess.Popen([*dask, "worker", *shared, "--nthreads", "1"], **quiet))
    address = json.loads(file.read_text())["address"]
    with Client(address, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(workers, timeout=60)
    return address, procs


def dask_row(kit, env, root, course, assignment, workers):
    """Grade through a local Dask cluster of ``workers`` workers; its figures, and whether its
    gradebook equals the one the run before it (local grading) left. None without Dask."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return None
    local = gradebook_scores(course, assignment)
    address, procs = start_dask(root, workers)
    try:
        seconds = timed([*kit, "--scheduler", address], env, root)
    finally:
        for proc in reversed(procs):
            proc.kill()
            proc.wait(timeout=30)
    records = load_results(root, assignment)
    return {  # no time per submission: the records' seconds include the wait in Dask's queue
        "wall": seconds,
        "sandbox": ",".join(sorted({r.sandbox for r in records})),
        "same": gradebook_scores(course, assignment) == local,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=40)
    ap.add_argument("--assignment", default=ASSIGNMENT)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--overhead",
        action="store_true",
        help="also grade on one worker in warm slots, fresh, and without a sandbox",
    )
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="backprop-kit-bench-grade-"))
    course, first = make(root, args.students, args.assignment)
    env = dict(os.environ)
    env.update(
        BACKPROP_KIT_COURSE=str(root),
        JUPYTER_CONFIG_PATH=str(ROOT / "autograder" / "course"),
        PATH=f"{BIN}:{env.get('PATH', '')}",
    )
    n, a = args.students, args.assignment
    bare = min(run_notebook(nbformat.read(first, as_version=4), root) for _ in range(3))
    kit = [str(BIN / "backprop-kit"), "--course", str(root), "grade", "--force"]
    plain = timed([str(BIN / "nbgrader"), "autograde", a, "--force"], env, root)
    expected = gradebook_scores(course, a)
    runs = [("--workers N, warm slots", ["--workers", str(args.workers)])]
    runs.append(("--workers N --no-warm", ["--workers", str(args.workers), "--no-warm"]))
    if args.overhead:
        runs.append(("--workers 1, warm slots", ["--workers", "1"]))
        runs.append(("--workers 1 --no-warm", ["--workers", "1", "--no-warm"]))
        runs.append(("--workers 1 --sandbox none", ["--workers", "1", "--sandbox", "none"]))
    rows = [kit_row(label, kit + extra, env, root, course, a, expected, n) for label, extra in runs]
    dask = dask_row(kit, env, root, course, a, args.workers)
    print(f"{n} submissions of {a}, {os.cpu_count()} CPUs, same scores from every grader")
    print(f"  bare kernel + cells (nbclient, one notebook)  {bare:7.2f} s")
    print(
        f"  nbgrader autograde (one process)              {plain:7.1f} s  "
        f"{plain / n:5.2f} s/submission  overhead {plain / n - bare:+.2f} s"
    )
    for row in rows:
        label = row["label"].replace("N", str(args.workers))
        print(
            f"  grade {label:27} {row['sandbox']:10} {row['wall']:6.1f} s  "
            f"{row['wall'] / n:5.2f} s/submission wall; {row['worker']:.2f} s each in a worker; "
            f"{plain / row['wall']:5.2f}x nbgrader"
        )
    if dask is None:
        print("  Dask row skipped: distributed is not installed (pip install -e '.[cluster]')")
    else:
        local = rows[0]
        print(
            f"  grade --scheduler (Dask, {args.workers} workers)  {dask['sandbox']:10} "
            f"{dask['wall']:6.1f} s  {dask['wall'] / n:5.2f} s/submission wall "
            f"({(dask['wall'] - local['wall']) / n:+.2f} s over --workers {args.workers}); "
            "gradebook "
            + ("equal to local grading's" if dask["same"] else "DIFFERENT from local grading's")
        )
    print(f"course left in {root}")


if __name__ == "__main__":
    main()
