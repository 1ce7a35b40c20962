"""``backprop-kit collect``: notebooks from a folder or an LMS download into ``submitted/``.

PATH is a folder or a ``.zip`` of one. Every file in it belongs to a student in one of two ways.

**A folder per student**: ``PATH/<student>/<notebook>.ipynb``, also with an assignment level
(``PATH/<student>/<assignment>/...`` or ``PATH/<assignment>/<student>/...``). The folder's name
is the student id, except a Moodle folder ``Jane Doe_12345_assignsubmission_file_``, which gives
``12345``. Everything in the folder is the submission: notebooks, data, ``.py`` files.

**Flat files named for the student**, at the top of PATH, as LMSs export them:

=====================================================  =======  ===================
file name                                              student  file
=====================================================  =======  ===================
``Jane Doe_12345_assignsubmission_file_graphs.ipynb``  12345    ``graphs.ipynb`` (Moodle)
``doe_jane_12345_67890_graphs.ipynb``                  12345    ``graphs.ipynb`` (Canvas; also
                                                                ``doe_jane_late_12345_...``)
``s001_graphs.ipynb``, ``s001_sigmoid_neuron.ipynb``   s001     after the first ``_``
``s001-graphs.ipynb`` (a name without ``_``)           s001     after the first ``-``
=====================================================  =======  ===================

A flat notebook's file part must be a released name: ``jane_doe_graphs.ipynb`` reads as student
``jane`` with ``doe_graphs.ipynb``, no released notebook, so it is set aside as unrecognised
rather than guessed at. One top folder holding everything (a zip of a folder) is looked
through, unless it holds a released notebook or an assignment folder itself: then it is a
student's. ``.ipynb_checkpoints``, ``__pycache__``, ``__MACOSX``, ``._*``, ``.DS_Store`` and
``Thumbs.db`` are archive clutter and are skipped.

Assignment: the one given, else the one that the notebooks' released names and the assignment
folders point to; none or several is an error that writes nothing. Another assignment's
notebook is set aside.

Names: a notebook whose name is a recognisable variant of a released one (``Graphs.ipynb``,
``graphs (1).ipynb``, ``Copy of graphs.ipynb``, ``graphs-Copy1.ipynb``, ``graphs-1.ipynb``) is
stored under the released name; the report keeps the original. In a student's folder a notebook
with any other name keeps it, for the grader to match. Two files for one student and notebook:
the newer is used, the other set aside. Student ids are used as they are read, never altered: an
id with a ``/``, ``..``, a leading ``.``, a space or a control character is refused.

Time: a submission's time is the newest modification time of its notebooks (a zip member's
``date_time``, read as local time as ``unzip`` does); a time later than now, from a skewed clock,
is recorded as now and the report says so; a ``timestamp.txt`` among the student's files is not
used. The time is written to ``timestamp.txt`` in nbgrader's format
(``2026-11-20 14:02:11.123456 UTC``). A submission already collected that is newer, or as old
but different, is kept; an older one is replaced and moved to ``.nbgrader/replaced/<stamp>/``;
an identical one is left unchanged. A submission is written in a hidden folder beside its place
and renamed into it, so an interrupted collect leaves no half-written notebook.

Rejected files (not JSON, not a notebook, nbformat below 3, empty, an unrecognised name, a bad
zip) are copied, never moved, to ``.nbgrader/rejected/<stamp>/<path inside PATH>``. PATH itself
is never changed. A zip member whose name leads outside the archive (``..``, an absolute path)
or a link is refused and not extracted; a zip that would unpack to more than
``MAX_EXTRACT_BYTES`` is an error.
"""

import filecmp
import json
import os
import re
import shutil
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from autograder.course.layout import CourseError, unsafe_student_id
from autograder.intake.unpack import MAX_EXTRACT_BYTES, check_source, opened

