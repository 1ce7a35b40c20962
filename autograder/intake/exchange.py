"""``backprop-kit collect --exchange``: each student's latest submission from nbgrader's exchange.

nbgrader's ``submit`` (the Assignments tab's Submit button) copies a student's assignment folder
to ``<exchange>/<course id>/inbound/{student}+{assignment}+{timestamp}+{random}`` (the random
part is absent with ``ExchangeSubmit.add_random_string = False``) and writes ``timestamp.txt``
and ``submission_secret.txt`` into it. nbgrader's own ``collect`` splits the name with
``rsplit('+', 3)``, takes the newest timestamp of each student, and warns when the folder's owner
is not the student. This reader mirrors those rules and refuses what they only warn about:

- **Names.** A folder of this assignment must read ``{student}+{assignment}+{timestamp}`` with an
  optional ``+{random}`` of URL-safe base64; the student id passes ``unsafe_student_id`` and holds
  no ``+``; the timestamp is nbgrader's format (``2026-11-20 14:02:11.123456 UTC``). Anything
  else with ``+{assignment}+`` in its name is reported and left in place; other assignments'
  folders are not looked at.
- **Time.** A submission's time is the one in its folder name, as nbgrader's ``collect`` uses it.
  ``timestamp.txt`` is compared with it and a disagreement is reported (the name wins). A time
  more than ``TIME_SLACK`` before the folder's change time (``st_ctime``, which no user can set
  back) is a lie: the change time is recorded and the report says so. A time later than now is
  recorded as now (as for any collect).
- **Who.** On a shared exchange (a folder owned by another Unix user than the one collecting) the
  owner of the folder and of every file in it must be the student the name claims; a folder
  owned by the collecting user is a single-user exchange (``make lab``) and is taken as named.
  A folder refused for its owner (or for being a link) is someone else's: it does not hide the
  student's own, and the newest of those is collected instead.
- **What.** The latest submission is first copied into a private temporary folder, never
  following a link (``O_NOFOLLOW``): links, special files, more than ``MAX_FILES`` files or more
  than ``MAX_SUBMISSION_BYTES`` set it aside, and nothing else is read from the exchange. The
  copy then goes through every check of the folder collect (``collect.collect_snapshot``):
  released names, damaged notebooks, ids, newer / older than what was collected.

The exchange is only read, never changed. Its root is ``--exchange DIR``, else
``$BACKPROP_KIT_EXCHANGE``, else ``Exchange.root`` of the course's nbgrader configuration.
"""

import os
import pwd
import re
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from autograder.course.layout import CourseError, unsafe_student_id
from autograder.intake.collect import collect_snapshot
from autograder.intake.unpack import JUNK, Item

__all__ = [
    "collect_exchange",
    "exchange_root",
    "course_id",
    "parse_inbound_name",
    "Inbound",
    "MAX_SUBMISSION_BYTES",
    "MAX_FILES",
    "TIME_SLACK",
    "INBOUND_FORMAT",
]

MAX_SUBMISSION_BYTES = 100 * 2**20
MAX_FILES = 500
TIME_SLACK = timedelta(minutes=10)
INBOUND_FORMAT = "{student}+{assignment}+{timestamp}[+{random}]"
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})? (?:UTC|[+-]\d{4})$")
_RANDOM = re.compile(r"^[A-Za-z0-9_=-]{1,64}$")
_CHUNK = 2**20
_SMALL = 4096  # at most this much of timestamp.txt is read


@dataclass
class Inbound:
    """One inbound folder whose name parsed: who, which assignment, when, and its path."""

    path: Path
    student: str
    assignment: str
    timestamp: datetime


def exchange_root(course, given=None):
    """The exchange's root folder: ``given``, ``$BACKPROP_KIT_EXCHANGE``, or nbgrader's config."""
    root = given or os.environ.get("BACKPROP_KIT_EXCHANGE")
    if not root:
        root = course.config().Exchange.root
    return Path(root)


def course_id(course):
    """The nbgrader course id (the exchange's folder name), from the course's configuration."""
    return course.config().CourseDirectory.course_id


