"""``backprop-kit grade --scheduler tcp://HOST:PORT``: the sandboxes on a Dask cluster.

The grading run (the coordinator) stays where the course is: it finds, reads and assembles each
submission, and alone scores it and writes the notebook as run, the record and the gradebook,
as without a scheduler. Only the worker side of each notebook, ``execute``, becomes a Dask task:
its ``Payload`` carries the notebook's bytes and the cells to run (never the solutions folder,
the course or the gradebook), and each worker thread runs it in its own slot (``_claim_slot``)
in the strongest sandbox of its machine (``detect_isolation``). There is no shared file system.

A worker lost mid-task: the scheduler runs the task again elsewhere (its result reaches the
coordinator once, so each submission is stored once). The scheduler lost, or never reached:
``ClusterLost``, which ``grade`` turns into a ``CourseError`` saying what was kept; the records
stored stay, and the next run grades the rest. ``distributed`` is imported only here, and only
when a scheduler is given.
"""

import hashlib
import os
import re
import threading
from concurrent.futures import CancelledError
from dataclasses import replace

from autograder.course.layout import CourseError
from autograder.grading.execute import execute
from autograder.sandbox.isolation import Isolation, detect_isolation

__all__ = [
    "ENV",
    "CONNECT_SECONDS",
    "IN_FLIGHT",
    "ClusterLost",
    "Cluster",
    "scheduler_address",
    "task_key",
    "run_task",
    "worker_isolation",
]

ENV = "BACKPROP_KIT_SCHEDULER"
CONNECT_SECONDS = 20  # to reach the scheduler at the start, and again after losing it
IN_FLIGHT = 64  # submissions the coordinator keeps submitted at least (twice the threads if more)
ADDRESS = re.compile(r"tcp://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(?P<port>[0-9]+)")
EXAMPLE = "tcp://HOST:PORT, e.g. tcp://scheduler.example.org:8786"


class ClusterLost(CourseError):
    """The scheduler at ``address`` could not be reached (``what`` says how)."""

    def __init__(self, address, what):
        super().__init__(f"the Dask scheduler at {address}: {what}")
        self.address, self.what = address, what

    def explain(self, stored, before, left):
        """The message for the instructor: ``stored`` records written by this run, ``before``
        already up to date, ``left`` submissions still to grade."""
        return (
            f"the Dask scheduler at {self.address}: {self.what}. Kept: {stored} submission(s) "
            f"graded and stored by this run, {before} graded before (records in "
            f".nbgrader/results/ and the gradebook); {left} still to grade. Start the scheduler "
            "(or check the address) and run the same command again: it resumes with those "
            "(or drop --scheduler to grade them here)"
        )


def scheduler_address(option=None, environ=None):
    """The scheduler to grade on: ``option`` (``--scheduler``), else ``$BACKPROP_KIT_SCHEDULER``,
    else None (grade on this machine). Raises ``CourseError`` naming a malformed address."""
    environ = os.environ if environ is None else environ
    if option is not None:
        return _checked(option, "--scheduler")
    value = environ.get(ENV, "")
    return _checked(value, ENV) if value.strip() else None


def _checked(value, where):
    if not isinstance(value, str):
        raise CourseError(f"{where} {value!r}: expected a string {EXAMPLE}")
    match = ADDRESS.fullmatch(value.strip())
    if match is None:
        why = "no tcp:// in front" if "://" not in value else "not of that form"
        raise CourseError(f"{where} {value!r}: expected {EXAMPLE} ({why})")
    port = int(match["port"])
    if not 1 <= port <= 65535:
        raise CourseError(f"{where} {value!r}: port {port}; expected 1 to 65535 ({EXAMPLE})")
    return value.strip()


def task_key(student, assignment, notebook, fingerprint):
    """The Dask key of one notebook's run: the same job always gets the same key."""
    text = "\0".join([student, assignment, notebook, fingerprint])
    return f"backprop-kit-grade-{hashlib.sha256(text.encode()).hexdigest()[:32]}"


