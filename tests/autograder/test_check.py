"""Does `backprop-kit check` report each task as a student needs: PASS, FAIL with the hint, TODO?"""

import nbformat
import pytest

from autograder import CourseError, check_notebook, format_report
from autograder.cli import main
from autograder.course.layout import REPO_ROOT
from tests.autograder._course import filled_in

RELEASE = REPO_ROOT / "notebooks" / "03-patterns" / "patterns.ipynb"
SOURCE = REPO_ROOT / "solutions" / "03-patterns" / "patterns.ipynb"


def test_untouched_notebook_is_all_todo(capsys):
    """Does a fresh student notebook show every task as not started, and exit 1?"""
    assert main(["check", str(RELEASE)]) == 1
    out = capsys.readouterr().out
    for task_id in ("pattern-gradients", "max-gate", "accumulate", "read-drawing"):
        assert any(line.split()[:2] == ["TODO", task_id] for line in out.splitlines()), out
    assert "0 of 5 tasks pass their visible tests (0 of 8 points" in out


def test_wrong_answer_fails_with_its_hint_and_the_rest_pass(tmp_path):
    """Does one wrong task FAIL with the test's message while the others PASS?"""
    nb = filled_in(RELEASE, SOURCE)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "max-gate-code":
            cell.source = cell.source.replace(
                "return (dz, 0.0) if x_won else (0.0, dz)", "return (dz, dz)"
            )
    path = tmp_path / "patterns.ipynb"
    nbformat.write(nb, path)
    results = {r.task.id: r for r in check_notebook(path)}
    assert results["max-gate"].status == "fail"
    assert "max routes" in results["max-gate"].message
    assert all(r.status == "pass" for k, r in results.items() if k != "max-gate")
    report = format_report(path, list(results.values()))
    assert "4 of 5 tasks pass their visible tests (6 of 8 points" in report
    assert nbformat.read(path, as_version=4) == nb, "check must not change the student's file"


def test_error_in_the_answer_cell_is_shown_not_hidden(tmp_path):
    """Does an exception in the student's own cell appear, instead of a later NameError?"""
    nb = filled_in(RELEASE, SOURCE)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "read-drawing-code":
            cell.source = "w_bar_from_loss = -0.25 / 0\nw_bar_from_reg = 0.05"
    path = tmp_path / "patterns.ipynb"
    nbformat.write(nb, path)
    results = {r.task.id: r for r in check_notebook(path)}
    assert results["read-drawing"].status == "fail"
    assert results["read-drawing"].message.startswith(
        "your code cell raised ZeroDivisionError: float division by zero"
    )


def test_missing_file_and_non_notebook_are_clear_errors(tmp_path, capsys):
    """Are a wrong path and a file that is not a notebook reported with what was expected?"""
    with pytest.raises(CourseError, match="no notebook at .*expected the path of an .ipynb"):
        check_notebook(tmp_path / "nope.ipynb")
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json")
    assert main(["check", str(bad)]) == 2
    assert "is not a readable notebook" in capsys.readouterr().err
    empty = tmp_path / "empty.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), empty)
    with pytest.raises(CourseError, match="no graded tasks"):
        check_notebook(empty)
