"""``backprop-kit grade``: every collected submission, in parallel sandboxes, resumably.

For each ``submitted/<student>/<assignment>/`` not yet graded (or changed since), a worker
thread assembles each notebook (``submission.assemble``), runs its cells in a fresh sandbox
(``sandbox.Sandbox``, at most ``workers`` at a time) and scores the tasks from the test cells'
results and the integrity events. Running the cells is ``execute.execute``, a plain function of
plain data: with ``scheduler`` (``--scheduler tcp://HOST:PORT``) it runs as a Dask task on another
machine instead (``cluster``), and everything else stays here. The grader process alone then
writes, in this order:

1. the executed notebook, safe to show, to ``autograded/<student>/<assignment>/``;
2. the record ``.nbgrader/results/<assignment>/<student>.json`` (atomically: this is what
   makes a submission graded, so a run killed at any point loses nothing and, re-run, grades
   nothing twice);
3. the scores into nbgrader's gradebook (SQLite or PostgreSQL), from the records; records a
   killed run wrote but did not merge are merged by the next run.

Statuses: ``graded`` (the tests decided), ``zero`` (nothing could be graded: missing or
damaged notebook, a crash, a timeout) and ``flagged`` (tampering seen: tests or builtins
patched, IPython transformers, locked cells edited or deleted, solutions or the gradebook
read, the reference implementation called; these notebooks score 0, or lose the tampered
task, and wait for a person, marked ``needs_manual_grade`` in the gradebook).
"""

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import stat
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from autograder.course import variants
from autograder.course.assignment import Assignment
from autograder.course.layout import CourseError, unsafe_student_id
from autograder.grading.execute import WORK_PREFIX, Cell, Payload, died_from_dict, execute
from autograder.grading.scoring import (
    NotebookRun,
    executed_notebook,
    printable,
    rebinding_events,
    score_notebook,
    withhold_hidden,
    zero_result,
)
from autograder.intake.submission import Unreadable, assemble, find_notebook, read_submission
from autograder.results.gradebook import ensure_in_gradebook, gradebook_scores, merge_into_gradebook
from autograder.results.records import SubmissionResult, result_path, write_json_atomic
from autograder.sandbox import warm as warm_slots
from autograder.sandbox.isolation import Limits, detect_isolation

__all__ = ["grade", "GradeRun", "pending", "fingerprint", "gradebook_scores"]

# What a submission must never see, listed once: each is refused under the course's root, and
# those marked "anywhere" also by name in any path (a copy of the course elsewhere on the host).
PRIVATE = {
    "solutions": "anywhere",
    ".nbgrader": "anywhere",
    "gradebook.db": "anywhere",
    "submitted": "anywhere",
    "autograded": "anywhere",
    "feedback": "course",
    "reports": "course",
}
FORBIDDEN_NAMES = sorted(name for name, where in PRIVATE.items() if where == "anywhere")


# -- one submission -------------------------------------------------------------------------------


@dataclass
class Job:
    assignment: str
    student: str
    folder: Path | None
    fingerprint: str
    timestamp: str | None
    rejected: str | None = None  # why collect set the student's only files aside


def fingerprint(folder, tests=b""):
    """sha256 over the submission's files (names and bytes) and ``tests`` (the assignment's
    source notebooks): changes when anything changes, the tests included."""
    digest = hashlib.sha256(tests)
    for p in sorted(Path(folder).rglob("*")):
        if p.is_file() and ".ipynb_checkpoints" not in p.parts:
            digest.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes() + b"\0")
    return digest.hexdigest()


def _timestamp(folder):
    path = Path(folder) / "timestamp.txt"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def pending(course, assignments, force=False):
    """(jobs to grade, records already up to date) for the given assignments."""
    jobs, done = [], []
    for job in [*_submissions(course, assignments), *_rejected_students(course, assignments)]:
        old = None if force else _record(course, job)
        if old is not None and old.fingerprint == job.fingerprint:
            done.append(old)
        else:
            jobs.append(job)
    return jobs, done


def _record(course, job):
    """The record a run before this one wrote for the job's student and assignment, if any."""
    path = result_path(course.root, job.assignment, job.student)
    return SubmissionResult.from_dict(json.loads(path.read_text())) if path.is_file() else None


def _submissions(course, assignments):
    """A job per folder of ``submitted/``, fingerprinted with the assignment's tests."""
    for a in assignments:
        tests = b"".join(p.read_bytes() for p in course.source_notebooks(a))
        for student, folder, problem in _submitted(course, a):
            if problem:
                print(
                    f"warning: not grading submitted/{student!r}/{a}: the student id {problem}; "
                    "rename the folder",
                    file=sys.stderr,
                )
                continue
            yield Job(a, student, folder, fingerprint(folder, tests), _timestamp(folder))


