"""Does nbgrader's autograde give every solution full marks and every untouched release zero?

One scratch course holds all assignments; two students submit: ``perfect`` (each answer cell as
in the solution) and ``untouched`` (the student notebooks as released).
"""

import pytest
from nbgrader.api import Gradebook

from autograder import Course
from autograder.course.layout import REPO_ROOT
from tests.autograder._course import scratch_course, submit_perfect_and_untouched

ASSIGNMENTS = Course(REPO_ROOT).assignments()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = scratch_course(tmp_path_factory.mktemp("course"))
    api = course.api()
    logs = {}
    for a in ASSIGNMENTS:
        submit_perfect_and_untouched(course, a)
        for student in ("perfect", "untouched"):
            logs[a, student] = api.autograde(a, student, force=True, create=True)
    return course, logs


def _submission(course, assignment, student):
    with Gradebook(course.config().CourseDirectory.db_url) as gb:
        sub = gb.find_submission(assignment, student)
        cells = {
            (g.notebook.name, g.name): (g.score, g.max_score)
            for nb in sub.notebooks
            for g in nb.grades
        }
        return sub.score, sub.max_score, cells


def test_every_assignment_is_released():
    """Are all seven lecture notebooks there to grade?"""
    assert len(ASSIGNMENTS) >= 7


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_earns_full_marks(graded, assignment):
    """Does a student who writes the solution's answers get every point of every task?"""
    course, logs = graded
    result = logs[assignment, "perfect"]
    assert result["success"], result.get("log")
    score, max_score, cells = _submission(course, assignment, "perfect")
    assert max_score > 0
    lost = {k: v for k, v in cells.items() if v[0] != v[1]}
    assert not lost, f"tasks below full marks (score, max): {lost}"
    assert score == max_score


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_earns_zero_without_grader_errors(graded, assignment):
    """Does the notebook as released score 0 on every task, with nbgrader itself succeeding?"""
    course, logs = graded
    result = logs[assignment, "untouched"]
    assert result["success"], result.get("log")
    assert "[ERROR]" not in result.get("log", ""), result["log"]
    score, max_score, cells = _submission(course, assignment, "untouched")
    earned = {k: v for k, v in cells.items() if v[0] != 0}
    assert not earned, f"tasks scoring without any work (score, max): {earned}"
    assert score == 0 and max_score > 0


@pytest.fixture(scope="module")
def kit_graded(tmp_path_factory):
    """The same two students, graded by the kit's own sandboxed grader."""
    from autograder.grading.grade import grade

    course = scratch_course(tmp_path_factory.mktemp("kit"))
    for a in ASSIGNMENTS:
        submit_perfect_and_untouched(course, a)
    run = grade(course, ASSIGNMENTS, workers=2, progress=False)
    return {(r.assignment, r.student_id): r for r in run.graded}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_kit_grader_gives_solutions_full_marks_and_untouched_zero(kit_graded, assignment):
    """Under the sandboxed grader, does each solution get every point, unflagged, and each
    untouched release zero, with a status and no false alarm?"""
    perfect = kit_graded[assignment, "perfect"]
    for nb in perfect.notebooks:
        assert (nb.status, nb.reason) == ("graded", "")
        assert nb.score == nb.max_score > 0, [t for t in nb.tasks if t.status != "pass"]
    untouched = kit_graded[assignment, "untouched"]
    for nb in untouched.notebooks:
        assert (nb.status, nb.score) == ("graded", 0.0), nb.reason
        assert {t.status for t in nb.tasks} <= {"todo", "fail"}
