"""Does ``grade --scheduler`` on a real Dask cluster give what grading here gives, store each
submission once when a worker dies, say what was kept when the scheduler dies, and resume?

A ``dask scheduler`` and ``dask worker``s (one thread each, no nanny, no dashboard) are started
on 127.0.0.1 from the venv's bin, with a scheduler file, and killed at teardown. The independent
answer is the same class graded on this machine, without Dask.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

from autograder.cli import main
from autograder.course.layout import CourseError
from autograder.demo.samples import ASSIGNMENT, NOTEBOOK, SAMPLES, build
from autograder.demo.walkthrough import make_course
from autograder.grading import cluster as cluster_module
from autograder.grading import grade as grade_module
from autograder.grading.grade import grade, gradebook_scores
from autograder.results.records import load_results
from autograder.sandbox.isolation import Limits

distributed = pytest.importorskip(
    "distributed", reason="distributed is not installed: `pip install -e '.[cluster]'`"
)

LIMITS = Limits(cell_seconds=20, notebook_seconds=120)
CLASS = ["perfect", "partial", "blank", "buggy", "missing"]  # "missing" has no notebook at all
BIN = Path(sys.executable).parent
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _course(root):
    """A course of notebook 1 with one submission per student of ``CLASS``."""
    course = make_course(root)
    release = nbformat.read(course.release_dir / ASSIGNMENT / NOTEBOOK, as_version=4)
    source = nbformat.read(course.source_dir / ASSIGNMENT / NOTEBOOK, as_version=4)
    samples = {s.student: s for s in SAMPLES}
    for student in CLASS:
        folder = Path(course.root) / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        for name, data in build(samples[student], release, source).items():
            (folder / name).write_bytes(data)
    return course


def _outcome(records):
    """``{student: [(notebook, score, max, status, [task scores])]}``: what must agree."""
    return {
        r.student_id: [
            (n.notebook, n.score, n.max_score, n.status, [t.score for t in n.tasks])
            for n in r.notebooks
        ]
        for r in records
    }


class DaskCluster:
    """A scheduler and ``workers`` worker processes on 127.0.0.1; ``address``, ``client``
    (a Dask client of the test's own), ``pid_of(worker address)``, ``stop()``."""

    def __init__(self, folder, workers):
        Path(folder).mkdir(parents=True, exist_ok=True)
        self.file = Path(folder) / "scheduler.json"
        self.procs = []
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port", "0")
        deadline = time.monotonic() + 60
        while not self.file.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        if not self.file.is_file():
            self.stop()
            raise RuntimeError(f"`dask scheduler` wrote no {self.file} in 60 s")
        self.address = json.loads(self.file.read_text())["address"]
        self.workers = [
            self._start("worker", "--nthreads", "1", "--no-nanny", "--name", f"w{i}")
            for i in range(workers)
        ]
        self.client = distributed.Client(self.address, timeout=30, set_as_default=False)
        self.client.wait_for_workers(workers, timeout=60)

    def _start(self, what, *args):
        cmd = [str(BIN / "dask"), what, "--scheduler-file", str(self.file), "--no-dashboard"]
        proc = subprocess.Popen(
            [*cmd, *args], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.procs.append(proc)
        return proc

    def pid_of(self, worker):
        """The process id of the worker at address ``worker`` (named ``w<its index>``)."""
        name = self.client.scheduler_info(n_workers=-1)["workers"][worker]["name"]
        return self.workers[int(str(name)[1:])].pid

    def stop(self):
        if getattr(self, "client", None) is not None:
            self.client.close(timeout=5)
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)


@contextmanager
def dask_cluster(folder, workers=2):
    started = DaskCluster(folder, workers)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def dask(tmp_path_factory):
    with dask_cluster(tmp_path_factory.mktemp("dask")) as started:
        yield started


@pytest.fixture(scope="module")
def here(tmp_path_factory):
    """The independent answer: the class graded on this machine, two sandboxes at a time."""
    course = _course(tmp_path_factory.mktemp("here"))
    run = grade(course, [ASSIGNMENT], workers=2, limits=LIMITS, progress=False)
    return _outcome(run.graded), gradebook_scores(course, ASSIGNMENT)


@pytest.fixture
def stores(monkeypatch):
    """Every ``_store`` call's student, in order; ``on_store`` (a list) is called after each."""
    calls, hooks = [], []
    real = grade_module._store

    def counted(course, record, executed):
        real(course, record, executed)
        calls.append(record.student_id)
        for hook in hooks:
            hook(len(calls))

    monkeypatch.setattr(grade_module, "_store", counted)
    monkeypatch.setattr(cluster_module, "CONNECT_SECONDS", 3)
    return calls, hooks


def test_the_cluster_grades_as_this_machine_does(dask, here, tmp_path, stores):
    """Graded through the scheduler, are the records and the gradebook those of local grading,
    score for score and status for status, each submission stored once, on the workers?"""
    calls, _ = stores
    course = _course(tmp_path)
    run = grade(course, [ASSIGNMENT], limits=LIMITS, progress=False, scheduler=dask.address)
    expected, expected_book = here
    assert _outcome(run.graded) == expected
    assert _outcome(load_results(course.root, ASSIGNMENT)) == expected
    assert gradebook_scores(course, ASSIGNMENT) == expected_book
    assert sorted(calls) == sorted(CLASS)
    assert "2 workers, 2 threads" in run.isolation.detail
    ran = {r.student_id: r.sandbox for r in run.graded}
    assert ran["perfect"] != "dask" and ran["missing"] == "dask"  # nothing of "missing" ran


def test_a_worker_killed_mid_run_loses_and_doubles_nothing(here, tmp_path, stores):
    """One worker SIGKILLed while it runs a notebook, after the first result is stored: is
    every submission still graded, stored exactly once, with the scores of local grading?"""
    calls, hooks = stores
    course = _course(tmp_path / "course")
    killed = []
    with dask_cluster(tmp_path, workers=2) as started:

        def kill_a_busy_worker(stored):
            if stored == 1:
                busy = [w for w, keys in started.client.processing().items() if keys]
                os.kill(started.pid_of(busy[0]), signal.SIGKILL)
                killed.append(busy[0])

        hooks.append(kill_a_busy_worker)
        run = grade(course, [ASSIGNMENT], limits=LIMITS, progress=False, scheduler=started.address)
        left = set(started.client.scheduler_info(n_workers=-1)["workers"])
    assert len(killed) == 1 and killed[0] not in left
    assert Counter(calls) == Counter(CLASS)
    assert sorted(r.student_id for r in run.graded) == sorted(CLASS)
    expected, expected_book = here
    assert _outcome(load_results(course.root, ASSIGNMENT)) == expected
    assert gradebook_scores(course, ASSIGNMENT) == expected_book


def test_the_scheduler_lost_mid_run_says_what_was_kept_and_a_rerun_resumes(
    dask, here, tmp_path, stores
):
    """The scheduler SIGKILLed after the first result is stored: is it a CourseError naming the
    address and what was kept, and does a run on another scheduler grade just the rest?"""
    calls, hooks = stores
    course = _course(tmp_path / "course")
    with dask_cluster(tmp_path, workers=1) as doomed:

        def kill_the_scheduler(stored):
            if stored == 1:
                doomed.scheduler.kill()

        hooks.append(kill_the_scheduler)
        with pytest.raises(CourseError) as lost:
            grade(course, [ASSIGNMENT], limits=LIMITS, progress=False, scheduler=doomed.address)
        hooks.clear()
    message = str(lost.value)
    assert f"the Dask scheduler at {doomed.address}: lost the connection" in message
    kept = len(load_results(course.root, ASSIGNMENT))
    assert kept == len(calls) >= 1
    assert f"Kept: {kept} submission(s) graded and stored by this run, 0 graded before" in message
    assert f"{len(CLASS) - kept} still to grade" in message
    assert "run the same command again" in message
    again = grade(course, [ASSIGNMENT], limits=LIMITS, progress=False, scheduler=dask.address)
    assert len(again.graded) == len(CLASS) - kept and len(again.skipped) == kept
    assert Counter(calls) == Counter(CLASS)
    expected, expected_book = here
    assert _outcome(load_results(course.root, ASSIGNMENT)) == expected
    assert gradebook_scores(course, ASSIGNMENT) == expected_book


def test_an_unreachable_scheduler_is_a_clear_error_and_changes_nothing(tmp_path, stores, capsys):
    """Nothing listening at the address: does ``grade`` exit 2 naming it, storing nothing?"""
    calls, _ = stores
    course = _course(tmp_path)
    with socket.socket() as free:  # a port nothing listens on
        free.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{free.getsockname()[1]}"
    argv = ["--course", str(course.root), "grade", "--scheduler", address]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"the Dask scheduler at {address}: could not connect" in err
    assert "Kept: 0 submission(s) graded and stored by this run, 0 graded before" in err
    assert calls == [] and load_results(course.root, ASSIGNMENT) == []


@pytest.mark.parametrize(
    "given, words",
    [
        ("scheduler.example.org:8786", "expected tcp://HOST:PORT, e.g. tcp://sched"),
        ("tcp://scheduler.example.org", "(not of that form)"),
        ("http://scheduler.example.org:8786", "(not of that form)"),
        ("tcp://scheduler.example.org:99999", "port 99999; expected 1 to 65535"),
        ("tcp://:8786", "(not of that form)"),
    ],
)
def test_bad_addresses_name_what_was_received_and_expected(given, words):
    """Is each malformed --scheduler refused, naming the value and the form expected?"""
    with pytest.raises(CourseError) as bad:
        cluster_module.scheduler_address(given)
    assert f"--scheduler {given!r}" in str(bad.value) and words in str(bad.value)


def test_the_option_beats_the_environment_which_beats_grading_here(tmp_path, capsys):
    """Does --scheduler win over $BACKPROP_KIT_SCHEDULER, and is a bad variable refused?"""
    env = {cluster_module.ENV: "tcp://from-env:8786"}
    assert cluster_module.scheduler_address("tcp://from-option:1", env) == "tcp://from-option:1"
    assert cluster_module.scheduler_address(None, env) == "tcp://from-env:8786"
    assert cluster_module.scheduler_address(None, {}) is None
    assert cluster_module.scheduler_address(None, {cluster_module.ENV: " "}) is None
    with pytest.raises(CourseError, match=r"BACKPROP_KIT_SCHEDULER '8786': expected tcp://"):
        cluster_module.scheduler_address(None, {cluster_module.ENV: "8786"})


def test_grading_here_does_not_import_dask(tmp_path):
    """Without --scheduler, is Dask never imported (a run of ``grade`` in a fresh Python)?"""
    course = make_course(tmp_path)
    script = (
        "import sys; from autograder.cli import main; "
        f"code = main(['--course', {str(course.root)!r}, 'grade', '--workers', '1']); "
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    env = {k: v for k, v in ENV.items() if k != cluster_module.ENV}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout + done.stderr