def _submitted(course, assignment):
    """``(student, folder, why the id is unusable or None)`` for each folder
    ``submitted/<student>/<assignment>/``, in order."""
    for folder in sorted((Path(course.root) / "submitted").glob(f"*/{assignment}")):
        if folder.is_dir():
            student = folder.parent.name
            yield student, folder, unsafe_student_id(student)


def _rejected_students(course, assignments):
    """Students whose every file ``collect`` set aside, and who have no submission since."""
    from autograder.intake.collect import REJECTED_STUDENTS

    path = Path(course.root) / REJECTED_STUDENTS
    latest = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
                latest[entry["assignment"], entry["student"]] = entry
            except (ValueError, KeyError, TypeError):
                continue
    for (a, student), entry in sorted(latest.items()):
        if a in assignments and not (Path(course.root) / "submitted" / student / a).exists():
            reason = f"rejected at collect: {entry.get('reason', '')}"
            fp = hashlib.sha256(reason.encode()).hexdigest()
            yield Job(a, student, None, fp, entry.get("at"), rejected=reason)


class Grader:
    """Grades jobs; the sandbox settings and the course's forbidden paths live here.

    ``run(payload, job)`` runs one notebook's cells and returns (``execute``'s answer, the
    sandbox kind it ran in); by default ``run_here``: in this thread's slot, on this machine.
    ``cluster.Cluster.run`` sends the payload to a Dask worker instead.
    """

    def __init__(self, course, limits, isolation, run=None, warm=True):
        self.course = course
        self.limits = limits
        self.warm = warm  # warm slots where the sandbox allows them (``sandbox.warm``)
        self.isolation = isolation
        self.run = run or self.run_here
        root = Path(course.root)
        self.forbidden = [str(root / name) for name in PRIVATE] + [str(course.source_dir)]
        self.assignments = {}
        self.rosters = {}
        self.slots = threading.local()
        self._slot_lock = threading.Lock()

    def info(self, name):
        if name not in self.assignments:
            self.assignments[name] = Assignment(self.course, name)
        return self.assignments[name]

    def roster(self, assignment):
        """The ids collected for ``assignment`` (the folders of ``submitted/``), read once: a
        wrong answer is compared with each one's numbers."""
        if assignment not in self.rosters:
            self.rosters[assignment] = tuple(
                student
                for student, _, problem in _submitted(self.course, assignment)
                if not problem
            )
        return self.rosters[assignment]

    def _slot(self):
        """This worker thread's slot: a number no other grading run on the machine holds (the
        slot's user id must be the sandbox's alone, or process limits would be shared)."""
        if not hasattr(self.slots, "n"):
            with self._slot_lock:
                self.slots.n, self.slots.lock = _claim_slot()
        return self.slots.n

    def run_here(self, payload, job):
        """Run ``payload`` (of ``job``) in this thread's slot; (``execute``'s answer, kind)."""
        payload = replace(payload, isolation=self.isolation, slot=self._slot())
        return execute(payload), self.isolation.kind

    def grade(self, job):
        """Run one submission; returns (SubmissionResult, {notebook name: executed notebook})."""
        start = time.perf_counter()
        info = self.info(job.assignment)
        results, executed, taken, kinds = [], {}, set(), set()
        for name in info.notebooks if job.rejected is None else ():
            try:
                result, nb, used = self._notebook(info, name, job, taken, kinds)
            except CourseError:
                raise
            except Exception as err:  # one submission must never stop the class
                traceback.print_exc()
                why = (
                    f"the grader could not grade this notebook ({type(err).__name__}: {err}); "
                    "flagged for a person to look at"
                )
                result, nb, used = zero_result(info, name, why, "flagged"), None, None
            if used:
                taken.add(used)
            results.append(result)
            if nb is not None:
                executed[name] = nb
        if job.rejected is not None:
            results = [zero_result(info, name, job.rejected) for name in info.notebooks]
        record = SubmissionResult(
            student_id=job.student,
            assignment=job.assignment,
            notebooks=results,
            timestamp=job.timestamp,
            fingerprint=job.fingerprint,
            graded_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            seconds=round(time.perf_counter() - start, 3),
            sandbox=",".join(sorted(kinds)) or self.isolation.kind,
        )
        return record, executed

    def _notebook(self, info, name, job, taken, kinds):
        """Prepare, run (``self.run``) and score one notebook of ``job``; the sandbox kind it
        ran in is added to ``kinds``."""
        prepared = self.prepare(info, name, job, taken)
        if not isinstance(prepared, Prepared):
            return prepared
        outcome, kind = self.run(prepared.payload, job)
        kinds.add(kind)
        return self.finish(info, name, job, prepared, outcome)

    def prepare(self, info, name, job, taken):
        """The coordinator's side before the run: a ``Prepared`` notebook, or, when there is
        nothing to run (no notebook, or an unreadable one), the final (result, None, used)."""
        path, note = find_notebook(job.folder, name, info.release_ids[name], taken)
        if path is None:
            return zero_result(info, name, note), None, None
        try:
            nb, notes = read_submission(path)
        except Unreadable as err:
            return zero_result(info, name, err.reason), None, path.name
        if note:
            notes.insert(0, note)
        plan = assemble(info.source[name], info.release[name], nb)
        notes += plan.notes
        config = {
            "references": info.references,
            "answer_names": info.answer_names[name],
            "forbidden_paths": self.forbidden,
            "forbidden_names": FORBIDDEN_NAMES,
        }
        source, _ = info.preamble[name]
        flags = []
        if info.variants[name]:  # the collected id decides the numbers, never the notebook
            config["environ"] = variants.environ(job.student)
            config["references"] = [*config["references"], *variants.GUARDED]
            config["guarded"] = variants.guarded(info.tasks[name])
            source += variants.pin_line(job.student, self.roster(job.assignment))
            flags += filter(None, [variants.id_note(variants.declared_id(nb), job.student)])
        cells = tuple(
            Cell(
                i,
                source + cell.source if cell.kind == "test" else cell.source,
                cell.kind in ("answer", "student"),
                cell.task,
            )
            for i, cell in enumerate(plan.cells)
            if cell.runs
        )
        payload = Payload(
            path.read_bytes(), name, job.assignment, config, cells, self.limits, warm=self.warm
        )
        return Prepared(nb, notes, plan, path.name, payload, flags)

    def finish(self, info, name, job, prepared, outcome):
        """The coordinator's side after the run: ``outcome`` is ``execute``'s (replies, died as
        a dict or None, events); returns (result, executed notebook, the file name used)."""
        replies, died, ran = outcome
        died = died_from_dict(died)
        plan = prepared.plan
        _, bound = info.preamble[name]
        events = rebinding_events(plan, bound) + list(ran)
        locked = {i for i, c in enumerate(plan.cells) if c.kind in ("test", "locked")}
        events += withhold_hidden(replies, info.hidden[name], locked)
        if died is not None and died.cell is None and not replies:
            stem = Path(name).stem
            raise CourseError(f"the sandbox could not start for {job.student}/{stem}: {died}")
        result = score_notebook(
            NotebookRun(info, name, plan, replies, died, events, prepared.notes, prepared.flags)
        )
        executed = executed_notebook(prepared.nb, plan, replies, result, info.markdown[name])
        return result, executed, prepared.used


