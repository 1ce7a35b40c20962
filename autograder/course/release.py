"""``backprop-kit release``: student notebooks generated from the solutions by nbgrader.

``release`` runs nbgrader's generate_assignment for each assignment, writing
``notebooks/<assignment>/``. ``stale`` generates into a temporary course and compares with
the committed ``notebooks/``: it lists every notebook that is out of date, missing, or not
generated from ``solutions/`` at all.
"""

import json
import shutil
import tempfile
from pathlib import Path

from autograder.course.layout import IGNORED, Course, CourseError, files_under, sqlite_gradebook_url

__all__ = ["release", "stale", "ReleaseError"]


class ReleaseError(CourseError):
    """nbgrader could not generate an assignment; the message carries its log."""


def release(course=None, assignments=None):
    """Regenerate ``notebooks/<a>/`` from ``solutions/<a>/``; return the notebooks written."""
    course = course or Course()
    assignments = course.resolve(assignments)
    api = course.api()
    written = []
    for a in assignments:
        result = api.generate_assignment(a, force=True, create=True)
        if not result.get("success"):
            raise ReleaseError(
                f"nbgrader could not generate {a!r} from {course.source_dir / a}:\n"
                + (result.get("log") or "")
                + (result.get("error") or "")
            )
        written.extend(course.release_notebooks(a))
    return written


def stale(course=None, assignments=None):
    """Problems with the committed student notebooks, one line each; empty when up to date."""
    course = course or Course()
    assignments = course.resolve(assignments)
    with tempfile.TemporaryDirectory(prefix="backprop-kit-release-") as tmp:
        scratch = Course(tmp, db_url=sqlite_gradebook_url(tmp))
        for a in assignments:
            shutil.copytree(
                course.source_dir / a,
                scratch.source_dir / a,
                ignore=shutil.ignore_patterns(*IGNORED),
            )
        release(scratch, assignments)
        problems = []
        for a in assignments:
            fresh_dir, kept_dir = scratch.release_dir / a, course.release_dir / a
            fresh, kept = files_under(fresh_dir), files_under(kept_dir)
            for rel in sorted(fresh - kept):
                problems.append(f"missing: notebooks/{a}/{rel}")
            for rel in sorted(kept - fresh):
                problems.append(f"not generated from solutions/: notebooks/{a}/{rel}")
            for rel in sorted(fresh & kept):
                if not _same(fresh_dir / rel, kept_dir / rel):
                    problems.append(f"out of date: notebooks/{a}/{rel}")
        return problems


def _same(a, b):
    a, b = Path(a), Path(b)
    if a.suffix == ".ipynb":
        try:
            return json.loads(a.read_text()) == json.loads(b.read_text())
        except ValueError:
            return False
    return a.read_bytes() == b.read_bytes()
