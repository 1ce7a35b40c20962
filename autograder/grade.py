"""``backprop-kit grade``: every collected submission, in parallel sandboxes, resumably.

For each ``submitted/<student>/<assignment>/`` not yet graded (or changed since), a worker
thread assembles each notebook (``submission.assemble``), runs its cells in a fresh sandbox
(``sandbox.Sandbox``, at most ``workers`` at a time) and scores the tasks from the test cells'
results and the integrity events. The grader process alone then writes, in this order:

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

import ast
import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from .course import CourseError, _tools_on_path
from .results import (
    NotebookResult,
    SubmissionResult,
    TaskOutcome,
    result_path,
    write_json_atomic,
)
from .sandbox import Limits, Sandbox, SandboxDied, detect_isolation
from .submission import Unreadable, assemble, defined_names, find_notebook, read_submission
from .tasks import tasks

__all__ = ["grade", "GradeRun", "pending", "CHEATING", "FLAGGING"]

CHEATING = {"tamper", "reference", "forbidden-path"}
FLAGGING = CHEATING | {"write-outside", "network"}
FORBIDDEN_NAMES = ["solutions", ".nbgrader", "gradebook.db", "submitted", "autograded"]
PASSED = "passed the tests in this cell"  # chainrule.grading.task's line on success
WITHHELD = "[withheld: a line of the hidden tests]"
WORK_PREFIX = "backprop-kit-grade-"  # other submissions' folders, refused in weaker sandboxes
_HINT = re.compile(r"Hint: (.+?)(?:\n|$)")


# -- what the grader knows about an assignment --------------------------------------------------


class Assignment:
    """Source and release notebooks of one assignment, their tasks and reference names."""

    def __init__(self, course, name):
        self.name = name
        self.notebooks = [p.name for p in course.release_notebooks(name)]
        if not self.notebooks:
            raise CourseError(
                f"no released notebooks for {name!r} in {course.release_dir / name}; run "
                f"`backprop-kit release {name}` first"
            )
        self.source = {
            n: nbformat.read(course.source_dir / name / n, as_version=4) for n in self.notebooks
        }
        self.release = {
            n: nbformat.read(course.release_dir / name / n, as_version=4) for n in self.notebooks
        }
        self.release_ids = {
            n: {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells} - {None}
            for n, nb in self.release.items()
        }
        self.tasks = {n: tasks(nb) for n, nb in self.source.items()}
        self.answer_names = {n: self._answer_names(n) for n in self.notebooks}
        self.markdown = {
            n: {c.source.strip() for c in nb.cells if c.cell_type == "markdown"}
            for n, nb in self.release.items()
        }
        self.hidden = {n: _hidden_lines(self.source[n], self.release[n]) for n in self.notebooks}
        self.preamble = {
            n: _imports(nb, set().union(*self.answer_names[n].values()))
            for n, nb in self.release.items()
        }
        self.references = sorted(
            {
                ref
                for n in self.notebooks
                for names in self.answer_names[n].values()
                for ref in _references(names)
            }
        )

    def _answer_names(self, notebook):
        nb = self.source[notebook]
        return {
            t.id: sorted(set().union(*(defined_names(nb.cells[i].source) for i in t.answer_cells)))
            for t in self.tasks[notebook]
        }

    def max_score(self, notebook):
        return float(sum(t.points for t in self.tasks[notebook]))


def _imports(nb, answers):
    """The imports of the notebook's own (instructor) cells, as one line of code to run before
    each test cell, and the names they bind: tests then use the real helpers, whatever a
    student's cell bound to ``task``, ``expect_close`` or ``np``. Names the answers define
    (``answers``) are left to the student."""
    nodes, names = [], set()
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.metadata.get("nbgrader"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            keep = [
                a
                for a in node.names
                if a.name != "*" and (a.asname or a.name).split(".")[0] not in answers
            ]
            if keep:
                node.names = keep
                nodes.append(ast.unparse(node))
                names.update((a.asname or a.name).split(".")[0] for a in keep)
    return ("; ".join(nodes) + "\n" if nodes else ""), names


def _hidden_lines(source, release):
    """Lines of the hidden tests long enough to recognise and not shown anywhere visible."""
    visible = {ln.strip() for c in release.cells for ln in c.source.splitlines()}
    found = set()
    for cell in source.cells:
        inside = False
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and len(line.strip()) >= 20 and line.strip() not in visible:
                found.add(line.strip())
    return found


def _withhold(replies, hidden, locked):
    """Replace hidden-test lines in every output and error message; one event per cell. The
    tracebacks of ``locked`` cells quote their own source (hidden tests included) and are
    never shown, so they are dropped instead."""
    events = []
    for i, reply in replies.items():
        leaked = False
        for o in reply.get("outputs", []):
            o["text"], hit = _scrub_hidden(o["text"], hidden)
            leaked |= hit
        error = reply.get("error") or {}
        if "evalue" in error:
            error["evalue"], hit = _scrub_hidden(error["evalue"], hidden)
            leaked |= hit
        if i in locked:
            error["traceback"] = []
        elif "traceback" in error:
            scrubbed = [_scrub_hidden(t, hidden) for t in error["traceback"]]
            error["traceback"] = [t for t, _ in scrubbed]
            leaked |= any(hit for _, hit in scrubbed)
        if leaked:
            detail = f"cell {i} showed lines of the hidden tests (withheld from the feedback)"
            events.append({"kind": "tamper", "detail": detail})
    return events


def _scrub_hidden(text, hidden):
    if not hidden or not text:
        return text, False
    hit = False
    for line in hidden:
        if line in text:
            text, hit = text.replace(line, WITHHELD), True
    return text, hit


def _rebinds(plan, bound):
    """Integrity events for student cells that define a name the tests import."""
    events = []
    for i, cell in enumerate(plan.cells):
        if cell.kind in ("answer", "student"):
            for name in sorted(defined_names(cell.source) & bound):
                detail = f"cell {i} redefines {name}, which the tests use"
                events.append({"kind": "tamper", "detail": detail})
    return events


def _public_api():
    """``{name: "chainrule.module.name"}`` for every public function and class of chainrule."""
    import importlib
    import pkgutil

    try:
        import chainrule
    except ImportError:
        return {}
    api = {}
    for info in pkgutil.iter_modules(chainrule.__path__, "chainrule."):
        if info.ispkg or info.name.endswith(("demo", "viz")):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if callable(obj) and getattr(obj, "__module__", None) == info.name:
                api.setdefault(name, f"{info.name}.{name}")
    return api


def _references(names):
    api = _public_api()
    return [api[n] for n in names if n in api]


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
    base = Path(course.root) / "submitted"
    for a in assignments:
        tests = b"".join(p.read_bytes() for p in sorted((course.source_dir / a).glob("*.ipynb")))
        for folder in sorted(base.glob(f"*/{a}")):
            if not folder.is_dir():
                continue
            student = folder.parent.name
            fp = fingerprint(folder, tests)
            record = result_path(course.root, a, student)
            if not force and record.is_file():
                old = SubmissionResult.from_dict(json.loads(record.read_text()))
                if old.fingerprint == fp:
                    done.append(old)
                    continue
            jobs.append(Job(a, student, folder, fp, _timestamp(folder)))
    for job in _rejected_students(course, assignments):
        record = result_path(course.root, job.assignment, job.student)
        if not force and record.is_file():
            old = SubmissionResult.from_dict(json.loads(record.read_text()))
            if old.fingerprint == job.fingerprint:
                done.append(old)
                continue
        jobs.append(job)
    return jobs, done


def _rejected_students(course, assignments):
    """Students whose every file ``collect`` set aside, and who have no submission since."""
    from .collect import REJECTED_STUDENTS

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
    """Grades jobs; the sandbox settings and the course's forbidden paths live here."""

    def __init__(self, course, limits, isolation):
        self.course = course
        self.limits = limits
        self.isolation = isolation
        root = Path(course.root)
        self.forbidden = [
            str(root / d)
            for d in ("solutions", ".nbgrader", "submitted", "autograded", "feedback", "reports")
        ] + [str(course.source_dir)]
        self.assignments = {}
        self.slots = threading.local()
        self._slot_lock = threading.Lock()
        self._next_slot = 0

    def info(self, name):
        if name not in self.assignments:
            self.assignments[name] = Assignment(self.course, name)
        return self.assignments[name]

    def _slot(self):
        if not hasattr(self.slots, "n"):
            with self._slot_lock:
                self.slots.n = self._next_slot
                self._next_slot += 1
        return self.slots.n

    def grade(self, job):
        """Run one submission; returns (SubmissionResult, {notebook name: executed notebook})."""
        start = time.perf_counter()
        info = self.info(job.assignment)
        results, executed, taken = [], {}, set()
        for name in info.notebooks if job.rejected is None else ():
            try:
                result, nb, used = self._notebook(info, name, job, taken)
            except CourseError:
                raise
            except Exception as err:  # one submission must never stop the class
                traceback.print_exc()
                why = (
                    f"the grader could not grade this notebook ({type(err).__name__}: {err}); "
                    "flagged for a person to look at"
                )
                result, nb, used = _zero(info, name, why, "flagged"), None, None
            if used:
                taken.add(used)
            results.append(result)
            if nb is not None:
                executed[name] = nb
        if job.rejected is not None:
            results = [_zero(info, name, job.rejected) for name in info.notebooks]
        record = SubmissionResult(
            student_id=job.student,
            assignment=job.assignment,
            notebooks=results,
            timestamp=job.timestamp,
            fingerprint=job.fingerprint,
            graded_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            seconds=round(time.perf_counter() - start, 3),
            sandbox=self.isolation.kind,
        )
        return record, executed

    def _notebook(self, info, name, job, taken):
        stem = Path(name).stem
        path, note = find_notebook(job.folder, name, info.release_ids[name], taken)
        if path is None:
            return _zero(info, name, note), None, None
        try:
            nb, notes = read_submission(path)
        except Unreadable as err:
            return _zero(info, name, err.reason), None, path.name
        if note:
            notes.insert(0, note)
        plan = assemble(info.source[name], info.release[name], nb)
        notes += plan.notes
        config = {
            "references": info.references,
            "answer_names": info.answer_names[name],
            "forbidden_paths": self.forbidden,
            "forbidden_names": FORBIDDEN_NAMES,
            "forbidden_prefixes": [os.path.join(tempfile.gettempdir(), WORK_PREFIX)],
        }
        replies, died, events = {}, None, []
        with tempfile.TemporaryDirectory(prefix=f"{WORK_PREFIX}{os.getpid()}-") as tmp:
            work = Path(tmp) / job.assignment
            work.mkdir()
            shutil.copyfile(path, work / name)
            box = Sandbox(work, name, config, self.limits, self.isolation, self._slot())
            try:
                box.start()
                source, bound = info.preamble[name]
                events += _rebinds(plan, bound)
                for i, cell in enumerate(plan.cells):
                    if cell.runs:
                        student = cell.kind in ("answer", "student")
                        code = source + cell.source if cell.kind == "test" else cell.source
                        replies[i] = box.run(i, code, student, cell.task)
                        events += replies[i]["events"]
                events += box.finish().get("events", [])
            except SandboxDied as err:
                died = err
            finally:
                box.close()
        locked = {i for i, c in enumerate(plan.cells) if c.kind in ("test", "locked")}
        events += _withhold(replies, info.hidden[name], locked)
        if died is not None and died.cell is None and not replies:
            raise CourseError(f"the sandbox could not start for {job.student}/{stem}: {died}")
        result = _score(info, name, plan, replies, died, events, notes)
        return result, _executed(nb, plan, replies, result, info.markdown[name]), path.name


