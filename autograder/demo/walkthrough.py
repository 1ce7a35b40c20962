"""``backprop-kit demo`` (``make demo``): the instructor pipeline, start to end, on sample students.

It builds a throw-away course from the repository's solutions of notebook 1, writes the bundled
sample submissions (``autograder.samples.DEMO``: correct, partial, blank, buggy and a few
hostile ones) as an LMS download, then runs collect -> grade -> feedback -> report and prints
the gradebook as nbgrader holds it. The course stays in a temporary folder (or ``--keep DIR``)
so the feedback pages and charts can be opened afterwards.
"""

import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder.course.layout import REPO_ROOT, Course, CourseError, sqlite_gradebook_url
from autograder.course.release import release
from autograder.demo.samples import ASSIGNMENT, DEMO, NOTEBOOK, SAMPLES, build
from autograder.grading.grade import grade, gradebook_scores
from autograder.intake.collect import collect
from autograder.results.feedback import write_feedback
from autograder.results.report import write_report
from autograder.sandbox.isolation import Limits

__all__ = ["run_demo", "make_course", "write_download"]

CELL_SECONDS = 10  # the sample that ignores interrupts costs this long; a course uses 60


def make_course(root):
    """A course at ``root`` with the repository's solutions of the demo assignment, released."""
    root = Path(root)
    course = Course(root, db_url=sqlite_gradebook_url(root))
    shutil.copytree(Course(REPO_ROOT).source_dir / ASSIGNMENT, course.source_dir / ASSIGNMENT)
    release(course, [ASSIGNMENT])
    return course


def write_download(course, folder, students=DEMO):
    """The samples as an LMS download: flat files named ``<student>_<notebook>``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    release_nb = nbformat.read(course.release_dir / ASSIGNMENT / NOTEBOOK, as_version=4)
    source_nb = nbformat.read(course.source_dir / ASSIGNMENT / NOTEBOOK, as_version=4)
    by_name = {s.student: s for s in SAMPLES}
    for student in students:
        for name, data in build(by_name[student], release_nb, source_nb).items():
            (folder / f"{student}_{name}").write_bytes(data)
    return folder


def _section(title, out):
    print(f"\n== {title}", file=out)


def run_demo(keep=None, workers=2, out=None):
    """Run the whole pipeline on a throw-away course; returns 0 when every step worked."""
    out = out or sys.stdout
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="backprop-kit-demo-"))
    if keep and root.exists() and any(root.iterdir()):
        raise CourseError(f"--keep {root}: the folder is not empty; expected a new or empty one")
    _section(f"course: {root} (notebook {ASSIGNMENT}, released from solutions/)", out)
    course = make_course(root)
    download = write_download(course, root / "lms-download")
    who = {s.student: s.about for s in SAMPLES}
    for student in DEMO:
        print(f"  {student:18} {who[student]}", file=out)
    _section(f"collect {download.relative_to(root)}", out)
    print(collect(course, download, ASSIGNMENT).format(), file=out)
    limits = Limits(cell_seconds=CELL_SECONDS)
    _section(f"grade --workers {workers} --cell-timeout {CELL_SECONDS}", out)
    run = grade(course, [ASSIGNMENT], workers=workers, limits=limits, stream=out)
    print(run.format(), file=out)
    _section("feedback", out)
    pages = write_feedback(course, ASSIGNMENT)
    print(f"wrote {len(pages)} pages, e.g. {pages[0].relative_to(root)}", file=out)
    _section("report", out)
    print(write_report(course, ASSIGNMENT).format(), file=out)
    _section("gradebook (nbgrader, read back)", out)
    for student, (score, max_score) in sorted(gradebook_scores(course, ASSIGNMENT).items()):
        print(f"  {student:18} {score:5g} / {max_score:g}", file=out)
    print(f"\nEverything is in {root}; remove it with: rm -rf {root}", file=out)
    return 0
