"""nbgrader configuration of the backprop-kit course: the repository is the course root.

Every nbgrader entry point reads this file: the `backprop-kit` command loads it in code, and
`make lab` starts JupyterLab with JUPYTER_CONFIG_PATH pointing here, so the formgrader and the
assignment list use the same course without anything in a user's home directory.

    solutions/<assignment>/<notebook>.ipynb   nbgrader "source" (hand-edited)
    notebooks/<assignment>/<notebook>.ipynb   nbgrader "release" (generated, committed)
    .nbgrader/gradebook.db                    the gradebook (SQLite, not committed)
    .nbgrader/exchange/                       the exchange, inside the course (not committed)

BACKPROP_KIT_DB_URL puts the gradebook elsewhere, e.g. on a PostgreSQL server
(postgresql://user:password@host/gradebook); `Course` checks the URL and sets it here.
"""

import os

from nbgrader.converters import GenerateAssignment

from autograder.course.show_sources import ShowSources

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

# This file is autograder/course/nbgrader_config.py: the repository is three folders up.
here = os.path.abspath(__file__)
root = os.environ.get("BACKPROP_KIT_COURSE") or os.path.dirname(
    os.path.dirname(os.path.dirname(here))
)
state = os.path.join(root, ".nbgrader")

c.CourseDirectory.root = root
c.CourseDirectory.course_id = "backprop-kit"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.db_url = os.environ.get("BACKPROP_KIT_DB_URL") or "sqlite:///" + os.path.join(
    state, "gradebook.db"
)

# The exchange lives inside the course, so the JupyterLab extension's assignment list works in
# a single-user setup instead of failing on a missing /srv/nbgrader/exchange. A multi-user
# course on JupyterHub sets Exchange.root to a shared directory instead.
c.Exchange.root = os.path.join(state, "exchange")
os.makedirs(c.Exchange.root, exist_ok=True)

# Generated student notebooks: each task's lecture sources (its test cell's metadata, see
# autograder/course/lecture_map.py) written under its heading, before nbgrader's own steps
# lock and checksum the cells; then a stub that says where to write.
c.GenerateAssignment.preprocessors = [
    ShowSources,
    *GenerateAssignment.class_traits()["preprocessors"].default(),
]
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Grading: every notebook runs in seconds; a cell that takes a minute is stuck.
c.Execute.timeout = 60
