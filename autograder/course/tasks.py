"""The graded tasks of a notebook, read from nbgrader's cell metadata.

Each exercise has one task id. Its test cell (an nbgrader "autograder tests" cell with points)
has ``grade_id`` equal to the task id; the code cells the student fills in (nbgrader
"autograded answer" cells) come before it and are named ``<task id>-code``.
"""

import ast

__all__ = ["Task", "tasks", "parsed_code_cells"]


class Task:
    """One exercise: ``id``, ``points``, the index of its test cell and of its answer cells."""

    __slots__ = ("id", "points", "test_cell", "answer_cells")

    def __init__(self, id, points, test_cell, answer_cells):
        self.id = id
        self.points = points
        self.test_cell = test_cell
        self.answer_cells = answer_cells

    def __repr__(self):
        return f"Task({self.id!r}, points={self.points}, cell={self.test_cell})"


def tasks(nb):
    """The notebook's tasks in order; answer cells belong to the next test cell after them."""
    found, pending = [], []
    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            pending.append(i)
        if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
            found.append(Task(meta.get("grade_id", f"cell-{i}"), meta.get("points", 0), i, pending))
            pending = []
    return found


def parsed_code_cells(nb, keep=lambda cell: True):
    """``(cell, ast.Module)`` for each code cell of ``nb`` that ``keep`` accepts and that parses;
    a cell with a syntax error is left out (it fails when it runs)."""
    for cell in nb.cells:
        if cell.cell_type != "code" or not keep(cell):
            continue
        try:
            yield cell, ast.parse(cell.source)
        except SyntaxError:
            continue
