"""A course site on this machine for the hub tests: real Unix users, folders, and a JupyterHub.

``site()`` makes, with ``deploy/jupyterhub/course_setup.py`` (what ``make hub`` runs): the users'
environment in ``/opt/backprop-kit-hub-test`` (built once, reused while its stamp matches the
checkout), an instructor and students with random names (``bkt<hex>-...``) in groups of their
own (``bkt<hex>-instructors``, ``bkt<hex>-students``), an exchange and a course folder under a
fresh ``/srv/backprop-kit-test-<hex>-...``, and ``01-graphs`` released into the exchange. On exit
it kills the users' processes, deletes the users, their homes and groups, and removes the folder.
``Hub`` runs ``jupyterhub`` with the deploy configuration on 127.0.0.1 (random ports; the users
log in with Unix passwords it sets, through PAM, as on a real hub) and stops it with its proxy
and servers.

Skips, saying why: not root, no ``runuser``/``useradd``, no Python every user can run, no
JupyterHub in this interpreter, no ``configurable-http-proxy`` and no npm to install it.
"""

import importlib.util
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from autograder.course.layout import REPO_ROOT
from tests.browser.test_lab_widgets import free_port, tail

sys.path.insert(0, str(REPO_ROOT / "deploy" / "jupyterhub"))
import course_setup  # noqa: E402

__all__ = ["Site", "site", "Hub", "course_setup", "require_root", "free_port", "tail"]

TEST_PREFIX = Path("/opt/backprop-kit-hub-test")
ASSIGNMENT = "01-graphs"
START_TIMEOUT = 60


def require_root():
    """Skip unless the test can create Unix users and run servers as them."""
    if os.geteuid() != 0:
        pytest.skip(
            "the hub tests create Unix users and run each user's server as that user: they need "
            "root (CI runs them as root through .ci/run)"
        )
    missing = [t for t in ("runuser", "useradd", "userdel", "groupadd") if not shutil.which(t)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not found (apt-get install util-linux passwd)")
    try:
        course_setup.system_python()
    except RuntimeError as err:
        pytest.skip(str(err))


def require_hub():
    if importlib.util.find_spec("jupyterhub") is None:
        pytest.skip("JupyterHub is not installed here (pip install -e '.[test]')")
    try:
        return course_setup.proxy()
    except (RuntimeError, subprocess.CalledProcessError) as err:
        pytest.skip(f"configurable-http-proxy is not available: {err}")


class Site:
    """The users, folders and environment of one test course."""

    def __init__(self, base, prefix, tag, students):
        self.base, self.prefix, self.tag = base, prefix, tag
        self.instructor = f"bkt{tag}-inst"
        self.students = [f"bkt{tag}-{s}" for s in students]
        self.exchange = base / "exchange"
        self.course = base / "course"
        self.state = base / "hub"
        self.groups = (f"bkt{tag}-instructors", f"bkt{tag}-students")

    def env(self, instructor=True):
        return course_setup.user_env(self.prefix, self.course, self.exchange, instructor)

    def run(self, user, argv, check=True, **kw):
        """Run ``argv`` as ``user`` with the environment the hub gives that user's server."""
        result = course_setup.run_as(
            user, argv, self.env(user == self.instructor), check=False, **kw
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"{' '.join(argv)} as {user} exited {result.returncode}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def kit(self, *args):
        """``backprop-kit ARGS`` as the instructor, in the course folder."""
        return self.run(self.instructor, ["backprop-kit", *args], cwd=self.course)


@contextmanager
def site(students=("s1", "s2")):
    """A ``Site`` set up as the module docstring says; everything removed after."""
    require_root()
    prefix = course_setup.build_env(TEST_PREFIX, log=lambda m: None)
    tag = secrets.token_hex(3)
    base = Path(tempfile.mkdtemp(prefix=f"backprop-kit-test-{tag}-", dir="/srv"))
    os.chmod(base, 0o755)
    s = Site(base, prefix, tag, students)
    try:
        course_setup.add_users([s.instructor], s.students, s.groups)
        course_setup.make_exchange(s.exchange)
        course_setup.make_course(s.instructor, s.course, assignments=[ASSIGNMENT])
        course_setup.release(s.instructor, ASSIGNMENT, prefix, s.course, s.exchange)
        yield s
    finally:
        course_setup.remove_users([s.instructor, *s.students])
        for group in s.groups:
            subprocess.run(["groupdel", group], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


class Hub:
    """``jupyterhub`` with deploy/jupyterhub/jupyterhub_config.py for ``site``, on 127.0.0.1."""

    def __init__(self, site, proxy):
        self.site, self.proxy = site, proxy
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.password = secrets.token_hex(12)
        self.log = site.state / "jupyterhub.log"
        self.proc = None

    def start(self):
        self.site.state.mkdir(mode=0o700)
        # the users log in with their Unix passwords, through PAM, as on a real hub
        users = (self.site.instructor, *self.site.students)
        lines = "".join(f"{user}:{self.password}\n" for user in users)
        subprocess.run(["chpasswd"], input=lines.encode(), check=True, capture_output=True)
        env = dict(os.environ)
        env.pop("BACKPROP_KIT_HUB_TRIAL_PASSWORD", None)
        env.update(
            BACKPROP_KIT_HUB_PREFIX=str(self.site.prefix),
            BACKPROP_KIT_COURSE=str(self.site.course),
            BACKPROP_KIT_EXCHANGE=str(self.site.exchange),
            BACKPROP_KIT_HUB_STATE=str(self.site.state),
            BACKPROP_KIT_HUB_PORT=str(self.port),
            BACKPROP_KIT_HUB_API_PORT=str(free_port()),
            BACKPROP_KIT_HUB_PROXY_API_PORT=str(free_port()),
            BACKPROP_KIT_HUB_PROXY=self.proxy,
            BACKPROP_KIT_HUB_INSTRUCTORS_GROUP=self.site.groups[0],
            BACKPROP_KIT_HUB_STUDENTS_GROUP=self.site.groups[1],
            BACKPROP_KIT_HUB_SINGLEUSER_ARGS=(
                "--LabApp.expose_app_in_browser=True --LabApp.news_url=None "
                "--LabApp.check_for_updates_class="
                "jupyterlab.handlers.announcements.NeverCheckForUpdate"
            ),
        )
        config = REPO_ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(config)],
                cwd=self.site.state,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"jupyterhub exited {self.proc.returncode}:\n{tail(self.log)}")
            try:
                with opener.open(f"{self.url}/hub/api", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyterhub did not answer on {self.url}:\n{tail(self.log)}")
            time.sleep(0.25)

    def stop(self):
        """SIGTERM: the hub stops the users' servers (cleanup_servers) and its proxy."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
