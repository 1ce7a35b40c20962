"""Does `write_report` turn grading records into a faithful grades CSV, tables and plots?"""

import csv
from collections import defaultdict

import pytest
from matplotlib.image import imread

from autograder import Course, CourseError
from autograder.results.records import SubmissionResult, result_path, write_json_atomic
from autograder.results.report import GRADE_COLUMNS, HINT_COLUMNS, TASK_COLUMNS, write_report

TRICKY = 'said "no", then, on a new line:\nTimeoutError (cell 4), 60 s'
FORMULA = "=HYPERLINK('http://evil.example', 'click')"


def task(id, points, status, message="", hints=()):
    score = points if status == "pass" else 0.0
    return {"id": id, "points": points, "score": score, "status": status, "message": message,
            "hints": list(hints)}  # fmt: skip


def notebook(name, tasks, status="graded", reason="", flags=()):
    score = sum(t["score"] for t in tasks)
    return {"notebook": name, "score": score, "max_score": 10.0, "status": status,
            "reason": reason, "flags": list(flags), "tasks": tasks}  # fmt: skip


def graphs(mul, add, hints=()):
    return [task("mul-gate", 4.0, mul, hints=hints), task("add-gate", 6.0, add)]


RECORDS = {
    ("01-graphs", "s002"): [
        notebook("graphs", graphs("pass", "fail", ["multiply, do not add", "check the sign"]))
    ],
    ("01-graphs", "s001"): [
        notebook("graphs", graphs("fail", "pass", ["multiply, do not add"] * 2), reason=TRICKY)
    ],
    ("01-graphs", "@s003"): [
        notebook(
            "graphs",
            graphs("pass", "pass"),
            status="flagged",
            reason=FORMULA,
            flags=["numpy.testing.assert_allclose was replaced (cell 5)"],
        )
    ],
    ("02-sigmoid-neuron", "s001"): [
        notebook("neuron", [task("sigmoid", 10.0, "fail", hints=["multiply, do not add"])]),
        notebook("extra", [task("extra", 10.0, "pass")]),
    ],
    ("02-sigmoid-neuron", "s002"): [
        notebook("neuron", [], status="zero", reason="neuron.ipynb is not valid JSON"),
        notebook("extra", [task("extra", 10.0, "todo", hints=["start with the forward pass"])]),
    ],
}


def records(assignment=None):
    return [
        SubmissionResult(student, a, nbs)
        for (a, student), nbs in sorted(RECORDS.items())
        if assignment in (None, a)
    ]


@pytest.fixture
def course(tmp_path):
    """A course folder holding the grading records of RECORDS and nothing else."""
    course = Course(tmp_path)
    for r in records():
        write_json_atomic(result_path(course.root, r.assignment, r.student_id), r.to_dict())
    return course


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def unformula(text):
    return text[1:] if text.startswith("'") and text[1:2] in "=+-@" else text


def test_grades_csv_round_trips_the_records(course):
    """Does grades.csv hold one row per student and notebook, sorted, equal to the records?"""
    report = write_report(course)
    columns, rows = read_csv(course.root / "reports" / "grades.csv")
    assert tuple(columns) == GRADE_COLUMNS
    expected = []
    for r in records():
        for nb in r.notebooks:
            reason = "; ".join(x for x in [nb.reason, *nb.flags] if x)
            expected.append((r.assignment, r.student_id, nb.notebook, nb.score, nb.max_score,
                             nb.status, reason))  # fmt: skip
    expected.sort()
    got = [
        (row["assignment"], unformula(row["student_id"]), row["notebook"], float(row["score"]),
         float(row["max_score"]), row["status"], unformula(row["reason"]))
        for row in rows
    ]  # fmt: skip
    assert got == expected
    assert len(report.rows) == len(expected)
    assert TRICKY in [row["reason"] for row in rows]


def test_formula_like_cells_get_an_apostrophe(course):
    """Are a student id and a reason that start with @ or = written as text, not formulas?"""
    report = write_report(course)
    _, rows = read_csv(report.files[0])
    flagged = [row for row in rows if row["status"] == "flagged"]
    assert [row["student_id"] for row in flagged] == ["'@s003"]
    assert flagged[0]["reason"].startswith("'" + FORMULA + "; numpy.testing")
    assert [r.student_id for r in report.rows if r.status == "flagged"] == ["@s003"]
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@")), value


