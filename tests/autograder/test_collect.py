"""Does `backprop-kit collect` put every student's notebook where nbgrader looks, and only those?

One scratch course (01-graphs and 02-sigmoid-neuron, released by nbgrader) is built per module;
each test collects into its own copy of it from folders and zips written in ``tmp_path``.
"""

import json
import os
import re
import shutil
import zipfile
from datetime import UTC, datetime

import nbformat
import pytest
from nbgrader.utils import parse_utc

from autograder import Course, CourseError
from autograder.intake import collect as collect_module
from autograder.intake import unpack
from autograder.intake.collect import collect
from tests.autograder._course import scratch_course

NOW = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
STAMP = "20261201T090000.000000Z"
T0 = datetime(2026, 11, 19, 10, 0, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 20, 14, 2, 11, 123456, tzinfo=UTC)
T2 = datetime(2026, 11, 21, 8, 30, 0, tzinfo=UTC)
ZIP_TIME = (2026, 11, 20, 14, 2, 10)


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    return scratch_course(tmp_path_factory.mktemp("released"), ["01-graphs", "02-sigmoid-neuron"])


@pytest.fixture
def course(released, tmp_path):
    """A fresh course with the released notebooks and nothing submitted yet."""
    root = tmp_path / "course"
    for name in ("solutions", "notebooks"):
        shutil.copytree(released.root / name, root / name)
    return Course(root)


def notebook(course, name="graphs.ipynb", note=None):
    """The released notebook's bytes; ``note`` adds a markdown cell so contents differ."""
    assignment = {"graphs.ipynb": "01-graphs", "sigmoid_neuron.ipynb": "02-sigmoid-neuron"}[name]
    nb = json.loads((course.release_dir / assignment / name).read_text())
    if note:
        nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": note})
    return json.dumps(nb, indent=1).encode()


def put(path, data, when=T1):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def zip_of(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=ZIP_TIME), data)
    return path


def submitted(course, student, assignment="01-graphs"):
    return course.root / "submitted" / student / assignment


def files_in(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def stamp_of(course, student, assignment="01-graphs"):
    return parse_utc((submitted(course, student, assignment) / "timestamp.txt").read_text())


def naive(when):
    return when.astimezone(UTC).replace(tzinfo=None)


def reasons(entries):
    return {os.path.basename(e.source): e.reason for e in entries}


def test_per_student_folders(course, tmp_path):
    """Are `<student>/<nb>` and `<student>/<assignment>/<nb>` collected with their other files?"""
    subs = tmp_path / "subs"
    nb1, nb2 = notebook(course, note="s001"), notebook(course, note="s002")
    put(subs / "s001" / "graphs.ipynb", nb1, T1)
    put(subs / "s002" / "01-graphs" / "graphs.ipynb", nb2, T2)
    put(subs / "s002" / "01-graphs" / "data" / "points.csv", b"x,y\n1,2\n", T0)
    put(subs / "s002" / "01-graphs" / "helper.py", b"SCALE = 2\n", T0)
    put(subs / "s002" / "01-graphs" / ".ipynb_checkpoints" / "graphs-checkpoint.ipynb", nb2)

    report = collect(course, subs, now=NOW)

    assert report.assignment == "01-graphs"
    assert [(e.student, e.notebook) for e in report.collected] == [
        ("s001", "graphs.ipynb"),
        ("s002", "graphs.ipynb"),
    ]
    assert not report.rejected and report.exit_code == 0
    assert (submitted(course, "s001") / "graphs.ipynb").read_bytes() == nb1
    assert files_in(submitted(course, "s002")) == [
        "data/points.csv",
        "graphs.ipynb",
        "helper.py",
        "timestamp.txt",
    ]
    assert (submitted(course, "s002") / "helper.py").read_bytes() == b"SCALE = 2\n"
    assert "with data/points.csv, helper.py" in report.collected[1].reason
    assert report.format().splitlines()[-1].startswith("collected 2, replaced 0, kept newer 0")
    assert all((subs / p).exists() for p in ("s001/graphs.ipynb", "s002/01-graphs/helper.py"))


def test_moodle_folders_and_links(course, tmp_path):
    """Do Moodle's per-student folders give the id, and are links refused, not followed?"""
    moodle, nb = tmp_path / "moodle", notebook(course)
    put(moodle / "Jane Doe_12345_assignsubmission_file_" / "graphs.ipynb", nb)
    put(moodle / "Jane Doe_12345_assignsubmission_onlinetext_" / "onlinetext.html", b"<p>hi</p>")
    put(moodle / "Al Ice_333_assignsubmission_file_" / "data.csv", b"1\n")
    secret = put(tmp_path / "secret.txt", b"not for students")
    (moodle / "Jane Doe_12345_assignsubmission_file_" / "link.txt").symlink_to(secret)

    report = collect(course, moodle, now=NOW)

    assert [e.student for e in report.collected] == ["12345"]
    assert files_in(submitted(course, "12345")) == [
        "graphs.ipynb",
        "onlinetext.html",
        "timestamp.txt",
    ]
    assert "student 12345 read from the Moodle folder" in report.collected[0].reason
    why = reasons(report.rejected)
    assert why["link.txt"] == "a link or special file; expected a regular file (left in place)"
    assert why["data.csv"].startswith(
        "a file of '333', whose files hold no readable notebook of 01-graphs; a copy is in"
    )


def test_timestamp_is_the_files_time_in_nbgrader_format(course, tmp_path):
    """Does timestamp.txt hold the notebook's mtime in the form nbgrader's parse_utc reads?"""
    put(tmp_path / "subs" / "s001" / "graphs.ipynb", notebook(course), T1)
    collect(course, tmp_path / "subs", now=NOW)
    text = (submitted(course, "s001") / "timestamp.txt").read_text().strip()
    assert text == "2026-11-20 14:02:11.123456 UTC"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} UTC", text)
    assert parse_utc(text) == naive(T1)


def test_time_in_the_future_is_recorded_as_now(course, tmp_path):
    """Is a notebook dated after `now` (a skewed clock) stamped `now`, and is that reported?"""
    put(
        tmp_path / "subs" / "s001" / "graphs.ipynb",
        notebook(course),
        datetime(2031, 1, 1, tzinfo=UTC),
    )
    report = collect(course, tmp_path / "subs", now=NOW)
    assert stamp_of(course, "s001") == naive(NOW)
    assert (
        "2031-01-01 00:00:00 UTC is later than now; recorded as now" in report.collected[0].reason
    )


def test_flat_lms_names(course, tmp_path):
    """Are plain, Moodle and Canvas file names read by the rule, and a doubtful one set aside?"""
    lms = tmp_path / "lms"
    nb = notebook(course)
    put(lms / "s001_graphs.ipynb", nb)
    put(lms / "s002-graphs.ipynb", nb)
    put(lms / "Jane Doe_12345_assignsubmission_file_graphs.ipynb", nb)
    put(lms / "Jane Doe_12345_assignsubmission_file_points.csv", b"1,2\n")
    put(lms / "doe_jane_67890_4242_Graphs-1.ipynb", nb)
    put(lms / "jane_doe_graphs.ipynb", nb)

    report = collect(course, lms, now=NOW)

    assert sorted(e.student for e in report.collected) == ["12345", "67890", "s001", "s002"]
    assert files_in(submitted(course, "12345")) == ["graphs.ipynb", "points.csv", "timestamp.txt"]
    moodle = [e for e in report.collected if e.student == "12345"][0]
    assert "student 12345 read from the Moodle name" in moodle.reason
    canvas = [e for e in report.collected if e.student == "67890"][0]
    assert canvas.submitted_as == "Graphs-1.ipynb" and canvas.notebook == "graphs.ipynb"
    assert "Canvas name" in canvas.reason
    why = reasons(report.rejected)["jane_doe_graphs.ipynb"]
    assert "student 'jane' with a notebook 'doe_graphs.ipynb'" in why
    assert "not a notebook of 01-graphs (graphs.ipynb)" in why
    assert not (course.root / "submitted" / "jane").exists()
    assert "naming rule:" in report.format()
    assert (course.root / ".nbgrader" / "rejected" / STAMP / "jane_doe_graphs.ipynb").exists()