__all__ = [
    "collect",
    "collect_snapshot",
    "CollectReport",
    "CollectEntry",
    "OUTCOMES",
    "NAMING_RULE",
    "MAX_EXTRACT_BYTES",
    "TIMESTAMP_FORMAT",
]

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
REJECTED_STUDENTS = Path(".nbgrader") / "rejected" / "students.jsonl"
OUTCOMES = ("collected", "replaced", "kept newer", "unchanged", "rejected")
NAMING_RULE = (
    "a file at the top of PATH names its student: Moodle "
    "'<name>_<id>_assignsubmission_<kind>_<file>' and Canvas '<name>_<id>_<n>_<file>' give <id>; "
    "otherwise the id is the text before the first '_' (the first '-' in a name without '_'); "
    "a notebook's <file> must be a released notebook's name. "
    "Or put each student's files in a folder named for the student."
)

# nbgrader's exchange writes these beside the notebooks; kept (feedback needs the secret), unlisted.
_KEPT_QUIETLY = {"timestamp.txt", "submission_secret.txt"}
_MOODLE_FILE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_[A-Za-z]+_(?P<file>.+)$")
_MOODLE_DIR = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_[A-Za-z]+_?$")
_CANVAS = re.compile(r"^(?P<name>[^_].*?)_(?:late_)?(?P<id>\d+)_\d+_(?P<file>.+)$", re.I)
_VARIANT_TAIL = re.compile(r"(?:\s*\(\d+\)|-\d+|(?:\s*-\s*|[\s_])copy\s*\d*)$", re.I)
_VARIANT_HEAD = re.compile(r"^copy of\s+", re.I)


@dataclass
class CollectEntry:
    """One file's outcome: ``outcome`` is one of ``OUTCOMES``, ``reason`` says why in words.

    ``notebook`` is the name it has (or would have) in ``submitted/``; ``submitted_as`` the
    name it came with when that differs.
    """

    outcome: str
    source: str
    reason: str
    student: str | None = None
    assignment: str | None = None
    notebook: str | None = None
    submitted_as: str | None = None

    def format(self):
        if self.outcome == "rejected" or not self.student:
            return f"{self.outcome:<10}  {self.source}: {self.reason}"
        where = f"{self.student}/{self.assignment}/{self.notebook}"
        return f"{self.outcome:<10}  {where} from {self.source}: {self.reason}"


@dataclass
class CollectReport:
    """What one collect did, one ``CollectEntry`` per notebook or rejected file."""

    path: str
    assignment: str | None = None
    destination: str = ""
    collected: list = field(default_factory=list)
    replaced: list = field(default_factory=list)
    kept_newer: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    show_rule: bool = False

    def add(self, entry):
        if entry.outcome not in OUTCOMES:
            raise ValueError(f"outcome {entry.outcome!r}; expected one of {OUTCOMES}")
        getattr(self, entry.outcome.replace(" ", "_")).append(entry)

    @property
    def entries(self):
        return [e for o in OUTCOMES for e in getattr(self, o.replace(" ", "_"))]

    @property
    def exit_code(self):
        """1 when files were rejected and no submission at all was found usable, else 0."""
        usable = self.collected or self.replaced or self.kept_newer or self.unchanged
        return 1 if self.rejected and not usable else 0

    def totals(self):
        counts = ", ".join(f"{o} {len(getattr(self, o.replace(' ', '_')))}" for o in OUTCOMES)
        return f"{counts} ({self.assignment or 'no assignment'} from {self.path})"

    def format(self):
        """The printable summary: one line per entry, then the totals."""
        head = f"collect {self.assignment or '(assignment unknown)'} from {self.path}"
        lines = [head + (f" into {self.destination}" if self.destination else "")]
        lines += ["  " + e.format() for e in self.entries]
        if self.show_rule:
            lines.append(f"  naming rule: {NAMING_RULE}")
        lines.append(self.totals())
        return "\n".join(lines)


def collect(course, path, assignment=None, *, now=None):
    """Copy the submissions in ``path`` (a folder or a .zip) into ``submitted/``.

    ``course``: an ``autograder.Course``. ``assignment``: an assignment id, or None to infer it
    from the notebooks' names or an assignment folder level. ``now``: the time (UTC) that names
    the rejected/ and replaced/ folders. Returns a ``CollectReport``; raises ``CourseError`` when
    PATH is missing, too big, or its assignment cannot be told.
    """
    path = Path(path)
    known = course.assignments()
    if assignment is not None:
        course.resolve([assignment])
    released = {a: _released(course, a) for a in known}
    if assignment is not None and not released[assignment]:
        raise CourseError(
            f"no released notebooks in {course.release_dir / assignment}; "
            f"expected them there (run `backprop-kit release {assignment}` first)"
        )
    check_source(course, path)
    run = _Run(course, path, now)
    with opened(path, run) as items:
        if items is not None:
            _collect_items(run, items, assignment, known, released)
        run.flush()
    return run.report