def test_task_pass_rates_count_submissions(course):
    """Is each task's pass rate its passing students over its assignment's submissions?"""
    report = write_report(course)
    submissions, passed, points = defaultdict(int), defaultdict(int), {}
    for (a, _), nbs in RECORDS.items():
        submissions[a] += 1
        for nb in nbs:
            for t in nb["tasks"]:
                points[(a, nb["notebook"], t["id"])] = t["points"]
                passed[(a, nb["notebook"], t["id"])] += t["status"] == "pass"
    columns, rows = read_csv(course.root / "reports" / "tasks.csv")
    assert tuple(columns) == TASK_COLUMNS
    got = {(r["assignment"], r["notebook"], r["task"]): r for r in rows}
    assert set(got) == set(points)
    for key, row in got.items():
        n = submissions[key[0]]
        assert (float(row["points"]), int(row["passed"]), int(row["submissions"])) == (
            points[key],
            passed[key],
            n,
        )
        assert float(row["pass_rate"]) == pytest.approx(passed[key] / n, abs=1e-3)
    # the zero-graded neuron.ipynb (no tasks ran) counts as a submission that did not pass
    assert got[("02-sigmoid-neuron", "neuron", "sigmoid")]["submissions"] == "2"
    graphs_tasks = [t.task for t in report.task_rates if t.notebook == "graphs"]
    assert graphs_tasks == ["mul-gate", "add-gate"]


def test_hint_counts_count_students_once(course):
    """Are hints counted per student (not per firing), most frequent first, in hints.csv?"""
    report = write_report(course)
    students = defaultdict(set)
    for (a, student), nbs in RECORDS.items():
        for nb in nbs:
            for t in nb["tasks"]:
                for h in t["hints"]:
                    students[(a, t["id"], h)].add(student)
    expected = {k: len(v) for k, v in students.items()}
    columns, rows = read_csv(course.root / "reports" / "hints.csv")
    assert tuple(columns) == HINT_COLUMNS
    got = {(r["assignment"], r["task"], r["hint"]): int(r["students"]) for r in rows}
    assert got == expected
    assert got[("01-graphs", "mul-gate", "multiply, do not add")] == 2
    counts = [int(r["students"]) for r in rows]
    assert counts == sorted(counts, reverse=True)
    assert [h.students for h in report.hint_counts] == counts


def test_plots_are_valid_pngs(course):
    """Are scores.png and tasks.png written as readable, non-empty PNG images?"""
    report = write_report(course)
    for name in ("scores.png", "tasks.png"):
        path = course.root / "reports" / name
        assert path in report.files
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        image = imread(path)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def test_summary_states_totals_tasks_hints_and_files(course):
    """Does the printed summary give status totals, mean scores, the task table, hints, files?"""
    text = write_report(course).format()
    assert "7 notebooks from 3 students: 5 graded, 1 zero, 1 flagged" in text
    assert "01-graphs/graphs: 6.67 / 10 (67%) over 3 notebooks" in text
    assert any(
        line.split() == ["01-graphs", "graphs", "mul-gate", "4", "2/3", "67%"]
        for line in text.splitlines()
    )
    hint_lines = [line for line in text.splitlines() if "multiply, do not add" in line]
    assert hint_lines[0].split()[:3] == ["2", "01-graphs", "mul-gate"]
    for name in ("grades.csv", "tasks.csv", "hints.csv", "scores.png", "tasks.png"):
        assert f"reports/{name}" in text


def test_one_assignment_and_chosen_paths(course, tmp_path):
    """Does `assignment` keep only its rows, and do csv_path and out_dir decide where files go?"""
    out = tmp_path / "elsewhere"
    report = write_report(course, "02-sigmoid-neuron", csv_path=out / "g.csv", out_dir=out)
    assert {r.assignment for r in report.rows} == {"02-sigmoid-neuron"}
    assert report.files[0] == out / "g.csv"
    assert all(p.parent == out and p.stat().st_size > 0 for p in report.files)
    _, rows = read_csv(out / "g.csv")
    assert [(r["student_id"], r["notebook"]) for r in rows] == [
        ("s001", "extra"), ("s001", "neuron"), ("s002", "extra"), ("s002", "neuron")
    ]  # fmt: skip
    assert not (course.root / "reports").exists()


def test_no_results_is_a_course_error(tmp_path):
    """Without grading records, is the error a CourseError that says to run grade first?"""
    with pytest.raises(CourseError, match="no graded submissions in .*results; run `backprop-kit"):
        write_report(Course(tmp_path))


def test_unreadable_record_is_a_course_error(course):
    """Is a broken record file reported as a CourseError naming what was expected?"""
    result_path(course.root, "01-graphs", "s009").write_text("{not json")
    with pytest.raises(CourseError, match="unreadable.*expected the JSON"):
        write_report(course)
