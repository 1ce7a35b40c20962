"""What grading leaves behind for one submission, and where it lives in the course.

``backprop-kit grade`` writes one JSON file per student and assignment, atomically, after the
submission has run; it is the record that makes grading resumable and feeds ``feedback`` and
``report``. The scores are also merged into nbgrader's gradebook (by the grader process only).

    <course>/submitted/<student>/<assignment>/<notebook>.ipynb    collected (``collect``)
    <course>/submitted/<student>/<assignment>/timestamp.txt
    <course>/autograded/<student>/<assignment>/<notebook>.ipynb   executed, safe to show
    <course>/.nbgrader/results/<assignment>/<student>.json        this record
    <course>/feedback/<student>/<assignment>/<notebook>.html      ``feedback``

The record (``SubmissionResult.to_dict``)::

    {"student_id": "s001", "assignment": "01-graphs",
     "timestamp": "2026-11-20 14:02:11 UTC",      # from timestamp.txt, or null
     "fingerprint": "sha256 of the submitted files", "graded_at": "...", "seconds": 2.1,
     "sandbox": "bubblewrap", "notebooks": [
        {"notebook": "graphs", "score": 7.0, "max_score": 10.0,
         "status": "graded" | "zero" | "flagged",
         "reason": "words; empty when graded without remarks",
         "flags": ["numpy.testing.assert_allclose was replaced (cell 5)"],
         "tasks": [{"id": "mul-gate", "points": 2.0, "score": 0.0,
                    "status": "pass" | "fail" | "todo" | "not run" | "flagged",
                    "message": "the test's message", "hints": ["hint text", ...]}]}]}
"""

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = [
    "STATUSES",
    "TaskOutcome",
    "NotebookResult",
    "SubmissionResult",
    "results_dir",
    "result_path",
    "load_results",
    "write_json_atomic",
]

STATUSES = ("graded", "zero", "flagged")


@dataclass
class TaskOutcome:
    """One task of one notebook: ``status`` is pass / fail / todo / not run / flagged."""

    id: str
    points: float
    score: float = 0.0
    status: str = "not run"
    message: str = ""
    hints: list = field(default_factory=list)


@dataclass
class NotebookResult:
    """One notebook of a submission: its score, its status and the reason in words."""

    notebook: str
    score: float
    max_score: float
    status: str
    reason: str = ""
    flags: list = field(default_factory=list)
    tasks: list = field(default_factory=list)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r}; expected one of {STATUSES}")
        self.tasks = [t if isinstance(t, TaskOutcome) else TaskOutcome(**t) for t in self.tasks]


@dataclass
class SubmissionResult:
    """Everything grading found for one student's submission of one assignment."""

    student_id: str
    assignment: str
    notebooks: list
    timestamp: str | None = None
    fingerprint: str = ""
    graded_at: str = ""
    seconds: float = 0.0
    sandbox: str = ""

    def __post_init__(self):
        self.notebooks = [
            n if isinstance(n, NotebookResult) else NotebookResult(**n) for n in self.notebooks
        ]

    @property
    def score(self):
        return sum(n.score for n in self.notebooks)

    @property
    def max_score(self):
        return sum(n.max_score for n in self.notebooks)

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(**data)


def results_dir(course_root):
    return Path(course_root) / ".nbgrader" / "results"


def result_path(course_root, assignment, student):
    return results_dir(course_root) / assignment / f"{student}.json"


def load_results(course_root, assignment=None):
    """Every ``SubmissionResult`` recorded in the course (of one assignment if given), sorted."""
    base = results_dir(course_root)
    pattern = f"{assignment}/*.json" if assignment else "*/*.json"
    found = []
    for path in sorted(base.glob(pattern)):
        found.append(SubmissionResult.from_dict(json.loads(path.read_text())))
    return found


def write_json_atomic(path, data):
    """Write ``data`` as JSON to ``path`` through a temporary file and a rename: all or nothing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
