"""JupyterHub for one backprop-kit course: one server, local Unix users, nbgrader's exchange.

    jupyterhub -f deploy/jupyterhub/jupyterhub_config.py     (as root; `make hub` for a trial)

- **Users** are the machine's Unix accounts, logging in with their passwords (PAM), if they are
  in the group ``backprop-students`` or ``backprop-instructors``. Each one's server runs as that
  user (``LocalProcessSpawner``) from the users' environment (``BACKPROP_KIT_HUB_PREFIX``, default
  ``/opt/backprop-kit-hub``: a virtualenv with the kit and JupyterHub, readable by all).
- **Students** get JupyterLab in their home with nbgrader's Assignments tab (fetch, validate,
  submit, fetch feedback); the formgrader and the course list are switched off for them
  (``<prefix>/etc/backprop-kit/student``).
- **Instructors** get JupyterLab in the course folder (``BACKPROP_KIT_COURSE``, default
  ``/srv/backprop-kit/course``, owned by them, mode 0700) with the formgrader on the kit's
  gradebook and ``backprop-kit`` on their PATH, pointed at the exchange
  (``<prefix>/etc/backprop-kit/instructor``).
- **The exchange** is ``BACKPROP_KIT_EXCHANGE`` (default ``/srv/nbgrader/exchange``), mode 1777
  (nbgrader's o+rwx, plus the sticky bit so no one removes another's files).

A trial on 127.0.0.1 (``make hub``): ``BACKPROP_KIT_HUB_TRIAL_PASSWORD`` replaces PAM
with JupyterHub's ``DummyAuthenticator`` and that one password for every allowed user; it is
refused unless the hub listens on 127.0.0.1. The tests log in through PAM, with Unix passwords
they set.

Other settings, all from the environment:

- ``BACKPROP_KIT_HUB_IP`` (default 127.0.0.1) and ``BACKPROP_KIT_HUB_PORT`` (8000): where the
  hub listens; ``BACKPROP_KIT_HUB_API_PORT`` (8081) and ``BACKPROP_KIT_HUB_PROXY_API_PORT``
  (8001): its internal ports, on 127.0.0.1;
- ``BACKPROP_KIT_HUB_STATE`` (``/srv/jupyterhub``): the hub's database and cookie secret;
- ``BACKPROP_KIT_HUB_PROXY``: the ``configurable-http-proxy`` command (default: from PATH);
- ``BACKPROP_KIT_HUB_STUDENTS_GROUP``, ``BACKPROP_KIT_HUB_INSTRUCTORS_GROUP``: other group names;
- ``BACKPROP_KIT_HUB_USERS``: comma-separated user names allowed besides the groups' members;
- ``BACKPROP_KIT_HUB_SINGLEUSER_ARGS``: extra arguments for every user's server.
"""

import grp
import os
import pwd
import shlex

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

PREFIX = os.environ.get("BACKPROP_KIT_HUB_PREFIX", "/opt/backprop-kit-hub")
CONF = os.path.join(PREFIX, "etc", "backprop-kit")
COURSE = os.environ.get("BACKPROP_KIT_COURSE", "/srv/backprop-kit/course")
EXCHANGE = os.environ.get("BACKPROP_KIT_EXCHANGE", "/srv/nbgrader/exchange")
STATE = os.environ.get("BACKPROP_KIT_HUB_STATE", "/srv/jupyterhub")
IP = os.environ.get("BACKPROP_KIT_HUB_IP", "127.0.0.1")
STUDENTS = os.environ.get("BACKPROP_KIT_HUB_STUDENTS_GROUP", "backprop-students")
INSTRUCTORS = os.environ.get("BACKPROP_KIT_HUB_INSTRUCTORS_GROUP", "backprop-instructors")
TRIAL_PASSWORD = os.environ.get("BACKPROP_KIT_HUB_TRIAL_PASSWORD")


def members(group):
    """The user names in a Unix group: its listed members and those whose primary group it is."""
    try:
        g = grp.getgrnam(group)
    except KeyError:
        return set()
    return set(g.gr_mem) | {p.pw_name for p in pwd.getpwall() if p.pw_gid == g.gr_gid}


# -- the hub and its proxy -----------------------------------------------------------------------
c.JupyterHub.ip = IP
c.JupyterHub.port = int(os.environ.get("BACKPROP_KIT_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("BACKPROP_KIT_HUB_API_PORT", "8081"))
c.JupyterHub.db_url = "sqlite:///" + os.path.join(STATE, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(STATE, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(STATE, "jupyterhub.pid")
c.ConfigurableHTTPProxy.pid_file = os.path.join(STATE, "jupyterhub-proxy.pid")
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{}".format(
    os.environ.get("BACKPROP_KIT_HUB_PROXY_API_PORT", "8001")
)
if os.environ.get("BACKPROP_KIT_HUB_PROXY"):
    c.ConfigurableHTTPProxy.command = [os.environ["BACKPROP_KIT_HUB_PROXY"]]
c.JupyterHub.cleanup_servers = True

# -- who may log in ------------------------------------------------------------------------------
extra = {u for u in os.environ.get("BACKPROP_KIT_HUB_USERS", "").split(",") if u}
if TRIAL_PASSWORD:
    if IP != "127.0.0.1":
        raise SystemExit(
            f"BACKPROP_KIT_HUB_TRIAL_PASSWORD is for a trial on 127.0.0.1, not on {IP}: "
            "unset it to log in with the users' own passwords (PAM)"
        )
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = TRIAL_PASSWORD
    c.Authenticator.allowed_users = members(STUDENTS) | members(INSTRUCTORS) | extra
else:
    c.JupyterHub.authenticator_class = "pam"
    c.PAMAuthenticator.allowed_groups = {STUDENTS, INSTRUCTORS}
    c.PAMAuthenticator.admin_groups = {INSTRUCTORS}
    c.Authenticator.allowed_users = extra

# -- each user's server, as that user ------------------------------------------------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [os.path.join(PREFIX, "bin", "jupyterhub-singleuser")]
c.Spawner.args = shlex.split(os.environ.get("BACKPROP_KIT_HUB_SINGLEUSER_ARGS", ""))
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 90
c.Spawner.http_timeout = 90


def per_role(spawner):
    """Students and instructors get their own Jupyter configuration, folder and variables."""
    name = spawner.user.name
    instructor = name in members(INSTRUCTORS)
    role = "instructor" if instructor else "student"
    spawner.environment.update(
        {
            "JUPYTER_CONFIG_PATH": os.path.join(CONF, role),
            "BACKPROP_KIT_EXCHANGE": EXCHANGE,
            "PATH": os.pathsep.join(
                [os.path.join(PREFIX, "bin"), "/usr/local/bin", "/usr/bin", "/bin"]
            ),
        }
    )
    if instructor:
        spawner.environment["BACKPROP_KIT_COURSE"] = COURSE
        # The grader's temporary files (its work folders, its slot locks) in the course folder,
        # the instructor's alone, rather than in the /tmp every student shares. course_setup
        # makes it.
        spawner.environment["TMPDIR"] = os.path.join(COURSE, ".nbgrader", "tmp")
        spawner.notebook_dir = COURSE
    else:
        spawner.notebook_dir = pwd.getpwnam(name).pw_dir


c.Spawner.pre_spawn_hook = per_role
