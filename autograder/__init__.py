"""autograder: the backprop-kit course pipeline on nbgrader.

``Course`` locates the course (the repository by default) and its nbgrader configuration;
``release``/``stale`` generate the student notebooks and detect drift; ``check_notebook`` runs a
notebook's visible tests for a student. The ``backprop-kit`` command wraps them (``cli``).
"""

import sys

# jsonschema (under nbformat) imports rfc3987_syntax when it is installed, only to check "iri"
# strings, and that import compiles its grammars: about 0.7 s at every start of the command,
# more than grading a submission in a warm slot. No notebook or nbgrader schema has such a
# field, so the optional import is declined before nbformat is first imported.
sys.modules.setdefault("rfc3987_syntax", None)

from autograder.course.layout import Course, CourseError  # noqa: E402 - after the line above
from autograder.course.release import ReleaseError, release, stale  # noqa: E402 - after the line above
from autograder.course.tasks import Task, tasks  # noqa: E402 - after the line above
from autograder.grading.visible import TaskResult, check_notebook, format_report  # noqa: E402 - after the line above

__all__ = [
    "Course",
    "CourseError",
    "ReleaseError",
    "release",
    "stale",
    "check_notebook",
    "format_report",
    "TaskResult",
    "Task",
    "tasks",
]
