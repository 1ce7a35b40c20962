"""Does the grader give every hostile submission the score and reason it deserves, while the
rest of the class is graded normally, the gradebook stays intact and nothing outlives grading?

One course (notebook 1) receives every sample of ``autograder.samples.SAMPLES``: honest
students and a corpus of attacks (endless loops, crashes, bombs, daemons, tampering with tests,
helpers, numpy, builtins and IPython, deleted or edited test cells, reading solutions, the
gradebook, damaged files). They are graded together, two sandboxes at a time.
"""

import hashlib
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder.demo.samples import ASSIGNMENT, NOTEBOOK, SAMPLES, build
from autograder.demo.walkthrough import make_course
from autograder.grading.grade import grade, gradebook_scores
from autograder.results.feedback import write_feedback
from autograder.results.records import load_results
from autograder.sandbox.isolation import Limits, detect_isolation

LIMITS = Limits(cell_seconds=8, grace_seconds=3, notebook_seconds=120, memory_mb=1536)
BY_NAME = {s.student: s for s in SAMPLES}


def _submit(course, samples):
    release = nbformat.read(course.release_dir / ASSIGNMENT / NOTEBOOK, as_version=4)
    source = nbformat.read(course.source_dir / ASSIGNMENT / NOTEBOOK, as_version=4)
    for sample in samples:
        folder = Path(course.root) / "submitted" / sample.student / ASSIGNMENT
        folder.mkdir(parents=True)
        for name, data in build(sample, release, source).items():
            (folder / name).write_bytes(data)


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    isolation = detect_isolation("bubblewrap")
    if isolation.kind != "bubblewrap":
        # the corpus's outcomes are those of the full sandbox (the weaker ones refuse new
        # processes outright, so bombs end differently): see the test of weaker sandboxes
        pytest.skip(f"bubblewrap unavailable (apt-get install bubblewrap): {isolation.detail}")
    course = make_course(tmp_path_factory.mktemp("hostile"))
    _submit(course, SAMPLES)
    solution = course.source_dir / ASSIGNMENT / NOTEBOOK
    before = _digest(solution)
    run = grade(course, [ASSIGNMENT], 2, limits=LIMITS, isolation=isolation, progress=False)
    records = {r.student_id: r for r in run.graded}
    return course, run, records, before


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.student for s in SAMPLES])
def test_each_submission_gets_its_score_status_and_reason(graded, sample):
    """Does each sample end with the status, score and reason its behaviour deserves?"""
    _, _, records, _ = graded
    (nb,) = records[sample.student].notebooks
    assert (nb.status, nb.score) == (sample.status, sample.score), nb.reason
    assert "\r" not in nb.reason and "\x1b" not in nb.reason, "no terminal control characters"
    assert nb.max_score == 10
    assert sample.reason.lower() in nb.reason.lower(), nb.reason
    if sample.status != "graded":
        assert nb.reason, "a zero or flagged notebook must say why"


def test_every_student_is_in_the_gradebook_with_the_recorded_score(graded):
    """Is the gradebook readable, complete and equal to the records, with no blank grades?"""
    course, _, records, _ = graded
    db = Path(course.root) / ".nbgrader" / "gradebook.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
        blanks = conn.execute(
            "select count(*) from grade where auto_score is null and manual_score is null"
        ).fetchone()
    assert blanks == (0,)
    scores = gradebook_scores(course, ASSIGNMENT)
    assert set(scores) == set(records)
    for student, record in records.items():
        assert scores[student] == (record.score, 10.0), student


def test_course_files_are_untouched(graded):
    """Are the solutions unchanged and no file written outside a submission's folder?"""
    course, _, _, before = graded
    assert _digest(course.source_dir / ASSIGNMENT / NOTEBOOK) == before
    assert not Path("/etc/backprop-kit-escape").exists()
    assert not (Path(course.root) / "escape.txt").exists()


def test_no_process_outlives_grading(graded):
    """Are the daemons, forked children and stuck loops all gone once grading returns?"""
    left = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"BACKPROP_KIT_SANDBOX=" in env or b"sleep 617" in cmd or b"sleep 619" in cmd:
            left.append((pid, cmd[:80]))
    assert not left


