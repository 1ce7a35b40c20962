"""Does `collect --exchange` take each student's latest submission from nbgrader's exchange, with
every check of the folder collect, and does `feedback --release` put pages where nbgrader's
fetch_feedback finds them?

The exchange is made by nbgrader's own classes (``release_assignment``, ``ExchangeFetchAssignment``,
``ExchangeSubmit``, ``ExchangeFetchFeedback``, ``ExchangeList``) as the current user; what a
hostile student could leave in the inbound folder is then written by hand.
"""

import os
import shutil
from datetime import UTC, datetime, timedelta

import nbformat
import pytest
from nbgrader.utils import parse_utc

from autograder import Course
from autograder.cli import main
from autograder.intake import exchange as exchange_module
from autograder.intake.exchange import collect_exchange, exchange_root, parse_inbound_name
from autograder.results.exchange_feedback import release_feedback
from tests.autograder._course import scratch_course
from tests.autograder._exchange import COURSE_ID, Student, release_to_exchange

A = "01-graphs"


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    return scratch_course(tmp_path_factory.mktemp("released"), [A])


@pytest.fixture
def course(released, tmp_path):
    root = tmp_path / "course"
    for name in ("solutions", "notebooks", ".nbgrader"):
        shutil.copytree(released.root / name, root / name)
    return Course(root)


@pytest.fixture
def exchange(course, tmp_path):
    root = tmp_path / "exchange"
    release_to_exchange(course, root, A)
    return root


def student(name, exchange, tmp_path):
    return Student(name, tmp_path / "home" / name, exchange)


def note(text):
    """An edit adding a markdown cell, so two submissions differ."""
    return lambda nb: nb.cells.append(nbformat.v4.new_markdown_cell(text))


def entries(report, outcome):
    return [e for e in report.entries if e.outcome == outcome]


def inbound_time(path):
    return parse_inbound_name(path.name, A)[1]


def test_two_students_are_collected_with_nbgrader_s_timestamp(course, exchange, tmp_path):
    """Are two students' submissions collected into submitted/, each with the time in its
    exchange folder's name as timestamp.txt and its submission secret kept?"""
    s1, s2 = student("s001", exchange, tmp_path), student("s002", exchange, tmp_path)
    s1.fetch(A), s2.fetch(A)
    in1, in2 = s1.submit(A, note("one")), s2.submit(A, note("two"))
    report = collect_exchange(course, A, exchange)
    assert sorted(e.student for e in entries(report, "collected")) == ["s001", "s002"]
    assert not report.rejected and report.exit_code == 0
    for name, inbound in (("s001", in1), ("s002", in2)):
        folder = course.root / "submitted" / name / A
        assert parse_utc((folder / "timestamp.txt").read_text().strip()) == inbound_time(inbound)
        secret = (inbound / "submission_secret.txt").read_text()
        assert (folder / "submission_secret.txt").read_text() == secret
        assert (folder / "graphs.ipynb").read_bytes() == (inbound / "graphs.ipynb").read_bytes()


def test_latest_submission_replaces_and_an_unchanged_one_stays(course, exchange, tmp_path):
    """Does the latest of a student's submissions win, replace an older collected one, and
    does collecting again change nothing?"""
    s1 = student("s001", exchange, tmp_path)
    s1.fetch(A)
    s1.submit(A, note("first"))
    assert entries(collect_exchange(course, A, exchange), "collected")
    later = s1.submit(A, note("second"))
    report = collect_exchange(course, A, exchange)
    (entry,) = entries(report, "replaced")
    assert "the latest of 2 in the exchange" in entry.reason
    got = (course.root / "submitted" / "s001" / A / "graphs.ipynb").read_bytes()
    assert got == (later / "graphs.ipynb").read_bytes()
    assert list((course.root / ".nbgrader" / "replaced").glob(f"*/s001/{A}/graphs.ipynb"))
    assert [e.student for e in entries(collect_exchange(course, A, exchange), "unchanged")] == [
        "s001"
    ]