def test_zip_with_a_top_folder(course, tmp_path):
    """Are zips of per-student folders and of flat files collected through one top folder?"""
    nb = notebook(course)
    folders = zip_of(
        tmp_path / "folders.zip",
        {"download/s001/graphs.ipynb": nb, "download/s002/01-graphs/graphs.ipynb": nb},
    )
    flat = zip_of(
        tmp_path / "flat.zip", {"export/s003_graphs.ipynb": nb, "export/s004-graphs.ipynb": nb}
    )

    first, second = collect(course, folders, now=NOW), collect(course, flat, now=NOW)

    assert [e.student for e in first.collected] == ["s001", "s002"]
    assert [e.student for e in second.collected] == ["s003", "s004"]
    assert first.collected[0].source == f"{folders}:download/s001/graphs.ipynb"
    for student in ("s001", "s002", "s003", "s004"):
        assert (submitted(course, student) / "graphs.ipynb").read_bytes() == nb
        assert stamp_of(course, student) == naive(datetime(*ZIP_TIME))
    assert folders.exists() and flat.exists()


def test_zip_slip_members_are_refused(course, tmp_path):
    """Is a member whose name leads outside the archive refused, unextracted, with the reason?"""
    nb = notebook(course)
    archive = zip_of(
        tmp_path / "lms.zip",
        {
            "../evil.ipynb": nb,
            "/tmp/abs-evil.ipynb": nb,
            "s001/../../up-evil.txt": b"x",
            "s001/graphs.ipynb": nb,
        },
    )
    report = collect(course, archive, now=NOW)

    assert [e.student for e in report.collected] == ["s001"]
    why = {e.source.split(":", 1)[1]: e.reason for e in report.rejected}
    assert set(why) == {"../evil.ipynb", "/tmp/abs-evil.ipynb", "s001/../../up-evil.txt"}
    assert "climbs out with '..'" in why["../evil.ipynb"]
    assert "is an absolute path" in why["/tmp/abs-evil.ipynb"]
    assert all("not extracted" in r for r in why.values())
    assert not list(tmp_path.rglob("*evil*"))
    assert not os.path.exists("/tmp/abs-evil.ipynb")


def test_empty_and_broken_zips_are_set_aside(course, tmp_path):
    """Are a zero-byte zip and a non-zip .zip rejected, kept aside, and the exit code 1?"""
    empty = put(tmp_path / "empty.zip", b"")
    broken = put(tmp_path / "broken.zip", b"this is not a zip archive")

    for path, words in ((empty, "an empty file (0 bytes)"), (broken, "not a readable zip archive")):
        report = collect(course, path, now=NOW)
        assert report.exit_code == 1 and not report.collected
        (entry,) = report.rejected
        assert entry.reason.startswith(words)
        assert "expected a zip archive" in entry.reason
        copy = course.root / ".nbgrader" / "rejected" / STAMP / path.name
        assert copy.read_bytes() == path.read_bytes()
        assert path.exists()


def test_zip_over_the_size_limit_is_an_error(course, tmp_path, monkeypatch):
    """Does a zip that would unpack past the limit stop collect with the sizes in words?"""
    monkeypatch.setattr(unpack, "MAX_EXTRACT_BYTES", 1000)
    archive = zip_of(tmp_path / "big.zip", {"s001/graphs.ipynb": notebook(course)})
    with pytest.raises(CourseError, match=r"big.zip unpacks to at least .* MiB; the limit is"):
        collect(course, archive, now=NOW)
    assert not (course.root / "submitted").exists()


