"""From a submitted notebook to the cells the grader runs, checked before anything executes.

``read_submission`` turns a file into a notebook or a reason it cannot be graded (missing,
not JSON, not a notebook); an nbformat 3 notebook is upgraded, and a renamed notebook is
matched to its released name by its graded cells. ``assemble`` lines the student's cells up
with the instructor's source:

- answer cells (nbgrader ``solution``) run as the student wrote them;
- test cells (nbgrader ``grade``, locked) always run as in the source, hidden tests included,
  whatever the student did to them; an edited, deleted or untagged test cell is noted so the
  task earns nothing and the notebook is flagged;
- every other code cell runs as the student has it (students may add and edit them, as in
  nbgrader), and markdown is kept for the feedback.
"""

import ast
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.course.tasks import tasks

__all__ = ["Cell", "Plan", "Unreadable", "read_submission", "find_notebook", "assemble"]

IGNORE_SUFFIXES = ("-checkpoint.ipynb",)


class Unreadable(Exception):
    """The submitted file cannot be graded; ``reason`` says what was found and expected."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Cell:
    """One cell to run (or keep): ``kind`` is answer / test / locked (a graded cell's source),
    given (an instructor cell as released), student (added or edited) or markdown."""

    kind: str
    source: str
    shown: str
    task: str | None = None
    grade_id: str | None = None
    metadata: dict = field(default_factory=dict)

    @property
    def runs(self):
        return self.kind != "markdown"


@dataclass
class Plan:
    """The cells of one notebook in run order, its tasks, and what was noticed on the way."""

    cells: list
    tasks: list
    notes: list = field(default_factory=list)
    tampered: dict = field(default_factory=dict)


def _meta(cell):
    """A cell's nbgrader metadata; anything malformed (hand-edited JSON) counts as none."""
    meta = cell.get("metadata")
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    if not isinstance(meta, dict) or not isinstance(meta.get("grade_id", ""), str):
        return {}
    return meta


def grade_ids(nb):
    return {_meta(c).get("grade_id") for c in nb.cells if _meta(c).get("grade_id")}


def read_submission(path):
    """The notebook at ``path`` as nbformat 4, and notes; ``Unreadable`` when it cannot be."""
    path = Path(path)
    notes = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise Unreadable(
            f"{path.name} is not text (not UTF-8); expected a Jupyter notebook"
        ) from None
    if not text.strip():
        raise Unreadable(f"{path.name} is empty; expected a Jupyter notebook")
    try:
        data = json.loads(text)
    except ValueError as err:
        raise Unreadable(
            f"{path.name} is not valid JSON ({err}); the file is damaged, expected a Jupyter "
            "notebook saved by Jupyter"
        ) from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise Unreadable(f"{path.name} is JSON but not a notebook (no 'nbformat' field)")
    version = data.get("nbformat")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat's notes on duplicate cell ids and such
            nb = nbformat.reads(text, as_version=4)
    except Exception as err:  # nbformat raises several kinds for a broken notebook
        raise Unreadable(
            f"{path.name} is not a readable notebook ({type(err).__name__}: {err})"
        ) from None
    if version != 4:
        notes.append(f"{path.name} was saved as nbformat {version}; upgraded to 4 to grade it")
    if not isinstance(nb.get("cells"), list):
        raise Unreadable(f"{path.name} has no list of cells")
    for i, cell in enumerate(nb.cells):
        if not isinstance(cell, dict) or not isinstance(cell.get("source"), str):
            raise Unreadable(
                f"{path.name}: cell {i} has no text source; the file was edited by hand?"
            )
        if not isinstance(cell.get("metadata", {}), dict):
            cell["metadata"] = {}
    return nb, notes


def find_notebook(folder, expected, release_ids, taken=()):
    """The submitted file for the released notebook ``expected``: its own name, or a renamed
    copy holding the same graded cells. Returns (path or None, note)."""
    folder = Path(folder)
    exact = folder / expected
    if exact.is_file():
        return exact, ""
    candidates = []
    for p in sorted(folder.glob("*.ipynb")):
        if p.name in taken or p.name.endswith(IGNORE_SUFFIXES):
            continue
        try:
            nb = nbformat.read(p, as_version=4)
        except Exception:  # an unreadable file cannot be this notebook; reported elsewhere
            continue
        overlap = len(grade_ids(nb) & release_ids)
        if overlap:
            candidates.append((overlap, p))
    if not candidates:
        found = ", ".join(p.name for p in sorted(folder.glob("*.ipynb"))) or "no notebooks"
        return None, f"{expected} is missing from the submission (found: {found})"
    candidates.sort(key=lambda c: -c[0])
    path = candidates[0][1]
    return path, f"graded {path.name} as {expected} (renamed)"


def assemble(source_nb, release_nb, student_nb):
    """The ``Plan`` for one submitted notebook (see the module docstring)."""
    found = tasks(source_nb)
    src_cells = {_meta(c).get("grade_id"): c for c in source_nb.cells if _meta(c).get("grade_id")}
    rel_cells = {_meta(c).get("grade_id"): c for c in release_nb.cells if _meta(c).get("grade_id")}
    task_of = {}
    for t in found:
        task_of[t.id] = t.id
        for i in t.answer_cells:
            task_of[_meta(source_nb.cells[i]).get("grade_id")] = t.id
    plan = Plan(cells=[], tasks=found)
    given = {c.source.strip() for c in release_nb.cells if c.cell_type == "code" and not _meta(c)}
    seen = set()
    for cell in student_nb.cells:
        gid = _meta(cell).get("grade_id")
        if cell.cell_type != "code":
            plan.cells.append(Cell("markdown", cell.source, cell.source, metadata=cell.metadata))
            continue
        src = src_cells.get(gid)
        if gid in seen:
            plan.notes.append(f"a second cell with the id {gid!r} was run as your own code")
            src = None
        if src is None or src.cell_type != "code":
            kind = "given" if cell.source.strip() in given else "student"
            plan.cells.append(Cell(kind, cell.source, cell.source, metadata=cell.metadata))
            continue
        seen.add(gid)
        plan.cells.append(_from_source(src, rel_cells.get(gid), cell, task_of.get(gid), plan))
    _restore_missing(source_nb, rel_cells, seen, task_of, plan)
    return plan


def _from_source(src, rel, student, task, plan):
    meta = _meta(src)
    gid = meta.get("grade_id")
    if meta.get("solution"):
        return Cell("answer", student.source, student.source, task, gid, student.metadata)
    shown = rel.source if rel is not None else src.source
    if student.source.strip() != shown.strip():
        plan.tampered[gid] = f"the locked cell {gid!r} was edited; the original was run instead"
    kind = "test" if meta.get("grade") else "locked"
    return Cell(kind, src.source, shown, task, gid, dict(src.metadata))


def _restore_missing(source_nb, rel_cells, seen, task_of, plan):
    """Put back graded cells the student deleted (or untagged), after their predecessor."""
    previous = None
    for cell in source_nb.cells:
        meta = _meta(cell)
        gid = meta.get("grade_id")
        if not gid or cell.cell_type != "code":
            continue
        if gid not in seen:
            rel = rel_cells.get(gid)
            if meta.get("solution"):
                stub = rel.source if rel is not None else "raise NotImplementedError()"
                new = Cell("answer", stub, stub, task_of.get(gid), gid, dict(cell.metadata))
                plan.notes.append(f"the answer cell {gid!r} was deleted; it was graded as empty")
            else:
                shown = rel.source if rel is not None else ""
                kind = "test" if meta.get("grade") else "locked"
                new = Cell(kind, cell.source, shown, task_of.get(gid), gid, dict(cell.metadata))
                plan.tampered[gid] = (
                    f"the locked cell {gid!r} was deleted or lost its nbgrader tags; the "
                    "original was put back and run"
                )
            at = _index_after(plan.cells, previous)
            plan.cells.insert(at, new)
            seen.add(gid)
        previous = gid


def _index_after(cells, grade_id):
    if grade_id is None:
        return next((i for i, c in enumerate(cells) if c.grade_id), len(cells))
    for i, c in enumerate(cells):
        if c.grade_id == grade_id:
            return i + 1
    return len(cells)


def defined_names(source):
    """Top-level names a cell defines (functions, classes, assignments)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
    return names
