"""Tests for chainrule.demo: does `make demo` print the slides' numbers?"""

import subprocess
import sys

from chainrule import demo


def test_demo_prints_each_lecture_example(capsys):
    """Does the demo show the forward values and gradients the slides show?"""
    demo.main()
    out = capsys.readouterr().out
    assert "f = q * z = -12.00" in out
    assert "f [*]: df/dq = (-4.00)(1.00) = -4.00; df/dz = (3.00)(1.00) = 3.00" in out
    assert "gradients of f = 0.73: w0 -0.20, x0 0.39, w1 -0.39, x1 -0.59, w2 0.20" in out
    assert "exp [exp]: dexp/d(-z) = (0.37)(-0.53) = -0.20" in out
    assert "gradients of f = -20.00: x -8.00, y 6.00, z 2.00, w 0.00" in out
    assert "w feeds 2 gates, so its gradients add: (0.05 via w^2) + (-0.25 via w*x) = -0.20" in out
    assert "f = ||q||^2 = 0.116" in out
    assert "grad W = 2 q x^T = [[0.088, 0.176], [0.104, 0.208]]" in out
    assert "grad x = 2 W^T q = [-0.112,  0.636]" in out


def test_demo_runs_as_a_module():
    """Does `python -m chainrule.demo` exit 0 (what `make demo` runs)?"""
    done = subprocess.run([sys.executable, "-m", "chainrule.demo"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "== f = (x + y) z ==" in done.stdout