def test_a_newer_submission_already_collected_is_kept(course, exchange, tmp_path):
    """Is a submission collected earlier with a later time kept over the exchange's older one?"""
    s1 = student("s001", exchange, tmp_path)
    s1.fetch(A)
    inbound = s1.submit(A, note("exchange"))
    folder = course.root / "submitted" / "s001" / A
    folder.mkdir(parents=True)
    shutil.copy(inbound / "graphs.ipynb", folder / "graphs.ipynb")
    later = inbound_time(inbound) + timedelta(hours=1)
    (folder / "timestamp.txt").write_text(f"{later:%Y-%m-%d %H:%M:%S.%f} UTC\n")
    (folder / "graphs.ipynb").write_text((folder / "graphs.ipynb").read_text() + " ")
    (entry,) = entries(collect_exchange(course, A, exchange), "kept newer")
    assert "kept the newer submission already collected" in entry.reason
    assert (folder / "graphs.ipynb").read_text().endswith(" ")


def hand_made(exchange, name, files):
    """An inbound folder written by hand (what a student's own process could leave there)."""
    folder = exchange / COURSE_ID / "inbound" / name
    folder.mkdir()
    for rel, data in files.items():
        (folder / rel).write_bytes(data)
    return folder


def test_bad_inbound_names_are_rejected_and_left_in_place(course, exchange, tmp_path):
    """Is each malformed folder name of this assignment rejected, saying what it received and
    what nbgrader's format is, and left untouched in the exchange?"""
    good = student("s001", exchange, tmp_path)
    good.fetch(A)
    nb = (good.home / A / "graphs.ipynb").read_bytes()
    names = [
        f"s002+{A}+yesterday+abc",  # garbage timestamp
        f"s00+3+{A}+2026-11-20 14:02:11.123456 UTC",  # '+' in the student id
        f".hidden+{A}+2026-11-20 14:02:11.123456 UTC+abc",  # a hidden name
        f"s004+{A}+2026-11-20 14:02:11.123456 UTC+a b;c",  # not nbgrader's random part
    ]
    for name in names:
        hand_made(exchange, name, {"graphs.ipynb": nb})
    hand_made(exchange, "s005+02-sigmoid-neuron+2026-11-20 14:02:11.123456 UTC", {"x": b""})
    report = collect_exchange(course, A, exchange)
    reasons = " | ".join(e.reason for e in report.rejected)
    assert len(report.rejected) == 4, reasons
    assert "the timestamp 'yesterday' is not nbgrader's format" in reasons
    assert "a student id with '+'" in reasons
    assert "starts with '.'" in reasons
    assert "is not nbgrader's random suffix" in reasons
    assert "expected {student}+{assignment}+{timestamp}[+{random}]" in reasons
    assert "02-sigmoid-neuron" not in reasons  # another assignment's folder is not looked at
    inbound = exchange / COURSE_ID / "inbound"
    assert all((inbound / n / "graphs.ipynb").read_bytes() == nb for n in names)
    assert not (course.root / "submitted").exists()


