"""``backprop-kit report``: the class's grades as CSV, per-task pass rates, common mistakes, plots.

Reads the grading records (``results.load_results``) and writes, by default under
``<course>/reports/``::

    grades.csv   one row per student and notebook: student_id, assignment, notebook, score,
                 max_score, status (graded / zero / flagged), reason (flags joined in)
    tasks.csv    per task: assignment, notebook, task, points, passed, submissions, pass_rate
    topics.csv   per lecture topic (``topics``, from docs/lecture-map.md's sources): topic,
                 lectures, tasks, attempts, passed, pass_rate, score, max_score, score_rate
    hints.csv    mistake hints that fired: assignment, task, hint, students (most first)
    scores.png   histogram of notebook scores in percent of the maximum, one panel per assignment
    tasks.png    per-task pass rates as horizontal bars
    hints.png    which hints fired, per task, across the class: students shown each hint

A task's pass rate is the number of students whose task passed over the number of submissions of
its assignment: a submission graded zero before its tests ran counts as not passed. A hint is
counted once per student, however often it fired for them.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) are written with a leading apostrophe, so ``=HYPERLINK(...)`` in a
student id or a test message stays text; ``Report.rows`` keeps the values as recorded.
"""

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from autograder.course.layout import CourseError
from autograder.course.lecture_map import task_sources
from autograder.results.records import STATUSES, load_results, results_dir
from autograder.results.topics import TOPIC_COLUMNS, plot_hints, topic_rates, topic_table

__all__ = [
    "GRADE_COLUMNS",
    "TASK_COLUMNS",
    "HINT_COLUMNS",
    "Row",
    "TaskRate",
    "HintCount",
    "Report",
    "graded_submissions",
    "grade_rows",
    "task_rates",
    "hint_counts",
    "spreadsheet_safe",
    "write_report",
]

GRADE_COLUMNS = ("student_id", "assignment", "notebook", "score", "max_score", "status", "reason")
TASK_COLUMNS = ("assignment", "notebook", "task", "points", "passed", "submissions", "pass_rate")
HINT_COLUMNS = ("assignment", "task", "hint", "students")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TOP_HINTS = 10


@dataclass(frozen=True)
class Row:
    """One student's notebook: its score out of ``max_score``, status and reason in words."""

    student_id: str
    assignment: str
    notebook: str
    score: float
    max_score: float
    status: str
    reason: str

    @property
    def percent(self):
        """The score in percent of the maximum; ``None`` for a notebook worth no points."""
        return 100.0 * self.score / self.max_score if self.max_score else None


@dataclass(frozen=True)
class TaskRate:
    """How many of an assignment's submissions passed one task."""

    assignment: str
    notebook: str
    task: str
    points: float
    passed: int
    submissions: int

    @property
    def pass_rate(self):
        return self.passed / self.submissions if self.submissions else 0.0


@dataclass(frozen=True)
class HintCount:
    """How many students were shown one mistake hint of one task."""

    assignment: str
    task: str
    hint: str
    students: int


class Report:
    """What ``write_report`` found and wrote: rows, task, hint and topic counts, and files."""

    def __init__(self, course, rows, task_rates, hint_counts, files, topic_rates=()):
        self.course = course
        self.rows = rows
        self.task_rates = task_rates
        self.hint_counts = hint_counts
        self.files = files
        self.topic_rates = list(topic_rates)

    def __repr__(self):
        return (
            f"Report({len(self.rows)} rows, {len(self.task_rates)} tasks, {len(self.files)} files)"
        )

    def format(self):
        """The printed summary: totals per status, mean scores, task and topic tables, top
        hints, files."""
        return "\n".join(
            [
                *_totals(self.rows),
                "",
                *_task_table(self.task_rates),
                "",
                *topic_table(self.topic_rates, _table),
                "",
                *_top_hints(self.hint_counts),
                "",
                "Files:",
                *(f"  {_shown(p, self.course.root)}" for p in self.files),
            ]
        )


