"""Do the formgrader and the JupyterLab assignment list work with the committed course config?

Starts a Jupyter server the way `make lab` does (JUPYTER_CONFIG_PATH pointing at autograder/course/)
on a scratch course, and asks nbgrader's server extensions what an instructor's and a
student's browser would ask.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from autograder.course.layout import CONFIG_FILE
from tests.autograder._course import scratch_course

TOKEN = "backprop-kit-test"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port, path):
    sep = "&" if "?" in path else "?"
    url = f"http://127.0.0.1:{port}{path}{sep}token={TOKEN}"
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    course = scratch_course(tmp_path_factory.mktemp("course"), ["01-graphs"])
    port = _free_port()
    bindir = str(Path(sys.executable).parent)
    env = dict(
        os.environ,
        JUPYTER_CONFIG_PATH=str(CONFIG_FILE.parent),
        BACKPROP_KIT_COURSE=str(course.root),
        PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
    )
    log = open(course.root / "server.log", "w")  # closed in the finally below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "server",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={course.root}",
        ],
        cwd=course.root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                _get(port, "/api/status")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((course.root / "server.log").read_text()) from None
                time.sleep(0.5)
        yield port, course
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_formgrader_lists_the_course_assignments(server):
    """Does the formgrader see the released assignment with its source and release folders?"""
    port, _ = server
    (assignment,) = _get(port, "/formgrader/api/assignments")
    assert assignment["name"] == "01-graphs"
    assert assignment["source_path"] == "solutions/01-graphs"
    assert assignment["release_path"] == "notebooks/01-graphs"
    assert assignment["max_score"] == 10.0


def test_assignment_list_and_course_list_work_without_exchange_errors(server):
    """Do the student-side panels answer successfully (the exchange is inside the course)?"""
    port, course = server
    for path in ("/assignments?course_id=backprop-kit", "/courses"):
        reply = _get(port, path)
        assert reply["success"] is True, reply
    assert (course.root / ".nbgrader" / "exchange").is_dir()