def collect_snapshot(course, items, assignment, source, *, times, rejects=(), now=None):
    """Collect ``items`` already read elsewhere (``collect --exchange``), with every check above.

    ``items``: ``unpack.Item``\\ s whose ``parts`` start with the student id (a folder per
    student; no wrapper folder is looked through). ``times``: ``{student: naive UTC datetime}``,
    each submission's time as its source recorded it (used instead of the files' mtime).
    ``rejects``: ``(Item, reason)`` pairs the reader set aside. ``source`` names the input in
    the report. Returns a ``CollectReport``.
    """
    course.resolve([assignment])
    known = course.assignments()
    released = {a: _released(course, a) for a in known}
    if not released[assignment]:
        raise CourseError(
            f"no released notebooks in {course.release_dir / assignment}; "
            f"expected them there (run `backprop-kit release {assignment}` first)"
        )
    run = _Run(course, source, now)
    run.times = dict(times)
    for item, reason in rejects:
        run.reject(item, reason)
    if items:
        _collect_items(run, items, assignment, known, released, wrapped=False)
    else:
        run.report.assignment = assignment
        run.report.destination = str(course.root / "submitted")
    run.flush()
    return run.report


def _collect_items(run, items, assignment, known, released, wrapped=True):
    seen = sorted({i.parts[-1] for i in items if i.parts[-1].lower().endswith(".ipynb")})
    if wrapped:
        items = _strip_wrapper(items, released)
    items = _strip_levels(items, known)
    items = _read_students(items, run)
    assignment = assignment or _infer(items, released, run.report.path, seen)
    run.report.assignment = assignment
    run.report.destination = str(run.course.root / "submitted")
    items = _match_notebooks(items, assignment, released, run)
    items = _newest_only(items, run)
    for student, group in sorted(_by_student(items).items()):
        if not any(_top_notebook(i) for i in group):
            for item in group:
                reason = f"a file of {student!r}, whose files hold no readable notebook"
                run.reject(item, f"{reason} of {assignment}")
            continue
        _store(run, student, assignment, group)


class _Run:
    """The course, the report, the time, and the files set aside so far."""

    def __init__(self, course, path, now):
        self.course = course
        self.now = _utc(now or datetime.now(UTC))
        stamp = self.now.strftime("%Y%m%dT%H%M%S.%fZ")
        self.rejected_dir = course.root / ".nbgrader" / "rejected" / stamp
        self.replaced_dir = course.root / ".nbgrader" / "replaced" / stamp
        self.report = CollectReport(path=str(path))
        self.pending = []
        self.times = {}  # student -> the time the source recorded (the exchange's)

    def reject(self, item, reason, naming=False):
        """Set ``item`` aside; it is copied to rejected/ by ``flush``, once nothing can fail."""
        self.pending.append((item, reason))
        self.report.show_rule |= naming

    def flush(self):
        for item, reason in self.pending:
            if item.path is not None:
                target = self.rejected_dir / item.aside
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(item.path, target)
                reason += f"; a copy is in {target.relative_to(self.course.root)}"
            entry = CollectEntry("rejected", item.source, reason, item.student, notebook=item.dest)
            entry.assignment = self.report.assignment
            self.report.add(entry)
            self._note_student(entry)
        self.pending = []

    def _note_student(self, entry):
        """A student with no usable submission is listed, so ``grade`` gives them 0 with the
        reason instead of leaving them out of the gradebook."""
        if not entry.student or not entry.assignment:
            return
        if (self.course.root / "submitted" / entry.student / entry.assignment).exists():
            return
        line = {"student": entry.student, "assignment": entry.assignment}
        line |= {"reason": entry.reason, "at": _fmt(self.now)}
        path = self.course.root / REJECTED_STUDENTS
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as f:
            f.write(json.dumps(line) + "\n")


