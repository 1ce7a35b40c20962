"""A scratch course for the grading tests: solutions, a generated release, submissions."""

import shutil
from pathlib import Path

import nbformat

from autograder import Course
from autograder.course.layout import REPO_ROOT, sqlite_gradebook_url
from autograder.demo.samples import solved

__all__ = ["scratch_course", "filled_in", "submit", "submit_perfect_and_untouched"]


def scratch_course(tmp_path, assignments=None, db_url=None):
    """Copy solutions/ into ``tmp_path`` and release it there (which fills the gradebook).

    The gradebook is the course's SQLite file unless ``db_url`` names another database; a
    ``BACKPROP_KIT_DB_URL`` in the environment is never used, so tests stay off a real gradebook.
    """
    src = Course(REPO_ROOT)
    course = Course(tmp_path, db_url=db_url or sqlite_gradebook_url(tmp_path))
    for a in assignments or src.assignments():
        shutil.copytree(src.source_dir / a, course.source_dir / a)
        result = course.api().generate_assignment(a, force=True, create=True)
        assert result["success"], result.get("log")
    return course


def filled_in(release_path, source_path):
    """The student notebook with every answer cell written as in the solution: a perfect student."""
    return solved(
        nbformat.read(release_path, as_version=4), nbformat.read(source_path, as_version=4)
    )


def submit(course, student, assignment, notebooks):
    """Place ``{name: NotebookNode}`` as ``student``'s submission of ``assignment``."""
    folder = Path(course.root) / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, folder / name)
    return folder


def submit_perfect_and_untouched(course, assignment):
    """Submit ``perfect`` (the solution's answers) and ``untouched`` (the release as is)."""
    perfect, untouched = {}, {}
    for release in course.release_notebooks(assignment):
        perfect[release.name] = filled_in(release, course.source_dir / assignment / release.name)
        untouched[release.name] = nbformat.read(release, as_version=4)
    submit(course, "perfect", assignment, perfect)
    submit(course, "untouched", assignment, untouched)
