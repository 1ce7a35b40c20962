"""Does ``grade`` re-grade exactly what changed, refuse bad settings and a second run at once?"""

import nbformat
import pytest

from autograder.cli import main
from autograder.course.layout import CourseError
from autograder.demo.samples import ASSIGNMENT, NOTEBOOK, SAMPLES, build
from autograder.demo.walkthrough import make_course
from autograder.grading.grade import _lock, grade
from autograder.sandbox.isolation import Limits

LIMITS = Limits(cell_seconds=20, notebook_seconds=120)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("grade"))
    release = nbformat.read(course.release_dir / ASSIGNMENT / NOTEBOOK, as_version=4)
    source = nbformat.read(course.source_dir / ASSIGNMENT / NOTEBOOK, as_version=4)
    for sample in [s for s in SAMPLES if s.student in ("perfect", "blank")]:
        folder = course.root / "submitted" / sample.student / ASSIGNMENT
        folder.mkdir(parents=True)
        for name, data in build(sample, release, source).items():
            (folder / name).write_bytes(data)
    return course


def test_changed_submission_or_tests_are_graded_again(course):
    """Is a submission graded once, again after it changes, and all again after the tests do?"""
    first = grade(course, [ASSIGNMENT], workers=2, limits=LIMITS, progress=False)
    assert {r.student_id for r in first.graded} == {"perfect", "blank"}
    same = grade(course, [ASSIGNMENT], workers=2, limits=LIMITS, progress=False)
    assert same.graded == [] and len(same.skipped) == 2
    blank = course.root / "submitted" / "blank" / ASSIGNMENT / NOTEBOOK
    nb = nbformat.read(blank, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("I will finish it later."))
    nbformat.write(nb, blank)
    changed = grade(course, [ASSIGNMENT], workers=2, limits=LIMITS, progress=False)
    assert [r.student_id for r in changed.graded] == ["blank"]
    solution = course.source_dir / ASSIGNMENT / NOTEBOOK
    nb = nbformat.read(solution, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A note from the instructor."))
    nbformat.write(nb, solution)
    retest = grade(course, [ASSIGNMENT], workers=2, limits=LIMITS, progress=False)
    assert {r.student_id for r in retest.graded} == {"perfect", "blank"}
    assert {r.student_id: r.score for r in retest.graded} == {"perfect": 10.0, "blank": 0.0}


def test_a_second_run_on_the_same_course_is_refused(course):
    """While one grade holds the course's lock, is another refused with a clear message?"""
    held = _lock(course)
    try:
        with pytest.raises(CourseError, match="another `backprop-kit grade` is running"):
            grade(course, [ASSIGNMENT], workers=1, limits=LIMITS, progress=False)
    finally:
        held.close()


@pytest.mark.parametrize(
    "argv, words",
    [
        (["grade", "--workers", "0"], "--workers 0: expected a whole number of at least 1"),
        (["grade", "--cell-timeout", "-1"], "cell_seconds = -1.0; expected a positive number"),
        (["grade", "--assignment", "99-nope"], "no assignment '99-nope'"),
        (["report", "--assignment", "01-graph"], "no assignment '01-graph'"),
    ],
)
def test_bad_settings_are_refused_with_what_was_expected(course, capsys, argv, words):
    """Does each bad command-line value exit 2 with a message naming it and what is allowed?"""
    assert main(["--course", str(course.root), *argv]) == 2
    assert words in capsys.readouterr().err


def test_grading_slots_are_the_graders_own(tmp_path, monkeypatch):
    """Are the slot locks in a folder of the grading user alone (so a student on the same
    machine cannot hold them), two claims two slots, and someone else's folder refused?"""
    import os
    import stat
    import tempfile

    from autograder.grading.grade import _claim_slot

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (a, lock_a), (b, lock_b) = _claim_slot(), _claim_slot()
    folder = tmp_path / f"backprop-kit-slots-{os.getuid()}"
    assert a != b and stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / f"{a}.lock").stat().st_mode) == 0o600
    lock_a.close()
    assert _claim_slot()[0] == a  # a released slot is taken again
    lock_b.close()
    if os.getuid() != 0:
        return  # giving the folder to someone else needs root
    os.chown(folder, 12345, 12345)
    with pytest.raises(CourseError, match="is not a folder of this user .* of uid 12345"):
        _claim_slot()