def test_existing_submissions_newer_kept_older_replaced_same_unchanged(course, tmp_path):
    """Is a newer collected submission kept, an older one replaced, an identical one unchanged?"""
    v1, v0, v2 = (notebook(course, note=n) for n in ("v1", "v0", "v2"))
    first = put(tmp_path / "a" / "s001" / "graphs.ipynb", v1, T1)
    assert collect(course, tmp_path / "a", now=NOW).collected

    older = put(tmp_path / "b" / "s001" / "graphs.ipynb", v0, T0)
    report = collect(course, tmp_path / "b", now=NOW)
    (kept,) = report.kept_newer
    assert kept.reason == (
        "kept the newer submission already collected (2026-11-20 14:02:11 UTC) over "
        f"{older} (2026-11-19 10:00:00 UTC)"
    )
    assert (submitted(course, "s001") / "graphs.ipynb").read_bytes() == v1

    again = collect(course, tmp_path / "a", now=NOW)
    assert [e.outcome for e in again.entries] == ["unchanged"]
    assert first.exists()

    put(tmp_path / "c" / "s001" / "graphs.ipynb", v2, T2)
    (replaced,) = collect(course, tmp_path / "c", now=NOW).replaced
    assert replaced.reason.startswith(
        "replaced the older submission (2026-11-20 14:02:11 UTC) with this one (2026-11-21"
    )
    assert (submitted(course, "s001") / "graphs.ipynb").read_bytes() == v2
    assert stamp_of(course, "s001") == naive(T2)
    old = course.root / ".nbgrader" / "replaced" / STAMP / "s001" / "01-graphs" / "graphs.ipynb"
    assert old.read_bytes() == v1

    put(tmp_path / "d" / "s001" / "graphs.ipynb", notebook(course, note="v3"), T2)
    (tie,) = collect(course, tmp_path / "d", now=NOW).kept_newer
    assert "(same time, different content)" in tie.reason
    assert (submitted(course, "s001") / "graphs.ipynb").read_bytes() == v2

    put(tmp_path / "e" / "s001" / "graphs.ipynb", v1, datetime(2026, 11, 22, tzinfo=UTC))
    (again,) = collect(course, tmp_path / "e", now=NOW).replaced
    assert again.reason.endswith(f"now in .nbgrader/replaced/{STAMP}/s001/01-graphs.1")
    assert (old.parent.with_name("01-graphs.1") / "graphs.ipynb").read_bytes() == v2
    assert old.read_bytes() == v1


def test_corrupt_files_are_set_aside_with_the_reason(course, tmp_path):
    """Are broken notebooks refused with a reason, copied to rejected/ and left in place?"""
    good = notebook(course)
    bad = {
        "s001_graphs.ipynb": (good[:200], "not valid JSON ("),
        "s002_graphs.ipynb": (b"", "an empty file (0 bytes)"),
        "s003_graphs.ipynb": (b'{"cells": []}', "JSON but not a notebook (no 'nbformat' field)"),
        "s004_graphs.ipynb": (b'{"nbformat": 2, "worksheets": []}', "a notebook of nbformat 2"),
        "s005_graphs.ipynb": (b"%PDF-1.4\n\xff\xfe", "not text (not UTF-8)"),
        "notes.txt": (b"hello", "no student id in the name 'notes.txt'"),
    }
    lms = tmp_path / "lms"
    for name, (data, _) in bad.items():
        put(lms / name, data)
    put(lms / "s006_graphs.ipynb", good)

    report = collect(course, lms, now=NOW)

    assert [e.student for e in report.collected] == ["s006"]
    assert report.exit_code == 0
    why = reasons(report.rejected)
    assert set(why) == set(bad)
    for name, (data, words) in bad.items():
        assert why[name].startswith(words)
        copy = course.root / ".nbgrader" / "rejected" / STAMP / name
        assert copy.read_bytes() == data
        assert f"a copy is in .nbgrader/rejected/{STAMP}/{name}" in why[name]
        assert (lms / name).read_bytes() == data
    assert "expected a Jupyter notebook (JSON with 'nbformat' 3 or 4)" in why["s001_graphs.ipynb"]
    assert sorted(p.name for p in (course.root / "submitted").iterdir()) == ["s006"]