@dataclass
class Prepared:
    """A notebook ready to run: the submission as read (``nb``), the ``notes`` on it, the
    assembled ``plan``, the file name ``used``, the ``Payload`` for ``execute`` and the
    ``flags`` found before the run (a ``STUDENT_ID`` that names another student)."""

    nb: object
    notes: list
    plan: object
    used: str
    payload: Payload
    flags: list = field(default_factory=list)


# -- the run --------------------------------------------------------------------------------------


@dataclass
class GradeRun:
    """What one ``grade`` did: records graded now, records already up to date, the sandbox."""

    graded: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    isolation: object = None
    seconds: float = 0.0
    workers: int = 1
    slots: str = ""  # how the notebooks' Pythons were started: warm slots or new ones

    def format(self):
        lines = [f"sandbox: {self.isolation.detail}" if self.isolation else "", self.slots]
        everything = self.graded + self.skipped
        if not everything:
            return "\n".join(lines + ["nothing to grade: no submissions in submitted/"])
        rows = sorted(everything, key=lambda r: (r.assignment, r.student_id))
        w = max([7] + [len(r.student_id) for r in rows])
        wa = max([10] + [len(r.assignment) for r in rows])
        wn = max([8] + [len(n.notebook) for r in rows for n in r.notebooks])
        header = (
            f"{'student':{w}} {'assignment':{wa}} {'notebook':{wn}} {'score':>9}  status   reason"
        )
        lines += [header, "-" * len(header)]
        for r in rows:
            for n in r.notebooks:
                score = f"{n.score:g}/{n.max_score:g}"
                reason = n.reason if len(n.reason) < 90 else n.reason[:87] + "..."
                lines.append(
                    f"{printable(r.student_id):{w}} {r.assignment:{wa}} {n.notebook:{wn}} "
                    f"{score:>9}  "
                    f"{n.status:8} {reason}"
                )
        counts = {}
        for r in everything:
            for n in r.notebooks:
                counts[n.status] = counts.get(n.status, 0) + 1
        per = self.seconds / len(self.graded) if self.graded else 0
        lines.append(
            f"{len(self.graded)} graded now, {len(self.skipped)} already graded (unchanged); "
            + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
            + f"; {self.seconds:.1f} s with {self.workers} workers"
            + (f" ({per:.2f} s per submission)" if self.graded else "")
        )
        return "\n".join(line for line in lines if line)


