"""Are the solution notebooks shaped as promised: stripped, introduced, one id per task?"""

import re

import nbformat
import pytest

from tests.notebooks._run import solution_notebooks

NOTEBOOKS = solution_notebooks()
IDS = [p.parent.name for p in NOTEBOOKS]


def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_outputs_are_stripped(path):
    """Is every code cell committed without outputs or execution counts?"""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_opens_with_what_the_student_learns_does_and_which_lectures(path):
    """Does the first cell say what the student will learn and do, and cite the lectures?"""
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "markdown"
    for phrase in ("Follows", "You will learn", "You will do", "You need", "Lecture"):
        assert phrase in first.source, phrase


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_each_task_id_is_in_heading_grade_id_and_messages(path):
    """Does every graded task use one id in its heading, its grade_ids and its test messages?"""
    nb = nbformat.read(path, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    answers = [_meta(c)["grade_id"] for c in nb.cells if _meta(c).get("solution")]
    tests = [c for c in nb.cells if _meta(c).get("grade")]
    assert tests
    for cell in tests:
        tid, points = _meta(cell)["grade_id"], _meta(cell)["points"]
        unit = "point" if points == 1 else "points"
        assert f"### Task `{tid}` ({points} {unit})" in markdown, tid
        assert f'with task("{tid}")' in cell.source, tid
        assert cell.source.startswith(f'"""Task {tid}: '), tid
        assert f"{tid}-code" in answers, tid
    assert sorted(answers) == sorted(f"{_meta(c)['grade_id']}-code" for c in tests)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_part_points_add_up(path):
    """Does each 'Part X (N points)' heading equal the sum of its tasks' points?"""
    nb = nbformat.read(path, as_version=4)
    parts, current = {}, None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^## Part (\w) \((\d+) points?\)", cell.source, re.M)
            if m:
                current = m.group(1)
                parts[current] = [int(m.group(2)), 0]
        elif _meta(cell).get("grade"):
            assert current, f"task {_meta(cell)['grade_id']} comes before any Part heading"
            parts[current][1] += _meta(cell)["points"]
    assert parts and all(want == got for want, got in parts.values()), parts
    intro = nb.cells[0].source
    for part, (want, _) in parts.items():
        unit = "point" if want == 1 else "points"
        assert f"Part {part} ({want} {unit})" in intro, part