def test_nothing_usable_means_exit_code_1(course, tmp_path):
    """Is the exit code 1 when every file was rejected and nothing was collected?"""
    put(tmp_path / "lms" / "s001_graphs.ipynb", b"{")
    report = collect(course, tmp_path / "lms", now=NOW)
    assert report.exit_code == 1 and len(report.rejected) == 1
    assert report.format().splitlines()[-1].startswith("collected 0, replaced 0, kept newer 0")


def test_renamed_notebooks(course, tmp_path):
    """Is a variant name stored as released, another kept, and an older duplicate set aside?"""
    subs = tmp_path / "subs"
    nb, newer = notebook(course), notebook(course, note="newer")
    put(subs / "s001" / "Copy of Graphs (1).ipynb", nb)
    put(subs / "s002" / "my work.ipynb", nb)
    put(subs / "s003" / "graphs.ipynb", nb, T1)
    put(subs / "s003" / "graphs-Copy1.ipynb", newer, T2)

    report = collect(course, subs, now=NOW)

    entries = {e.student: e for e in report.collected}
    assert entries["s001"].notebook == "graphs.ipynb"
    assert entries["s001"].submitted_as == "Copy of Graphs (1).ipynb"
    assert "submitted as 'Copy of Graphs (1).ipynb'" in entries["s001"].reason
    assert (submitted(course, "s001") / "graphs.ipynb").read_bytes() == nb
    assert files_in(submitted(course, "s002")) == ["my work.ipynb", "timestamp.txt"]
    assert "not named as released (graphs.ipynb): kept under its own name" in entries["s002"].reason
    assert "no graphs.ipynb in this submission" in entries["s002"].reason
    assert (submitted(course, "s003") / "graphs.ipynb").read_bytes() == newer
    why = reasons(report.rejected)["graphs.ipynb"]
    assert why.startswith("an older copy (2026-11-20 14:02:11 UTC) of s003's graphs.ipynb")


def test_nbformat_3_notebook_is_collected(course, tmp_path):
    """Is an nbformat 3 notebook collected byte for byte, for the grader to upgrade?"""
    v4 = nbformat.reads(notebook(course).decode(), as_version=4)
    v3 = nbformat.writes(v4, version=3).encode()
    assert json.loads(v3)["nbformat"] == 3
    put(tmp_path / "subs" / "s001" / "graphs.ipynb", v3)
    report = collect(course, tmp_path / "subs", now=NOW)
    assert [e.student for e in report.collected] == ["s001"] and not report.rejected
    assert (submitted(course, "s001") / "graphs.ipynb").read_bytes() == v3


def test_unsafe_student_ids_are_refused(course, tmp_path):
    """Are ids with '..', a leading dot, a space or a control character refused, not altered?"""
    subs, nb = tmp_path / "subs", notebook(course)
    put(subs / ".s001" / "graphs.ipynb", nb)
    put(subs / "s 002" / "graphs.ipynb", nb)
    put(subs / "s\x07003" / "graphs.ipynb", nb)
    put(subs / ".._graphs.ipynb", nb)
    put(subs / "s004" / "graphs.ipynb", nb)

    report = collect(course, subs, now=NOW)

    assert [e.student for e in report.collected] == ["s004"]
    why = {e.student: e.reason for e in report.rejected}
    assert why[".s001"].startswith("student id '.s001' starts with '.' (a hidden name)")
    assert why["s 002"].startswith("student id 's 002' holds a space")
    assert why["s\x07003"].startswith("student id 's\\x07003' holds a control, format or")
    assert why[".."].startswith("student id '..' holds '..'")
    assert sorted(p.name for p in (course.root / "submitted").iterdir()) == ["s004"]


def test_assignment_is_inferred_from_names_and_folders(course, tmp_path):
    """Is the assignment told by a released notebook name, or by an assignment folder level?"""
    put(tmp_path / "a" / "s001_sigmoid_neuron.ipynb", notebook(course, "sigmoid_neuron.ipynb"))
    assert collect(course, tmp_path / "a", now=NOW).assignment == "02-sigmoid-neuron"
    assert (submitted(course, "s001", "02-sigmoid-neuron") / "sigmoid_neuron.ipynb").exists()

    put(tmp_path / "b" / "s002" / "01-graphs" / "my work.ipynb", notebook(course))
    report = collect(course, tmp_path / "b", now=NOW)
    assert report.assignment == "01-graphs"
    assert (submitted(course, "s002") / "my work.ipynb").exists()