def test_feedback_never_shows_hidden_tests(graded):
    """Do the executed notebooks and feedback pages leave out every hidden test line?"""
    course, _, _, _ = graded
    source = nbformat.read(course.source_dir / ASSIGNMENT / NOTEBOOK, as_version=4)
    source_text = "\n".join(c.source for c in source.cells)
    blocks = re.findall(r"BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", source_text, re.S)
    hidden = [ln.strip() for b in blocks for ln in b.splitlines()[1:] if len(ln.strip()) > 25]
    assert hidden, "notebook 1 should have hidden tests to look for"
    pages = write_feedback(course, ASSIGNMENT)
    files = pages + list((Path(course.root) / "autograded").rglob("*.ipynb"))
    # echo-hidden's own cell quotes a hidden line (that is its attack): its output is checked below
    shown = [p.read_text() for p in files if "echo-hidden" not in p.parts]
    for text in shown:
        assert "HIDDEN TESTS" not in text
        assert not [line for line in hidden if line in text]
        assert str(course.root) not in text
    html = (Path(course.root) / "feedback" / "html" / ASSIGNMENT / "graphs.html").read_text()
    assert "<script>document.title" not in html and "Score: 10 / 10, graded</div>" not in html
    echo = nbformat.read(
        Path(course.root) / "autograded" / "echo-hidden" / ASSIGNMENT / NOTEBOOK, as_version=4
    )
    printed = "".join(o.get("text", "") for c in echo.cells for o in c.get("outputs", []))
    assert "withheld" in printed and not [line for line in hidden if line in printed]
    reversed_copy = (
        Path(course.root) / "autograded" / "reversed-leak" / ASSIGNMENT / NOTEBOOK
    ).read_text()
    assert not [line for line in hidden if line[::-1] in reversed_copy]
    displays = Path(course.root) / "autograded" / "displays" / ASSIGNMENT / NOTEBOOK
    assert displays.stat().st_size < 4_000_000, "a notebook's output is capped as a whole"
    leaked = nbformat.read(
        Path(course.root) / "autograded" / "leak-inputs" / ASSIGNMENT / NOTEBOOK, as_version=4
    )
    tests = [c for c in leaked.cells if c.metadata.get("nbgrader", {}).get("grade")]
    printed = [o.get("text", "") for c in tests for o in c.get("outputs", [])]
    assert printed and not [t for t in printed if "leaked:" in t]


def test_grading_again_grades_nothing_twice(graded):
    """Does a second run skip every unchanged submission and leave the records as they were?"""
    course, _, records, _ = graded
    again = grade(course, [ASSIGNMENT], workers=2, limits=LIMITS, progress=False)
    assert again.graded == []
    assert {r.student_id for r in again.skipped} == set(records)
    for r in load_results(course.root, ASSIGNMENT):
        assert r.graded_at == records[r.student_id].graded_at


@pytest.mark.parametrize("kind", ["unshare", "none"])
def test_weaker_sandboxes_still_refuse_the_attacks(tmp_path, kind):
    """Without bubblewrap, are solutions, the gradebook and other folders still refused?"""
    isolation = detect_isolation(kind)
    if isolation.kind != kind:
        pytest.skip(f"{kind} is not available here: {isolation.detail}")
    course = make_course(tmp_path)
    chosen = ["perfect", "read-solutions", "gradebook", "write-outside", "daemon"]
    _submit(course, [BY_NAME[s] for s in chosen])
    db = Path(course.root) / ".nbgrader" / "gradebook.db"
    run = grade(course, [ASSIGNMENT], 2, limits=LIMITS, isolation=isolation, progress=False)
    got = {r.student_id: r.notebooks[0] for r in run.graded}
    for student in chosen:
        want = BY_NAME[student]
        assert (got[student].status, got[student].score) == (want.status, want.score), got[
            student
        ].reason
    assert "run as separate processes" in run.format() or kind == "unshare"
    with sqlite3.connect(db) as conn:
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
    assert not (Path(course.root) / "escape.txt").exists()


def test_a_killed_run_loses_nothing_and_grades_nothing_twice(tmp_path):
    """After SIGKILL midway, does the next run grade exactly the submissions left over?"""
    course = make_course(tmp_path)
    students = ["perfect", "partial", "blank", "buggy", "sys-exit", "renamed"]
    _submit(course, [BY_NAME[s] for s in students])
    results = Path(course.root) / ".nbgrader" / "results" / ASSIGNMENT
    cmd = [sys.executable, "-m", "autograder", "--course", str(course.root), "grade"]
    cmd += ["--workers", "1", "--assignment", ASSIGNMENT]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(results.glob("*.json"))) < 2:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    first = {p.stem: p.stat().st_mtime_ns for p in results.glob("*.json")}
    assert 2 <= len(first) < len(students), "the run should be killed midway"
    assert not list(results.glob(".*.tmp")), "no half-written record"
    run = grade(course, [ASSIGNMENT], workers=2, limits=LIMITS, progress=False)
    assert {r.student_id for r in run.graded} == set(students) - set(first)
    assert {p.stem: p.stat().st_mtime_ns for p in results.glob("*.json") if p.stem in first} == (
        first
    )
    scores = gradebook_scores(course, ASSIGNMENT)
    assert {s: scores[s][0] for s in students} == {s: BY_NAME[s].score for s in students}
