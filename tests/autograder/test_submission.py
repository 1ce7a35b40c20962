"""Does the grader read submitted files safely and line the student's cells up with the source,
so that test cells always run as the instructor wrote them?"""

import copy
import json

import nbformat
import pytest

from autograder.course.layout import REPO_ROOT
from autograder.demo.samples import solved
from autograder.intake.submission import (
    Unreadable,
    assemble,
    defined_names,
    find_notebook,
    read_submission,
)

A = "01-graphs"
NB = "graphs.ipynb"
SOURCE = nbformat.read(REPO_ROOT / "solutions" / A / NB, as_version=4)
RELEASE = nbformat.read(REPO_ROOT / "notebooks" / A / NB, as_version=4)


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _index(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if _gid(c) == grade_id)


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "is empty"),
        (b'{"cells": [', "not valid JSON"),
        (b'{"hello": 1}', "not a notebook"),
        (b"\xff\xfe\x00junk", "not UTF-8"),
    ],
)
def test_damaged_files_are_unreadable_with_a_reason(tmp_path, content, words):
    """Does each kind of damaged file give a reason that names the file and the problem?"""
    path = tmp_path / NB
    path.write_bytes(content)
    with pytest.raises(Unreadable) as err:
        read_submission(path)
    assert words in err.value.reason and NB in err.value.reason


def test_nbformat3_is_upgraded_with_a_note(tmp_path):
    """Is an nbformat 3 notebook read as version 4, keeping its nbgrader metadata?"""
    path = tmp_path / NB
    path.write_text(json.dumps(nbformat.convert(solved(RELEASE, SOURCE), 3)))
    nb, notes = read_submission(path)
    assert nb.nbformat == 4 and "nbformat 3" in notes[0]
    assert {_gid(c) for c in nb.cells} >= {"mul-gate", "mul-gate-code"}


def test_renamed_notebook_is_found_by_its_graded_cells(tmp_path):
    """Is a notebook saved under another name matched to the released one, and a missing one
    reported with what was found instead?"""
    ids = {_gid(c) for c in RELEASE.cells} - {None}
    nbformat.write(RELEASE, tmp_path / "Copy of my work.ipynb")
    (tmp_path / "notes.ipynb").write_text("not even json")
    path, note = find_notebook(tmp_path, NB, ids)
    assert path.name == "Copy of my work.ipynb" and "renamed" in note
    empty = tmp_path / "empty"
    empty.mkdir()
    path, note = find_notebook(empty, NB, ids)
    assert path is None and "missing" in note and "no notebooks" in note


def test_test_cells_run_from_the_source_with_hidden_tests():
    """Do test cells run the source (hidden tests included) but show only the visible tests,
    while answer cells run the student's code?"""
    plan = assemble(SOURCE, RELEASE, solved(RELEASE, SOURCE))
    test = next(c for c in plan.cells if c.grade_id == "mul-gate")
    assert test.kind == "test" and "BEGIN HIDDEN TESTS" in test.source
    assert "HIDDEN" not in test.shown
    answer = next(c for c in plan.cells if c.grade_id == "mul-gate-code")
    assert answer.kind == "answer" and answer.task == "mul-gate"
    kinds = {c.kind for c in plan.cells}
    assert kinds == {"markdown", "given", "answer", "test", "locked"}
    locked = [c for c in plan.cells if c.kind == "locked"]
    assert [c.grade_id for c in locked] == ["student-numbers"]  # the variants' cell, run as is
    assert not plan.tampered and not plan.notes


def test_edited_test_cell_is_replaced_and_noted():
    """Is an edited test cell run as in the source and noted as tampering?"""
    nb = solved(RELEASE, SOURCE)
    nb.cells[_index(nb, "add-gate")].source = "pass"
    plan = assemble(SOURCE, RELEASE, nb)
    test = next(c for c in plan.cells if c.grade_id == "add-gate")
    assert "expect_gate" in test.source
    assert "was edited" in plan.tampered["add-gate"]


@pytest.mark.parametrize("how", ["deleted", "untagged"])
def test_lost_test_cell_is_put_back_after_its_answer(how):
    """Is a deleted or untagged test cell restored right after its answer cell, and noted?"""
    nb = solved(RELEASE, SOURCE)
    i = _index(nb, "mul-gate")
    if how == "deleted":
        del nb.cells[i]
    else:
        nb.cells[i].metadata.pop("nbgrader")
    plan = assemble(SOURCE, RELEASE, nb)
    order = [c.grade_id for c in plan.cells if c.grade_id]
    assert order.index("mul-gate") == order.index("mul-gate-code") + 1
    assert "lost its nbgrader tags" in plan.tampered["mul-gate"]
    if how == "untagged":
        assert [c.kind for c in plan.cells].count("student") == 1


def test_deleted_answer_cell_is_graded_as_the_stub():
    """Is a deleted answer cell replaced by the released stub, with a note?"""
    nb = copy.deepcopy(RELEASE)
    del nb.cells[_index(nb, "cost-code")]
    plan = assemble(SOURCE, RELEASE, nb)
    answer = next(c for c in plan.cells if c.grade_id == "cost-code")
    assert "NotImplementedError" in answer.source
    assert any("'cost-code' was deleted" in n for n in plan.notes)


def test_added_and_duplicated_cells_run_as_student_code():
    """Do added cells, and a second cell claiming a test's id, run as the student's own code?"""
    nb = solved(RELEASE, SOURCE)
    nb.cells.insert(3, nbformat.v4.new_code_cell("helper = 1"))
    fake = copy.deepcopy(nb.cells[_index(nb, "graph")])
    fake.source = "print('graph passed')"
    nb.cells.append(fake)
    plan = assemble(SOURCE, RELEASE, nb)
    student = [c for c in plan.cells if c.kind == "student"]
    assert [c.source for c in student] == ["helper = 1", "print('graph passed')"]
    assert any("second cell with the id 'graph'" in n for n in plan.notes)


def test_defined_names_reads_top_level_definitions():
    """Are functions, classes and assigned names found, and a syntax error tolerated?"""
    src = "def f():\n    inner = 1\nclass G:\n    pass\na, (b, c) = 1, (2, 3)\nd: int = 4"
    assert defined_names(src) == {"f", "G", "a", "b", "c", "d"}
    assert defined_names("def broken(:") == set()
