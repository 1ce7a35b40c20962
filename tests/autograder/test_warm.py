"""Does a warm slot give each submission a sandbox as fresh as a new process's, only faster?

Every case runs two submissions in the same slot, one after the other: the first leaves
something behind and checks that it can see it itself (so the check can fail), the second
looks for it and must not find it. Both must have come from the same warm parent.
"""

import ast
import os
import signal
from pathlib import Path

import numpy as np
import pytest

from autograder.grading.grade import _claim_slot
from autograder.sandbox import warm
from autograder.sandbox.host import Sandbox, SandboxDied
from autograder.sandbox.isolation import Limits, detect_isolation

FAST = Limits(cell_seconds=10, grace_seconds=2, notebook_seconds=60, memory_mb=1024)


@pytest.fixture(scope="module")
def bubblewrap():
    iso = detect_isolation("bubblewrap")
    if iso.kind != "bubblewrap":
        pytest.skip(f"bubblewrap unavailable (apt-get install bubblewrap): {iso.detail}")
    return iso


@pytest.fixture(scope="module")
def slot(bubblewrap):
    """A slot number no other test process holds; its warm parent is stopped afterwards."""
    n, handle = _claim_slot()
    yield n
    warm.close_all()
    handle.close()


def _box(tmp_path, isolation, slot, name, warm_slot=True):
    work = tmp_path / name / "01-graphs"
    work.mkdir(parents=True)
    (work / "graphs.ipynb").write_text('{"cells": []}')
    return Sandbox(work, "graphs.ipynb", {}, FAST, isolation, slot=slot, warm=warm_slot)


def _value(box, cell, code):
    """Run ``code`` (whose last line prints a literal) and return that literal."""
    reply = box.run(cell, code, True)
    assert reply["error"] is None, reply["error"]
    out = "".join(o["text"] for o in reply["outputs"] if o.get("name") == "stdout")
    return ast.literal_eval(out.strip().splitlines()[-1])


def zygote_preload():
    """The modules a warm parent imports before any submission (``zygote.PRELOAD``), read from
    the file: it runs inside the sandbox and is not imported here."""
    path = Path(warm.__file__).parent / "inside" / "zygote.py"
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "PRELOAD":
            return ast.literal_eval(node.value)
    raise AssertionError(f"no PRELOAD in {path}")


def _parent_pid(slot):
    return warm._slots[slot].proc.pid


PROBES = """import os, sys, threading, numpy, matplotlib
def open_paths():
    return [os.path.realpath('/proc/self/fd/' + f) for f in os.listdir('/proc/self/fd')]
def commands():
    found = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            found.append(open(f'/proc/{pid}/cmdline', 'rb').read())
        except OSError:
            pass
    return found
"""
SEEDED = float(np.random.RandomState(5).rand())

# (what is left behind, the code that leaves it, a probe that prints a literal, its clean value)
LEFTOVERS = [
    (
        "a file in /tmp",
        "open('/tmp/left.txt', 'w').write('x')",
        "os.path.exists('/tmp/left.txt')",
        False,
    ),
    (
        "a file in its folder",
        "open('left.txt', 'w').write('x')",
        "os.path.exists('left.txt')",
        False,
    ),
    (
        "a module in sys.modules",
        "import sys, types\nsys.modules['left_behind'] = types.ModuleType('left_behind')",
        "'left_behind' in sys.modules",
        False,
    ),
    (
        "a monkeypatched numpy.allclose",
        "import numpy\nnumpy.allclose = lambda *a, **k: True",
        "bool(numpy.allclose([1.0], [2.0]))",
        False,
    ),
    (
        "an environment variable",
        "os.environ['LEFT_BEHIND'] = '1'",
        "'LEFT_BEHIND' in os.environ",
        False,
    ),
    (
        "an rcParam",
        "import matplotlib\nmatplotlib.rcParams['lines.linewidth'] = 9.5",
        "float(matplotlib.rcParams['lines.linewidth'])",
        1.5,
    ),
    (
        "a thread",
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(60,), name='left-behind', daemon=True).start()",
        "[t.name for t in threading.enumerate() if t.name == 'left-behind']",
        [],
    ),
    (
        "an open file",
        "left_open = open('/etc/hostname')",
        "'/etc/hostname' in open_paths()",
        False,
    ),
    (
        "a process",
        "import subprocess\nleft_process = subprocess.Popen(['sleep', '613'])",
        "[c for c in commands() if b'613' in c]",
        [],
    ),
    (
        "NumPy's global random state",
        "import numpy\nnumpy.random.seed(5)",
        f"float(numpy.random.rand()) == {SEEDED!r}",
        False,
    ),
]


