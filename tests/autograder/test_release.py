"""Does `backprop-kit release` generate notebooks/ from solutions/, and does --check catch drift?"""

import json
import shutil

import pytest

from autograder import Course, CourseError, stale
from autograder.cli import main
from autograder.course.layout import REPO_ROOT

REPO = Course(REPO_ROOT)


def test_committed_notebooks_are_up_to_date():
    """Are the committed student notebooks exactly what nbgrader generates from solutions/?"""
    assert stale(REPO) == []


@pytest.fixture
def copy(tmp_path):
    """A scratch course with the repository's solutions, student notebooks and lecture map."""
    shutil.copytree(REPO.source_dir, tmp_path / "solutions")
    shutil.copytree(REPO.release_dir, tmp_path / "notebooks")
    (tmp_path / "docs").mkdir()
    shutil.copy(REPO.root / "docs" / "lecture-map.md", tmp_path / "docs")
    return Course(tmp_path)


def test_edited_solution_is_reported_out_of_date(copy):
    """Is a solution edited after the last release listed by name?"""
    path = copy.source_dir / "01-graphs" / "graphs.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"][0]["source"] = ["# A new title\n"]
    path.write_text(json.dumps(nb))
    assert stale(copy, ["01-graphs"]) == ["out of date: notebooks/01-graphs/graphs.ipynb"]


def test_missing_and_stray_notebooks_are_reported(copy):
    """Are a deleted student notebook and one not generated from solutions/ both listed?"""
    (copy.release_dir / "03-patterns" / "patterns.ipynb").rename(
        copy.release_dir / "03-patterns" / "old.ipynb"
    )
    assert stale(copy, ["03-patterns"]) == [
        "missing: notebooks/03-patterns/patterns.ipynb",
        "not generated from solutions/: notebooks/03-patterns/old.ipynb",
    ]


def test_release_repairs_drift_and_cli_check_agrees(copy, capsys):
    """Does `release` make `release --check` pass again, with exit codes 1 then 0?"""
    (copy.release_dir / "02-sigmoid-neuron" / "sigmoid_neuron.ipynb").write_text("{}")
    assert main(["--course", str(copy.root), "release", "--check", "02-sigmoid-neuron"]) == 1
    err = capsys.readouterr().err
    assert "out of date: notebooks/02-sigmoid-neuron/sigmoid_neuron.ipynb" in err
    assert "backprop-kit release" in err
    assert main(["--course", str(copy.root), "release", "02-sigmoid-neuron"]) == 0
    assert "wrote notebooks/02-sigmoid-neuron/sigmoid_neuron.ipynb" in capsys.readouterr().out
    assert main(["--course", str(copy.root), "release", "--check", "02-sigmoid-neuron"]) == 0


def test_released_notebook_hides_solutions_and_hidden_tests():
    """Do the student notebooks keep the stubs and visible tests but no solution or hidden test?"""
    for path in REPO.release_dir.glob("*/*.ipynb"):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, path
        assert "raise NotImplementedError()" in text and "with task(" in text, path


def test_unknown_assignment_is_a_clear_error(capsys):
    """Does asking for an assignment that does not exist name it and list the real ones?"""
    with pytest.raises(CourseError, match="no assignment 'lab9'.*expected one of: 01-graphs"):
        REPO.resolve(["lab9"])
    assert main(["release", "--check", "lab9"]) == 2
    assert "no assignment 'lab9'" in capsys.readouterr().err


def test_course_without_solutions_is_a_clear_error(tmp_path):
    """Is a course root with no solutions/ folder reported with the path it looked at?"""
    with pytest.raises(CourseError, match="no solutions/ folder"):
        Course(tmp_path).assignments()


def test_config_puts_course_state_inside_the_course(tmp_path):
    """Do the gradebook and the exchange live under the course root, not in /srv or $HOME?"""
    config = Course(tmp_path).config()
    assert config.CourseDirectory.root == str(tmp_path.resolve())
    assert config.CourseDirectory.source_directory == "solutions"
    assert config.CourseDirectory.release_directory == "notebooks"
    assert str(tmp_path.resolve()) in config.CourseDirectory.db_url
    assert config.Exchange.root.startswith(str(tmp_path.resolve()))
