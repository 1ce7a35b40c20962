"""``ShowSources``: the nbgrader preprocessor that writes each task's lecture sources under its
heading while generate_assignment makes the student notebook.

``nbgrader_config.py`` puts it first in ``GenerateAssignment.preprocessors``, so every way of
generating the release (``backprop-kit release``, the formgrader, the nbgrader API) writes the
same notebooks. It lives apart from ``lecture_map`` so that importing the map does not import
nbconvert.
"""

from nbconvert.preprocessors import Preprocessor
from traitlets import default

from autograder.course.lecture_map import show_sources

__all__ = ["ShowSources"]


class ShowSources(Preprocessor):
    """Insert ``lecture_map.shown_text`` under every ``### Task `<id>``` heading."""

    @default("enabled")
    def _enabled_default(self):
        return True  # nbconvert's preprocessors are off unless enabled; this one always runs

    def preprocess(self, nb, resources):
        """Fail with the map's ``SourceError`` (it names notebook and task) on a bad entry."""
        info = resources.get("nbgrader", {})
        assignment = info.get("assignment", "")
        notebook = info.get("notebook") or resources.get("unique_key", "")
        show_sources(nb, assignment, notebook)
        return nb, resources