def test_assignment_that_cannot_be_told_is_an_error(course, tmp_path):
    """Does collect stop, writing nothing, when the assignment cannot be told, saying why?"""
    put(tmp_path / "a" / "s001" / "notes.ipynb", notebook(course))
    put(tmp_path / "a" / "s002" / "notes (1).ipynb", notebook(course))
    with pytest.raises(CourseError) as err:
        collect(course, tmp_path / "a", now=NOW)
    assert "cannot tell which assignment" in str(err.value)
    assert "found notes (1).ipynb, notes.ipynb;" in str(err.value)
    assert "graphs.ipynb (01-graphs), sigmoid_neuron.ipynb (02-sigmoid-neuron)" in str(err.value)
    assert not (course.root / "submitted").exists()
    assert not (course.root / ".nbgrader" / "rejected").exists()

    put(tmp_path / "b" / "s001_graphs.ipynb", notebook(course))
    put(tmp_path / "b" / "s001_sigmoid_neuron.ipynb", notebook(course, "sigmoid_neuron.ipynb"))
    with pytest.raises(CourseError, match="holds several assignments: 01-graphs .*--assignment"):
        collect(course, tmp_path / "b", now=NOW)

    with pytest.raises(CourseError, match="no assignment '03-nope'"):
        collect(course, tmp_path / "b", "03-nope", now=NOW)


def test_given_assignment_sets_aside_other_assignments_notebooks(course, tmp_path):
    """With --assignment, is another assignment's notebook refused with the command to use?"""
    put(tmp_path / "b" / "s001_graphs.ipynb", notebook(course))
    put(tmp_path / "b" / "s001_sigmoid_neuron.ipynb", notebook(course, "sigmoid_neuron.ipynb"))
    report = collect(course, tmp_path / "b", "01-graphs", now=NOW)
    assert [e.notebook for e in report.collected] == ["graphs.ipynb"]
    assert reasons(report.rejected)["s001_sigmoid_neuron.ipynb"] == (
        "'sigmoid_neuron.ipynb' is a notebook of 02-sigmoid-neuron, not of 01-graphs; collect "
        "it with --assignment 02-sigmoid-neuron; a copy is in "
        f".nbgrader/rejected/{STAMP}/s001_sigmoid_neuron.ipynb"
    )


def test_course_folders_are_not_a_source(course):
    """Is collecting the course itself, or its submitted/ folder, refused?"""
    for path in (course.root, course.root / "submitted"):
        path.mkdir(exist_ok=True)
        with pytest.raises(CourseError, match="expected a download"):
            collect(course, path, now=NOW)


def test_interrupted_collect_leaves_no_half_written_notebook(course, tmp_path, monkeypatch):
    """Does a failure while writing leave the earlier submission whole and no partial files?"""
    put(tmp_path / "a" / "s001" / "graphs.ipynb", notebook(course, note="v1"), T1)
    collect(course, tmp_path / "a", now=NOW)
    put(tmp_path / "b" / "s001" / "graphs.ipynb", notebook(course, note="v2"), T2)
    put(tmp_path / "b" / "s001" / "z-data.csv", b"1\n", T2)

    def half_copy(src, dst, **kwargs):
        with open(src, "rb") as f, open(dst, "wb") as out:
            out.write(f.read()[:100])
        raise OSError("no space left on device")

    monkeypatch.setattr(collect_module.shutil, "copy2", half_copy)
    with pytest.raises(OSError, match="no space left"):
        collect(course, tmp_path / "b", now=NOW)

    assert files_in(course.root / "submitted") == [
        "s001/01-graphs/graphs.ipynb",
        "s001/01-graphs/timestamp.txt",
    ]
    assert (submitted(course, "s001") / "graphs.ipynb").read_bytes() == notebook(course, note="v1")
    assert stamp_of(course, "s001") == naive(T1)
