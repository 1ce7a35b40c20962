"""nbgrader for the instructors on the course hub: the kit's course, with the shared exchange.

The hub's spawner puts this folder on JUPYTER_CONFIG_PATH for members of the instructors' group
and sets BACKPROP_KIT_COURSE (the course folder) and BACKPROP_KIT_EXCHANGE (the exchange root);
the formgrader, `nbgrader release_assignment` and `backprop-kit` all read the same course.
"""

import os

from autograder.course.layout import CONFIG_FILE

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

load_subconfig(str(CONFIG_FILE))  # noqa: F821 - the kit's course: solutions/, notebooks/, gradebook
c.Exchange.root = os.environ.get("BACKPROP_KIT_EXCHANGE", "/srv/nbgrader/exchange")