@pytest.mark.parametrize(
    ("what", "leave", "probe", "clean"), LEFTOVERS, ids=[c[0] for c in LEFTOVERS]
)
def test_the_next_submission_in_the_slot_does_not_see_it(
    tmp_path, bubblewrap, slot, what, leave, probe, clean
):
    """Does the second submission in a warm slot find none of what the first left behind?"""
    code = f"{PROBES}print(repr({probe}))"
    first = _box(tmp_path, bubblewrap, slot, "first")
    first.start()
    try:
        assert first.warmed, first.cold_because
        parent = _parent_pid(slot)
        assert _value(first, 1, code) == clean
        first.run(2, leave, True)
        assert _value(first, 3, code) != clean, f"{what}: the probe cannot see it even here"
    finally:
        first.close()
    second = _box(tmp_path, bubblewrap, slot, "second")
    second.start()
    try:
        assert second.warmed, second.cold_because
        assert _parent_pid(slot) == parent
        assert _value(second, 1, code) == clean, f"{what} was seen by the next submission"
    finally:
        second.close()


VIEW = """import os, resource, socket
status = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines())
try:
    socket.create_connection(('10.0.0.1', 80), timeout=1)
    net = 'connected'
except OSError as err:
    net = type(err).__name__
view = {
    'uid': os.getuid(), 'gid': os.getgid(), 'groups': os.getgroups(),
    'caps': [status[k].strip() for k in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb')],
    'no_new_privs': status['NoNewPrivs'].strip(),
    'processes': sorted(p for p in os.listdir('/proc') if p.isdigit()),
    'home': sorted(os.listdir(os.path.expanduser('~'))), 'cwd': os.getcwd(),
    'tmp_writable': os.access('/tmp', os.W_OK), 'course_visible': os.path.exists(%r),
    'limits': [resource.getrlimit(r) for r in (resource.RLIMIT_AS, resource.RLIMIT_CPU,
               resource.RLIMIT_FSIZE, resource.RLIMIT_CORE)],
    'net': net, 'env': sorted((k, v) for k, v in os.environ.items() if k != 'BACKPROP_KIT_SANDBOX'),
}
print(repr(view))"""


def test_a_warm_child_sees_what_a_fresh_sandbox_sees(tmp_path, bubblewrap, slot):
    """Is a warm child's world (user, capabilities, processes, files, limits, network,
    environment) the same as a fresh bubblewrap sandbox's?"""
    code = VIEW % str(tmp_path)
    seen = {}
    for name, warm_slot in (("warm", True), ("fresh", False)):
        box = _box(tmp_path, bubblewrap, slot, name, warm_slot)
        box.start()
        try:
            assert box.warmed is warm_slot
            seen[name] = _value(box, 1, code)
        finally:
            box.close()
    assert seen["warm"] == seen["fresh"]
    view = seen["warm"]
    assert view["caps"][2] == "0000000000000000" and view["no_new_privs"] == "1"
    assert view["home"] == ["graphs.ipynb"] and not view["course_visible"]
    if os.geteuid() == 0:
        assert view["uid"] == 61000 + slot and view["caps"][3] == "0000000000000000"


def test_a_crash_leaves_the_slot_working(tmp_path, bubblewrap, slot):
    """Does a segmentation fault in one child end that submission only, named by its signal,
    while the next submission gets a child of the same parent?"""
    box = _box(tmp_path, bubblewrap, slot, "crash")
    box.start()
    parent = _parent_pid(slot)
    with pytest.raises(SandboxDied, match="SIGSEGV"):
        box.run(2, "import ctypes\nctypes.string_at(0)", True)
    box.close()
    after = _box(tmp_path, bubblewrap, slot, "after")
    after.start()
    try:
        assert after.warmed, after.cold_because
        assert _parent_pid(slot) == parent
        assert _value(after, 1, "print(1 + 1)") == 2
    finally:
        after.close()


def test_a_dead_parent_is_started_again(tmp_path, bubblewrap, slot):
    """If the slot's parent is killed between submissions, does the next one get a new warm
    parent rather than an error?"""
    box = _box(tmp_path, bubblewrap, slot, "before")
    box.start()
    box.close()
    old = _parent_pid(slot)
    os.killpg(old, signal.SIGKILL)
    warm._slots[slot].proc.wait(timeout=10)
    box = _box(tmp_path, bubblewrap, slot, "again")
    box.start()
    try:
        assert box.warmed and _parent_pid(slot) != old
        assert _value(box, 1, "print(2 * 21)") == 42
    finally:
        box.close()


