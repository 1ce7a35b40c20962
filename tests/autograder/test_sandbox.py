"""Does the sandbox hold a submission to its own folder and limits, and clean up after it?"""

import json
import os
import time

import pytest

from autograder.sandbox.host import Sandbox, SandboxDied
from autograder.sandbox.isolation import Limits, detect_isolation

FAST = Limits(cell_seconds=5, grace_seconds=2, notebook_seconds=30, memory_mb=1024)


@pytest.fixture
def bubblewrap():
    iso = detect_isolation("bubblewrap")
    if iso.kind != "bubblewrap":
        pytest.skip(f"bubblewrap unavailable (apt-get install bubblewrap): {iso.detail}")
    return iso


def _box(tmp_path, isolation, limits=FAST, **config):
    work = tmp_path / "01-graphs"
    work.mkdir()
    (work / "graphs.ipynb").write_text('{"cells": []}')
    return Sandbox(work, "graphs.ipynb", config, limits, isolation, slot=3)


def _out(reply):
    return "".join(o["text"] for o in reply["outputs"])


@pytest.mark.parametrize("field", ["memory_mb", "cell_seconds", "processes"])
def test_limits_must_be_positive(field):
    """Is a zero or negative limit refused with the field's name?"""
    with pytest.raises(ValueError, match=field):
        Limits(**{field: 0})


def test_detection_names_a_kind_and_says_why():
    """Does the detection always end with a kind and a sentence for the output?"""
    iso = detect_isolation()
    assert iso.kind in {"bubblewrap", "unshare", "none"} and len(iso.detail) > 20
    assert detect_isolation("none").kind == "none"


def test_bubblewrap_shows_only_the_students_notebook(tmp_path, bubblewrap):
    """Inside bubblewrap: only the notebook in its folder, no course, no network, own PIDs?"""
    box = _box(tmp_path, bubblewrap)
    with box:
        listing = _out(box.run(1, "import os\nprint(os.listdir('.'), os.getcwd())", True))
        assert "['graphs.ipynb'] /home/student/01-graphs" in listing
        assert box.run(2, f"open({str(tmp_path)!r} + '/x', 'w')", True)["status"] == "error"
        code = "import json, os\nprint(json.dumps([p for p in os.listdir('/proc') if p.isdigit()]))"
        pids = json.loads(_out(box.run(3, code, True)))
        assert max(map(int, pids)) < 10, "a PID namespace of its own"
        net = box.run(4, "import socket\nsocket.create_connection(('127.0.0.1', 22), 1)", True)
        assert net["status"] == "error"
        if os.geteuid() == 0:
            assert _out(box.run(5, "import os\nprint(os.getuid())", True)).strip() == "61003"


def test_process_limit_binds_under_bubblewrap(tmp_path, bubblewrap):
    """Does forking stop at the process limit instead of filling the machine?"""
    if os.geteuid() != 0:
        pytest.skip("the per-slot user (and so a binding RLIMIT_NPROC) needs root")
    box = _box(tmp_path, bubblewrap, Limits(cell_seconds=20, processes=40, memory_mb=1024))
    code = (
        "import os, time\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
        "            time.sleep(30)\n            os._exit(0)\n        n += 1\n"
        "except OSError:\n    pass\nprint(n)"
    )
    with box:
        assert int(_out(box.run(1, code, True))) < 40


def test_a_cell_that_ignores_interrupts_kills_the_sandbox(tmp_path):
    """Is a loop that ignores the interrupt and the alarm stopped by killing the sandbox, with a
    reason naming the cell?"""
    box = _box(tmp_path, detect_isolation(), Limits(cell_seconds=1, grace_seconds=1))
    box.start()
    code = "import signal\nfor s in (signal.SIGINT, signal.SIGALRM):\n"
    code += "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass"
    start = time.monotonic()
    with pytest.raises(SandboxDied) as err:
        box.run(7, code, True)
    assert err.value.timed_out and "cell 7" in err.value.reason
    assert time.monotonic() - start < 10
    box.close()


def test_a_crash_is_reported_with_its_signal(tmp_path):
    """Does a segmentation fault end the sandbox with a reason naming SIGSEGV?"""
    box = _box(tmp_path, detect_isolation())
    box.start()
    with pytest.raises(SandboxDied, match="SIGSEGV"):
        box.run(2, "import ctypes\nctypes.string_at(0)", True)
    box.close()