def write_report(course, assignment=None, csv_path=None, out_dir=None):
    """Write the grades CSV, task and hint tables and plots of ``course``; return the ``Report``.

    ``assignment`` limits it to one assignment; ``out_dir`` defaults to ``<course>/reports`` and
    ``csv_path`` (the grades table) to ``<out_dir>/grades.csv``.
    """
    results = graded_submissions(course, assignment)
    out_dir = Path(out_dir) if out_dir else course.root / "reports"
    csv_path = Path(csv_path) if csv_path else out_dir / "grades.csv"
    rows = grade_rows(results)
    rates = task_rates(results)
    hints = hint_counts(results)
    topics = topic_rates(results, rates, task_sources(course))
    files = [
        _write_csv(csv_path, GRADE_COLUMNS, [_grade_cells(r) for r in rows]),
        _write_csv(out_dir / "tasks.csv", TASK_COLUMNS, [_task_cells(t) for t in rates]),
        _write_csv(out_dir / "topics.csv", TOPIC_COLUMNS, [_topic_cells(t) for t in topics]),
        _write_csv(out_dir / "hints.csv", HINT_COLUMNS, [_hint_cells(h) for h in hints]),
        _plot_scores(rows, out_dir / "scores.png"),
        _plot_tasks(rates, out_dir / "tasks.png"),
        plot_hints(hints, rates, out_dir / "hints.png"),
    ]
    return Report(course, rows, rates, hints, files, topics)


def graded_submissions(course, assignment=None):
    """The course's ``SubmissionResult`` records (of one assignment if given); at least one."""
    where = results_dir(course.root)
    try:
        results = load_results(course.root, assignment)
    except (ValueError, TypeError) as err:
        raise CourseError(
            f"a grading record in {where} is unreadable ({type(err).__name__}: {err}); expected "
            "the JSON that `backprop-kit grade` writes (grade again to rewrite it)"
        ) from None
    if assignment is not None and course.source_dir.is_dir():
        course.resolve([assignment])  # an unknown id: say so, with the known ones
    if not results:
        of = f" of assignment {assignment!r}" if assignment else ""
        again = f" --assignment {assignment}" if assignment else ""
        raise CourseError(
            f"no graded submissions{of} in {where}; run `backprop-kit grade{again}` first"
        )
    return results


def grade_rows(results):
    """One ``Row`` per student and notebook, sorted by assignment, student and notebook."""
    rows = [
        Row(r.student_id, r.assignment, nb.notebook, nb.score, nb.max_score, nb.status, _reason(nb))
        for r in results
        for nb in r.notebooks
    ]
    return sorted(rows, key=lambda row: (row.assignment, row.student_id, row.notebook))


def task_rates(results):
    """One ``TaskRate`` per assignment, notebook and task, tasks in notebook order."""
    submissions = Counter(r.assignment for r in results)
    points, passed = {}, defaultdict(set)
    for r in sorted(results, key=lambda r: (r.assignment, r.student_id)):
        for nb in r.notebooks:
            for t in nb.tasks:
                key = (r.assignment, nb.notebook, t.id)
                points[key] = max(points.get(key, 0.0), t.points)
                if t.status == "pass":
                    passed[key].add(r.student_id)
    keys = sorted(points, key=lambda k: k[:2])  # stable: tasks keep their order in the notebook
    return [TaskRate(*k, points[k], len(passed[k]), submissions[k[0]]) for k in keys]


def hint_counts(results):
    """One ``HintCount`` per assignment, task and hint text that fired; most students first."""
    students = defaultdict(set)
    for r in results:
        for nb in r.notebooks:
            for t in nb.tasks:
                for hint in t.hints:
                    if hint:
                        students[(r.assignment, t.id, hint)].add(r.student_id)
    counts = [HintCount(*k, len(s)) for k, s in students.items()]
    return sorted(counts, key=lambda h: (-h.students, h.assignment, h.task, h.hint))


