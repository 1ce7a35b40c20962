"""Does `write_feedback` hand back a page per notebook with the grades and no server secrets?"""

import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder import Course, CourseError
from autograder.course.layout import REPO_ROOT
from autograder.results.feedback import clean_notebook, scrub, write_feedback
from autograder.results.records import SubmissionResult, result_path, write_json_atomic

PLANTED = "PLANTED_HIDDEN_ASSERT_7f3a"
MESSAGE = "mul-gate: expected mul(2, 3) == 6, got 5"
HINT = "multiply the inputs; do not add them"
ZERO_REASON = "graphs.ipynb is not valid JSON (line 1, column 2); expected a Jupyter notebook"
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9"
    "awAAAABJRU5ErkJggg=="
)  # a 1x1 PNG: base64 holds "/" and "+", which scrub must leave alone


def grade(id, points, test, solution=False):
    return {"grade": test, "solution": solution, "grade_id": id, "points": points,
            "locked": test, "schema_version": 3}  # fmt: skip


def graded_notebook(root, result):
    """An executed notebook as the grader leaves it, but with hidden tests and paths planted."""
    answer = new_code_cell(
        "def mul(a, b):\n    return a + b",
        metadata={"nbgrader": grade("mul-gate-code", 0, False, solution=True)},
        outputs=[new_output("stream", name="stdout", text=f"reading {root}/autograded/x.npy\n")],
    )
    test = new_code_cell(
        f"assert mul(2, 3) == 6, {MESSAGE!r}\n### BEGIN HIDDEN TESTS\n"
        f"assert mul(7, 5) == 35, {PLANTED!r}\n### END HIDDEN TESTS\n",
        metadata={"nbgrader": grade("mul-gate", 4, True)},
        outputs=[
            new_output(
                "error",
                ename="AssertionError",
                evalue=MESSAGE,
                traceback=[f"File {sys.prefix}/lib/python3.11/site-packages/x.py", PLANTED],
            )
        ],
    )
    crash = new_code_cell(
        "import numpy as np\nnp.load('missing.npy')",
        outputs=[
            new_output(
                "error",
                ename="FileNotFoundError",
                evalue=f"No such file: '/home/student/work/missing.npy' in {REPO_ROOT}/lib",
                traceback=[f"\x1b[0;32m{sys.base_prefix}/lib/python3.11/os.py\x1b[0m:12"],
            ),
            new_output(
                "display_data",
                data={"text/plain": "<Figure at /opt/backprop-kit/lib>", "image/png": PNG},
            ),
        ],
    )
    nb = new_notebook(cells=[new_markdown_cell("# Computational graphs"), answer, test, crash])
    nb.metadata["backprop_kit"] = result
    return nb


def records():
    tasks = [
        {"id": "mul-gate", "points": 4.0, "score": 0.0, "status": "fail", "message": MESSAGE,
         "hints": [HINT]},
        {"id": "add-gate", "points": 6.0, "score": 6.0, "status": "pass", "message": "",
         "hints": []},
    ]  # fmt: skip
    graphs = {"notebook": "graphs", "score": 6.0, "max_score": 10.0, "status": "graded",
              "reason": "", "flags": [], "tasks": tasks}  # fmt: skip
    broken = {"notebook": "graphs", "score": 0.0, "max_score": 10.0, "status": "zero",
              "reason": ZERO_REASON, "flags": [], "tasks": []}  # fmt: skip
    neuron = dict(graphs, notebook="neuron", tasks=[])
    return [
        SubmissionResult("s001", "01-graphs", [graphs]),
        SubmissionResult("s002", "01-graphs", [broken]),
        SubmissionResult("s001", "02-sigmoid-neuron", [neuron]),
    ]


@pytest.fixture
def course(tmp_path):
    """A course with three records; only s001's 01-graphs notebook was autograded."""
    course = Course(tmp_path / "course")
    for r in records():
        write_json_atomic(result_path(course.root, r.assignment, r.student_id), r.to_dict())
    folder = course.root / "autograded" / "s001" / "01-graphs"
    folder.mkdir(parents=True)
    nbformat.write(graded_notebook(course.root, records()[0].to_dict()), folder / "graphs.ipynb")
    return course


def page(course, student, assignment, notebook):
    return (course.root / "feedback" / student / assignment / f"{notebook}.html").read_text()


def test_scrub_replaces_server_paths_with_placeholders(tmp_path):
    """Does scrub replace each server path by its placeholder, and only whole path names?"""
    course = Course(tmp_path)
    text = (
        f"{course.root}/submitted/a.ipynb | {sys.prefix}/lib/site.py | "
        f"{sys.base_prefix}/lib/os.py | {REPO_ROOT}/lib/chainrule | /home/student/nb.ipynb | "
        f"'/opt/backprop-kit/lib' | /opt/backprop-kit-old/x | /srv{course.root} | {course.root}."
    )
    assert scrub(text, course) == (
        "<course>/submitted/a.ipynb | <python>/lib/site.py | <python>/lib/os.py | "
        "<library>/lib/chainrule | <home>/nb.ipynb | '<library>/lib' | /opt/backprop-kit-old/x | "
        f"/srv{course.root} | <course>."
    )


