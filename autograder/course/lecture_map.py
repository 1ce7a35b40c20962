"""The lecture map: where each task's material is in the three lectures, read from the solutions.

Each task's sources live in one place: the metadata of its test cell in the solution notebook
(the nbgrader cell whose ``grade_id`` is the task id, see ``tasks``)::

    "metadata": {"nbgrader": {"grade_id": "max-gate", ...},
                 "backprop_kit": {"sources": [
                     {"lecture": "CS231n Lecture 4",
                      "where": "slides \\"Patterns in backward flow\\"",
                      "topic": "gate patterns"}]}}

``lecture`` is one of ``LECTURES``; ``where`` is what the lecture itself says: a slide title, a
section, or a transcript passage with its time stamp (never a slide number the lecture does not
print); ``topic`` is one of ``TOPICS``. Every task has at least one source.

From them ``backprop-kit release`` writes ``docs/lecture-map.md`` (``write_map``) and shows the
sources under each task's heading in the student notebooks (``show_sources``, run inside
nbgrader's generate_assignment by ``autograder.course.show_sources``); ``release --check`` lists
the map when it is out of date (``map_problems``); ``backprop-kit report`` groups pass rates by
topic (``task_sources``).
"""

from dataclasses import dataclass
from pathlib import Path

from autograder.course.layout import CourseError
from autograder.course.tasks import tasks

__all__ = [
    "LECTURES",
    "TOPICS",
    "MAP_FILE",
    "METADATA_KEY",
    "SHOWN_TITLE",
    "Source",
    "TaskSources",
    "SourceError",
    "notebook_sources",
    "course_sources",
    "task_sources",
    "render_map",
    "write_map",
    "map_problems",
    "shown_text",
    "show_sources",
]

LECTURES = ("CS231n Lecture 4", "CSC413 Lecture 2", "Aarhus DL Lecture 3")
TOPICS = (
    "gradient checking",
    "computational cost",
    "computational graphs",
    "chain rule",
    "gate patterns",
    "modular layers",
    "vectorized gradients",
    "linear limits",
    "decision boundaries",
    "activation functions",
    "neural networks",
    "training",
)
MAP_FILE = Path("docs") / "lecture-map.md"
METADATA_KEY = "backprop_kit"
SHOWN_TITLE = "> **In the lectures:**"
_FIELDS = ("lecture", "where", "topic")
_REGENERATE = "backprop-kit release"


class SourceError(CourseError):
    """A task's lecture sources are missing or malformed: says which notebook, task and field."""


@dataclass(frozen=True)
class Source:
    """One place in one lecture that a task follows."""

    lecture: str
    where: str
    topic: str


@dataclass(frozen=True)
class TaskSources:
    """A task and its sources: ``notebook`` is the file's stem, as in the grading records."""

    assignment: str
    notebook: str
    task: str
    points: float
    sources: tuple

    @property
    def topics(self):
        """The task's topics, each once, in the order its sources give them."""
        return tuple(dict.fromkeys(s.topic for s in self.sources))


def notebook_sources(nb, assignment, notebook, label=None):
    """The ``TaskSources`` of every task of ``nb``, checked; ``SourceError`` on a bad entry.

    ``label`` names the notebook in messages (default ``solutions/<assignment>/<notebook>.ipynb``).
    """
    label = label or f"solutions/{assignment}/{notebook}.ipynb"
    found = []
    for task in tasks(nb):
        raw = nb.cells[task.test_cell].get("metadata", {}).get(METADATA_KEY, {}).get("sources")
        sources = _check_sources(raw, f"{label}, task {task.id!r}")
        found.append(TaskSources(assignment, notebook, task.id, task.points, sources))
    return found


def course_sources(course):
    """The ``TaskSources`` of every task of every solution notebook of ``course``, in order."""
    import nbformat

    found = []
    for assignment in course.assignments():
        for path in course.source_notebooks(assignment):
            nb = nbformat.read(path, as_version=4)
            label = str(path.relative_to(course.root))
            found.extend(notebook_sources(nb, assignment, path.stem, label))
    return found


def task_sources(course):
    """``{(assignment, notebook, task): TaskSources}`` of the course; empty without solutions/."""
    if not course.source_dir.is_dir():
        return {}
    return {(t.assignment, t.notebook, t.task): t for t in course_sources(course)}


def _check_sources(raw, where):
    """``raw`` (the metadata's list) as a tuple of ``Source``; a ``SourceError`` saying why not."""
    expected = (
        f"expected cell metadata {METADATA_KEY}.sources on the task's test cell: a list of "
        '{"lecture": ..., "where": ..., "topic": ...}'
    )
    if not raw:
        raise SourceError(f"{where}: no lecture sources; {expected}")
    if not isinstance(raw, list):
        raise SourceError(f"{where}: sources is a {type(raw).__name__}; {expected}")
    return tuple(_check_source(entry, f"{where}, source {i}") for i, entry in enumerate(raw, 1))


