"""Does the watchdog see a sandbox's processes together, and stop them when they pass a limit?"""

import os
import subprocess
import sys
import time

from autograder.sandbox.isolation import Limits
from autograder.sandbox.watchdog import Watchdog, kill_marked

HOLD = "import time; block = b'x' * ({mb} * 2**20); time.sleep(60)"


def _start(token, mb):
    env = dict(os.environ, BACKPROP_KIT_SANDBOX=token)
    code = HOLD.format(mb=mb)
    return subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True)


def test_memory_is_added_up_over_processes_and_stops_them(tmp_path):
    """Do three processes of 150 MB each, under a 300 MB limit, get stopped with a reason?"""
    token = "tok-watch-1"
    procs = [_start(token, 150) for _ in range(3)]
    killed = []
    dog = Watchdog(token, Limits(memory_mb=300), lambda: killed.append(kill_marked(token)), 0.2)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and dog.measure()[0] < 400 * 2**20:
            time.sleep(0.2)
        rss, _, count = dog.measure()
        assert count == 3 and rss > 400 * 2**20
        dog.run()
        assert killed and killed[0] >= 3
        assert "3 processes used" in dog.reason and "over the 300 MB limit" in dog.reason
        assert all(p.wait(timeout=5) != 0 for p in procs)
    finally:
        for p in procs:
            p.kill()


def test_other_processes_are_not_counted():
    """Is a process without the sandbox's token left out of the sums?"""
    stranger = _start("someone-else", 50)
    try:
        time.sleep(1)
        assert Watchdog("tok-watch-2", Limits(), lambda: None).measure() == (0, 0, 0)
    finally:
        stranger.kill()


def test_marked_processes_are_hunted_down():
    """Does ``kill_marked`` find a process by the token in its environment, even detached?"""
    proc = _start("tok-test-123", 1)
    try:
        assert kill_marked("tok-test-123") >= 1
        assert proc.wait(timeout=5) != 0
    finally:
        proc.kill()