def test_scrub_keeps_colour_codes_and_escapes_for_html(tmp_path):
    """Is a path between ANSI colour codes replaced, and are placeholders escaped for HTML?"""
    course = Course(tmp_path)
    coloured = f"\x1b[0;32m{sys.prefix}/lib/x.py\x1b[0m"
    assert scrub(coloured, course) == "\x1b[0;32m<python>/lib/x.py\x1b[0m"
    assert scrub(f"<p>{course.root}</p>", course, escape=True) == "<p>&lt;course&gt;</p>"


def test_clean_notebook_drops_hidden_tests_and_test_tracebacks(course):
    """Does clean_notebook drop hidden tests and a test cell's traceback, keeping its message,
    and leave a student's own cell as written (markers in it hide nothing)?"""
    nb = graded_notebook(course.root, {})
    hidden = f"x = 1\n### BEGIN HIDDEN TESTS\nassert {PLANTED!r}\n"
    nb.cells.append(new_code_cell(hidden, metadata=dict(nb.cells[2].metadata)))
    nb.cells.append(new_code_cell(hidden))
    clean = clean_notebook(nb, course)
    assert clean.cells[-2].source == "x = 1\n"  # an unterminated hidden block is dropped to the end
    assert clean.cells[-1].source == hidden, "a student's own cell is shown as written"
    test = clean.cells[2]
    assert "HIDDEN" not in test.source and PLANTED not in test.source
    assert test.source.startswith("assert mul(2, 3) == 6")
    assert test.outputs[0].traceback == [f"AssertionError: {MESSAGE}"]
    assert clean.cells[3].outputs[0].traceback == [
        "\x1b[0;32m<python>/lib/python3.11/os.py\x1b[0m:12"
    ]
    assert clean.cells[3].outputs[1].data["image/png"] == PNG
    assert "backprop_kit" not in clean.metadata
    assert PLANTED in nb.cells[2].source  # the input is left as it was


def test_feedback_page_shows_grades_and_hides_secrets(course):
    """Does the page show score, task messages and hints, and no hidden test or server path?"""
    written = write_feedback(course, "01-graphs", ["s001"])
    assert written == [course.root / "feedback" / "s001" / "01-graphs" / "graphs.html"]
    html = page(course, "s001", "01-graphs", "graphs")
    for secret in ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", PLANTED, str(course.root),
                   str(course.root.parent), sys.prefix, sys.base_prefix, str(REPO_ROOT),
                   "/home/student", "/opt/backprop-kit"):  # fmt: skip
        assert secret not in html, secret
    assert "<b>Score:</b> 6 / 10" in html
    assert "<b>Status:</b> graded" in html
    assert MESSAGE in html
    assert HINT in html
    assert html.count("mul-gate") >= 2 and "add-gate" in html
    assert "&lt;course&gt;/autograded/x.npy" in html
    assert html.index("bk-feedback") < html.index('<h1 id="Computational-graphs"')


def test_missing_notebook_gets_a_score_page_and_a_note(course, capsys):
    """Does a zero-graded record without a notebook get a page with score 0 and its reason?"""
    written = write_feedback(course, students=["s002"])
    assert written == [course.root / "feedback" / "s002" / "01-graphs" / "graphs.html"]
    out = capsys.readouterr().out
    assert "note: no autograded notebook at autograded/s002/01-graphs/graphs.ipynb" in out
    html = page(course, "s002", "01-graphs", "graphs")
    assert "<b>Score:</b> 0 / 10" in html and "<b>Status:</b> zero" in html
    assert "graphs.ipynb is not valid JSON (line 1, column 2)" in html


def test_every_record_gets_a_page(course):
    """Without filters, is there one page per student, assignment and notebook?"""
    written = write_feedback(course)
    feedback = course.root / "feedback"
    assert sorted(p.relative_to(feedback) for p in written) == [
        Path("s001/01-graphs/graphs.html"),
        Path("s001/02-sigmoid-neuron/neuron.html"),
        Path("s002/01-graphs/graphs.html"),
    ]
    assert all(p.stat().st_size > 0 for p in written)


def test_unknown_student_and_no_records_are_course_errors(course, tmp_path):
    """Are an unknown student id and a course never graded reported as CourseErrors?"""
    with pytest.raises(CourseError, match=r"no graded submission from 's999'; expected one of"):
        write_feedback(course, students=["s999"])
    with pytest.raises(CourseError, match="run `backprop-kit grade` first"):
        write_feedback(Course(tmp_path / "empty"))


def test_unreadable_notebook_gets_a_score_page(course, capsys):
    """Does a broken autograded notebook get a score page and a note instead of an error?"""
    broken = course.root / "autograded" / "s001" / "02-sigmoid-neuron" / "neuron.ipynb"
    broken.parent.mkdir(parents=True)
    broken.write_text("{not a notebook")
    [written] = write_feedback(course, "02-sigmoid-neuron")
    assert "an unreadable notebook" in capsys.readouterr().out
    assert "<b>Score:</b> 6 / 10" in written.read_text()