def _check_source(entry, where):
    if not isinstance(entry, dict):
        raise SourceError(
            f"{where}: {entry!r} is not a mapping; expected keys {', '.join(_FIELDS)}"
        )
    extra = sorted(set(entry) - set(_FIELDS))
    if extra:
        raise SourceError(
            f"{where}: unknown key(s) {', '.join(map(repr, extra))}; expected only "
            f"{', '.join(_FIELDS)}"
        )
    lecture, place, topic = (entry.get(k) for k in _FIELDS)
    if lecture not in LECTURES:
        raise SourceError(
            f"{where}: unknown lecture {lecture!r}; expected one of: {', '.join(LECTURES)}"
        )
    if not isinstance(place, str) or not place.strip():
        raise SourceError(
            f"{where}: missing 'where'; expected the slide title, section or transcript "
            f"passage of {lecture} that the task follows"
        )
    if topic not in TOPICS:
        raise SourceError(f"{where}: unknown topic {topic!r}; expected one of: {', '.join(TOPICS)}")
    return Source(lecture, " ".join(place.split()), topic)


def shown_text(sources):
    """The block shown under a task's heading in the student notebook, one line per source."""
    lines = [SHOWN_TITLE]
    lines += [f"> - {s.lecture}: {s.where} — *{s.topic}*" for s in sources]
    return "\n".join(lines)


def show_sources(nb, assignment, notebook, label=None):
    """Write each task's ``shown_text`` into ``nb`` (in place), right under its heading line
    ``### Task `<id>` ...``; ``SourceError`` when a task has no such heading."""
    label = label or f"solutions/{assignment}/{notebook}.ipynb"
    for entry in notebook_sources(nb, assignment, notebook, label):
        cell, line = _heading(nb, entry.task, label)
        lines = cell.source.split("\n")
        lines[line + 1 : line + 1] = ["", shown_text(entry.sources)]
        cell.source = "\n".join(lines)
    return nb


def _heading(nb, task_id, label):
    """The markdown cell holding ``### Task `<task_id>```, and that line's index in it."""
    start = f"### Task `{task_id}`"
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for i, line in enumerate(cell.source.split("\n")):
            if line.startswith(start):
                return cell, i
    raise SourceError(
        f"{label}, task {task_id!r}: no heading line starting with {start!r} to show the "
        "lecture sources under; expected one in a markdown cell before the task's cells"
    )


def render_map(entries):
    """The text of ``docs/lecture-map.md`` for ``entries`` (``TaskSources``, in course order)."""
    lines = [
        "<!-- Generated from the lecture sources in solutions/*/*.ipynb by "
        f"`{_REGENERATE}`: do not edit. -->",
        "",
        "# Lecture map",
        "",
        "Where each task of the kit follows the lectures. Generated: every entry is the "
        f"`{METADATA_KEY}.sources` metadata of the task's test cell in its solution notebook; to "
        f"change it, edit the solution notebook and run `{_REGENERATE}` (or `.venv/bin/python "
        f"-m autograder release`). `{_REGENERATE} --check` fails while this file is out of date.",
        "",
        f"Lectures: {', '.join(LECTURES)}. The student notebooks show the same sources under "
        "each task's heading.",
        "",
        *_by_notebook(entries),
        *_by_topic(entries),
        *_by_lecture(entries),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def _cell(text):
    return str(text).replace("|", "\\|")


def _by_notebook(entries):
    lines = ["## By notebook", ""]
    groups = {}
    for e in entries:
        groups.setdefault((e.assignment, e.notebook), []).append(e)
    for (assignment, notebook), group in groups.items():
        lines += [f"### {assignment}/{notebook}.ipynb", ""]
        lines += ["| task | points | lecture | where | topic |", "| --- | --- | --- | --- | --- |"]
        for e in group:
            for i, s in enumerate(e.sources):
                task, points = (f"`{e.task}`", f"{e.points:g}") if i == 0 else ("", "")
                lines.append(f"| {task} | {points} | {s.lecture} | {_cell(s.where)} | {s.topic} |")
        lines.append("")
    return lines


def _by_topic(entries):
    lines = ["## By topic", "", "| topic | tasks | lectures |", "| --- | --- | --- |"]
    for topic in TOPICS:
        mine = [e for e in entries if topic in e.topics]
        if not mine:
            continue
        names = ", ".join(f"`{e.assignment}/{e.task}`" for e in mine)
        lectures = [lec for lec in LECTURES if any(_covers(e, lec, topic) for e in mine)]
        lines.append(f"| {topic} | {names} | {', '.join(lectures)} |")
    return [*lines, ""]


def _covers(entry, lecture, topic):
    return any(s.lecture == lecture and s.topic == topic for s in entry.sources)


def _by_lecture(entries):
    lines = ["## By lecture", ""]
    for lecture in LECTURES:
        places = {}
        for e in entries:
            for s in e.sources:
                if s.lecture == lecture:
                    places.setdefault(s.where, []).append(f"`{e.assignment}/{e.task}`")
        lines += [f"### {lecture}", "", "| where | tasks |", "| --- | --- |"]
        lines += [f"| {_cell(w)} | {', '.join(dict.fromkeys(t))} |" for w, t in places.items()]
        lines.append("")
    return lines


def write_map(course):
    """Write ``<course>/docs/lecture-map.md`` from the solutions (when it changed); its path."""
    path = course.root / MAP_FILE
    text = render_map(course_sources(course))
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


def map_problems(course):
    """``release --check``'s lines for the map: empty when it matches the solutions."""
    path = course.root / MAP_FILE
    fresh = render_map(course_sources(course))
    if not path.is_file():
        return [f"missing: {MAP_FILE.as_posix()} (run `{_REGENERATE}` to generate it)"]
    if path.read_text(encoding="utf-8") != fresh:
        return [f"out of date: {MAP_FILE.as_posix()} (the solutions' lecture sources changed)"]
    return []
