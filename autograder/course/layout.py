"""The course: where solutions, student notebooks and nbgrader's state live, and its config.

The repository is the course root by default; ``BACKPROP_KIT_COURSE`` or ``Course(root)`` points
elsewhere (the tests grade in a temporary copy). Configuration comes from the committed
``autograder/course/nbgrader_config.py``, never from a user's home directory.

The gradebook is a SQLite file in the course, ``<root>/.nbgrader/gradebook.db``, unless
``BACKPROP_KIT_DB_URL`` or ``Course(db_url=...)`` names another database: a PostgreSQL server
serves a course graded on more than one machine (``pip install 'backprop-kit[postgres]'``)::

    sqlite:////srv/course/.nbgrader/gradebook.db
    postgresql://grader:secret@db.example.org/gradebook
    postgresql+psycopg2://postgres@/gradebook?host=/run/postgresql
"""

import importlib.util
import os
import re
import sys
import unicodedata
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "unsafe_student_id",
    "Course",
    "CourseError",
    "PACKAGE_DIR",
    "CONFIG_FILE",
    "REPO_ROOT",
    "DB_URL_SCHEMES",
    "check_db_url",
    "sqlite_gradebook_url",
    "mask_password",
    "tools_on_path",
    "files_under",
    "IGNORED",
]

CONFIG_FILE = Path(__file__).resolve().parent / "nbgrader_config.py"
PACKAGE_DIR = CONFIG_FILE.parent.parent
REPO_ROOT = PACKAGE_DIR.parent
IGNORED = {".ipynb_checkpoints", "__pycache__"}
DB_URL_SCHEMES = ("sqlite:///", "postgresql://", "postgresql+psycopg2://")
POSTGRES_DRIVER = "psycopg2"


class CourseError(RuntimeError):
    """A course command cannot go on: the message says what was found and what was expected."""


class Course:
    """One nbgrader course: ``solutions/`` (source) and ``notebooks/`` (release) under ``root``.

    ``db_url`` is the gradebook's SQLAlchemy URL: the argument, else ``BACKPROP_KIT_DB_URL``, else
    the SQLite file ``<root>/.nbgrader/gradebook.db``; it is checked here (``check_db_url``).
    """

    def __init__(self, root=None, db_url=None):
        self.root = Path(root or os.environ.get("BACKPROP_KIT_COURSE") or REPO_ROOT).resolve()
        self.source_dir = self.root / "solutions"
        self.release_dir = self.root / "notebooks"
        self.db_url = check_db_url(
            db_url or os.environ.get("BACKPROP_KIT_DB_URL") or sqlite_gradebook_url(self.root)
        )

    def __repr__(self):
        return f"Course({str(self.root)!r})"

    def config(self):
        """The traitlets ``Config`` nbgrader runs with for this course (``db_url`` included)."""
        from traitlets.config.loader import PyFileConfigLoader

        with _env(BACKPROP_KIT_COURSE=str(self.root), BACKPROP_KIT_DB_URL=self.db_url):
            return PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent)).load_config()

    def api(self):
        """An ``NbGraderAPI`` bound to this course."""
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        tools_on_path()
        config = self.config()
        return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)

    def assignments(self):
        """Assignment ids: the folders of ``solutions/`` that hold a notebook, sorted."""
        if not self.source_dir.is_dir():
            raise CourseError(f"no solutions/ folder in the course root {self.root}")
        return sorted(
            d.name
            for d in self.source_dir.iterdir()
            if d.is_dir() and d.name not in IGNORED and any(d.glob("*.ipynb"))
        )

    def resolve(self, assignments=None):
        """Check requested assignment ids against ``solutions/``; all of them when none given."""
        known = self.assignments()
        if not assignments:
            return known
        unknown = [a for a in assignments if a not in known]
        if unknown:
            raise CourseError(
                f"no assignment {', '.join(map(repr, unknown))} in {self.source_dir}; "
                f"expected one of: {', '.join(known) or '(none)'}"
            )
        return list(assignments)

    def release_notebooks(self, assignment):
        return sorted((self.release_dir / assignment).glob("*.ipynb"))

    def source_notebooks(self, assignment):
        return sorted((self.source_dir / assignment).glob("*.ipynb"))


def sqlite_gradebook_url(root):
    """The course's own SQLite gradebook: ``sqlite:///<root>/.nbgrader/gradebook.db``.

    A scratch course passes it as ``db_url`` to stay off a gradebook named by the environment.
    """
    return "sqlite:///" + str(Path(root).resolve() / ".nbgrader" / "gradebook.db")


def check_db_url(url):
    """``url`` when nbgrader can keep a gradebook there; a ``CourseError`` saying why not.

    Accepted: ``sqlite:///<path>`` and ``postgresql://`` or ``postgresql+psycopg2://`` with the
    psycopg2 driver installed. Messages show the URL with its password masked.
    """
    if not url.startswith(DB_URL_SCHEMES):
        raise CourseError(
            f"gradebook URL {mask_password(url)!r} is not supported; "
            f"expected one starting with {', '.join(DB_URL_SCHEMES)} "
            "(from Course(db_url=...) or BACKPROP_KIT_DB_URL)"
        )
    if url.startswith("postgresql") and importlib.util.find_spec(POSTGRES_DRIVER) is None:
        raise CourseError(
            f"gradebook URL {mask_password(url)!r} needs the PostgreSQL driver {POSTGRES_DRIVER}, "
            "which is not installed; install it with: pip install 'backprop-kit[postgres]' "
            "(or pip install psycopg2-binary)"
        )
    return url


# Up to the last "@": a password written unencoded may hold "@", "/" or "?".
_USERINFO_PASSWORD = re.compile(r"(://[^:/@?#]*):.*@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def mask_password(url):
    """``url`` with any password (``user:password@`` or ``?password=``) replaced by ``***``."""
    url = _USERINFO_PASSWORD.sub(r"\1:***@", url)
    return _QUERY_PASSWORD.sub(r"\1***", url)


def unsafe_student_id(student):
    """Why ``student`` cannot be a student id (a folder name, a gradebook key), or None."""
    if not student:
        return "is empty"
    if len(student) > 100:
        return f"is {len(student)} characters long; at most 100"
    if "/" in student or "\\" in student:
        return "holds a path separator"
    if ".." in student:
        return "holds '..'"
    if student.startswith("."):
        return "starts with '.' (a hidden name)"
    if any(unicodedata.category(c).startswith("C") for c in student):
        return "holds a control, format or undecodable character"
    if any(c.isspace() for c in student):
        return "holds a space"
    return None


def tools_on_path():
    """nbgrader runs the ``alembic`` command to create a gradebook: find the one beside Python.

    Without this, ``.venv/bin/backprop-kit`` fails when the virtual environment is not activated.
    """
    bindir = os.path.dirname(sys.executable)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if bindir not in parts:
        os.environ["PATH"] = os.pathsep.join([bindir, *parts])


def files_under(folder):
    """Relative paths of the files under ``folder``, skipping checkpoints and caches."""
    folder = Path(folder)
    if not folder.is_dir():
        return set()
    return {
        p.relative_to(folder)
        for p in folder.rglob("*")
        if p.is_file() and not IGNORED.intersection(p.relative_to(folder).parts)
    }


@contextmanager
def _env(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
