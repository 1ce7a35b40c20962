"""nbgrader's own exchange for the tests: release, fetch and submit through nbgrader's classes.

Everything runs as the current user (no root): each "student" is a folder standing for a home
(the fetched assignment and nbgrader's cache), and ``ExchangeSubmit`` is told the student id
explicitly, as ``nbgrader submit --student`` does.
"""

from pathlib import Path

import nbformat
from nbgrader.apps import NbGraderAPI
from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.default import (
    ExchangeFetchAssignment,
    ExchangeFetchFeedback,
    ExchangeList,
    ExchangeSubmit,
)
from traitlets.config import Config

__all__ = ["release_to_exchange", "Student"]

COURSE_ID = "backprop-kit"


def release_to_exchange(course, exchange, assignment):
    """``nbgrader release_assignment``: the course's release of ``assignment`` into ``exchange``."""
    config = course.config()
    config.Exchange.root = str(exchange)
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    result = api.release_assignment(assignment)
    assert result["success"], result.get("log")
    return Path(exchange) / COURSE_ID / "outbound" / assignment


class Student:
    """One student's side of the exchange: a home folder, fetch, submit, fetch feedback, list."""

    def __init__(self, name, home, exchange):
        self.name, self.home, self.exchange = name, Path(home), Path(exchange)
        self.home.mkdir(parents=True, exist_ok=True)

    def _config(self, assignment):
        c = Config()
        c.CourseDirectory.course_id = COURSE_ID
        c.CourseDirectory.assignment_id = assignment
        c.CourseDirectory.student_id = self.name
        c.Exchange.root = str(self.exchange)
        c.Exchange.cache = str(self.home / ".nbgrader_cache")
        c.Exchange.assignment_dir = str(self.home)
        return c

    def _run(self, cls, assignment, **traits):
        c = self._config(assignment)
        coursedir = CourseDirectory(config=c)
        app = cls(coursedir=coursedir, authenticator=Authenticator(config=c), config=c, **traits)
        return app.start()

    def fetch(self, assignment):
        self._run(ExchangeFetchAssignment, assignment)
        return self.home / assignment

    def submit(self, assignment, edit=None):
        """Submit the fetched folder; ``edit(nb)`` changes each notebook first."""
        folder = self.home / assignment
        for path in folder.glob("*.ipynb"):
            if edit is not None:
                nb = nbformat.read(path, as_version=4)
                edit(nb)
                nbformat.write(nb, path)
        inbound = self.exchange / COURSE_ID / "inbound"
        before = set(inbound.iterdir())
        self._run(ExchangeSubmit, assignment)
        (new,) = set(inbound.iterdir()) - before
        return new

    def fetch_feedback(self, assignment):
        self._run(ExchangeFetchFeedback, assignment)
        return sorted((self.home / assignment / "feedback").glob("*/*.html"))

    def listed(self, assignment):
        """nbgrader's list of this student's submissions (what the Assignments tab shows)."""
        return self._run(ExchangeList, assignment, cached=True)