def parse_inbound_name(name, assignment):
    """``(student, timestamp)`` of an inbound folder name, or a ``ValueError`` saying why not.

    The time is naive UTC, as nbgrader's ``parse_utc`` returns it.
    """
    from nbgrader.utils import parse_utc

    parts = name.rsplit("+", 3)
    if len(parts) == 4 and parts[1] != assignment and parts[2] == assignment:
        raise ValueError(f"a student id with '+' ({parts[0]}+{parts[1]!s})")
    if len(parts) < 3 or parts[1] != assignment:
        raise ValueError(f"not {INBOUND_FORMAT} for {assignment}")
    student, _, stamp = parts[:3]
    if len(parts) == 4 and not _RANDOM.match(parts[3]):
        raise ValueError(f"its last part {parts[3]!r} is not nbgrader's random suffix")
    problem = unsafe_student_id(student) or ("holds '+'" if "+" in student else None)
    if problem:
        raise ValueError(f"the student id {student!r} {problem}")
    if not _TIMESTAMP.match(stamp):
        raise ValueError(
            f"the timestamp {stamp!r} is not nbgrader's format "
            "(e.g. 2026-11-20 14:02:11.123456 UTC)"
        )
    try:
        return student, parse_utc(stamp)
    except (ValueError, OverflowError) as err:
        raise ValueError(f"the timestamp {stamp!r} is not a time ({err})") from None


def collect_exchange(course, assignment, root=None, *, now=None):
    """Collect the latest submission of each student of ``assignment`` from the exchange.

    ``root``: the exchange root (see ``exchange_root``). Returns the ``CollectReport``;
    ``CourseError`` when the exchange or its inbound folder cannot be read.
    """
    if not assignment:
        raise CourseError("collect --exchange needs --assignment ASSIGNMENT (e.g. 01-graphs)")
    course.resolve([assignment])
    inbound = exchange_root(course, root) / course_id(course) / "inbound"
    if not inbound.is_dir():
        raise CourseError(
            f"no inbound folder {inbound}; expected nbgrader's exchange there (give its root with "
            "--exchange DIR, or release an assignment with `nbgrader release_assignment` first)"
        )
    now = now or datetime.now(UTC)
    candidates, rejects = _candidates(inbound, assignment)
    items, times = [], {}
    with tempfile.TemporaryDirectory(prefix="backprop-kit-exchange-") as tmp:
        for student, group in sorted(candidates.items()):
            for k, entry in enumerate(group):
                try:
                    files, when, notes = _snapshot(entry, Path(tmp) / f"{k}" / student)
                except _Refused as refused:
                    rejects.append((_folder_item(entry.path, student), refused.reason))
                    if refused.forged:
                        continue  # someone else's folder under this name: look at the one before
                    break
                if len(group) > 1:
                    notes.insert(0, f"the latest of {len(group)} in the exchange")
                for item in files:
                    item.notes.extend(notes)
                items += files
                times[student] = when
                break
        return collect_snapshot(
            course, items, assignment, str(inbound), times=times, rejects=rejects, now=now
        )


class _Refused(Exception):
    """A submission set aside; ``forged`` when it is not the named student's own."""

    def __init__(self, reason, forged=False):
        super().__init__(reason)
        self.reason, self.forged = reason, forged


def _candidates(inbound, assignment):
    """``{student: [Inbound, newest first]}``, and ``(Item, reason)`` for bad names."""
    found, rejects = {}, []
    try:
        names = sorted(os.listdir(inbound))
    except OSError as err:
        raise CourseError(
            f"cannot list {inbound} ({err.strerror}); run as the instructor"
        ) from None
    for name in names:
        if f"+{assignment}+" not in name:
            continue
        path = inbound / name
        try:
            student, when = parse_inbound_name(name, assignment)
        except ValueError as err:
            reason = (
                f"inbound folder name {name!r}: {err}; expected {INBOUND_FORMAT} (left in place)"
            )
            rejects.append((_folder_item(path, None), reason))
            continue
        found.setdefault(student, []).append(Inbound(path, student, assignment, when))
    for group in found.values():
        group.sort(key=lambda e: e.timestamp, reverse=True)
    return found, rejects


def _folder_item(path, student):
    """An ``Item`` for a whole inbound folder set aside; nothing of it is copied."""
    item = Item(None, str(path), f"exchange/{path.name}", (path.name,))
    item.student = student
    return item


def _snapshot(entry, dest):
    """Copy ``entry`` into ``dest``: ``(items, time, notes)``; ``_Refused`` saying why not."""
    me = os.geteuid()
    try:
        top = os.lstat(entry.path)
    except OSError as err:
        raise _Refused(f"cannot be read ({err.strerror}) (left in place)") from None
    if stat.S_ISLNK(top.st_mode) or not stat.S_ISDIR(top.st_mode):
        raise _Refused(
            "the inbound entry is a link or not a folder; expected nbgrader's submission folder "
            "(left in place)",
            forged=True,
        )
    problem = _owner_problem(top.st_uid, entry.student, me, "the folder")
    if problem:
        raise _Refused(problem, forged=True)
    items, budget = [], [MAX_SUBMISSION_BYTES]
    try:
        problem = _copy_tree(entry, entry.path, dest, (), top.st_uid, me, items, budget)
    except OSError as err:
        problem = f"cannot be read ({err.strerror}: {err.filename}) (left in place)"
    if problem:
        raise _Refused(problem, forged=problem.startswith("claims to be"))
    when, notes = _submission_time(entry, top, dest, [])
    return items, when, notes