def _zero(info, name, reason, status="zero"):
    outcomes = [TaskOutcome(t.id, float(t.points), 0.0, "not run") for t in info.tasks[name]]
    flags = [reason] if status == "flagged" else []
    return NotebookResult(
        Path(name).stem, 0.0, info.max_score(name), status, reason, flags, outcomes
    )


def _message(reply):
    error = reply.get("error") or {}
    ename, evalue = error.get("ename", "Error"), error.get("evalue", "")
    if ename in ("TaskFailure", "AssertionError"):
        return evalue
    return f"{ename}: {evalue}" if evalue else ename


def _score(info, name, plan, replies, died, events, notes):
    where = {c.grade_id: i for i, c in enumerate(plan.cells) if c.kind == "test"}
    outcomes, reasons = [], []
    for t in info.tasks[name]:
        reply = replies.get(where.get(t.id))
        out = TaskOutcome(t.id, float(t.points))
        if reply is None:
            out.message = "the test cell did not run"
        elif reply["status"] == "ok":
            out.status, out.score = "pass", float(t.points)
        else:
            out.message = _message(reply)
            stub = any(
                _stubbed(replies.get(i))
                for i, c in enumerate(plan.cells)
                if c.kind == "answer" and c.task == t.id
            )
            todo = stub or "not done yet" in out.message
            out.status = "todo" if todo else "fail"
            out.hints = _HINT.findall(out.message)
        if t.id in plan.tampered:
            out.status, out.score = "flagged", 0.0
            out.message = plan.tampered[t.id] + (
                f" (it {'passes' if reply and reply['status'] == 'ok' else 'fails'})"
            )
        outcomes.append(out)
    flags = [plan.tampered[k] for k in plan.tampered if k not in {o.id for o in outcomes}]
    flags += [o.message for o in outcomes if o.status == "flagged"]
    flags += [e["detail"] for e in events if e["kind"] in FLAGGING]
    for i, reply in sorted(replies.items()):
        if reply.get("timed_out"):
            cell = plan.cells[i]
            what = f" (task {cell.task})" if cell.task else ""
            limit = f"{reply['limit']:g}" if "limit" in reply else _seconds(reply)
            reasons.append(f"cell {i}{what} ran past its {limit} s limit and was interrupted")
    forged = died is not None and died.forged
    cheated = forged or any(e["kind"] in CHEATING for e in events)
    score = sum(o.score for o in outcomes)
    if died is not None:
        reasons.insert(0, died.reason)
        for o in outcomes:
            if o.status != "flagged" and where.get(o.id, -1) >= (died.cell or 0):
                o.status, o.message = "not run", "the notebook stopped before this test"
    if cheated or died is not None:
        status, score = ("flagged" if cheated else "zero"), 0.0
        for o in outcomes:
            o.score = 0.0
    elif flags:
        status = "flagged"
    else:
        status = "graded"
    flags = [_printable(f) for f in flags]
    reason = _printable("; ".join(reasons + flags + notes))
    return NotebookResult(
        Path(name).stem, score, info.max_score(name), status, reason, flags, outcomes
    )