# -- who and what each file is -------------------------------------------------------------------


def _strip_levels(items, known):
    """Drop a folder level named for an assignment, and what is above ``<student>/<assignment>``.

    ``<assignment>/<student>/...`` loses its first level only; the assignment is remembered.
    """
    for item in items:
        k = next((k for k, p in enumerate(item.parts[:-1]) if p in known), None)
        if k is not None:
            item.level = item.parts[k]
            item.parts = item.parts[max(k - 1, 0) : k] + item.parts[k + 1 :]
    return items


def _strip_wrapper(items, released):
    """Look through one top folder that holds everything but is no student's folder.

    A folder holding a released notebook or an assignment folder is a student's.
    """
    tops = {i.parts[0] for i in items}
    if len(tops) != 1 or tops & set(released) or any(len(i.parts) < 2 for i in items):
        return items
    if any(i.parts[1] in released or _owners(i.parts[1], released) for i in items):
        return items
    for item in items:
        item.parts = item.parts[1:]
    return items


def _read_students(items, run):
    kept = []
    for item in items:
        if len(item.parts) == 1:
            read = _flat_name(item.parts[0])
            if read is None:
                run.reject(item, f"no student id in the name {item.parts[0]!r}", naming=True)
                continue
            item.student, item.dest, how = read
            item.flat = True
        else:
            item.student, how = _folder_student(item.parts[0])
            item.dest = "/".join(item.parts[1:])
        if how:
            item.notes.append(how)
        problem = _unsafe_id(item.student)
        if problem:
            run.reject(
                item,
                f"student id {item.student!r} {problem}; expected a user name "
                "such as s001 (letters, digits, '.', '-', '_', '@')",
                naming=item.flat,
            )
            continue
        kept.append(item)
    return kept


def _flat_name(name):
    """``(student, file, how)`` read from a flat file name by ``NAMING_RULE``, or None."""
    for pattern, lms in ((_MOODLE_FILE, "Moodle"), (_CANVAS, "Canvas")):
        m = pattern.match(name)
        if m:
            return m["id"], m["file"], f"student {m['id']} read from the {lms} name {name!r}"
    head, sep, tail = name.partition("_" if "_" in name else "-")
    if not sep or not head or not tail:
        return None
    return head, tail, ""


def _folder_student(name):
    m = _MOODLE_DIR.match(name)
    if m:
        return m["id"], f"student {m['id']} read from the Moodle folder {name!r}"
    return name, ""


def _unsafe_id(student):
    return unsafe_student_id(student)


# -- which assignment, which notebook ------------------------------------------------------------


def _released(course, assignment):
    """``{lower-case stem: file name}`` of an assignment's released notebooks."""
    return {p.stem.lower(): p.name for p in course.release_notebooks(assignment)}


def _released_name(filename, names):
    """The released name that ``filename`` is, or is a recognisable variant of; else None."""
    if not filename.lower().endswith(".ipynb") or "/" in filename:
        return None
    stem = filename[: -len(".ipynb")]
    while True:
        if stem.lower() in names:
            return names[stem.lower()]
        shorter = _VARIANT_HEAD.sub("", _VARIANT_TAIL.sub("", stem)).strip()
        if shorter == stem or not shorter:
            return None
        stem = shorter


def _owners(filename, released):
    return [a for a, names in released.items() if _released_name(filename, names)]


def _top_notebook(item):
    return "/" not in item.dest and item.dest.lower().endswith(".ipynb")


def _infer(items, released, path, seen):
    """The one assignment the items' notebook names or assignment folders point to."""
    votes = Counter()
    for item in items:
        owners = _owners(item.dest, released) if _top_notebook(item) else []
        if item.level or len(owners) == 1:
            votes[item.level or owners[0]] += 1
    if len(votes) == 1:
        return next(iter(votes))
    if votes:
        found = ", ".join(f"{a} ({n} files)" for a, n in sorted(votes.items()))
        raise CourseError(
            f"{path} holds several assignments: {found}; expected one: collect them one at a "
            "time with --assignment"
        )
    found = _some(seen) if seen else "no notebook"
    expected = ", ".join(f"{n} ({a})" for a, names in released.items() for n in names.values())
    raise CourseError(
        f"cannot tell which assignment {path} holds: found {found}; expected notebooks named as "
        f"released ({expected or 'none released'}), a folder named for the assignment, "
        "or --assignment"
    )


