"""Can the gradebook live on a PostgreSQL server instead of the course's SQLite file?

The URL checks run everywhere. The rest release ``01-graphs`` into a course whose gradebook is a
throw-away PostgreSQL server (``_postgres.py``; skipped, with the reason, where Debian's
``postgresql`` package is missing), grade two students, ``perfect`` (each answer cell as in the
solution) and ``untouched`` (the notebook as released), and read the scores back from PostgreSQL
with SQLAlchemy, not through nbgrader.
"""

import sys

import nbformat
import pytest
from sqlalchemy import create_engine, inspect, text

from autograder import Course, CourseError
from autograder.course.layout import mask_password
from tests.autograder._course import scratch_course, submit_perfect_and_untouched
from tests.autograder._postgres import create_database, throwaway_postgres

ASSIGNMENT = "01-graphs"
STUDENTS = ("perfect", "untouched")
NBGRADER_TABLES = {"assignment", "notebook", "grade_cells", "student", "submitted_assignment"}


# -- the URL, without a server ----------------------------------------------------------------


def test_default_gradebook_is_sqlite_in_the_course(tmp_path, monkeypatch):
    """Without an argument or BACKPROP_KIT_DB_URL, is the gradebook .nbgrader/gradebook.db?"""
    monkeypatch.delenv("BACKPROP_KIT_DB_URL", raising=False)
    course = Course(tmp_path)
    expected = f"sqlite:///{tmp_path.resolve()}/.nbgrader/gradebook.db"
    assert course.db_url == expected
    assert course.config().CourseDirectory.db_url == expected


def test_argument_beats_environment_beats_default(tmp_path, monkeypatch):
    """Does Course(db_url=...) win over BACKPROP_KIT_DB_URL, which wins over the SQLite file?"""
    monkeypatch.setenv("BACKPROP_KIT_DB_URL", "postgresql://grader@db.example.org/from_env")
    from_env = Course(tmp_path)
    assert from_env.db_url == "postgresql://grader@db.example.org/from_env"
    assert from_env.config().CourseDirectory.db_url == from_env.db_url
    given = Course(tmp_path, db_url="sqlite:////srv/course/gradebook.db")
    assert given.config().CourseDirectory.db_url == "sqlite:////srv/course/gradebook.db"


def test_unsupported_url_names_what_was_received_and_accepted(tmp_path):
    """Is a MySQL URL refused with the URL (password masked) and the accepted schemes?"""
    with pytest.raises(CourseError) as error:
        Course(tmp_path, db_url="mysql://grader:hunter2@db.example.org/gradebook")
    message = str(error.value)
    assert "mysql://grader:***@db.example.org/gradebook" in message
    assert "sqlite:///" in message and "postgresql://" in message
    assert "postgresql+psycopg2://" in message
    assert "hunter2" not in message


def test_postgres_url_without_driver_says_how_to_install_it(tmp_path, monkeypatch):
    """Without psycopg2, does a PostgreSQL URL fail with the pip command, password masked?"""
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    with pytest.raises(CourseError) as error:
        Course(tmp_path, db_url="postgresql+psycopg2://grader:hunter2@db.example.org/gradebook")
    message = str(error.value)
    assert "pip install 'backprop-kit[postgres]'" in message
    assert "psycopg2-binary" in message
    assert "grader:***@db.example.org" in message and "hunter2" not in message


@pytest.mark.parametrize(
    "url, masked",
    [
        ("postgresql://grader:hunter2@db/gb", "postgresql://grader:***@db/gb"),
        ("postgresql://grader:hun@t/r2@db:5432/gb", "postgresql://grader:***@db:5432/gb"),
        (
            "postgresql://db/gb?user=grader&password=hunter2",
            "postgresql://db/gb?user=grader&password=***",
        ),
        ("postgresql://grader@/gb?host=/tmp/pg", "postgresql://grader@/gb?host=/tmp/pg"),
        ("sqlite:////srv/course/gradebook.db", "sqlite:////srv/course/gradebook.db"),
    ],
)
def test_password_is_masked_wherever_it_is_written(url, masked):
    """Is a password hidden whether in user:password@, unencoded, or as ?password=?"""
    assert mask_password(url) == masked


