"""The grader's side of per-student variants (``chainrule.variants``): which notebooks use
them, the id a submission was collected under, and what a wrong answer's numbers say.

A notebook uses variants when one of its instructor cells makes ``StudentNumbers(STUDENT_ID)``
(``enabled=False`` there switches them off for that notebook: every task then uses the slide's
numbers, as before variants). The grader then:

- runs the notebook with ``BACKPROP_KIT_STUDENT_ID`` set to the id as collected (``environ``),
  never an id read from the notebook, and pins it again before each test cell
  (``pin_line``, which also hands over the roster: the class's other ids);
- compares the ``STUDENT_ID = "..."`` line of the submission with the collected id
  (``declared_id``, read without running it) and flags a notebook that names someone else;
- flags a task whose wrong answers fit the slide's numbers or another student's
  (``match_flags``, from the test's message), and an answer cell that asks
  ``chainrule.value_tasks`` for its answers (``guarded``: a reference call, as for the gates).

``describe`` is ``backprop-kit variant STUDENT [TASK ...]``: a student's numbers and answers.
"""

import ast
import re

from autograder.course.layout import CourseError
from autograder.course.tasks import parsed_code_cells, tasks
from chainrule.variants import GRADER_VARIABLE, MATCHES

__all__ = [
    "ID_NAME",
    "GUARDED",
    "guarded",
    "uses_variants",
    "declared_id",
    "environ",
    "pin_line",
    "id_note",
    "match_flags",
    "describe",
]

ID_NAME = "STUDENT_ID"
GUARDED = ("chainrule.value_tasks.spec",)  # the answers: no value task's answer cell calls it
_MATCH = re.compile(re.escape(MATCHES) + r" (the slide's example|student .{1,200}?'s variant)")


def uses_variants(nb):
    """True when an instructor cell (no nbgrader role) of ``nb`` calls ``StudentNumbers`` with
    variants on (``enabled`` missing or a true constant)."""
    for _, tree in parsed_code_cells(nb, _not_an_answer):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) == "StudentNumbers":
                enabled = next((k.value for k in node.keywords if k.arg == "enabled"), None)
                return enabled is None or bool(getattr(enabled, "value", True))
    return False


def _not_an_answer(cell):
    return not cell.metadata.get("nbgrader", {}).get("solution")


def _name(func):
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def guarded(notebook_tasks):
    """The runner's ``guarded`` setting: {each of ``GUARDED``: the value tasks among
    ``notebook_tasks``}, so an answer cell that asks the library for its answers is reported."""
    from chainrule.value_tasks import task_ids

    ids = [t.id for t in notebook_tasks if t.id in task_ids()]
    return {dotted: ids for dotted in GUARDED}


def declared_id(nb):
    """The string the submission assigns to ``STUDENT_ID`` (its first such line), or "".

    Read from the source without running it; anything but a plain string literal is ""."""
    for _, tree in parsed_code_cells(nb):
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == ID_NAME for t in node.targets)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                return node.value.value.strip()[:200]
    return ""


def environ(student):
    """The variables the runner sets before the notebook's first cell."""
    return {GRADER_VARIABLE: student}


def pin_line(student, roster):
    """One line of code run before each test cell: the collected id, and the other ids."""
    others = tuple(s for s in roster if s != student)
    return f"__import__('chainrule.variants').variants.as_collected({student!r}, {others!r})\n"


def id_note(declared, student):
    """The flag for a notebook whose ``STUDENT_ID`` names another student; None when it is
    empty or the collected id."""
    if not declared or declared == student:
        return None
    return (
        f"the notebook's {ID_NAME} is {declared!r}, but it was collected as {student!r}; "
        f"graded on the numbers of {student!r}"
    )


def match_flags(outcomes):
    """``task <id>: answers match ...`` for each failed task whose answers fit someone else's
    numbers (``chainrule.variants.check_answers`` says so in its message)."""
    flags = []
    for o in outcomes:
        found = _MATCH.search(o.message or "") if o.status != "pass" else None
        if found:
            flags.append(f"task {o.id}: {found.group(0)}")
    return flags


def describe(course, student, task_ids=()):
    """The text ``backprop-kit variant STUDENT [TASK ...]`` prints: for each value task (all by
    default) the notebook it is in, the student's numbers and the answers, for office hours."""
    import nbformat

    from chainrule.value_tasks import spec
    from chainrule.value_tasks import task_ids as all_ids
    from chainrule.variants import format_value, variant

    where = {}
    for assignment in course.assignments():
        for path in course.source_notebooks(assignment):
            nb = nbformat.read(path, as_version=4)
            on = uses_variants(nb)
            for t in tasks(nb):
                where[t.id] = (f"{assignment}/{path.name}", on)
    wanted = list(task_ids) or [t for t in all_ids() if t in where]
    unknown = [t for t in wanted if t not in all_ids()]
    if unknown:
        raise CourseError(
            f"not a value task: {', '.join(map(repr, unknown))}; the value tasks are: "
            f"{', '.join(all_ids())}"
        )
    lines = [f"student {student!r}"]
    for t in wanted:
        notebook, on = where.get(t, ("(not in this course)", True))
        try:
            mine = variant(student if on else "", t)
        except (TypeError, ValueError) as err:
            raise CourseError(str(err)) from None
        lines.append(f"\n{t}  ({notebook}{'' if on else ', variants off: the slide'})")
        lines.append(f"  numbers: {mine}")
        for name, value in spec(t).answers(mine).items():
            lines.append(f"  {name} = {format_value(value)}")
    return "\n".join(lines)