def _some(names, limit=5):
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _match_notebooks(items, assignment, released, run):
    """Give each notebook its released name; refuse other assignments' and unreadable ones."""
    names, kept = released[assignment], []
    expected = ", ".join(sorted(names.values()))
    for item in items:
        if item.level and item.level != assignment:
            run.reject(
                item,
                f"in a folder for {item.level}, not {assignment}; collect it with "
                f"--assignment {item.level}",
            )
            continue
        if not _top_notebook(item):
            kept.append(item)
            continue
        name = _released_name(item.dest, names)
        others = [a for a in _owners(item.dest, released) if a != assignment]
        if name is None and others:
            run.reject(
                item,
                f"{item.dest!r} is a notebook of {others[0]}, not of {assignment}; "
                f"collect it with --assignment {others[0]}",
            )
            continue
        if name is None and item.flat:
            run.reject(
                item,
                f"read as student {item.student!r} with a notebook {item.dest!r}, "
                f"which is not a notebook of {assignment} ({expected}); set aside rather "
                "than guessed at",
                naming=True,
            )
            continue
        if name is None:
            item.notes.append(f"not named as released ({expected}): kept under its own name")
        elif name != item.dest:
            item.submitted_as, item.dest = item.dest, name
            item.notes.append(f"submitted as {item.submitted_as!r}")
        problem = _notebook_problem(item.path.read_bytes())
        if problem:
            run.reject(item, problem)
            continue
        kept.append(item)
    return kept


def _notebook_problem(data):
    """Why ``data`` is no notebook the grader can read, in words; None when it is one."""
    expected = "expected a Jupyter notebook (JSON with 'nbformat' 3 or 4)"
    if not data:
        return f"an empty file (0 bytes); {expected}"
    try:
        nb = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return f"not text (not UTF-8); {expected}"
    except json.JSONDecodeError as err:
        return f"not valid JSON ({err.msg}, line {err.lineno} column {err.colno}); {expected}"
    if not isinstance(nb, dict) or "nbformat" not in nb:
        return f"JSON but not a notebook (no 'nbformat' field); {expected}"
    version = nb["nbformat"]
    if not isinstance(version, int) or not 3 <= version <= 4:
        return f"a notebook of nbformat {version!r}; {expected}"
    key = "cells" if version == 4 else "worksheets"
    if not isinstance(nb.get(key), list):
        return f"an nbformat {version} notebook without its {key!r} list; {expected}"
    return None


def _newest_only(items, run):
    """One file per student and name: the newest; the others are set aside."""
    groups = defaultdict(list)
    for item in items:
        groups[item.student, item.dest].append(item)
    kept = []
    for group in groups.values():
        group.sort(key=lambda i: i.mtime, reverse=True)
        first, rest = group[0], group[1:]
        ties = [i for i in rest if i.mtime == first.mtime and not _same(i.path, first.path)]
        if ties:
            for item in group:
                run.reject(
                    item,
                    f"{len(group)} different files for {first.student}'s "
                    f"{first.dest} with the same time; cannot tell which is the submission",
                )
            continue
        for item in rest:
            if item.mtime == first.mtime:
                run.reject(item, f"the same file as {first.source}, which is collected once")
                continue
            run.reject(
                item,
                f"an older copy ({_when(item.mtime)}) of {first.student}'s "
                f"{first.dest}; the newer {first.source} ({_when(first.mtime)}) is used",
            )
        kept.append(first)
    return kept


def _by_student(items):
    students = defaultdict(list)
    for item in items:
        students[item.student].append(item)
    return students


# -- writing a submission ------------------------------------------------------------------------


