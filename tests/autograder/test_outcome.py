"""Do `backprop-kit check` and grading decide a task's outcome from one definition?

Each case runs real test-cell helpers (``chainrule.testcells.task``, ``expect_close``) in this
process, so the messages are the ones a notebook prints; the same outcome is then read by
``check`` (from cells as nbclient leaves them) and by grading (from the runner's replies). The
wording of every marker is then changed in ``chainrule.testcells`` alone: the messages change,
and neither reader's verdict does.
"""

import contextlib
import io

import nbformat
import pytest

from autograder.course.tasks import Task
from autograder.grading.scoring import NotebookRun, score_notebook
from autograder.grading.visible import task_result
from autograder.intake.submission import Cell, Plan
from chainrule import testcells
from chainrule.testcells import Mistake, expect_close, task


def _untouched():
    raise NotImplementedError()


def _wrong_with_hint():
    expect_close("dx", 6.0, -8.0, mistakes=[Mistake(6.0, "the inputs were swapped")])


def _crashes():
    raise ValueError("shapes (2,) and (3,) not aligned")


def _passes():
    expect_close("dx", -8.0, -8.0)


# (task id, the answer cell's error name or None, the test cell's body)
CASES = [
    ("done", None, _passes),
    ("untouched", None, _untouched),  # only the test's message says so
    ("stub", "NotImplementedError", _untouched),
    ("hinted", None, _wrong_with_hint),
    ("crashing", None, _crashes),
]


def _run_test_cell(task_id, body):
    """What the test cell shows: (printed text, (ename, evalue) or None), as a kernel would."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            with task(task_id):
                body()
        except AssertionError as err:
            return out.getvalue(), (type(err).__name__, str(err))
    return out.getvalue(), None


def _check_verdicts():
    """``check``'s (status, message) per case, from a notebook with the cells as run."""
    nb = nbformat.v4.new_notebook()
    found = []
    for tid, answer_error, body in CASES:
        answer = nbformat.v4.new_code_cell("x = 1", execution_count=1)
        if answer_error:
            answer.outputs = [nbformat.v4.new_output("error", ename=answer_error, evalue="")]
        printed, error = _run_test_cell(tid, body)
        test = nbformat.v4.new_code_cell("tests", execution_count=2)
        test.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
        if error:
            test.outputs.append(nbformat.v4.new_output("error", ename=error[0], evalue=error[1]))
        nb.cells += [answer, test]
        found.append(Task(tid, 1, len(nb.cells) - 1, [len(nb.cells) - 2]))
    return [(r.status, r.message) for r in (task_result(nb, t) for t in found)]


class _Info:
    """The part of an ``Assignment`` that scoring reads, for one notebook of these cases."""

    def __init__(self):
        self.tasks = {"nb.ipynb": [Task(tid, 1, 0, []) for tid, _, _ in CASES]}
        self.hint_text = "the inputs were swapped"

    def max_score(self, name):
        return float(len(self.tasks[name]))


def _reply(cell, error=None, printed=""):
    return {
        "cell": cell,
        "status": "error" if error else "ok",
        "timed_out": False,
        "error": {"ename": error[0], "evalue": error[1], "traceback": []} if error else None,
        "outputs": [{"output_type": "stream", "name": "stdout", "text": printed}],
        "events": [],
        "seconds": 0.0,
        "processes": 0,
        "limit": 60.0,
    }


def _grading_verdicts():
    """Grading's (status, score, message, hints) per case, from the runner's replies."""
    cells, replies = [], {}
    for tid, answer_error, body in CASES:
        cells.append(Cell("answer", "x = 1", "x = 1", task=tid))
        replies[len(cells) - 1] = _reply(
            len(cells) - 1, (answer_error, "") if answer_error else None
        )
        printed, error = _run_test_cell(tid, body)
        cells.append(Cell("test", "tests", "tests", task=tid, grade_id=tid))
        replies[len(cells) - 1] = _reply(len(cells) - 1, error, printed)
    plan = Plan(cells, [tid for tid, _, _ in CASES])
    result = score_notebook(NotebookRun(_Info(), "nb.ipynb", plan, replies))
    return [(t.status, t.score, t.message, t.hints) for t in result.tasks]


@pytest.fixture
def reworded(monkeypatch):
    """Every marker of ``chainrule.testcells`` in other words, changed there and nowhere else."""
    monkeypatch.setattr(testcells, "PASSED", "all checks of this cell are fine")
    monkeypatch.setattr(testcells, "NOT_STARTED", "still to be written")
    monkeypatch.setattr(testcells, "HINT", "Tip -> ")


def test_check_and_grading_agree_on_each_outcome():
    """Do the two readers give each case the same status, and the one the case is about?"""
    check = [status for status, _ in _check_verdicts()]
    grading = [status for status, *_ in _grading_verdicts()]
    assert check == grading == ["pass", "todo", "todo", "fail", "fail"]


def test_grading_scores_and_hints_follow_the_outcome():
    """Does grading give the points for a pass only, and pick up the course's hint?"""
    verdicts = _grading_verdicts()
    assert [score for _, score, _, _ in verdicts] == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert verdicts[3][3] == ["the inputs were swapped"]
    assert "ValueError" in verdicts[4][2]


def test_rewording_a_message_changes_no_verdict(reworded):
    """With every marker reworded in chainrule.testcells, are the verdicts unchanged?"""
    printed, _ = _run_test_cell("done", _passes)
    _, untouched = _run_test_cell("untouched", _untouched)
    _, hinted = _run_test_cell("hinted", _wrong_with_hint)
    assert "all checks of this cell are fine" in printed  # the new wording is what cells say
    assert "still to be written" in untouched[1] and "Tip -> " in hinted[1]
    check = [status for status, _ in _check_verdicts()]
    grading = _grading_verdicts()
    assert check == [status for status, *_ in grading] == ["pass", "todo", "todo", "fail", "fail"]
    assert grading[3][3] == ["the inputs were swapped"]


def test_a_passing_cell_keeps_its_line_in_the_feedback(reworded):
    """Is the pass line grading shows in feedback the one the test cell printed, reworded?"""
    printed, _ = _run_test_cell("done", _passes)
    assert printed.strip() == testcells.passed_line("done")


def test_classify_reads_how_the_cells_ended():
    """Does classify give each combination of cell endings the documented status?"""
    classify = testcells.classify
    assert classify(None) == "pass"
    assert classify(None, ["NotImplementedError"]) == "pass"  # the test decides when it ran
    assert classify(("TaskFailure", "[t] x"), ["NotImplementedError"]) == "todo"
    assert classify(("TaskFailure", f"[t] {testcells.NOT_STARTED}: ...")) == "todo"
    assert classify(("ValueError", f"{testcells.NOT_STARTED}")) == "fail"  # not the tests' words
    assert classify(("TaskFailure", "[t] expected -8")) == "fail"
    assert classify(None, (), ran=False) == "not run"
    assert classify(None, ["ValueError"], ran=False) == "fail"