# -- a real PostgreSQL server -----------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres_url():
    """The URL of a fresh database on a throw-away server, stopped when the module is done."""
    with throwaway_postgres("gradebook") as url:
        yield url


@pytest.fixture(scope="module")
def nbgrader_graded(postgres_url, tmp_path_factory):
    """A course released into PostgreSQL, both students autograded by nbgrader's API."""
    course = scratch_course(tmp_path_factory.mktemp("course"), [ASSIGNMENT], postgres_url)
    submit_both(course)
    api = course.api()
    logs = {s: api.autograde(ASSIGNMENT, s, force=True, create=True) for s in STUDENTS}
    return course, logs


def test_release_puts_nbgrader_tables_in_postgres_and_no_sqlite_file(nbgrader_graded):
    """Are the gradebook's tables and the assignment in PostgreSQL, with no .db file anywhere?"""
    course, _ = nbgrader_graded
    assert course.api().coursedir.db_url == course.db_url
    assert course.db_url.startswith("postgresql+psycopg2://")
    tables, assignments = read_tables(course.db_url)
    assert NBGRADER_TABLES <= tables, f"missing tables: {sorted(NBGRADER_TABLES - tables)}"
    assert assignments == [ASSIGNMENT]
    assert not (course.root / ".nbgrader" / "gradebook.db").exists()
    assert not list(course.root.rglob("*.db"))


def test_nbgrader_autograde_scores_land_in_postgres(nbgrader_graded):
    """Does autograde store full marks for the solution and 0 for the release, in PostgreSQL?"""
    course, logs = nbgrader_graded
    for student in STUDENTS:
        assert logs[student]["success"], logs[student].get("log")
    points = declared_points(course)
    assert read_scores(course.db_url) == {"perfect": (points, points), "untouched": (0, points)}


def test_kit_grader_writes_scores_to_postgres(postgres_url, tmp_path):
    """Does `grade` put full marks and zero in a PostgreSQL gradebook, as nbgrader does?"""
    from autograder.grading.grade import grade

    url = create_database(postgres_url, "gradebook_kit_grader")
    course = scratch_course(tmp_path, [ASSIGNMENT], url)
    submit_both(course)
    grade(course, [ASSIGNMENT], workers=2)
    points = declared_points(course)
    assert read_scores(url) == {"perfect": (points, points), "untouched": (0, points)}
    assert not list(course.root.rglob("*.db"))


# -- helpers ----------------------------------------------------------------------------------


def submit_both(course):
    """Submit ``perfect`` (the solution's answers) and ``untouched`` (the release) for grading."""
    submit_perfect_and_untouched(course, ASSIGNMENT)


def declared_points(course):
    """The points the solution notebooks give their grade cells: the assignment's maximum."""
    return sum(
        cell.metadata["nbgrader"].get("points", 0)
        for path in (course.source_dir / ASSIGNMENT).glob("*.ipynb")
        for cell in nbformat.read(path, as_version=4).cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    )


def read_tables(url):
    """(table names, assignment names) of the database at ``url``, read with SQLAlchemy."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            names = connection.execute(text("SELECT name FROM assignment ORDER BY name"))
            return set(inspect(connection).get_table_names()), [n for (n,) in names]
    finally:
        engine.dispose()


SCORES = text("""
    SELECT sa.student_id,
           SUM(COALESCE(g.manual_score, g.auto_score, 0) + COALESCE(g.extra_credit, 0)),
           SUM(gc.max_score)
    FROM grade g
    JOIN grade_cells gc ON gc.id = g.cell_id
    JOIN submitted_notebook sn ON sn.id = g.notebook_id
    JOIN submitted_assignment sa ON sa.id = sn.assignment_id
    JOIN assignment a ON a.id = sa.assignment_id
    WHERE a.name = :assignment
    GROUP BY sa.student_id
""")


def read_scores(url):
    """{student: (score, max score)} of ``ASSIGNMENT``, summed from the grade rows in SQL."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(SCORES, {"assignment": ASSIGNMENT})
            return {student: (score, max_score) for student, score, max_score in rows}
    finally:
        engine.dispose()
