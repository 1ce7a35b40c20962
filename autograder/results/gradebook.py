"""nbgrader's gradebook (SQLite or PostgreSQL), written by the grader process only.

``ensure_in_gradebook`` registers assignments that were never released into this gradebook;
``merge_into_gradebook`` writes records' task scores as auto scores (flagged notebooks are
marked ``needs_manual_grade``); ``gradebook_scores`` reads scores back.
"""

from autograder.course.layout import tools_on_path

__all__ = ["db_url", "ensure_in_gradebook", "merge_into_gradebook", "gradebook_scores"]


def db_url(course):
    return getattr(course, "db_url", None) or course.config().CourseDirectory.db_url


def ensure_in_gradebook(course, assignments):
    """Assignments must be in the gradebook with their graded cells; release them if not."""
    from nbgrader.api import Gradebook, MissingEntry

    tools_on_path()  # nbgrader runs alembic to create a gradebook

    missing = []
    with Gradebook(db_url(course)) as gb:
        for a in sorted(assignments):
            try:
                gb.find_assignment(a)
            except MissingEntry:
                missing.append(a)
    if missing:
        from autograder.course.release import release

        release(course, missing)


def merge_into_gradebook(course, records):
    """Write the records' task scores into nbgrader's gradebook as auto scores."""
    if not records:
        return
    import warnings

    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.utils import parse_utc

    with warnings.catch_warnings(), Gradebook(db_url(course)) as gb:
        warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy autoflush warnings
        for r in records:
            gb.update_or_create_student(r.student_id)
            extra = {}
            if r.timestamp:
                try:
                    extra["timestamp"] = parse_utc(r.timestamp)
                except Exception:  # a damaged timestamp.txt must not stop the merge
                    pass
            gb.update_or_create_submission(r.assignment, r.student_id, **extra)
            for n in r.notebooks:
                for t in n.tasks:
                    try:
                        g = gb.find_grade(t.id, n.notebook, r.assignment, r.student_id)
                    except MissingEntry:
                        continue
                    g.auto_score = t.score
                    g.needs_manual_grade = n.status == "flagged"
        gb.db.commit()


def gradebook_scores(course, assignment):
    """``{student: (score, max_score)}`` read back from nbgrader's gradebook."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(db_url(course)) as gb:
        for sub in gb.assignment_submissions(assignment):
            out[sub.student.id] = (sub.score, sub.max_score)
    return out
