"""Pass rates per lecture topic, and the chart of which hints fired, for ``backprop-kit report``.

A task's topics come from the lecture map (``course.lecture_map.task_sources``: its sources in
the solution notebooks). A topic's numbers add up over the tasks that carry it, each task
counted over every submission of its assignment (as ``report.task_rates`` counts them)::

    attempts   = sum over its tasks of the assignment's submissions
    passed     = sum over its tasks of the students whose task passed
    score      = sum over its tasks of the points the students earned on it
    max_score  = sum over its tasks of points x submissions

A task that the map does not know (no solutions/ in the course, or a renamed task) is counted
under ``UNMAPPED``. ``hints.png`` draws one bar per task and hint that fired: how many students
were shown it, out of the submissions of the task's assignment; it is ``HINT_CHART_WIDTH``
inches wide at ``DPI`` dots per inch, and taller with every bar.
"""

from collections import defaultdict
from dataclasses import dataclass

__all__ = [
    "TOPIC_COLUMNS",
    "UNMAPPED",
    "DPI",
    "HINT_CHART_WIDTH",
    "TopicRate",
    "topic_rates",
    "topic_table",
    "plot_hints",
]

TOPIC_COLUMNS = (
    "topic",
    "lectures",
    "tasks",
    "attempts",
    "passed",
    "pass_rate",
    "score",
    "max_score",
    "score_rate",
)
UNMAPPED = "(not in the lecture map)"
DPI = 100
HINT_CHART_WIDTH = 10
_LABEL_CHARS = 70


@dataclass(frozen=True)
class TopicRate:
    """How a class did on the tasks of one lecture topic."""

    topic: str
    lectures: tuple
    tasks: int
    attempts: int
    passed: int
    score: float
    max_score: float

    @property
    def pass_rate(self):
        return self.passed / self.attempts if self.attempts else 0.0

    @property
    def score_rate(self):
        return self.score / self.max_score if self.max_score else 0.0


def topic_rates(results, rates, sources):
    """One ``TopicRate`` per topic of the graded tasks, in the order of ``lecture_map.TOPICS``.

    ``results`` are the records, ``rates`` their ``report.TaskRate`` list and ``sources`` maps
    ``(assignment, notebook, task)`` to the task's ``lecture_map.TaskSources``.
    """
    from autograder.course.lecture_map import TOPICS

    scores = _task_scores(results)
    groups = defaultdict(list)
    for rate in rates:
        key = (rate.assignment, rate.notebook, rate.task)
        entry = sources.get(key)
        for topic in entry.topics if entry else (UNMAPPED,):
            groups[topic].append((key, rate))
    order = [*TOPICS, UNMAPPED]
    return [
        TopicRate(
            topic,
            _lectures(sources, groups[topic], topic),
            len(groups[topic]),
            sum(r.submissions for _, r in groups[topic]),
            sum(r.passed for _, r in groups[topic]),
            sum(scores[k] for k, _ in groups[topic]),
            sum(r.points * r.submissions for _, r in groups[topic]),
        )
        for topic in sorted(groups, key=order.index)
    ]


def _task_scores(results):
    """``{(assignment, notebook, task): points earned over all records}``."""
    scores = defaultdict(float)
    for r in results:
        for nb in r.notebooks:
            for t in nb.tasks:
                scores[(r.assignment, nb.notebook, t.id)] += t.score
    return scores


def _lectures(sources, members, topic):
    """The lectures whose sources give ``topic`` to one of the ``members`` tasks."""
    found = [
        s.lecture
        for key, _ in members
        if key in sources
        for s in sources[key].sources
        if s.topic == topic
    ]
    return tuple(dict.fromkeys(found))


def topic_table(rates, format_table):
    """The printed lines: one row per topic with passed/attempts and the points earned."""
    if not rates:
        return ["Pass rates per lecture topic: no task was graded"]
    rows = [
        (
            t.topic,
            str(t.tasks),
            f"{t.passed}/{t.attempts}",
            f"{100 * t.pass_rate:.0f}%",
            f"{100 * t.score_rate:.0f}%",
        )
        for t in rates
    ]
    header = ("topic", "tasks", "passed", "rate", "points")
    return ["Pass rates per lecture topic (docs/lecture-map.md):", *format_table(header, rows)]


def plot_hints(hints, rates, path):
    """``hints.png``: one horizontal bar per task and hint, grouped by task in notebook order."""
    bars = _hint_bars(hints, rates)
    fig = _figure(HINT_CHART_WIDTH, max(2.5, 1.4 + 0.32 * len(bars)))
    ax = fig.subplots()
    values = [count for _, count, _ in bars]
    ax.barh(range(len(bars)), values, color="tab:orange")
    ax.set_yticks(range(len(bars)), [label for label, _, _ in bars], fontsize="small")
    ax.invert_yaxis()
    for i, (_, count, of) in enumerate(bars):
        ax.text(count, i, f" {count}/{of}", va="center", fontsize="small")
    ax.set_xlim(0, max(values, default=1) * 1.15 + 0.5)
    ax.set_xlabel("students shown the hint")
    if not bars:
        ax.text(0.5, 0.5, "no hints fired", ha="center", transform=ax.transAxes)
    tasks = len({label.split(": ", 1)[0] for label, _, _ in bars})
    ax.set_title(f"Hints fired: {len(bars)} hints on {tasks} tasks, across the class")
    fig.savefig(path, dpi=DPI)
    return path


def _hint_bars(hints, rates):
    """``(label, students, submissions)`` per hint, tasks in notebook order, most first."""
    order = {(r.assignment, r.task): i for i, r in enumerate(rates)}
    submissions = {r.assignment: r.submissions for r in rates}
    ranked = sorted(
        hints,
        key=lambda h: (order.get((h.assignment, h.task), len(order)), -h.students, h.hint),
    )
    return [
        (
            f"{h.assignment}/{h.task}: {_short(h.hint)}",
            h.students,
            submissions.get(h.assignment, h.students),
        )
        for h in ranked
    ]


def _short(text):
    text = " ".join(str(text).split())
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig
