"""``backprop-kit release``: student notebooks generated from the solutions by nbgrader.

``release`` runs nbgrader's generate_assignment for each assignment, writing
``notebooks/<assignment>/`` (each task's lecture sources shown under its heading, see
``lecture_map``), then regenerates ``docs/lecture-map.md`` from the solutions. ``stale``
generates into a temporary course and compares with the committed ``notebooks/``: it lists every
notebook that is out of date, missing, or not generated from ``solutions/`` at all, and the
lecture map when it does not match the solutions.
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
    """Regenerate ``notebooks/<a>/`` from ``solutions/<a>/`` and ``docs/lecture-map.md``;
    return the notebooks written. A task with missing or malformed lecture sources is a
    ``lecture_map.SourceError`` before nbgrader starts."""
    from autograder.course.lecture_map import course_sources, write_map

    course = course or Course()
    assignments = course.resolve(assignments)
    course_sources(course)  # every notebook's sources checked, with a clear message
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
    write_map(course)
    return written


def stale(course=None, assignments=None):
    """Problems with the committed student notebooks and lecture map, one line each; empty
    when up to date."""
    from autograder.course.lecture_map import map_problems

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
        return problems + map_problems(course)


def _same(a, b):
    a, b = Path(a), Path(b)
    if a.suffix == ".ipynb":
        try:
            return json.loads(a.read_text()) == json.loads(b.read_text())
        except ValueError:
            return False
    return a.read_bytes() == b.read_bytes()