def _owner_problem(uid, student, me, what):
    if uid == me:
        return None  # a single-user exchange: the collecting user wrote it
    try:
        owner = pwd.getpwuid(uid).pw_name
    except KeyError:
        owner = f"uid {uid} (no such user)"
    if owner != student:
        return (
            f"claims to be {student!r}'s submission but {what} belongs to Unix user {owner!r}; "
            f"expected it to belong to {student!r} (left in place)"
        )
    return None


def _copy_tree(entry, src, dest, rel, owner, me, items, budget):
    """Copy one folder level; a reason string when the submission must be set aside."""
    dest.mkdir(parents=True, exist_ok=True)
    with os.scandir(src) as it:
        children = sorted(it, key=lambda d: d.name)
    for child in children:
        parts = (*rel, child.name)
        shown = "/".join(parts)
        if child.name in JUNK or child.name.startswith("._"):
            continue
        info = child.stat(follow_symlinks=False)
        if info.st_uid not in (owner, me):
            return _owner_problem(info.st_uid, entry.student, me, f"its file {shown!r}")
        if stat.S_ISDIR(info.st_mode):
            problem = _copy_tree(
                entry, child.path, dest / child.name, parts, owner, me, items, budget
            )
            if problem:
                return problem
            continue
        if not stat.S_ISREG(info.st_mode):
            return (
                f"{shown!r} is a link or special file; expected regular files only (left in place)"
            )
        if len(items) >= MAX_FILES:
            return (
                f"holds more than {MAX_FILES} files; expected an assignment folder (left in place)"
            )
        budget[0] -= _copy_file(child.path, dest / child.name, budget[0], shown)
        if budget[0] < 0:
            return _too_big()
        item = Item(
            dest / child.name,
            f"{entry.path}/{shown}",
            f"exchange/{entry.path.name}/{shown}",
            (entry.student, *parts),
        )
        item.mtime = info.st_mtime
        os.utime(item.path, (info.st_mtime, info.st_mtime))
        items.append(item)
    return None


def _too_big():
    return (
        f"holds more than {MAX_SUBMISSION_BYTES // 2**20} MiB; expected an assignment folder "
        "(left in place)"
    )


def _copy_file(src, dest, budget, shown):
    """Copy a regular file without following links; the bytes copied (more than budget: stop)."""
    fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    written = 0
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file", shown)
        with open(fd, "rb", closefd=False) as f, open(dest, "wb") as out:
            while chunk := f.read(_CHUNK):
                written += len(chunk)
                if written > budget:
                    return written
                out.write(chunk)
    finally:
        os.close(fd)
    return written


def _submission_time(entry, top, copy, notes):
    """The time to record (naive UTC) and notes: the name's time, checked as the docstring says."""
    when = entry.timestamp
    stamp = _read_small(copy / "timestamp.txt")
    if stamp is None:
        notes.append("no timestamp.txt in the exchange folder; the time in its name is used")
    else:
        from nbgrader.utils import parse_utc

        try:
            claimed = parse_utc(stamp) if _TIMESTAMP.match(stamp) else None
        except (ValueError, OverflowError):
            claimed = None
        if claimed is None:
            notes.append(
                f"its timestamp.txt holds {stamp[:60]!r}, not a time in nbgrader's format; "
                "the time in its folder name is used"
            )
        elif abs(claimed - when) > timedelta(seconds=1):
            notes.append(
                f"its timestamp.txt says {claimed:%Y-%m-%d %H:%M:%S} UTC but its folder name "
                f"{when:%Y-%m-%d %H:%M:%S} UTC; the folder name's (nbgrader's) time is used"
            )
    changed = datetime.fromtimestamp(top.st_ctime, UTC).replace(tzinfo=None)
    if when < changed - TIME_SLACK:
        notes.append(
            f"its name says {when:%Y-%m-%d %H:%M:%S} UTC, but the exchange folder was written at "
            f"{changed:%Y-%m-%d %H:%M:%S} UTC (its change time); that time is recorded"
        )
        when = changed
    return when, notes


def _read_small(path):
    try:
        with open(path, "rb") as f:
            data = f.read(_SMALL)
    except OSError:
        return None
    return data.decode("utf-8", "replace").strip()
