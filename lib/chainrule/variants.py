"""Per-student numbers for the value tasks: the same id gives the same numbers everywhere.

A *value task* asks for numbers the student works out (the forward values and hand gradients of
f = (x + y) z, the sigmoid neuron's gradients, the size of a Jacobian). The slide's example stays
the worked example; the graded task uses the student's own inputs, drawn by ``variant`` from the
student id and the task's key, and checked by ``check_answers`` without printing the answer.

``variant(student_id, task_id)`` is the one function that decides a student's numbers. It uses
no global random state: each draw is SHA-256 of ``"backprop-kit/variant/<key>/<id>/<n>"``, so it
gives the same numbers on every machine, Python and NumPy. An empty id gives the slide's numbers.
What each task draws, its answers and its usual mistakes live in ``chainrule.value_tasks``.

Which id a notebook uses (``current_id``), first match wins:

1. the grader's: ``BACKPROP_KIT_STUDENT_ID``, the id of the submission as collected (the grader
   sets it, and pins it again before every test cell with ``as_collected``);
2. JupyterHub's: ``JUPYTERHUB_USER``, the user whose server runs the notebook;
3. the notebook's own: the ``STUDENT_ID = "..."`` line at its top, passed to ``StudentNumbers``.

Without any of them the notebook runs on the slide's numbers and says that grading will use the
student's own. ``StudentNumbers(..., enabled=False)`` (the instructor's switch, per notebook)
keeps every task on the slide's numbers, for everyone, graded included.

A wrong answer that equals the slide's answers, or another student's (the notebook's own
``STUDENT_ID`` when it is not the collected id, or anyone on the roster the grader passes), fails
with ``MATCHES`` in its message: "answers match student X's variant" or "answers match the
slide's example". The grader flags such a notebook for a person.
"""

import hashlib
import math
import os

import numpy as np

from .testcells import HINT, TaskFailure, _plain

__all__ = [
    "GRADER_VARIABLE",
    "HUB_VARIABLE",
    "MATCHES",
    "SLIDE",
    "Dice",
    "Variant",
    "variant",
    "current_id",
    "StudentNumbers",
    "as_collected",
    "reset",
    "check_answers",
    "matching_variant",
    "format_value",
]

GRADER_VARIABLE = "BACKPROP_KIT_STUDENT_ID"  # set by the grader to the id as collected
HUB_VARIABLE = "JUPYTERHUB_USER"  # set by JupyterHub in each user's server
MATCHES = "answers match"  # the words a message uses when answers are someone else's
SLIDE = "the slide's example"
_ID_LIMIT = 200  # characters; longer ids are refused
_PINNED = {"id": None, "roster": (), "declared": "", "enabled": True}


class Dice:
    """Deterministic draws for one student and one task key, from SHA-256 (no random state)."""

    def __init__(self, student_id, key):
        self._seed = f"backprop-kit/variant/{key}/{student_id}"
        self._n = 0
        self._pool = []

    def _next(self):
        """The next 64-bit number: SHA-256 of the seed and a counter gives four at a time."""
        if not self._pool:
            digest = hashlib.sha256(f"{self._seed}/{self._n}".encode()).digest()
            self._n += 1
            self._pool = [int.from_bytes(digest[i : i + 8], "big") for i in (24, 16, 8, 0)]
        return self._pool.pop()

    def integer(self, lo, hi, exclude=()):
        """An int in ``[lo, hi]``, not in ``exclude``."""
        while True:
            value = lo + self._next() % (hi - lo + 1)
            if value not in exclude:
                return value

    def choice(self, options):
        """One of ``options`` (a sequence)."""
        return options[self._next() % len(options)]


class Variant:
    """One task's inputs for one student: unpacks in the task's order, prints as ``x = 3, ...``.

    ``student`` is the id it was drawn for ("" for the slide's); ``task`` the task id.
    """

    def __init__(self, task, student, values):
        self.task = task
        self.student = student
        self.values = dict(values)

    @property
    def is_slide(self):
        return not self.student

    def __iter__(self):
        return iter(self.values.values())

    def __getitem__(self, name):
        return self.values[name]

    def __getattr__(self, name):
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __eq__(self, other):
        return isinstance(other, Variant) and _same_values(self.values, other.values)

    def __hash__(self):
        return hash(self.task)

    def __repr__(self):
        return ", ".join(f"{k} = {format_value(v)}" for k, v in self.values.items())


def variant(student_id, task_id):
    """The inputs of value task ``task_id`` for ``student_id``, as a ``Variant``.

    student_id: str, the id as the course knows it ("" or None: the slide's numbers)
    task_id: str, a task of ``chainrule.value_tasks.TASKS`` (tasks that share a worked example,
        like ``forward-values`` and ``hand-gradients``, share its numbers)
    returns: ``Variant``; the same for the same arguments on every machine and run
    """
    from .value_tasks import spec

    task = spec(task_id)
    student = _checked_id(student_id)
    if not student:
        return Variant(task_id, "", task.slide)
    dice = Dice(student, task.key)
    for _ in range(1000):
        values = task.draw(dice)
        if not _same_values(values, task.slide) and task.accept(values):
            return Variant(task_id, student, values)
    raise RuntimeError(f"no acceptable numbers for task {task_id!r} and student {student!r}")


def _checked_id(student_id):
    if student_id is None:
        return ""
    if not isinstance(student_id, str):
        raise TypeError(
            f"a student id is a string like 's1234567', got {type(student_id).__name__} "
            f"{student_id!r}"
        )
    student = student_id.strip()
    if len(student) > _ID_LIMIT or not student.isprintable():
        raise ValueError(
            f"a student id is one line of at most {_ID_LIMIT} printable characters, got "
            f"{student[:40]!r}{'...' if len(student) > 40 else ''}"
        )
    return student


