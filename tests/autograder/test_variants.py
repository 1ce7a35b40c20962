"""Does the grader check each value task on the numbers of the id a submission was collected
under, flag answers worked for someone else (or the slide), and leave variants off alone?

One scratch course of 01-graphs; each student's notebook is the solution with some answer cells
replaced, graded by the kit's grader in its sandbox.
"""

import nbformat
import pytest

from autograder.course.variants import declared_id, describe, uses_variants
from autograder.grading.grade import grade
from autograder.results.records import load_results
from autograder.sandbox.isolation import Limits
from chainrule.value_tasks import spec
from chainrule.variants import MATCHES, variant
from tests.autograder._course import filled_in, scratch_course, submit

ASSIGNMENT, NOTEBOOK = "01-graphs", "graphs.ipynb"
VALUE_TASKS = ("cost", "forward-values", "hand-gradients")
LIMITS = Limits(cell_seconds=30, notebook_seconds=180)
ID_LINE = 'STUDENT_ID = ""'


def _literal(value):
    return repr(float(value))


def typed_in(nb, student):
    """``nb`` with every value task's answer cell holding ``student``'s answers as literals."""
    for task_id in VALUE_TASKS:
        answers = spec(task_id).answers(variant(student, task_id))
        code = "\n".join(f"{k} = {_literal(v)}" for k, v in answers.items())
        cell = next(
            c
            for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade_id") == f"{task_id}-code"
        )
        cell.source = code
    return nb


def says(nb, student):
    """``nb`` whose STUDENT_ID line names ``student``."""
    cell = next(c for c in nb.cells if ID_LINE in c.source)
    cell.source = cell.source.replace(ID_LINE, f"STUDENT_ID = {student!r}")
    return nb


def _course(tmp_path, enabled=True):
    course = scratch_course(tmp_path, [ASSIGNMENT])
    if not enabled:  # the instructor's switch: enabled=False in the locked cell, then release
        path = course.source_dir / ASSIGNMENT / NOTEBOOK
        nb = nbformat.read(path, as_version=4)
        cell = next(c for c in nb.cells if "StudentNumbers(STUDENT_ID)" in c.source)
        cell.source = cell.source.replace(
            "StudentNumbers(STUDENT_ID)", "StudentNumbers(STUDENT_ID, enabled=False)"
        )
        nbformat.write(nb, path)
        result = course.api().generate_assignment(ASSIGNMENT, force=True, create=True)
        assert result["success"], result.get("log")
    release = course.release_dir / ASSIGNMENT / NOTEBOOK
    return course, lambda: filled_in(release, course.source_dir / ASSIGNMENT / NOTEBOOK)


def _graded(course):
    run = grade(course, [ASSIGNMENT], workers=2, limits=LIMITS, progress=False)
    assert run.graded
    return {r.student_id: r.notebooks[0] for r in load_results(course.root, ASSIGNMENT)}


def _task_scores(result):
    return {o.id: o.score for o in result.tasks}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course, solved = _course(tmp_path_factory.mktemp("variants"))
    submit(course, "alice", ASSIGNMENT, {NOTEBOOK: solved()})  # formulas: right for any id
    submit(course, "erin", ASSIGNMENT, {NOTEBOOK: says(typed_in(solved(), "erin"), "erin")})
    submit(course, "carol", ASSIGNMENT, {NOTEBOOK: typed_in(solved(), "")})  # the slide's
    copied = says(typed_in(solved(), "bob"), "bob")  # bob's notebook, handed in by dave
    submit(course, "dave", ASSIGNMENT, {NOTEBOOK: copied})
    renamed = says(typed_in(solved(), "alice"), "frank")  # alice's answers, frank's id line
    submit(course, "frank", ASSIGNMENT, {NOTEBOOK: renamed})
    return _graded(course)


def test_the_solution_earns_full_marks_under_any_collected_id(graded):
    """Does the solution (answers computed from the numbers) get every point as alice's?"""
    r = graded["alice"]
    assert (r.score, r.status) == (r.max_score, "graded"), r.reason


def test_an_honest_student_typing_their_own_numbers_earns_full_marks(graded):
    """Does erin, whose notebook says erin and holds erin's answers as literals, get them all?"""
    r = graded["erin"]
    assert (r.score, r.status) == (r.max_score, "graded"), r.reason


def test_the_slides_numbers_typed_in_earn_nothing_and_are_flagged(graded):
    """Do the slide's answers lose every value task's points and flag the notebook, naming
    the slide, while the other tasks keep theirs?"""
    r = graded["carol"]
    scores = _task_scores(r)
    assert all(scores[t] == 0 for t in VALUE_TASKS), scores
    assert all(v > 0 for t, v in scores.items() if t not in VALUE_TASKS), scores
    assert r.status == "flagged"
    for t in VALUE_TASKS:
        assert f"task {t}: {MATCHES} the slide's example" in r.reason, r.reason


def test_another_students_notebook_earns_nothing_and_names_them(graded):
    """Is bob's notebook, handed in by dave, flagged for its id line and for bob's numbers?"""
    r = graded["dave"]
    scores = _task_scores(r)
    assert all(scores[t] == 0 for t in VALUE_TASKS), scores
    assert r.status == "flagged"
    assert "STUDENT_ID is 'bob', but it was collected as 'dave'" in r.reason, r.reason
    assert f"task forward-values: {MATCHES} student bob's variant" in r.reason, r.reason


