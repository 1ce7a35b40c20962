"""Does the runner execute cells as Jupyter would, stop a runaway cell, and notice tampering?

The runner is driven over its pipe protocol directly, in a plain child process (the sandbox
around it is tested in test_sandbox.py and test_hostile.py).
"""

import json
import subprocess
import sys

import pytest

from autograder.sandbox.isolation import RUNNER


class Runner:
    def __init__(self, tmp_path, **config):
        self.proc = subprocess.Popen(
            [sys.executable, str(RUNNER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            text=True,
            env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        )
        config.setdefault("write_roots", [str(tmp_path)])
        assert self.ask({"op": "init", "config": config})["ok"]
        self.cell = 0

    def ask(self, request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, self.proc.stderr.read()
        return json.loads(line)

    def run(self, source, student=True, task=None, timeout=10):
        self.cell += 1
        request = {"op": "run", "cell": self.cell, "source": source, "student": student}
        return self.ask(request | {"task": task, "timeout": timeout})

    def close(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def runner(tmp_path):
    r = Runner(tmp_path)
    yield r
    r.close()


def _kinds(reply):
    return {e["kind"] for e in reply["events"]}


def test_cells_share_a_namespace_and_report_outputs_and_errors(runner):
    """Do prints, the last expression's value and an exception come back as Jupyter shows them?"""
    assert runner.run("x = 20\nprint('hi')\nx + 1")["outputs"] == [
        {"output_type": "stream", "name": "stdout", "text": "hi\n"},
        {"output_type": "execute_result", "text": "21"},
    ]
    reply = runner.run("1 / 0")
    assert reply["status"] == "error" and reply["error"]["ename"] == "ZeroDivisionError"
    assert any("1 / 0" in line for line in reply["error"]["traceback"])
    assert runner.run("import sys\nsys.exit(3)")["error"]["ename"] == "SystemExit"
    assert runner.run("x")["outputs"][0]["text"] == "20", "the runner survives sys.exit"


def test_a_runaway_cell_is_interrupted_and_the_next_runs(runner):
    """Is an endless loop stopped at the cell's time limit, leaving the runner usable?"""
    reply = runner.run("while True:\n    pass", timeout=1)
    assert reply["timed_out"] and reply["error"]["ename"] == "KeyboardInterrupt"
    assert runner.run("'still here'")["outputs"][0]["text"] == "'still here'"


def test_output_is_capped(runner):
    """Is a flood of output cut to the limit with a note of how much was dropped?"""
    text = runner.run("print('x' * 100_000)")["outputs"][0]["text"]
    assert len(text) < 21_000 and "output cut: 80001 more characters" in text


def test_a_forked_child_never_answers_for_the_parent(runner):
    """Does a process forked by a cell stay silent, so the grader hears only the runner?"""
    reply = runner.run("import os\npid = os.fork()\n'parent' if pid else 'child'")
    assert reply["outputs"][0]["text"] == "'parent'"
    assert runner.run("41 + 1")["outputs"][0]["text"] == "42"


@pytest.mark.parametrize(
    "source, words",
    [
        ("import numpy.testing\nnumpy.testing.assert_allclose = print", "was replaced"),
        ("import sys, types\nsys.modules['numpy'] = types.ModuleType('numpy')", "sys.modules"),
        ("get_ipython().input_transformers_cleanup.append(lambda l: l)", "input transformer"),
        ("get_ipython().set_custom_exc((Exception,), lambda *a: None)", "exception handler"),
        ("import sys\nsys.settrace(lambda *a: None)", "trace or profile"),
        ("get_ipython().run_cell = lambda *a, **k: None", "shell method"),
        ("import sys\nsys.addaudithook(lambda *a: None)", "audit hook"),
    ],
)
def test_tampering_is_reported(runner, source, words):
    """Is each way of tampering with what the tests rely on reported as such?"""
    reply = runner.run(source)
    assert "tamper" in _kinds(reply), reply
    assert any(words in e["detail"] for e in reply["events"]), reply["events"]


def test_libraries_are_not_mistaken_for_tampering(runner):
    """Do matplotlib's IPython hook and numpy's lazy submodules pass without a report?"""
    reply = runner.run("import matplotlib.pyplot as plt\nimport numpy as np\nnp.fft.fft([1.0])")
    assert reply["status"] == "ok" and reply["events"] == []
    assert runner.run("plt.plot([1, 2]); None")["events"] == []


def test_forbidden_paths_are_refused_and_reported(tmp_path):
    """Are the course's files refused even where they exist, and writes outside reported?"""
    secret = tmp_path / "solutions"
    secret.mkdir()
    (secret / "a.ipynb").write_text("{}")
    work = tmp_path / "work"
    work.mkdir()
    r = Runner(work, forbidden_paths=[str(secret)], write_roots=[str(work)], block=True)
    try:
        reply = r.run(f"open({str(secret / 'a.ipynb')!r}).read()")
        assert reply["error"]["ename"] == "PermissionError"
        assert "forbidden-path" in _kinds(reply)
        reply = r.run(f"open({str(tmp_path / 'out.txt')!r}, 'w')")
        assert reply["error"]["ename"] == "PermissionError"
        assert "write-outside" in _kinds(reply)
        assert r.run("open('mine.txt', 'w').write('ok')")["status"] == "ok"
    finally:
        r.close()


def test_the_reference_is_caught_by_name_and_by_call(tmp_path):
    """Is an answer that is, or calls, the library function the task asks for reported, and a
    test cell calling the same function left alone?"""
    refs = ["chainrule.gates.AddGate", "chainrule.gradcheck.numerical_gradient"]
    names = {"add-gate": ["AddGate"], "numerical-grad": ["numerical_gradient"]}
    r = Runner(tmp_path, references=refs, answer_names=names)
    try:
        reply = r.run("from chainrule.gates import AddGate", task="add-gate")
        assert any("AddGate is the reference" in e["detail"] for e in reply["events"])
        source = (
            "import chainrule.gradcheck as gc\n"
            "def numerical_gradient(f, x, h=1e-5):\n"
            "    return gc.numerical_gradient(f, x, h)"
        )
        assert r.run(source, task="numerical-grad")["events"] == []
        test = "import numpy as np\nnumerical_gradient(lambda v: float(v @ v), np.ones(2))"
        reply = r.run(test, student=False)
        assert any("called the reference" in e["detail"] for e in reply["events"])
        reply = r.run("gc.numerical_gradient(lambda v: float(v @ v), np.ones(2))", student=False)
        assert reply["events"] == []
    finally:
        r.close()
