"""Run a notebook's code cells in this process, optionally with one task's answer replaced.

Fast (no kernel) and exact about which cell raised: the hint tests use it to feed a known wrong
implementation to the real test cell of the solution notebook.
"""

import os
from contextlib import contextmanager
from pathlib import Path

import matplotlib
import nbformat

from autograder.course.layout import REPO_ROOT
from chainrule import variants
from chainrule.testcells import TaskFailure
from chainrule.variants import GRADER_VARIABLE

SOLUTIONS = REPO_ROOT / "solutions"

__all__ = ["SOLUTIONS", "solution_notebooks", "run_task", "failure_message"]


def solution_notebooks():
    return sorted(SOLUTIONS.glob("*/*.ipynb"))


@contextmanager
def _in_dir(path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


@contextmanager
def _as_student(student):
    """The notebook's value tasks on ``student``'s numbers (None: the slide's), as the grader
    sets them; a fresh ``chainrule.variants`` state before and after, as in a new kernel."""
    old = os.environ.pop(GRADER_VARIABLE, None)
    if student is not None:
        os.environ[GRADER_VARIABLE] = student
    variants.reset()
    try:
        yield
    finally:
        os.environ.pop(GRADER_VARIABLE, None)
        if old is not None:
            os.environ[GRADER_VARIABLE] = old
        variants.reset()


def run_task(path, task_id, answer=None, student=None, replace=None):
    """Run ``path`` top to bottom up to the test cell of ``task_id``; return what that cell raised.

    ``answer`` replaces the source of the task's answer cell (``<task_id>-code``); it may raise, as
    an unfinished answer does. Every other cell before the test cell must run cleanly. The
    value tasks use ``student``'s numbers (default: the slide's); ``replace`` ({old: new}) edits
    the other cells' sources first (e.g. the ``STUDENT_ID`` line). Returns the exception of
    the test cell, or None.
    """
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nb = nbformat.read(path, as_version=4)
    for old, new in (replace or {}).items():
        for cell in nb.cells:
            cell.source = cell.source.replace(old, new)
    ns = {"__name__": "__main__"}
    with _in_dir(Path(path).parent), _as_student(student):
        try:
            for cell in nb.cells:
                if cell.cell_type != "code":
                    continue
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                source = answer if (answer is not None and grade_id == f"{task_id}-code") else None
                code = compile(source or cell.source, f"<{path.name}:{cell.id}>", "exec")
                if grade_id == task_id:
                    try:
                        exec(code, ns)
                    except Exception as err:
                        return err
                    return None
                try:
                    exec(code, ns)
                except Exception:
                    if source is None:  # only the replaced answer may fail, as in a notebook
                        raise
        finally:
            plt.close("all")
    raise AssertionError(f"{path} has no test cell for task {task_id!r}")


def failure_message(path, task_id, wrong, phrase=None, student=None):
    """Feed ``wrong`` to the test cell of ``task_id``; assert it fails as a task failure.

    With ``phrase``, also assert that the message carries a hint containing it. Returns the
    message.
    """
    err = run_task(path, task_id, answer=wrong, student=student)
    assert isinstance(err, TaskFailure), f"expected the test cell to fail, it raised {err!r}"
    msg = str(err)
    assert msg.startswith(f"[{task_id}]"), msg
    if phrase is not None:
        assert "Hint" in msg and phrase in msg, msg
    return msg
