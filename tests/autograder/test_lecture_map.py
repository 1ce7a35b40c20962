"""Does the lecture map follow the solutions' metadata: in docs/, in the release, in errors?"""

import json
import re
import shutil

import nbformat
import pytest

from autograder import Course, stale
from autograder.cli import main
from autograder.course.layout import REPO_ROOT
from autograder.course.lecture_map import (
    LECTURES,
    MAP_FILE,
    TOPICS,
    SourceError,
    course_sources,
    render_map,
    show_sources,
)
from autograder.course.tasks import tasks

REPO = Course(REPO_ROOT)
SOLUTIONS = sorted(REPO.source_dir.glob("*/*.ipynb"))
SHOWN_LINE = re.compile(r"^> - (?P<lecture>[^:]+): (?P<where>.+) — \*(?P<topic>[^*]+)\*$")


def raw_sources(path):
    """``{task id: the metadata's list}`` read straight from a notebook's JSON."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    found = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {})
        grader = meta.get("nbgrader", {})
        if grader.get("grade") and not grader.get("solution"):
            found[grader["grade_id"]] = meta.get("backprop_kit", {}).get("sources")
    return found


def test_committed_map_matches_the_notebooks():
    """Is docs/lecture-map.md exactly what the solutions' metadata renders to?"""
    committed = (REPO.root / MAP_FILE).read_text(encoding="utf-8")
    assert committed == render_map(course_sources(REPO))
    assert committed.startswith("<!-- Generated") and "backprop-kit release" in committed


def test_every_task_has_a_known_source():
    """Does every task of every solution notebook name at least one lecture, place and topic?"""
    count = 0
    for path in SOLUTIONS:
        found = raw_sources(path)
        ids = [t.id for t in tasks(nbformat.read(path, as_version=4))]
        assert sorted(found) == sorted(ids), path
        for tid, sources in found.items():
            assert sources, f"{path.name}: {tid}"
            for s in sources:
                assert s["lecture"] in LECTURES and s["topic"] in TOPICS, (tid, s)
                assert s["where"].strip(), (tid, s)
        count += len(ids)
    assert count == len(course_sources(REPO)) == 48


def test_map_lists_every_source_once_per_task():
    """Does the map's by-notebook table hold one row per source, with the task's id first?"""
    text = (REPO.root / MAP_FILE).read_text(encoding="utf-8")
    for path in SOLUTIONS:
        for tid, sources in raw_sources(path).items():
            assert f"| `{tid}` |" in text, tid
            for s in sources:
                row = (
                    f"| {s['lecture']} | {s['where'].replace('|', chr(92) + '|')} | {s['topic']} |"
                )
                assert row in text, (tid, s)


def test_shown_text_under_each_heading_matches_the_metadata():
    """Do the student notebooks show, right under each task heading, exactly its sources?"""
    for path in SOLUTIONS:
        release = REPO.release_dir / path.parent.name / path.name
        cells = nbformat.read(release, as_version=4).cells
        for tid, sources in raw_sources(path).items():
            heading = f"### Task `{tid}`"
            [cell] = [c for c in cells if c.cell_type == "markdown" and heading in c.source]
            after = cell.source.split(heading, 1)[1].split("\n")[2:]  # rest of line, blank
            assert after[0] == "> **In the lectures:**", tid
            shown = [SHOWN_LINE.match(line) for line in after[1 : 1 + len(sources)]]
            assert all(shown), (tid, after)
            assert [m.groupdict() for m in shown] == [
                {
                    "lecture": s["lecture"],
                    "where": " ".join(s["where"].split()),
                    "topic": s["topic"],
                }
                for s in sources
            ], tid
            rest = after[1 + len(sources) :]
            assert not rest or not rest[0].startswith(">"), tid


def test_solutions_do_not_carry_the_shown_text():
    """Is the shown block written only by the release, never into the hand-edited solutions?"""
    for path in SOLUTIONS:
        assert "In the lectures:" not in path.read_text(encoding="utf-8"), path


def _notebook_with(sources):
    nb = nbformat.read(REPO.source_dir / "03-patterns" / "patterns.ipynb", as_version=4)
    test_cell = tasks(nb)[0].test_cell
    nb.cells[test_cell].metadata["backprop_kit"] = {"sources": sources}
    return nb


PREFIX = r"^solutions/03-patterns/patterns\.ipynb, task 'pattern-gradients'.*"
GOOD = {"lecture": "CS231n Lecture 4", "where": 'slides "Patterns in backward flow"',
        "topic": "gate patterns"}  # fmt: skip


