"""nbgrader for a student on the course hub: the course and the shared exchange, nothing else.

The hub's spawner puts this folder on JUPYTER_CONFIG_PATH for every member of the students'
group; the Assignments tab (fetch, validate, submit, fetch feedback) reads it.
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

c.CourseDirectory.course_id = os.environ.get("BACKPROP_KIT_COURSE_ID", "backprop-kit")
c.Exchange.root = os.environ.get("BACKPROP_KIT_EXCHANGE", "/srv/nbgrader/exchange")
