"""The course pipeline, declared once: which step runs after which, what it reads and writes.

    release  ->  collect  ->  grade  ->  feedback  ->  report

Each ``Step`` names the ``backprop-kit`` command, the function that does it, and the folders
it reads and writes under the course root. ``cli`` builds its commands and help in this order,
and ``demo`` walks the same steps. ``check`` is the student's own command, outside the pipeline.
"""

import importlib
from dataclasses import dataclass

__all__ = ["Step", "PIPELINE", "step"]


@dataclass(frozen=True)
class Step:
    """One step: ``command`` (the subcommand), ``function`` (``module:name``), ``reads`` and
    ``writes`` (under the course root) and ``summary`` (the line of help it gets)."""

    command: str
    function: str
    reads: str
    writes: str
    summary: str

    def load(self):
        """The function that does the step (imported on first use: grading pulls in more)."""
        module, _, name = self.function.partition(":")
        return getattr(importlib.import_module(module), name)


PIPELINE = (
    Step(
        "release",
        "autograder.course.release:release",
        "solutions/",
        "notebooks/",
        "generate the student notebooks in notebooks/ from solutions/",
    ),
    Step(
        "collect",
        "autograder.intake.collect:collect",
        "a folder or LMS zip of submissions",
        "submitted/<student>/<assignment>/",
        "import a folder or LMS zip of submissions into submitted/",
    ),
    Step(
        "grade",
        "autograder.grading.grade:grade",
        "submitted/",
        "autograded/, .nbgrader/results/, the gradebook",
        "autograde everything collected, in parallel sandboxes",
    ),
    Step(
        "feedback",
        "autograder.results.feedback:write_feedback",
        ".nbgrader/results/, autograded/",
        "feedback/<student>/<assignment>/",
        "write an HTML feedback page per student and notebook",
    ),
    Step(
        "report",
        "autograder.results.report:write_report",
        ".nbgrader/results/",
        "reports/",
        "grades CSV, per-task pass rates, hints fired, score charts",
    ),
)


def step(command):
    """The ``Step`` of ``command``; ``KeyError`` naming the steps if there is none."""
    for s in PIPELINE:
        if s.command == command:
            return s
    raise KeyError(f"no pipeline step {command!r}; the steps are {[s.command for s in PIPELINE]}")