def _stubbed(reply):
    return bool(reply) and (reply.get("error") or {}).get("ename") == "NotImplementedError"


def _seconds(reply):
    return f"{reply.get('seconds', 0):.0f}"


def _executed(student_nb, plan, replies, result, released_markdown):
    """The notebook as run, safe to show: visible tests only, no tracebacks into the tests,
    and the student's own markdown as plain text (no HTML or script of theirs in feedback)."""
    nb = nbformat.v4.new_notebook(metadata=dict(student_nb.metadata))
    count = 0
    for i, cell in enumerate(plan.cells):
        if cell.kind == "markdown":
            text = cell.shown
            if text.strip() not in released_markdown:
                text = _as_text(text)
            nb.cells.append(nbformat.v4.new_markdown_cell(text, metadata=cell.metadata))
            continue
        meta = dict(cell.metadata)
        if cell.kind not in ("test", "locked", "answer"):
            meta.pop("nbgrader", None)  # a student's cell: whatever its tags claim, not graded
        new = nbformat.v4.new_code_cell(cell.shown, metadata=meta)
        reply = replies.get(i)
        if reply is not None:
            count += 1
            new.execution_count = count
            locked = cell.kind in ("test", "locked")
            new.outputs = _outputs(reply, count, locked, cell.task if locked else None)
        nb.cells.append(new)
    nb.metadata["backprop_kit"] = {k: v for k, v in vars(result).items() if k != "tasks"} | {
        "tasks": [vars(t) for t in result.tasks]
    }
    return nb


