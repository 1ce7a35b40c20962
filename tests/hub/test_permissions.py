"""With real Unix users on the hub's layout, can a student get at another student's work, the
gradebook, or the exchange's released copies, and does collect --exchange see through a
submission made under another student's name?

One instructor and two students are created (root only; skipped otherwise, saying why). The first
student fetches and submits with nbgrader's own commands, the instructor collects and releases a
feedback page, and the second student then tries each way in, as that Unix user.
"""

import json
import textwrap

import pytest

from tests.hub._site import ASSIGNMENT, site

COURSE_ID = "backprop-kit"

PROBE = textwrap.dedent(
    """
    import json, os, sys
    out = {}
    def attempt(name, fn):
        try:
            fn()
            out[name] = "allowed"
        except OSError as err:
            out[name] = type(err).__name__
    ex, course, home, theirs = sys.argv[1:5]
    j = os.path.join
    c = j(ex, "backprop-kit")
    attempt("list inbound", lambda: os.listdir(j(c, "inbound")))
    attempt("list feedback", lambda: os.listdir(j(c, "feedback")))
    attempt("list other home", lambda: os.listdir(home))
    attempt("read other cache", lambda: os.listdir(j(home, ".local/share/jupyter/nbgrader_cache")))
    attempt("list course", lambda: os.listdir(course))
    attempt("read gradebook", lambda: open(j(course, ".nbgrader/gradebook.db"), "rb").close())
    attempt("read feedback", lambda: os.listdir(j(course, "feedback")))
    attempt("read submitted", lambda: os.listdir(j(course, "submitted")))
    attempt("write outbound", lambda: open(j(c, "outbound/01-graphs/graphs.ipynb"), "a").close())
    attempt("add to outbound", lambda: open(j(c, "outbound/01-graphs/extra.py"), "w").close())
    attempt("rename other's submission", lambda: os.rename(theirs, theirs + "x"))
    attempt("remove the course", lambda: os.rename(c, c + "-gone"))
    print(json.dumps(out))
    """
)

RELEASE = textwrap.dedent(
    """
    import sys
    from autograder import Course
    from autograder.results.exchange_feedback import release_feedback
    course = Course()
    page = course.root / "feedback" / sys.argv[1] / "01-graphs" / "graphs.html"
    page.parent.mkdir(parents=True)
    page.write_text("<p>Score: 3 / 10</p>")
    report = release_feedback(course, [page])
    assert len(report.released) == 1, report.format()
    """
)


@pytest.fixture(scope="module")
def course_site():
    with site(students=("p1", "p2")) as s:
        yield s


def test_a_student_cannot_reach_another_student_s_work(course_site):
    """Is every way from the second student to the first one's submission, feedback, cache,
    the gradebook and the released copies refused by the file system?"""
    s = course_site
    p1, p2 = s.students
    s.run(p1, ["nbgrader", "fetch_assignment", ASSIGNMENT])
    s.run(p1, ["nbgrader", "submit", ASSIGNMENT])
    inbound = s.exchange / COURSE_ID / "inbound"
    (mine,) = [p for p in inbound.iterdir() if p.name.startswith(p1 + "+")]
    report = s.kit("collect", "--exchange", "--assignment", ASSIGNMENT).stdout
    assert f"collected   {p1}/{ASSIGNMENT}/graphs.ipynb" in report
    s.run(s.instructor, ["python", "-c", RELEASE, p1], cwd=s.course)
    (page,) = (s.exchange / COURSE_ID / "feedback").iterdir()
    assert page.read_text() == "<p>Score: 3 / 10</p>"
    home = f"/home/{p1}"
    probe = s.run(p2, ["python", "-c", PROBE, str(s.exchange), str(s.course), home, str(mine)])
    result = json.loads(probe.stdout)
    assert result == dict.fromkeys(result, "PermissionError"), result
    assert mine.is_dir()


def test_released_copies_hold_no_solutions(course_site):
    """Does the exchange's outbound copy of the assignment hold no solution or hidden test?"""
    outbound = course_site.exchange / COURSE_ID / "outbound" / ASSIGNMENT
    texts = [p.read_text() for p in outbound.rglob("*") if p.is_file()]
    assert texts, f"nothing released in {outbound}"
    for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert not any(marker in t for t in texts), marker


def test_a_submission_under_another_name_is_refused(course_site):
    """When the second student submits as the first (nbgrader submit --student), or plants a
    file in the first one's newest submission, are both refused, naming the second student, and
    the first student's earlier own submission kept?"""
    s = course_site
    p1, p2 = s.students
    s.run(p1, ["nbgrader", "fetch_assignment", ASSIGNMENT], check=False)
    s.run(p1, ["nbgrader", "submit", ASSIGNMENT])
    inbound = s.exchange / COURSE_ID / "inbound"
    newest = max((p for p in inbound.iterdir() if p.name.startswith(p1 + "+")), key=_stamp)
    s.run(p2, ["nbgrader", "fetch_assignment", ASSIGNMENT])
    forged = s.run(p2, ["nbgrader", "submit", ASSIGNMENT, "--student", p1], check=False)
    assert forged.returncode == 0, forged.stderr  # nbgrader itself lets it through
    s.run(p2, ["touch", str(newest / "planted.txt")])  # had p2 learnt the folder's name
    report = s.kit("collect", "--exchange", "--assignment", ASSIGNMENT).stdout
    assert f"claims to be '{p1}''s submission but the folder belongs to Unix user '{p2}'" in report
    assert f"but its file 'planted.txt' belongs to Unix user '{p2}'" in report
    (line,) = [x for x in report.splitlines() if f" {p1}/{ASSIGNMENT}/graphs.ipynb" in x]
    assert line.split()[0] in ("unchanged", "collected"), report  # p1's first, own submission
    assert not (s.course / "submitted" / p1 / ASSIGNMENT / "planted.txt").exists()


def _stamp(path):
    return path.name.split("+")[2]