def test_links_special_files_and_huge_submissions_are_refused(
    course, exchange, tmp_path, monkeypatch
):
    """Is a submission with a link, one that is a link, or one over the size limit set aside
    without reading what the link points to?"""
    secret = tmp_path / "instructor-secret.txt"
    secret.write_text("the answers")
    s1 = student("s001", exchange, tmp_path)
    s1.fetch(A)
    nb = (s1.home / A / "graphs.ipynb").read_bytes()
    stamp = "2026-11-20 14:02:11.123456 UTC"
    linked = hand_made(exchange, f"s001+{A}+{stamp}+aaa", {"graphs.ipynb": nb})
    (linked / "notes.txt").symlink_to(secret)
    (exchange / COURSE_ID / "inbound" / f"s002+{A}+{stamp}+bbb").symlink_to(s1.home / A)
    hand_made(exchange, f"s003+{A}+{stamp}+ccc", {"graphs.ipynb": nb, "big.bin": b"x" * 5000})
    monkeypatch.setattr(exchange_module, "MAX_SUBMISSION_BYTES", len(nb) + 100)
    report = collect_exchange(course, A, exchange)
    why = {e.student: e.reason for e in report.rejected}
    assert "'notes.txt' is a link or special file" in why["s001"]
    assert "is a link or not a folder" in why["s002"]
    assert "holds more than 0 MiB" in why["s003"]
    assert not (course.root / "submitted").exists()
    assert not any(
        "the answers" in p.read_text(errors="replace")
        for p in course.root.rglob("*")
        if p.is_file()
    )


def test_damaged_notebook_is_rejected_and_copied_aside(course, exchange, tmp_path):
    """Is a damaged notebook in the exchange rejected with the folder collect's reason, copied
    to rejected/, and the student listed for a zero?"""
    hand_made(exchange, f"s001+{A}+2026-11-20 14:02:11.123456 UTC+abc", {"graphs.ipynb": b"{"})
    report = collect_exchange(course, A, exchange)
    (entry,) = report.rejected
    assert "not valid JSON" in entry.reason and "expected a Jupyter notebook" in entry.reason
    assert list((course.root / ".nbgrader" / "rejected").glob("*/exchange/*/graphs.ipynb"))
    students = (course.root / ".nbgrader" / "rejected" / "students.jsonl").read_text()
    assert '"student": "s001"' in students
    assert report.exit_code == 1


def test_a_lying_timestamp_is_reported_and_not_believed(course, exchange, tmp_path):
    """Does a timestamp.txt that disagrees, a garbage one, and a name dated long before the
    folder was written each get a note, with the truthful time recorded?"""
    s1 = student("s001", exchange, tmp_path)
    s1.fetch(A)
    nb = (s1.home / A / "graphs.ipynb").read_bytes()
    hand_made(
        exchange,
        f"s001+{A}+2020-01-01 00:00:00.000000 UTC+abc",
        {"graphs.ipynb": nb, "timestamp.txt": b"2019-06-01 00:00:00.000000 UTC"},
    )
    hand_made(
        exchange,
        f"s002+{A}+2099-01-01 00:00:00.000000 UTC+abc",
        {"graphs.ipynb": nb, "timestamp.txt": b"\x00garbage"},
    )
    now = datetime.now(UTC)
    report = collect_exchange(course, A, exchange, now=now)
    why = {e.student: e.reason for e in report.collected}
    assert (
        "timestamp.txt says 2019-06-01 00:00:00 UTC but its folder name 2020-01-01" in why["s001"]
    )
    assert (
        "its name says 2020-01-01 00:00:00 UTC, but the exchange folder was written" in why["s001"]
    )
    recorded = parse_utc((course.root / "submitted/s001" / A / "timestamp.txt").read_text())
    assert abs(recorded - now.replace(tzinfo=None)) < timedelta(minutes=5)
    assert "not a time in nbgrader's format" in why["s002"]
    assert "later than now; recorded as now" in why["s002"]


def test_a_folder_owned_by_another_user_is_refused(course, exchange, tmp_path, monkeypatch):
    """On a shared exchange (the collector is someone else), is a submission whose folder
    belongs to a Unix user other than the student it names refused?"""
    s1 = student("s001", exchange, tmp_path)
    s1.fetch(A)
    s1.submit(A)
    monkeypatch.setattr(exchange_module.os, "geteuid", lambda: os.getuid() + 12345)
    report = collect_exchange(course, A, exchange)
    (entry,) = report.rejected
    assert "claims to be 's001''s submission but the folder belongs to Unix user" in entry.reason
    assert not (course.root / "submitted").exists()