def test_a_classmates_answers_are_found_through_the_roster(graded):
    """Are alice's answers under frank's own id line found to be alice's (a collected id)?"""
    r = graded["frank"]
    assert all(_task_scores(r)[t] == 0 for t in VALUE_TASKS)
    assert f"task hand-gradients: {MATCHES} student alice's variant" in r.reason, r.reason
    assert "STUDENT_ID" not in r.reason


def test_asking_the_library_for_the_answers_is_flagged(tmp_path):
    """Is an answer cell that takes its answers from chainrule.value_tasks flagged as a
    reference call, while ``me(...)`` in the same cell is fine?"""
    course, solved = _course(tmp_path)
    nb = solved()
    cell = next(
        c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "forward-values-code"
    )
    cell.source = (
        "from chainrule.value_tasks import spec\n"
        "_a = spec('forward-values').answers(me('forward-values'))\nq, f = _a['q'], _a['f']"
    )
    submit(course, "mallory", ASSIGNMENT, {NOTEBOOK: nb})
    r = _graded(course)["mallory"]
    assert r.status == "flagged" and "chainrule.value_tasks.spec" in r.reason, r.reason


def test_with_variants_off_the_slide_is_graded_as_before(tmp_path):
    """With ``enabled=False`` in the notebook, do the slide's literals earn full marks again?"""
    course, solved = _course(tmp_path, enabled=False)
    assert not uses_variants(nbformat.read(course.source_dir / ASSIGNMENT / NOTEBOOK, as_version=4))
    submit(course, "carol", ASSIGNMENT, {NOTEBOOK: typed_in(solved(), "")})
    r = _graded(course)["carol"]
    assert (r.score, r.status) == (r.max_score, "graded"), r.reason
    assert "variants off" in describe(course, "carol", ["forward-values"])


def test_the_id_line_is_read_without_running_it():
    """Is STUDENT_ID read only from a plain string literal?"""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('STUDENT_ID = "  s42 "')])
    assert declared_id(nb) == "s42"
    nb.cells[0].source = "STUDENT_ID = open('/etc/passwd').read()"
    assert declared_id(nb) == ""


def test_variant_prints_a_students_numbers_and_answers(tmp_path, capsys):
    """Does ``backprop-kit variant`` print the numbers and answers the student's notebook has?"""
    from autograder.cli import main

    course, _ = _course(tmp_path)
    assert main(["--course", str(course.root), "variant", "s0000001", "hand-gradients"]) == 0
    out = capsys.readouterr().out
    v = variant("s0000001", "hand-gradients")
    assert f"numbers: {v}" in out and "01-graphs/graphs.ipynb" in out
    assert f"df_dz = {int(v.x + v.y)}" in out
    assert main(["--course", str(course.root), "variant", "s0000001", "max-gate"]) == 2
    assert "not a value task: 'max-gate'" in capsys.readouterr().err


def test_switching_variants_off_in_the_students_copy_changes_nothing(tmp_path):
    """Is a student's edit of the locked cell to ``enabled=False`` undone (the source's cell
    runs), so the slide's literals still earn nothing, and the edit flagged?"""
    course, solved = _course(tmp_path)
    nb = typed_in(solved(), "")
    cell = next(c for c in nb.cells if "StudentNumbers(STUDENT_ID)" in c.source)
    cell.source = cell.source.replace("(STUDENT_ID)", "(STUDENT_ID, enabled=False)")
    submit(course, "oscar", ASSIGNMENT, {NOTEBOOK: nb})
    r = _graded(course)["oscar"]
    assert all(_task_scores(r)[t] == 0 for t in VALUE_TASKS)
    assert r.status == "flagged" and "student-numbers" in r.reason, r.reason


@pytest.mark.parametrize(
    "patch, words",
    [
        (
            "import chainrule.variants\nchainrule.variants.check_answers = lambda *a, **k: None",
            "chainrule.variants.check_answers was replaced",
        ),
        (
            "import chainrule.value_tasks as v\n"
            "object.__setattr__(v.TASKS['cost'], 'answers', lambda n: {})",
            "chainrule.value_tasks.TASKS['cost'].answers was replaced",
        ),
        (
            "import chainrule.value_tasks as v\nv.TASKS['forward-values'] = v.TASKS['cost']",
            "chainrule.value_tasks.TASKS.forward-values was replaced",
        ),
    ],
    ids=["check", "answers", "registry"],
)
def test_patching_the_value_checks_is_flagged(tmp_path, patch, words):
    """Is a notebook that swaps the value tasks' check or answers flagged, with zero?"""
    course, solved = _course(tmp_path)
    nb = typed_in(solved(), "")
    nb.cells.insert(3, nbformat.v4.new_code_cell(patch))
    submit(course, "mallory", ASSIGNMENT, {NOTEBOOK: nb})
    r = _graded(course)["mallory"]
    assert (r.score, r.status) == (0.0, "flagged") and words in r.reason, r.reason


@pytest.mark.parametrize("line", ["STUDENT_ID = 12345", "STUDENT_ID = 'x' * 300"])
def test_a_malformed_id_line_does_not_cost_the_value_tasks(tmp_path, line):
    """Does a STUDENT_ID that is no id at all (a number, 300 characters) leave grading on the
    collected id, so that computed answers keep every point?"""
    course, solved = _course(tmp_path)
    nb = solved()
    cell = next(c for c in nb.cells if ID_LINE in c.source)
    cell.source = cell.source.replace(ID_LINE, line)
    submit(course, "alice", ASSIGNMENT, {NOTEBOOK: nb})
    r = _graded(course)["alice"]
    assert r.score == r.max_score, r.reason
