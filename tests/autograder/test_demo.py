"""Does ``backprop-kit demo`` (``make demo``) run the whole pipeline and print the gradebook?"""

import csv
import io

import pytest

from autograder.course.layout import CourseError
from autograder.demo.samples import DEMO, SAMPLES
from autograder.demo.walkthrough import run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "course"
    out = io.StringIO()
    assert run_demo(keep=root, workers=2, out=out) == 0
    return root, out.getvalue()


def test_each_step_runs_and_the_gradebook_is_printed(demo):
    """Are collect, grade, feedback, report and the gradebook all in the output, in order?"""
    _, text = demo
    steps = ["== collect", "== grade", "== feedback", "== report", "== gradebook"]
    positions = [text.index(s) for s in steps]
    assert positions == sorted(positions)
    assert "rejected" in text and "corrupt_graphs.ipynb" in text


def test_gradebook_holds_every_collected_student_with_the_expected_score(demo):
    """Does every sample reach the gradebook with its expected score, the student whose only
    file was damaged (set aside by collect) included?"""
    root, text = demo
    expected = {s.student: s.score for s in SAMPLES if s.student in DEMO}
    book = text[text.index("== gradebook") :].splitlines()[1:]
    got = {}
    for line in book:
        parts = line.split()
        if len(parts) == 4 and parts[2] == "/":
            got[parts[0]] = float(parts[1])
    assert got == expected, "the damaged file's student is in the gradebook too, with 0"
    with open(root / "reports" / "grades.csv") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert rows["signal-proof"]["status"] == "zero"
    assert rows["patch-helpers"]["status"] == "flagged"
    assert (
        rows["corrupt"]["status"] == "zero" and "rejected at collect" in rows["corrupt"]["reason"]
    )
    assert len(list((root / "feedback").rglob("*.html"))) == len(got)


def test_keep_refuses_a_folder_that_is_not_empty(tmp_path):
    """Is --keep DIR refused when DIR already holds something, leaving it untouched?"""
    (tmp_path / "precious.txt").write_text("mine")
    with pytest.raises(CourseError, match="not empty"):
        run_demo(keep=tmp_path, out=io.StringIO())
    assert (tmp_path / "precious.txt").read_text() == "mine"
