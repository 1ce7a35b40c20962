"""What the grader knows about an assignment before any submission runs.

``Assignment`` reads the source (with hidden tests) and release notebooks of one assignment
and derives, once: the tasks and their points; the names each task's answer defines, and the
``chainrule`` reference implementations of the same names (their use is flagged); the imports
of the notebook's own cells, run again before each test cell; and the lines of the hidden tests,
withheld wherever they show up in an output; and whether each notebook grades its value tasks on
the student's own numbers (``variants``).
"""

import ast
import functools
import re

import nbformat

from autograder.course.layout import CourseError
from autograder.course.tasks import parsed_code_cells, tasks
from autograder.course.variants import uses_variants
from autograder.intake.submission import defined_names

__all__ = ["Assignment"]


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
        self.hint_text = _hint_text(self.source.values())
        self.variants = {n: uses_variants(nb) for n, nb in self.source.items()}
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
    for _, tree in parsed_code_cells(nb, lambda cell: not cell.metadata.get("nbgrader")):
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


def _hint_text(notebooks):
    """Where hints can come from: the notebooks' test cells and chainrule.testcells's source."""
    import inspect

    texts = [c.source for nb in notebooks for c in nb.cells if c.cell_type == "code"]
    try:
        import chainrule.testcells

        texts.append(inspect.getsource(chainrule.testcells))
    except (ImportError, OSError):
        pass
    return re.sub(r"\s+", " ", "\n".join(texts))


@functools.cache
def _public_api():
    """``{name: "chainrule.module.name"}`` for every public function and class of chainrule
    (built once: every task of every assignment asks)."""
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
