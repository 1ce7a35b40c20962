"""autograder: the backprop-kit course pipeline on nbgrader.

``Course`` locates the course (the repository by default) and its nbgrader configuration;
``release``/``stale`` generate the student notebooks and detect drift; ``check_notebook`` runs a
notebook's visible tests for a student. The ``backprop-kit`` command wraps them (``cli``).
"""

from autograder.course.layout import Course, CourseError
from autograder.course.release import ReleaseError, release, stale
from autograder.course.tasks import Task, tasks
from autograder.grading.visible import TaskResult, check_notebook, format_report

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