def test_a_finished_sandbox_cannot_kill_the_next_one(tmp_path, bubblewrap, slot):
    """A PID namespace's number is reused once it is gone. Once a sandbox is closed, does
    killing "its" namespace leave alone a later sandbox that got the same number?"""
    done = _box(tmp_path, bubblewrap, slot, "done")
    done.start()
    done.close()
    later = _box(tmp_path, bubblewrap, slot, "later")
    later.start()
    try:
        done.proc.namespace = later.proc.namespace  # what reuse of the number looks like
        done.proc.kill()
        done._stop_all()  # the watchdog's way in
        assert _value(later, 1, "print(6 * 7)") == 42
    finally:
        later.close()


def test_the_watchdog_adds_up_the_child_namespace(tmp_path, bubblewrap, slot):
    """Do forked processes in a warm child, each under the memory limit but over it together,
    stop the sandbox with the watchdog's reason?"""
    box = _box(tmp_path, bubblewrap, slot, "memory")
    box.start()
    assert box.warmed, box.cold_because
    code = (
        "import os, time\n"
        "for _ in range(3):\n"
        "    if os.fork() == 0:\n"
        "        block = bytearray(450 * 2**20)\n"
        "        block[::4096] = b'x' * len(block[::4096])\n"
        "        time.sleep(30)\n"
        "        os._exit(0)\n"
        "time.sleep(30)"
    )
    with pytest.raises(SandboxDied, match="MB of memory in all"):
        box.run(1, code, True)
    box.close()


# -- through the grader -------------------------------------------------------------------------

CLASS = [
    "perfect",
    "partial",
    "blank",
    "buggy",
    "patch-numpy",
    "patch-builtins",
    "read-solutions",
    "os-exit",
    "segfault",
    "daemon",
    "thread",
    "runner-self",
    "forged-reply",
    "numpy-internals",
]


def _graded(root, isolation, warm_slots):
    from autograder.demo.samples import SAMPLES
    from autograder.demo.walkthrough import make_course
    from autograder.grading.grade import grade

    from .test_hostile import _submit

    course = make_course(root)
    _submit(course, [s for s in SAMPLES if s.student in CLASS])
    limits = Limits(cell_seconds=8, grace_seconds=3, notebook_seconds=120, memory_mb=1536)
    run = grade(
        course, workers=2, limits=limits, isolation=isolation, progress=False, warm=warm_slots
    )
    return run, {r.student_id: r for r in run.graded}


def _tasks(notebook):
    return [(t.id, t.score, t.status, t.hints) for t in notebook.tasks]


def _outcome(record):
    return [(n.notebook, n.score, n.status, n.reason, _tasks(n)) for n in record.notebooks]


def test_grading_in_warm_slots_equals_grading_in_new_processes(tmp_path, bubblewrap):
    """Does a class (honest students and attacks on the process) get the same scores, statuses,
    reasons and task scores in warm slots as with a new Python per notebook, and does the run
    leave no warm parent behind?"""
    warm_run, warm = _graded(tmp_path / "warm", bubblewrap, True)
    fresh_run, fresh = _graded(tmp_path / "fresh", bubblewrap, False)
    assert set(warm) == set(fresh) == set(CLASS)
    for student in CLASS:
        assert _outcome(warm[student]) == _outcome(fresh[student]), student
    assert "slots: warm" in warm_run.format()
    assert "new Python per notebook (--no-warm)" in fresh_run.format()
    mark = b"BACKPROP_KIT_WARM_SLOT="
    ours = f":{os.getpid()}".encode()
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        except OSError:
            continue
        left += [pid for var in env if var.startswith(mark) and var.endswith(ours)]
    assert not left, f"warm parents of this process still running: {left}"


def test_the_kit_stays_importable_and_read_only_in_a_warm_child(tmp_path, bubblewrap, slot):
    """Can a warm child import a module its parent had not (the Python folders are still there,
    also for a checkout under /tmp, which the fresh /tmp must not cover) and is the library's
    folder still read-only to it?"""
    box = _box(tmp_path, bubblewrap, slot, "kit")
    box.start()
    try:
        assert box.warmed, box.cold_because
        assert "chainrule.simdevice" not in zygote_preload()  # so it is a late import
        code = (
            "import importlib, os, sys\n"
            "import chainrule.simdevice as late\n"
            "folder = os.path.dirname(late.__file__)\n"
            "try:\n"
            "    open(os.path.join(folder, 'planted.py'), 'w').close()\n"
            "    wrote = 'wrote'\n"
            "except OSError as err:\n"
            "    wrote = type(err).__name__\n"
            "print(repr(wrote))"
        )
        assert _value(box, 0, code) in ("OSError", "PermissionError")
    finally:
        box.close()
    import chainrule.simdevice as here

    assert not os.path.exists(os.path.join(os.path.dirname(here.__file__), "planted.py"))
