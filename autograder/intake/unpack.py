"""Reading a download of submissions: a folder as it is, or a zip unpacked with care.

Every file becomes an ``Item`` (its path, where it came from, its time). A zip is unpacked into a
temporary folder with a size budget; members that would land outside it (``..``, absolute
paths, links, control characters) are refused and reported, never written; archive clutter
(``__MACOSX``, ``._*``, ``.DS_Store``, checkpoints) is skipped.
"""

import os
import re
import stat
import tempfile
import unicodedata
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from autograder.course.layout import IGNORED, CourseError

__all__ = ["Item", "MAX_EXTRACT_BYTES", "JUNK", "check_source", "opened"]

MAX_EXTRACT_BYTES = 200 * 2**20
JUNK = IGNORED | {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"}
CHUNK = 2**20


@dataclass
class Item:
    """One file of the input while it is being sorted."""

    path: Path | None
    source: str
    aside: str
    parts: tuple
    mtime: float = 0.0
    level: str | None = None
    flat: bool = False
    student: str | None = None
    dest: str | None = None
    submitted_as: str | None = None
    notes: list = field(default_factory=list)


def check_source(course, path):
    real, root = path.resolve(), course.root
    if real == root or real in root.parents:
        raise CourseError(
            f"{path} holds the course {root} itself; expected a download of submissions"
        )
    for inside in (root / "submitted", root / ".nbgrader"):
        if real == inside or inside in real.parents:
            raise CourseError(f"{path} is inside the course's {inside.name}/; expected a download")


@contextmanager
def opened(path, run):
    """The input's files as ``Item``\\ s: a folder's own, or a zip's extracted to a temp dir."""
    if path.is_dir():
        yield _walk(path, run)
    elif not path.is_file():
        raise CourseError(f"no such folder or file: {path}; expected a folder or a .zip")
    elif path.suffix.lower() != ".zip":
        raise CourseError(f"{path} is a {path.suffix or 'plain'} file; expected a folder or a .zip")
    else:
        problem = _zip_problem(path)
        if problem:
            run.reject(Item(path, str(path), path.name, (path.name,)), problem)
            yield None
            return
        with tempfile.TemporaryDirectory(prefix="backprop-kit-collect-") as tmp:
            yield _extract(path, Path(tmp), run)


def _walk(base, run):
    items = []
    for dirpath, dirnames, filenames in os.walk(base):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d not in JUNK)
        for name in dirnames + sorted(filenames):
            full = here / name
            rel = full.relative_to(base).as_posix()
            if _junk(name) or (full.is_dir() and not full.is_symlink()):
                continue
            item = Item(full, str(base / rel), rel, PurePosixPath(rel).parts)
            if full.is_symlink() or not full.is_file():
                item.path = None
                run.reject(item, "a link or special file; expected a regular file (left in place)")
                continue
            item.mtime = full.stat().st_mtime
            items.append(item)
    return items


def _junk(name):
    return name in JUNK or name.startswith("._")


def _zip_problem(path):
    if path.stat().st_size == 0:
        return "an empty file (0 bytes); expected a zip archive of submissions"
    try:
        with zipfile.ZipFile(path) as zf:
            zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        return f"not a readable zip archive ({err}); expected a zip archive of submissions"
    return None


def _extract(path, tmp, run):
    items = []
    with zipfile.ZipFile(path) as zf:
        members = [i for i in zf.infolist() if not i.is_dir()]
        size = sum(i.file_size for i in members)
        if size > MAX_EXTRACT_BYTES:
            raise _too_big(path, size)
        budget = MAX_EXTRACT_BYTES
        for info in members:
            name = info.filename.replace("\\", "/")
            parts = PurePosixPath(name).parts
            if any(_junk(p) for p in parts):
                continue
            item = Item(None, f"{path}:{info.filename}", f"{path.name}/{name}", parts)
            problem = _unsafe_member(name, info) or _already(tmp, parts)
            if problem:
                run.reject(item, problem)
                continue
            try:
                budget -= _extract_member(zf, info, tmp.joinpath(*parts), budget, path)
            except (
                zipfile.BadZipFile,
                RuntimeError,
                NotImplementedError,
                EOFError,
                zlib.error,
            ) as e:
                run.reject(item, f"cannot be read from the archive ({e}); expected a stored file")
                continue
            item.path, item.mtime = tmp.joinpath(*parts), _zip_time(info, path)
            os.utime(item.path, (item.mtime, item.mtime))
            items.append(item)
    return items


def _too_big(path, size):
    return CourseError(
        f"{path} unpacks to at least {size / 2**20:.1f} MiB; the limit is "
        f"{MAX_EXTRACT_BYTES / 2**20:.1f} MiB. Unpack it yourself and collect the folder"
    )


def _unsafe_member(name, info):
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        reason = "is an absolute path"
    elif ".." in name.split("/"):
        reason = "climbs out with '..'"
    elif stat.S_ISLNK(info.external_attr >> 16):
        return f"member {name!r} is a symbolic link; expected a regular file (not extracted)"
    elif any(unicodedata.category(c) == "Cc" for c in name):
        reason = "holds a control character"
    else:
        return None
    return (
        f"member name {name!r} {reason}, which would write outside the folder it is "
        "unpacked to; expected a path inside the archive (not extracted)"
    )


def _already(tmp, parts):
    if tmp.joinpath(*parts).exists():
        return "a second member with this name in the archive; the first one is used"
    return None


def _extract_member(zf, info, target, budget, path):
    """Write one member to ``target``; the bytes written count against ``budget``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with zf.open(info) as src, open(target, "wb") as dst:
        while chunk := src.read(CHUNK):
            written += len(chunk)
            if written > budget:
                raise _too_big(path, MAX_EXTRACT_BYTES - budget + written)
            dst.write(chunk)
    return written


def _zip_time(info, path):
    try:
        return datetime(*info.date_time).timestamp()
    except (ValueError, OverflowError):
        return path.stat().st_mtime