def _as_text(markdown):
    """Markdown shown verbatim: a fenced block longer than any run of backticks inside."""
    longest = max((len(m) for m in re.findall(r"`+", markdown)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{markdown}\n{fence}"


def _printable(text):
    """Control characters (a carriage return, terminal escapes) written out as \\xNN."""
    return "".join(c if c.isprintable() or c in "\n\t" else f"\\x{ord(c):02x}" for c in text)


def _outputs(reply, count, hide_traceback, task=None):
    """nbformat outputs of one cell. A test cell keeps only its task's own lines (``[task]
    passed ...``): anything else it printed may come from hidden tests, e.g. their inputs."""
    outs = []
    for o in reply.get("outputs", []):
        if o["output_type"] == "stream":
            text = o["text"]
            if hide_traceback:
                keep = [ln for ln in text.splitlines() if task and ln == f"[{task}] {PASSED}"]
                text = "\n".join(keep) + "\n" if keep else ""
            if text:
                outs.append(nbformat.v4.new_output("stream", name=o["name"], text=text))
        elif hide_traceback:
            continue
        elif o["output_type"] == "execute_result":
            outs.append(
                nbformat.v4.new_output(
                    "execute_result", data={"text/plain": o["text"]}, execution_count=count
                )
            )
        else:
            outs.append(nbformat.v4.new_output("display_data", data={"text/plain": o["text"]}))
    error = reply.get("error")
    if error:
        tb = [] if hide_traceback else list(error.get("traceback", []))
        outs.append(
            nbformat.v4.new_output(
                "error", ename=error["ename"], evalue=error["evalue"], traceback=tb
            )
        )
    return outs


# -- the run --------------------------------------------------------------------------------------


@dataclass
class GradeRun:
    """What one ``grade`` did: records graded now, records already up to date, the sandbox."""

    graded: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    isolation: object = None
    seconds: float = 0.0
    workers: int = 1

    def format(self):
        lines = [f"sandbox: {self.isolation.detail}" if self.isolation else ""]
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
                    f"{r.student_id:{w}} {r.assignment:{wa}} {n.notebook:{wn}} {score:>9}  "
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
        if self.tty:
            filled = int(30 * self.done / self.total)
            bar = "#" * filled + "." * (30 - filled)
            self.stream.write(
                f"\r[{bar}] {self.done}/{self.total}  {record.student_id} {score} {statuses}"
                f"  ETA {eta:4.0f} s   "
            )
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(
                f"[{self.done}/{self.total}] {record.assignment} {record.student_id}: {score} "
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
):
    """Grade every collected submission not graded yet; return a ``GradeRun``."""
    if not isinstance(workers, int) or workers < 1:
        raise CourseError(f"--workers {workers!r}: expected a whole number of at least 1")
    assignments = course.resolve(assignments)
    isolation = isolation or detect_isolation()
    limits = limits or Limits()
    lock = _lock(course)
    try:
        _sweep_work_folders()
        start = time.perf_counter()
        jobs, done = pending(course, assignments, force)
        run = GradeRun(skipped=done, isolation=isolation, workers=workers)
        _ensure_in_gradebook(course, {j.assignment for j in jobs})
        merge_into_gradebook(course, done)
        grader = Grader(course, limits, isolation)
        for a in {j.assignment for j in jobs}:
            grader.info(a)
        bar = Progress(len(jobs), stream) if progress else None
        again = []
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grade") as pool:
            futures = {pool.submit(grader.grade, job): job for job in jobs}
            for future in _completed(futures):
                record, executed = future.result()
                if workers > 1 and _ran_out_of_time(record):
                    again.append(futures[future])
                    continue
                _store(course, record, executed)
                run.graded.append(record)
                if bar:
                    bar.step(record)
        for job in again:  # alone, so that a neighbour hogging the CPU cannot be the cause
            record, executed = grader.grade(job)
            _store(course, record, executed)
            run.graded.append(record)
            if bar:
                bar.step(record)
        run.seconds = time.perf_counter() - start
        return run
    finally:
        lock.close()


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


def _db_url(course):
    return getattr(course, "db_url", None) or course.config().CourseDirectory.db_url


def _ensure_in_gradebook(course, assignments):
    """Assignments must be in the gradebook with their graded cells; release them if not."""
    from nbgrader.api import Gradebook, MissingEntry

    _tools_on_path()  # nbgrader runs alembic to create a gradebook

    missing = []
    with Gradebook(_db_url(course)) as gb:
        for a in sorted(assignments):
            try:
                gb.find_assignment(a)
            except MissingEntry:
                missing.append(a)
    if missing:
        from .release import release

        release(course, missing)


def merge_into_gradebook(course, records):
    """Write the records' task scores into nbgrader's gradebook as auto scores."""
    if not records:
        return
    import warnings

    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.utils import parse_utc

    with warnings.catch_warnings(), Gradebook(_db_url(course)) as gb:
        warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy autoflush warnings
        for r in records:
            gb.update_or_create_student(r.student_id)
            extra = {}
            if r.timestamp:
                try:
                    extra["timestamp"] = parse_utc(r.timestamp)
                except Exception:  # a damaged timestamp.txt must not stop the merge
                    pass
            gb.update_or_create_submission(r.assignment, r.student_id, **extra)
            for n in r.notebooks:
                for t in n.tasks:
                    try:
                        g = gb.find_grade(t.id, n.notebook, r.assignment, r.student_id)
                    except MissingEntry:
                        continue
                    g.auto_score = t.score
                    g.needs_manual_grade = n.status == "flagged"
        gb.db.commit()


def gradebook_scores(course, assignment):
    """``{student: (score, max_score)}`` read back from nbgrader's gradebook."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(_db_url(course)) as gb:
        for sub in gb.assignment_submissions(assignment):
            out[sub.student.id] = (sub.score, sub.max_score)
    return out