def spreadsheet_safe(text):
    """``text`` with a leading apostrophe if a spreadsheet would read it as a formula."""
    text = str(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _reason(nb):
    parts = [nb.reason] if nb.reason else []
    parts += [f for f in nb.flags if f and f not in nb.reason]
    return "; ".join(parts)


def _number(x):
    return f"{x:.4f}".rstrip("0").rstrip(".")


def _grade_cells(row):
    safe = spreadsheet_safe
    return [
        safe(row.student_id),
        safe(row.assignment),
        safe(row.notebook),
        _number(row.score),
        _number(row.max_score),
        row.status,
        safe(row.reason),
    ]


def _task_cells(t):
    safe = spreadsheet_safe
    return [
        safe(t.assignment),
        safe(t.notebook),
        safe(t.task),
        _number(t.points),
        t.passed,
        t.submissions,
        f"{t.pass_rate:.3f}",
    ]


def _topic_cells(t):
    return [
        t.topic,
        "; ".join(t.lectures),
        t.tasks,
        t.attempts,
        t.passed,
        f"{t.pass_rate:.3f}",
        _number(t.score),
        _number(t.max_score),
        f"{t.score_rate:.3f}",
    ]


def _hint_cells(h):
    safe = spreadsheet_safe
    return [safe(h.assignment), safe(h.task), safe(h.hint), h.students]


def _write_csv(path, columns, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def _totals(rows):
    students = {r.student_id for r in rows}
    by_status = Counter(r.status for r in rows)
    counts = ", ".join(f"{by_status[s]} {s}" for s in STATUSES)
    lines = [
        f"{len(rows)} notebooks from {len(students)} students: {counts}",
        "Mean score:",
    ]
    groups = defaultdict(list)
    for r in rows:
        groups[(r.assignment, r.notebook)].append(r)
    for (a, nb), group in sorted(groups.items()):
        score = sum(r.score for r in group) / len(group)
        top = max(r.max_score for r in group)
        pct = f" ({100 * score / top:.0f}%)" if top else ""
        lines.append(f"  {a}/{nb}: {score:.2f} / {top:g}{pct} over {len(group)} notebooks")
    return lines


def _table(header, rows):
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    return [
        "  " + "  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip()
        for line in (header, *rows)
    ]


def _task_table(rates):
    if not rates:
        return [
            "Per-task pass rates: no task was graded (every notebook got zero before its tests)"
        ]
    rows = [
        (
            t.assignment,
            t.notebook,
            t.task,
            f"{t.points:g}",
            f"{t.passed}/{t.submissions}",
            f"{100 * t.pass_rate:.0f}%",
        )
        for t in rates
    ]
    header = ("assignment", "notebook", "task", "points", "passed", "rate")
    return ["Per-task pass rates:", *_table(header, rows)]


def _top_hints(hints):
    if not hints:
        return ["Most frequent mistakes: no hints fired"]
    top = hints[:_TOP_HINTS]
    more = f" (top {len(top)} of {len(hints)}; all in hints.csv)" if len(hints) > len(top) else ""
    rows = [(str(h.students), h.assignment, h.task, h.hint.replace("\n", " ")) for h in top]
    header = ("students", "assignment", "task", "hint")
    return [f"Most frequent mistakes (hints shown, by students){more}:", *_table(header, rows)]


def _shown(path, root):
    path = Path(path).resolve()
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _plot_scores(rows, path):
    """Histogram of notebook scores in percent of the maximum, one panel per assignment."""
    from matplotlib.ticker import MaxNLocator

    assignments = sorted({r.assignment for r in rows})
    fig = _figure(4.5 * len(assignments), 3.6)
    axes = fig.subplots(1, len(assignments), squeeze=False)[0]
    bins = [10 * i for i in range(11)]
    for ax, a in zip(axes, assignments):
        mine = [r for r in rows if r.assignment == a and r.percent is not None]
        notebooks = sorted({r.notebook for r in mine})
        values = [[r.percent for r in mine if r.notebook == nb] for nb in notebooks]
        if values:
            ax.hist(values, bins=bins, stacked=True, label=notebooks, edgecolor="white")
        if len(notebooks) > 1:
            ax.legend(fontsize="small")
        ax.set_title(f"{a} ({len(mine)} notebooks)")
        ax.set_xlabel("score (% of max)")
        ax.set_ylabel("notebooks")
        ax.set_xlim(0, 100)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    students = len({r.student_id for r in rows})
    fig.suptitle(f"Notebook scores: {len(rows)} notebooks from {students} students")
    fig.savefig(path, dpi=100)
    return path


def _plot_tasks(rates, path):
    """Horizontal bars: each task's pass rate, with passed/submissions written beside it."""
    fig = _figure(8, max(2.5, 1.4 + 0.32 * len(rates)))
    ax = fig.subplots()
    labels = [f"{t.assignment} / {t.notebook}: {t.task}" for t in rates]
    values = [100 * t.pass_rate for t in rates]
    ax.barh(range(len(rates)), values, color="tab:green")
    ax.set_yticks(range(len(rates)), labels, fontsize="small")
    ax.invert_yaxis()
    for i, t in enumerate(rates):
        ax.text(values[i] + 1, i, f"{t.passed}/{t.submissions}", va="center", fontsize="small")
    ax.set_xlim(0, 110)
    ax.set_xlabel("submissions that pass the task (%)")
    if not rates:
        ax.text(0.5, 0.5, "no task was graded", ha="center", transform=ax.transAxes)
    submissions = sum({t.assignment: t.submissions for t in rates}.values())
    ax.set_title(f"Per-task pass rates: {len(rates)} tasks, {submissions} submissions")
    fig.savefig(path, dpi=100)
    return path