class Cluster:
    """A Dask client for one grading run (a context manager).

    ``address``: the scheduler's (``scheduler_address``); ``sandbox``: the sandbox kind every
    worker must use (None: each worker's strongest). Inside the ``with``: ``run`` (for
    ``Grader``), ``isolation`` (for the run's summary line), ``threads`` (the workers' threads
    when it started) and ``in_flight`` (submissions to keep submitted).
    """

    def __init__(self, address, sandbox=None, connect_seconds=None):
        self.address, self.sandbox = address, sandbox
        self.connect_seconds = connect_seconds or CONNECT_SECONDS
        self.client = None

    def __enter__(self):
        try:
            from distributed import Client
        except ImportError:
            raise CourseError(
                f"--scheduler {self.address}: the Dask client (distributed) is not installed; "
                "`.venv/bin/pip install -e '.[cluster]'` installs it"
            ) from None
        try:
            self.client = Client(self.address, timeout=self.connect_seconds, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise ClusterLost(self.address, f"could not connect ({err})") from None
        self.isolation, self.threads = self._survey()
        self.in_flight = max(IN_FLIGHT, 2 * self.threads)
        return self

    def __exit__(self, *exc):
        self.client.close(timeout=self.connect_seconds)
        return False

    def _survey(self):
        """(an ``Isolation`` describing the workers' sandboxes, their threads in all)."""
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
        futures = [
            self.client.submit(
                worker_isolation, self.sandbox, workers=[w], allow_other_workers=True, pure=False
            )
            for w in workers
        ]
        kinds = {}
        for future in futures:
            kind, detail = self._result(future)
            kinds.setdefault(kind, []).append(detail)
        threads = sum(w.get("nthreads", 0) for w in workers.values())
        seen = "; ".join(f"{len(d)} in {k} ({d[0]})" for k, d in sorted(kinds.items()))
        detail = f"Dask scheduler {self.address}, {len(workers)} workers, {threads} threads"
        detail += f": {seen}" if seen else " (none yet: tasks wait for workers to join)"
        return Isolation(self.sandbox or "dask", detail), threads

    def run(self, payload, job):
        """``Grader.run`` on the cluster: ``payload`` (of ``job``) as a Dask task, waited for;
        returns (``execute``'s answer, the worker's sandbox kind). ``ClusterLost`` if the
        scheduler is gone; an error of the task itself is raised as it was on the worker."""
        key = task_key(job.student, job.assignment, payload.name, job.fingerprint)
        future = self.client.submit(run_task, payload, self.sandbox, key=key, pure=False)
        try:
            return self._result(future)
        finally:
            future.release()

    def _result(self, future):
        try:
            return future.result()
        except (CancelledError, OSError) as err:
            if self.client.status == "running":
                raise
            raise ClusterLost(self.address, f"lost the connection ({err})") from None


# -- on the worker --------------------------------------------------------------------------------

_SLOTS = threading.local()
_ISOLATION = {}
_ISOLATION_LOCK = threading.Lock()


def worker_isolation(prefer=None):
    """This machine's sandbox (cached per process): (kind, detail). ``prefer`` forces a kind;
    ``CourseError`` if that kind is not available here."""
    with _ISOLATION_LOCK:
        if prefer not in _ISOLATION:
            found = detect_isolation(prefer) if prefer else detect_isolation()
            if prefer and found.kind != prefer:
                raise CourseError(
                    f"--sandbox {prefer} is not available on {os.uname().nodename}: {found.detail}"
                )
            _ISOLATION[prefer] = found
    found = _ISOLATION[prefer]
    return found.kind, found.detail


def _thread_slot():
    """This worker thread's slot, claimed once (a file lock no other run on the machine holds)."""
    from autograder.grading.grade import _claim_slot

    if not hasattr(_SLOTS, "n"):
        _SLOTS.n, _SLOTS.lock = _claim_slot()
    return _SLOTS.n


def run_task(payload, prefer=None):
    """The Dask task: ``execute(payload)`` in this thread's slot and this machine's sandbox
    (``prefer`` forces its kind); returns (``execute``'s answer, the sandbox kind)."""
    worker_isolation(prefer)
    isolation = _ISOLATION[prefer]
    outcome = execute(replace(payload, isolation=isolation, slot=_thread_slot()))
    return outcome, isolation.kind
