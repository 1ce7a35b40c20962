"""``backprop-kit check NOTEBOOK``: run a notebook's visible tests and say, per task, how it went.

Like ``nbgrader validate``, but the report is one line per task: PASS, FAIL with the test's
message (what was expected, what came back, a hint), or TODO for exercises not started yet. The
notebook runs in a fresh kernel, from the top, in its own folder; the file itself is not changed.
"""

import re
from pathlib import Path

from autograder.course.layout import CourseError
from autograder.course.tasks import tasks
from chainrule.testcells import NOT_RUN, PASS, TODO, classify, failure_message

__all__ = ["TaskResult", "check_notebook", "task_result", "format_report"]

_TODO = "not started: a cell of this task still says # YOUR CODE HERE / NotImplementedError"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class TaskResult:
    """How one task did: ``status`` is one of ``chainrule.testcells``' PASS, FAIL, TODO or
    NOT_RUN, and ``message`` says why (empty for a pass)."""

    __slots__ = ("task", "status", "message")

    def __init__(self, task, status, message=""):
        self.task = task
        self.status = status
        self.message = message

    def __repr__(self):
        return f"TaskResult({self.task.id!r}, {self.status!r})"


def check_notebook(path, timeout=60):
    """Execute the notebook at ``path`` and return one ``TaskResult`` per task."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    if not path.is_file():
        raise CourseError(f"no notebook at {path}: expected the path of an .ipynb file")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # nbformat raises several kinds for a broken file
        raise CourseError(
            f"{path} is not a readable notebook ({type(err).__name__}: {err}); expected an "
            ".ipynb file saved by Jupyter"
        ) from None
    found = tasks(nb)
    if not found:
        raise CourseError(
            f"{path} has no graded tasks (no nbgrader test cells with points); expected a "
            "notebook from notebooks/"
        )
    client = NotebookClient(
        nb,
        timeout=timeout,
        allow_errors=True,
        interrupt_on_timeout=True,
        kernel_name="python3",
        extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no transport warnings
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    client.execute()
    return [task_result(nb, t) for t in found]


def _error(cell):
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return out.get("ename", "Error"), _ANSI.sub("", out.get("evalue", ""))
    return None


def task_result(nb, t):
    """One task's result from its cells in ``nb`` as run; the status is ``testcells.classify``'s."""
    answer_errors = [e for e in (_error(nb.cells[i]) for i in t.answer_cells) if e]
    cell = nb.cells[t.test_cell]
    ran = cell.get("execution_count") is not None
    test_error = _error(cell) if ran else None
    status = classify(test_error, [ename for ename, _ in answer_errors], ran)
    if status == PASS:
        return TaskResult(t, status)
    if status == TODO:
        return TaskResult(t, status, _TODO)
    if status == NOT_RUN:
        return TaskResult(t, status, "the test cell did not run (an earlier cell hung?)")
    if answer_errors:  # the cause, rather than the test's NameError that follows from it
        ename, evalue = answer_errors[0]
        return TaskResult(t, status, f"your code cell raised {ename}: {evalue}")
    return TaskResult(t, status, failure_message(*test_error))


def format_report(path, results):
    """The report printed by ``backprop-kit check``: one line per task and a total."""
    width = max(len(r.task.id) for r in results)
    lines = [f"{path}: visible tests (grading re-checks every task with hidden tests)"]
    for r in results:
        pts = f"{r.task.points:g} pt" + ("" if r.task.points == 1 else "s")
        head = f"  {r.status.upper():7} {r.task.id:{width}}  {pts:7}"
        lines.append(head + (f"  {r.message}" if r.message else ""))
    passed = [r for r in results if r.status == PASS]
    got = sum(r.task.points for r in passed)
    total = sum(r.task.points for r in results)
    lines.append(
        f"{len(passed)} of {len(results)} tasks pass their visible tests "
        f"({got:g} of {total:g} points if the hidden tests agree)"
    )
    return "\n".join(lines)