def pages_for(course, names):
    pages = []
    for name in names:
        page = course.root / "feedback" / name / A / "graphs.html"
        page.parent.mkdir(parents=True)
        page.write_text(f"<html><body>feedback for {name}: 7/10</body></html>")
        pages.append(page)
    return pages


def test_released_feedback_is_what_nbgrader_fetches(course, exchange, tmp_path):
    """Does nbgrader's list see feedback ready after release, and does nbgrader's
    fetch_feedback give each student their own page, in a folder no one else can list?"""
    s1, s2 = student("s001", exchange, tmp_path), student("s002", exchange, tmp_path)
    for s in (s1, s2):
        s.fetch(A)
        s.submit(A)
    collect_exchange(course, A, exchange)
    report = release_feedback(course, pages_for(course, ["s001", "s002", "s003"]), exchange)
    assert len(report.released) == 2
    (skipped,) = report.skipped
    assert skipped.startswith("s003/") and "no submission_secret.txt" in skipped
    (listed,) = s1.listed(A)
    assert listed["submissions"][0]["notebooks"][0]["has_exchange_feedback"]
    for s in (s1, s2):
        (fetched,) = s.fetch_feedback(A)
        assert fetched.name == "graphs.html"
        assert f"feedback for {s.name}: 7/10" in fetched.read_text()
    outbound = exchange / COURSE_ID / "feedback"
    assert outbound.stat().st_mode & 0o777 == 0o711
    assert {p.stat().st_mode & 0o777 for p in outbound.iterdir()} == {0o644}


def test_a_bad_secret_is_not_released(course, exchange, tmp_path):
    """Is a page whose submission secret is not nbgrader's hex skipped, saying what it held?"""
    s1 = student("s001", exchange, tmp_path)
    s1.fetch(A)
    s1.submit(A)
    collect_exchange(course, A, exchange)
    (course.root / "submitted/s001" / A / "submission_secret.txt").write_text("../../etc")
    report = release_feedback(course, pages_for(course, ["s001"]), exchange)
    (skipped,) = report.skipped
    assert "holds '../../etc'" in skipped and "128 hex digits" in skipped
    assert not list((exchange / COURSE_ID / "feedback").iterdir())


def test_cli_collect_exchange_and_its_errors(course, exchange, tmp_path, capsys):
    """Does `backprop-kit collect --exchange` collect, and refuse PATH with --exchange, no
    --assignment, and a missing exchange, with exit status 2 and the reason?"""
    s1 = student("s001", exchange, tmp_path)
    s1.fetch(A)
    s1.submit(A)
    base = ["--course", str(course.root), "collect"]
    assert main([*base, "--exchange", str(exchange), "--assignment", A]) == 0
    assert "collected   s001/01-graphs/graphs.ipynb" in capsys.readouterr().out
    assert main([*base, "somewhere", "--exchange", str(exchange), "--assignment", A]) == 2
    assert "not both" in capsys.readouterr().err
    assert main([*base, "--exchange", str(exchange)]) == 2
    assert "needs --assignment" in capsys.readouterr().err
    assert main([*base, "--exchange", str(tmp_path / "nowhere"), "--assignment", A]) == 2
    assert "no inbound folder" in capsys.readouterr().err


def test_exchange_root_defaults_to_the_course_s_and_the_variable_wins(course, monkeypatch):
    """Is the exchange the course's own (.nbgrader/exchange, as `make lab` uses) unless
    $BACKPROP_KIT_EXCHANGE or the option names another?"""
    monkeypatch.delenv("BACKPROP_KIT_EXCHANGE", raising=False)
    assert exchange_root(course) == course.root / ".nbgrader" / "exchange"
    monkeypatch.setenv("BACKPROP_KIT_EXCHANGE", "/srv/nbgrader/exchange")
    assert str(exchange_root(course)) == "/srv/nbgrader/exchange"
    assert str(exchange_root(course, "/elsewhere")) == "/elsewhere"