def current_id(declared=""):
    """``(id, where it came from)``: the grader's, JupyterHub's, the notebook's, or ("", None)."""
    if _PINNED["id"] is not None:
        return _PINNED["id"], "as collected"
    for variable, where in ((GRADER_VARIABLE, "as collected"), (HUB_VARIABLE, "JupyterHub user")):
        value = os.environ.get(variable, "").strip()
        if value:
            return _checked_id(value), where
    declared = _checked_id(declared or "")
    return (declared, "STUDENT_ID") if declared else ("", None)


class StudentNumbers:
    """The notebook's source of numbers: ``me = StudentNumbers(STUDENT_ID)`` in its top cells.

    ``me("forward-values")`` is that task's ``Variant`` for the notebook's student (see
    ``current_id``); with ``enabled=False`` every task uses the slide's numbers. Creating it
    prints which id is used, and from where.
    """

    def __init__(self, declared="", enabled=True):
        try:
            self.declared = _checked_id(declared or "")
        except (TypeError, ValueError):
            if not _grading():
                raise  # in the student's own Jupyter: say what is wrong with the line
            self.declared = ""  # at grading the collected id decides; the line is only compared
        self.enabled = bool(enabled)
        _PINNED["declared"], _PINNED["enabled"] = self.declared, self.enabled
        print(self.status())

    @property
    def student(self):
        return _student(self.declared, self.enabled)

    def status(self):
        """One paragraph: whose numbers the value tasks use."""
        if not self.enabled:
            return "Value tasks use the slide's numbers in this assignment (variants are off)."
        student, where = current_id(self.declared)
        if not student:
            return (
                'No student id yet: set STUDENT_ID = "your id" in the cell above and run it '
                "again. Until then the value tasks use the slide's numbers; grading uses your "
                "own, so answers worked on the slide's numbers will not count."
            )
        return f"Value tasks use the numbers of student {student!r} ({where})."

    def __call__(self, task_id):
        return variant(self.student, task_id)


def _student(declared, enabled):
    """The id whose numbers the value tasks use: ``current_id``'s, or "" (the slide's) when
    variants are off."""
    return current_id(declared)[0] if enabled else ""


def _grading():
    return _PINNED["id"] is not None or bool(os.environ.get(GRADER_VARIABLE, "").strip())


def as_collected(student_id, roster=()):
    """Pin the id of the submission as collected (the grader runs this before each test cell);
    ``roster``: the other ids of the class, whose answers a wrong one is compared with."""
    _PINNED["id"] = _checked_id(student_id)
    _PINNED["roster"] = tuple(roster)


def reset():
    """Forget the pinned id, the roster and the notebook's settings (a new kernel's state)."""
    _PINNED.update(id=None, roster=(), declared="", enabled=True)


def check_answers(task_id, **got):
    """Raise ``TaskFailure`` unless every answer ``got[name]`` is right for the notebook's
    student. The message never states the expected value: it names the answer that is off, the
    student's inputs, the hint for a known mistake, and whose numbers the answers fit instead.
    """
    from .value_tasks import spec

    task = spec(task_id)
    declared = _PINNED["declared"]
    student = _student(declared, _PINNED["enabled"])
    mine = variant(student, task_id)
    want = task.answers(mine)
    missing = [n for n in want if n not in got]
    if missing:
        raise TypeError(f"check_answers({task_id!r}) needs {', '.join(missing)}")
    wrong = [n for n in want if not task.close(n, got[n], want[n])]
    if not wrong:
        return
    name = wrong[0]
    shown = _given(got[name])
    msg = f"{name} = {shown} is not right for your numbers ({mine})."
    hint = _hint(task, name, got[name], mine, want)
    if hint:
        msg += f" {HINT}{hint}"
    elif task.advice.get(name):
        msg += f" {HINT}{task.advice[name]}"
    whose = matching_variant(task_id, got, others=(declared, *_PINNED["roster"]), skip=student)
    if whose is not None:
        msg += f" These {whose}: work the task on your own numbers, printed above it."
    raise TaskFailure(task_id, msg)


def matching_variant(task_id, got, others=(), skip=""):
    """``"answers match ..."`` when ``got`` answers the slide's numbers or those of an id in
    ``others`` (other than ``skip``), in that order; None when they fit nobody's."""
    from .value_tasks import spec

    task = spec(task_id)
    for student in ("", *dict.fromkeys(o for o in others if o and o != skip)):
        if not student and not skip:
            continue  # the slide's numbers are this notebook's own
        theirs = task.answers(variant(student, task_id))
        if all(task.close(n, got.get(n), theirs[n]) for n in theirs):
            return f"{MATCHES} {SLIDE}" if not student else f"{MATCHES} student {student}'s variant"
    return None


def _hint(task, name, value, mine, want):
    for wrong, hint in task.mistakes(mine, want).get(name, ()):
        if task.close(name, value, wrong):
            return hint
    return None


def _same_values(a, b):
    return a.keys() == b.keys() and all(
        a[k] == b[k] if isinstance(a[k], float) else np.array_equal(a[k], b[k]) for k in a
    )


def _given(value):
    try:
        return format_value(value) if _plain(value) else type(value).__name__
    except (TypeError, ValueError):
        return type(value).__name__


def format_value(value):
    """A variant's number, answer or array as the notebook and ``backprop-kit variant`` show it:
    whole numbers as ints (``2,000,000`` from 10,000 on), others to 6 digits, arrays nested."""
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        v = float(a)
        if math.isfinite(v) and v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}" if abs(v) >= 10_000 else str(int(v))
        return f"{v:.6g}"
    return "[" + ", ".join(format_value(row) for row in a) + "]"
