"""``backprop-kit feedback --release``: the feedback pages into nbgrader's exchange.

A student's JupyterLab finds feedback the way nbgrader's ``fetch_feedback`` and the Assignments
tab look for it: ``<exchange>/<course id>/feedback/<hash>.html``, where ``<hash>`` is
``nbgrader.utils.notebook_hash(secret=<submission_secret.txt>, notebook_id=<notebook name>)`` and
the secret is the one nbgrader's ``submit`` wrote into the submission (``collect --exchange``
keeps it in ``submitted/<student>/<assignment>/``). Only the student's own copy of the secret
(in their ``~/.local/share/jupyter/nbgrader_cache``) leads to the page, so the folder is
``rwx--x--x`` (nbgrader's ``0711``: no one else can list it) and each page ``rw-r--r--``.

The pages are the ones ``backprop-kit feedback`` writes (hidden tests and server paths taken out),
copied to a temporary name and renamed into place. A page is not released when its submission has
no usable secret (collected from a folder or LMS download, or a secret that is not the 128 hex
digits nbgrader writes), or when two pages would land on the same name; each is reported with the
reason, and nothing already in the exchange is removed.
"""

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course.layout import CourseError
from autograder.intake.exchange import course_id, exchange_root

__all__ = ["release_feedback", "ReleaseReport", "FEEDBACK_MODE", "PAGE_MODE"]

FEEDBACK_MODE = 0o711
PAGE_MODE = 0o644
_SECRET = re.compile(r"^[0-9a-f]{32,256}$")


@dataclass
class ReleaseReport:
    """What one release did: ``released`` and ``skipped`` lines, and where the pages went."""

    folder: str
    released: list = field(default_factory=list)
    skipped: list = field(default_factory=list)

    def format(self):
        lines = [f"feedback released into {self.folder}"]
        lines += [f"  released  {line}" for line in self.released]
        lines += [f"  skipped   {line}" for line in self.skipped]
        lines.append(f"{len(self.released)} released, {len(self.skipped)} skipped")
        return "\n".join(lines)


def release_feedback(course, pages, root=None):
    """Copy the feedback ``pages`` (``feedback/<student>/<assignment>/<notebook>.html`` paths,
    as ``write_feedback`` returns them) into the exchange under ``root`` (see ``exchange_root``).

    Returns a ``ReleaseReport``; ``CourseError`` when the exchange's course folder is missing.
    """
    from nbgrader.utils import notebook_hash

    course_dir = exchange_root(course, root) / course_id(course)
    if not course_dir.is_dir():
        raise CourseError(
            f"no course folder {course_dir} in the exchange; expected nbgrader's exchange there "
            "(give its root with --release DIR, or `nbgrader release_assignment` first)"
        )
    outbound = course_dir / "feedback"
    outbound.mkdir(mode=FEEDBACK_MODE, exist_ok=True)
    if outbound.stat().st_uid == os.geteuid():
        os.chmod(outbound, FEEDBACK_MODE)  # nbgrader's; another owner's folder is left as it is
    report = ReleaseReport(str(outbound))
    targets = {}
    for page in map(Path, pages):
        student, assignment, notebook = page.parts[-3], page.parts[-2], page.stem
        what = f"{student}/{assignment}/{notebook}"
        secret, problem = _secret(course.root / "submitted" / student / assignment)
        if problem:
            report.skipped.append(f"{what}: {problem}")
            continue
        name = notebook_hash(secret=secret, notebook_id=notebook) + ".html"
        targets.setdefault(name, []).append((what, page))
    for name, group in sorted(targets.items()):
        if len(group) > 1:
            who = ", ".join(w for w, _ in group)
            report.skipped += [f"{w}: the same secret and notebook as {who}" for w, _ in group]
            continue
        what, page = group[0]
        _place(page, outbound / name)
        report.released.append(f"{what} as {name}")
    return report


def _secret(folder):
    """The submission's secret, or why there is none usable."""
    path = folder / "submission_secret.txt"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with open(fd, "rb") as f:
            data = f.read(1024)
    except FileNotFoundError:
        return None, (
            "no submission_secret.txt in the collected submission (collected from a folder or "
            "an LMS download, not with collect --exchange); nbgrader cannot match it to a student"
        )
    except OSError as err:
        return None, f"cannot read {path.name} ({err.strerror})"
    text = data.decode("ascii", "replace")  # hashed as read, the way nbgrader reads it
    if not _SECRET.fullmatch(text):
        return None, (
            f"its submission_secret.txt holds {text[:20]!r}...; expected the 128 hex digits "
            "that nbgrader's submit writes"
        )
    return text, None


def _place(page, target):
    """Copy ``page`` to ``target`` atomically, readable by all (the name is the secret)."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".releasing-", suffix=".html")
    try:
        with os.fdopen(fd, "wb") as out, open(page, "rb") as src:
            shutil.copyfileobj(src, out)
        os.chmod(tmp, PAGE_MODE)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
