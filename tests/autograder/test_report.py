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


# Pass rates per lecture topic and the hints chart, on records of the repository's real tasks.

LECTURE_RECORDS = {
    ("01-graphs", "s001"): [notebook("graphs", [
        task("numerical-grad", 2.0, "pass"), task("cost", 1.0, "fail", hints=["count both"]),
        task("forward-values", 1.0, "pass"),
        task("hand-gradients", 2.0, "fail", hints=["df/df = 1"]),
        task("add-gate", 1.0, "pass"), task("mul-gate", 2.0, "fail", hints=["switch them"]),
        task("graph", 1.0, "pass")])],
    ("01-graphs", "s002"): [notebook("graphs", [
        task("numerical-grad", 2.0, "fail", hints=["put x back"]), task("cost", 1.0, "pass"),
        task("forward-values", 1.0, "pass"), task("hand-gradients", 2.0, "pass"),
        task("add-gate", 1.0, "pass"), task("mul-gate", 2.0, "fail", hints=["switch them"]),
        task("graph", 1.0, "todo")])],
    ("01-graphs", "s003"): [notebook("graphs", [], status="zero", reason="not valid JSON")],
    ("03-patterns", "s001"): [notebook("patterns", [
        task("pattern-gradients", 1.0, "pass"), task("max-gate", 2.0, "fail", hints=["ties"]),
        task("accumulate", 2.0, "pass"), task("regularised-regression", 2.0, "fail"),
        task("read-drawing", 1.0, "pass")])],
}  # fmt: skip


@pytest.fixture
def mapped(tmp_path):
    """A course with the repository's solutions (so its lecture map) and LECTURE_RECORDS."""
    import shutil

    from autograder.course.layout import REPO_ROOT

    root = tmp_path / "mapped"
    for a in ("01-graphs", "03-patterns"):
        shutil.copytree(REPO_ROOT / "solutions" / a, root / "solutions" / a)
    course = Course(root)
    for (a, student), nbs in LECTURE_RECORDS.items():
        r = SubmissionResult(student, a, nbs)
        write_json_atomic(result_path(course.root, a, student), r.to_dict())
    return course


def topics_from_json(root):
    """``{(assignment, task): {topic: [lectures]}}`` read straight from the solutions' JSON."""
    import json

    found = {}
    for path in sorted((root / "solutions").glob("*/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for s in cell["metadata"].get("backprop_kit", {}).get("sources", []):
                key = (path.parent.name, cell["metadata"]["nbgrader"]["grade_id"])
                found.setdefault(key, {}).setdefault(s["topic"], []).append(s["lecture"])
    return found


def test_topic_pass_rates_match_an_independent_count(mapped):
    """Are topics.csv's numbers the records' task outcomes summed over each topic's tasks?"""
    from autograder.results.topics import TOPIC_COLUMNS

    report = write_report(mapped)
    topics = topics_from_json(mapped.root)
    submissions = defaultdict(int)
    for a, _ in LECTURE_RECORDS:
        submissions[a] += 1
    expected = defaultdict(lambda: [set(), 0, 0, 0.0, 0.0, set()])
    graded = {(a, t["id"]): t["points"] for (a, _), nbs in LECTURE_RECORDS.items()
              for nb in nbs for t in nb["tasks"]}  # fmt: skip
    for (a, tid), points in graded.items():
        for topic, lectures in topics[(a, tid)].items():
            e = expected[topic]
            e[0].add(tid)
            e[1] += submissions[a]
            e[4] += points * submissions[a]
            e[5].update(lectures)
    for (a, _), nbs in LECTURE_RECORDS.items():
        for nb in nbs:
            for t in nb["tasks"]:
                for topic in topics[(a, t["id"])]:
                    expected[topic][2] += t["status"] == "pass"
                    expected[topic][3] += t["score"]
    columns, rows = read_csv(mapped.root / "reports" / "topics.csv")
    assert tuple(columns) == TOPIC_COLUMNS
    got = {r["topic"]: r for r in rows}
    assert set(got) == set(expected)
    for topic, (tids, attempts, passed, score, max_score, lectures) in expected.items():
        row = got[topic]
        assert int(row["tasks"]) == len(tids), topic
        assert (int(row["attempts"]), int(row["passed"])) == (attempts, passed), topic
        assert float(row["score"]) == pytest.approx(score) and float(row["max_score"]) == max_score
        assert float(row["pass_rate"]) == pytest.approx(passed / attempts, abs=1e-3), topic
        assert set(row["lectures"].split("; ")) == lectures, topic
    # gate patterns: add-gate 2/3, mul-gate 0/3 (01-graphs, 3 submissions); then 03-patterns'
    # pattern-gradients 1/1, max-gate 0/1, accumulate 1/1, read-drawing 1/1: 6 of 15 points
    assert (got["gate patterns"]["passed"], got["gate patterns"]["attempts"]) == ("5", "10")
    text = report.format()
    assert any(line.split() == ["gate", "patterns", "6", "5/10", "50%", "40%"]
               for line in text.splitlines())  # fmt: skip
    assert "reports/topics.csv" in text and "reports/hints.png" in text


def test_tasks_outside_the_map_are_counted_apart(course):
    """Without solutions/, is every task counted under the unmapped topic, none dropped?"""
    from autograder.results.topics import UNMAPPED

    report = write_report(course)
    [rate] = report.topic_rates
    assert rate.topic == UNMAPPED
    assert rate.tasks == len(report.task_rates)
    assert rate.passed == sum(t.passed for t in report.task_rates)


def png_size(path):
    """(width, height) from the PNG's IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def orange_pixels(image):
    """Pixels of the bars' colour (matplotlib's tab:orange, #ff7f0e)."""
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    return int(((abs(r - 1.0) < 0.02) & (abs(g - 0.498) < 0.02) & (abs(b - 0.055) < 0.02)).sum())


def test_hints_chart_is_a_png_sized_by_its_bars(mapped, course, tmp_path):
    """Is hints.png a valid PNG, 1000 px wide, taller with more hints, with one bar per hint?"""
    from autograder.results.topics import DPI, HINT_CHART_WIDTH

    small = write_report(mapped, out_dir=tmp_path / "small")
    big = write_report(course, out_dir=tmp_path / "big")
    sizes = {}
    for name, report in (("small", small), ("big", big)):  # "small": the mapped course
        path = tmp_path / name / "hints.png"
        assert path in report.files
        width, height = png_size(path)
        image = imread(path)
        assert image.shape[:2] == (height, width)
        assert width == HINT_CHART_WIDTH * DPI
        assert orange_pixels(image) > 50 * len(report.hint_counts)
        sizes[name] = (len(report.hint_counts), height)
    # LECTURE_RECORDS: put x back, count both, df/df = 1, switch them, ties; RECORDS: 4 hints
    assert (sizes["small"][0], sizes["big"][0]) == (5, 4)
    assert sizes["small"][1] > sizes["big"][1]


def test_hints_chart_without_hints_has_no_bars(tmp_path):
    """With no hint fired, is hints.png still written, and empty of bars?"""
    course = Course(tmp_path)
    r = SubmissionResult("s001", "01-graphs", [notebook("graphs", graphs("pass", "fail"))])
    write_json_atomic(result_path(course.root, r.assignment, r.student_id), r.to_dict())
    report = write_report(course)
    path = course.root / "reports" / "hints.png"
    assert png_size(path)[0] == 1000 and orange_pixels(imread(path)) == 0
    assert report.hint_counts == []