class Progress:
    """A one-line progress bar on a terminal, one line per submission otherwise."""

    def __init__(self, total, stream=None):
        self.total, self.done, self.stream = total, 0, stream or sys.stderr
        self.start = time.monotonic()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def step(self, record):
        self.done += 1
        if not self.total:
            return
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        score = f"{record.score:g}/{record.max_score:g}"
        statuses = ",".join(sorted({n.status for n in record.notebooks}))
        who = printable(record.student_id)
        if self.tty:
            filled = int(30 * self.done / self.total)
            bar = "#" * filled + "." * (30 - filled)
            self.stream.write(
                f"\r[{bar}] {self.done}/{self.total}  {who} {score} {statuses}  ETA {eta:4.0f} s   "
            )
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(
                f"[{self.done}/{self.total}] {record.assignment} {who}: {score} "
                f"{statuses} ({record.seconds:.1f} s)\n"
            )
        self.stream.flush()


def _lock(course):
    path = Path(course.root) / ".nbgrader" / "grade.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - held for the whole run
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise CourseError(
            f"another `backprop-kit grade` is running on {course.root} (lock {path}); wait for "
            "it, or stop it: a killed run loses nothing"
        ) from None
    return handle


def grade(
    course,
    assignments=None,
    workers=2,
    force=False,
    limits=None,
    isolation=None,
    progress=True,
    stream=None,
    scheduler=None,
    sandbox=None,
    warm=True,
):
    """Grade every collected submission not graded yet; return a ``GradeRun``.

    ``workers`` sandboxes at a time on this machine, in ``isolation`` (default: the strongest
    here); or, with ``scheduler`` (a Dask scheduler's ``tcp://HOST:PORT``), on that cluster's
    workers, each in its strongest sandbox or the ``sandbox`` kind named. ``warm``: under
    bubblewrap, run each notebook in a fresh child of its slot's warm parent (``sandbox.warm``);
    False starts a new Python for every notebook. Raises ``CourseError``
    on bad settings, a second run on the course, or a scheduler lost (saying what was kept).
    """
    if not isinstance(workers, int) or workers < 1:
        raise CourseError(f"--workers {workers!r}: expected a whole number of at least 1")
    if scheduler is not None:
        from autograder.grading.cluster import scheduler_address

        scheduler = scheduler_address(scheduler)
    assignments = course.resolve(assignments)
    if scheduler is None:
        isolation = isolation or detect_isolation()
    limits = limits or Limits()
    lock = _lock(course)
    try:
        _sweep_work_folders()
        start = time.perf_counter()
        jobs, done = pending(course, assignments, force)
        ensure_in_gradebook(course, {j.assignment for j in jobs})
        merge_into_gradebook(course, done)
        bar = Progress(len(jobs), stream) if progress else None
        if scheduler is None:
            run = GradeRun(skipped=done, isolation=isolation, workers=workers)
            grader = Grader(course, limits, isolation, warm=warm)
            _grade_jobs(course, grader, jobs, run, bar, workers, alone_again=workers > 1)
            run.slots = _slots_line(isolation, warm) if jobs else ""
        else:
            run = GradeRun(skipped=done)
            _grade_on_cluster(course, limits, jobs, run, bar, scheduler, sandbox, warm)
        run.seconds = time.perf_counter() - start
        return run
    finally:
        warm_slots.close_all()  # no process of the run outlives it
        lock.close()


def _slots_line(isolation, warm):
    """The line of the summary that says how each notebook's Python was started."""
    fresh = "slots: a new Python per notebook"
    if not warm:
        return f"{fresh} (--no-warm)"
    if isolation.kind != "bubblewrap":
        return f"{fresh} (warm slots need bubblewrap)"
    if why := warm_slots.refused():
        return f"{fresh} (the warm slots could not start: {why})"
    return "slots: warm (imports done once per slot, each notebook in a fresh child of it)"