def _store(run, student, assignment, items):
    """Write one student's submission unless the one already collected is newer or the same."""
    folder = run.course.root / "submitted" / student / assignment
    notes = []
    recorded = run.times.get(student)
    if any(i.dest == "timestamp.txt" for i in items):
        if recorded is None:
            notes.append("its own timestamp.txt is not used: the time is its notebooks' mtime")
        items = [i for i in items if i.dest != "timestamp.txt"]
    notebooks = sorted((i for i in items if _top_notebook(i)), key=lambda i: i.dest)
    new = datetime.fromtimestamp(max(i.mtime for i in notebooks), UTC).replace(tzinfo=None)
    if recorded is not None:
        new = recorded
    if new > run.now:
        notes.append(f"its time {_fmt(new)} is later than now; recorded as now")
        new = run.now
    old = _existing_time(folder) if folder.exists() else None
    if folder.exists() and _same_files(folder, items):
        outcome, reason = "unchanged", f"the same as the submission already collected ({_fmt(old)})"
    elif old is not None and old >= new:
        outcome = "kept newer"
        same = " (same time, different content)" if old == new else ""
        reason = (
            f"kept the newer submission already collected ({_fmt(old)}){same} over "
            f"{notebooks[0].source} ({_fmt(new)})"
        )
    else:
        moved = _write(run, folder, items, new, student, assignment)
        outcome = "replaced" if moved else "collected"
        reason = f"submission time {_fmt(new)}"
        if moved:
            reason = (
                f"replaced the older submission ({_fmt(old)}) with this one ({_fmt(new)}); "
                f"the older one is now in {moved.relative_to(run.course.root)}"
            )
    _report(run, outcome, reason, notes, student, assignment, notebooks, items)


def _report(run, outcome, reason, notes, student, assignment, notebooks, items):
    others = sorted(i.dest for i in items if not _top_notebook(i) and i.dest not in _KEPT_QUIETLY)
    missing = sorted(set(_released(run.course, assignment).values()) - {i.dest for i in notebooks})
    extra = [f"with {_some(others)}"] if others else []
    extra += [f"no {', '.join(missing)} in this submission"] if missing else []
    for k, item in enumerate(notebooks):
        words = "; ".join([reason, *item.notes, *notes, *(extra if k == 0 else [])])
        run.report.add(
            CollectEntry(
                outcome, item.source, words, student, assignment, item.dest, item.submitted_as
            )
        )


def _write(run, folder, items, when, student, assignment):
    """Build the submission in a hidden folder beside ``folder``, then rename it into place.

    An older submission there is moved to replaced/ first; returns where it went, or None.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.collecting-"))
    moved = None
    try:
        for item in items:
            target = staging / item.dest
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item.path, target)
        stamp = when.replace(tzinfo=UTC).strftime(TIMESTAMP_FORMAT)
        (staging / "timestamp.txt").write_text(stamp + "\n")
        if folder.exists():
            moved = _free(run.replaced_dir / student / assignment)
            moved.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(folder, moved)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return moved


def _free(path):
    """``path``, or ``path.1``, ``path.2``, ... : the first that does not exist yet."""
    n, free = 0, path
    while free.exists():
        n += 1
        free = path.with_name(f"{path.name}.{n}")
    return free


def _existing_time(folder):
    """A collected submission's time (naive UTC): its timestamp.txt, else its notebooks' mtime."""
    from nbgrader.utils import parse_utc

    try:
        return parse_utc((folder / "timestamp.txt").read_text().strip())
    except (OSError, ValueError, OverflowError):
        pass
    times = [p.stat().st_mtime for p in folder.glob("*.ipynb")]
    return datetime.fromtimestamp(max(times), UTC).replace(tzinfo=None) if times else None


def _same_files(folder, items):
    there = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    wanted = {i.dest: i.path for i in items}
    return there - {"timestamp.txt"} == set(wanted) and all(
        _same(folder / dest, path) for dest, path in wanted.items()
    )


def _same(a, b):
    return filecmp.cmp(a, b, shallow=False)


def _utc(when):
    """``when`` as a naive UTC datetime (a naive one is taken to be UTC already)."""
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def _when(mtime):
    return _fmt(datetime.fromtimestamp(mtime, UTC).replace(tzinfo=None))


def _fmt(when):
    return f"{when:%Y-%m-%d %H:%M:%S} UTC" if when else "time unknown"