@pytest.mark.parametrize(
    "bad, message",
    [
        ([], r": no lecture sources; expected cell metadata"),
        ([{**GOOD, "lecture": "CS230 Lecture 9"}],
         r", source 1: unknown lecture 'CS230 Lecture 9'; expected one "
         r"of: CS231n Lecture 4, CSC413 Lecture 2, Aarhus DL Lecture 3"),
        ([GOOD, {**GOOD, "where": "  "}],
         r"source 2: missing 'where'; expected the slide title, section or transcript"),
        ([{k: v for k, v in GOOD.items() if k != "where"}], r"source 1: missing 'where'"),
        ([{**GOOD, "topic": "calculus"}],
         r"source 1: unknown topic 'calculus'; expected one of: gradient checking"),
        ([{**GOOD, "slide": 12}], r"unknown key\(s\) 'slide'; expected only lecture, where"),
        ("CS231n", r"sources is a str"),
    ],
)  # fmt: skip
def test_bad_entry_is_a_clear_error(bad, message):
    """Does a bad entry name the notebook, the task, what was wrong and what is expected?"""
    with pytest.raises(SourceError, match=PREFIX + message):
        show_sources(_notebook_with(bad), "03-patterns", "patterns")


def test_task_without_heading_is_a_clear_error():
    """Is a task whose heading line is gone reported, rather than its sources dropped?"""
    nb = _notebook_with([GOOD])
    for cell in nb.cells:
        cell.source = cell.source.replace("### Task `pattern-gradients`", "### Pattern gradients")
    with pytest.raises(SourceError, match="task 'pattern-gradients': no heading line starting"):
        show_sources(nb, "03-patterns", "patterns")


@pytest.fixture
def copy(tmp_path):
    """A scratch course with the repository's solutions, student notebooks and lecture map."""
    shutil.copytree(REPO.source_dir, tmp_path / "solutions")
    shutil.copytree(REPO.release_dir, tmp_path / "notebooks")
    (tmp_path / "docs").mkdir()
    shutil.copy(REPO.root / MAP_FILE, tmp_path / MAP_FILE)
    return Course(tmp_path)


def _edit_first_source(course, where):
    path = course.source_dir / "01-graphs" / "graphs.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[tasks(nb)[0].test_cell].metadata["backprop_kit"]["sources"][0]["where"] = where
    nbformat.write(nb, path)


def test_check_reports_drift_and_release_repairs_it(copy, capsys):
    """Does an edited source make `release --check` list the map (exit 1) and `release` fix it?"""
    _edit_first_source(copy, 'slide "Gradient descent"')
    problems = stale(copy, ["01-graphs"])
    assert "out of date: notebooks/01-graphs/graphs.ipynb" in problems
    assert any(p.startswith("out of date: docs/lecture-map.md") for p in problems)
    assert main(["--course", str(copy.root), "release", "--check", "01-graphs"]) == 1
    assert "docs/lecture-map.md" in capsys.readouterr().err
    assert main(["--course", str(copy.root), "release", "01-graphs"]) == 0
    assert '| slide "Gradient descent" |' in (copy.root / MAP_FILE).read_text(encoding="utf-8")
    assert main(["--course", str(copy.root), "release", "--check", "01-graphs"]) == 0


def test_missing_or_hand_edited_map_is_reported(copy):
    """Are a deleted map and a hand edit to it both caught while the notebooks are fine?"""
    path = copy.root / MAP_FILE
    path.write_text(path.read_text(encoding="utf-8") + "\nA hand-written note.\n")
    assert stale(copy, ["02-sigmoid-neuron"]) == [
        "out of date: docs/lecture-map.md (the solutions' lecture sources changed)"
    ]
    path.unlink()
    assert [p.split(" (")[0] for p in stale(copy, ["02-sigmoid-neuron"])] == [
        "missing: docs/lecture-map.md"
    ]


def test_release_refuses_a_bad_source_before_nbgrader_runs(copy, capsys):
    """Is a bad source a clear command-line error (exit 2), leaving the notebooks alone?"""
    _edit_first_source(copy, "")
    before = (copy.release_dir / "01-graphs" / "graphs.ipynb").read_bytes()
    assert main(["--course", str(copy.root), "release", "01-graphs"]) == 2
    assert "task 'numerical-grad', source 1: missing 'where'" in capsys.readouterr().err
    assert (copy.release_dir / "01-graphs" / "graphs.ipynb").read_bytes() == before