def _grade_jobs(course, grader, jobs, run, bar, in_flight, alone_again):
    """Grade ``jobs`` with ``grader``, ``in_flight`` at a time, storing each as it completes
    (into ``run.graded``, one ``bar`` step each). With ``alone_again``, a submission that ran
    out of time is graded again once the others are done, alone."""
    for a in {j.assignment for j in jobs}:
        grader.info(a)
    again = []
    with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="grade") as pool:
        futures = {pool.submit(grader.grade, job): job for job in jobs}
        try:
            for future in _completed(futures):
                record, executed = future.result()
                if alone_again and _ran_out_of_time(record):
                    again.append(futures[future])
                    continue
                record = _store_safely(course, record, executed)
                run.graded.append(record)
                if bar:
                    bar.step(record)
        except CourseError:  # the run stops: what has not started, does not
            for future in futures:
                future.cancel()
            raise
    for job in again:  # alone, so that a neighbour hogging the CPU cannot be the cause
        record, executed = grader.grade(job)
        record = _store_safely(course, record, executed)
        run.graded.append(record)
        if bar:
            bar.step(record)


def _grade_on_cluster(course, limits, jobs, run, bar, scheduler, sandbox, warm=True):
    """``_grade_jobs`` with every notebook run as a task on the Dask ``scheduler``'s workers.
    A scheduler lost (or never reached) is a ``CourseError`` saying what was kept."""
    from autograder.grading.cluster import Cluster, ClusterLost

    try:
        with Cluster(scheduler, sandbox) as cluster:
            run.isolation, run.workers = cluster.isolation, cluster.threads
            grader = Grader(course, limits, cluster.isolation, cluster.run, warm=warm)
            _grade_jobs(course, grader, jobs, run, bar, cluster.in_flight, alone_again=False)
    except ClusterLost as err:
        left = len(jobs) - len(run.graded)
        raise CourseError(err.explain(len(run.graded), len(run.skipped), left)) from None


def _slots_dir():
    """The lock folder of this user's grading slots: ``$TMPDIR/backprop-kit-slots-<uid>``, the
    user's own (mode 0700), so that on a shared machine no other user (a student on the same
    hub) can take or hold a slot, and a grader that is not root can use its own. Every root
    grader shares one: root gives each slot its own user id (``sandbox.isolation``)."""
    path = Path(tempfile.gettempdir()) / f"backprop-kit-slots-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise CourseError(
            f"{path} is not a folder of this user (uid {os.getuid()}): it is "
            f"{'a folder' if stat.S_ISDIR(info.st_mode) else 'not a folder'} of uid "
            f"{info.st_uid}; expected the grader's own lock folder. Remove it, or set TMPDIR "
            "to a folder of your own"
        )
    return path


def _claim_slot(limit=1000):
    """(slot number, the open lock file that holds it until the process ends)."""
    folder = _slots_dir()
    for n in range(limit):
        fd = os.open(folder / f"{n}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        handle = os.fdopen(fd, "r+")  # held while the slot is used
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return n, handle
        except BlockingIOError:
            handle.close()
    raise CourseError(f"all {limit} grading slots of this machine are taken ({folder})")


def _completed(futures):
    """``as_completed``, but Ctrl-C cancels what has not started (what runs, finishes)."""
    try:
        yield from as_completed(futures)
    except KeyboardInterrupt:
        for future in futures:
            future.cancel()
        raise


def _sweep_work_folders():
    """Remove the work folders of grading runs that were killed (their process is gone)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{WORK_PREFIX}*"):
        pid = folder.name[len(WORK_PREFIX) :].split("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def _ran_out_of_time(record):
    return any(
        "ran past" in n.reason or "limit; the sandbox was stopped" in n.reason
        for n in record.notebooks
    )


def _store_safely(course, record, executed):
    """``_store``; if the notebook as run cannot be written, the record says so and is kept."""
    try:
        _store(course, record, executed)
    except Exception as err:  # one submission must never stop the class
        traceback.print_exc()
        why = f"its results could not be stored ({type(err).__name__}: {err})"
        for n in record.notebooks:
            n.score, n.status, n.reason = 0.0, "flagged", why
            n.flags = [why]
            for t in n.tasks:
                t.score = 0.0
        _store(course, record, {})
    return record


def _store(course, record, executed):
    """Write the executed notebooks, then the record (the commit point), then the gradebook."""
    root = Path(course.root)
    folder = root / "autograded" / record.student_id / record.assignment
    for name, nb in executed.items():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.tmp"
        nbformat.write(nb, tmp)
        os.replace(tmp, folder / name)
    write_json_atomic(result_path(root, record.assignment, record.student_id), record.to_dict())
    merge_into_gradebook(course, [record])
