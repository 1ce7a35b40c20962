"""autograder: the backprop-kit course pipeline on nbgrader.

``Course`` locates the course (the repository by default) and its nbgrader configuration;
``release``/``stale`` generate the student notebooks and detect drift; ``check_notebook`` runs a
notebook's visible tests for a student. The ``backprop-kit`` command wraps them (``cli``).
"""

from .check import TaskResult, check_notebook, format_report
from .course import Course, CourseError
from .release import ReleaseError, release, stale
from .tasks import Task, tasks

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
