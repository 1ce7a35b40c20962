"""Do the lectures' worked examples (CS231n L4, CSC413 L2, Aarhus L3) come out as on the slides?

The expected numbers are typed from the slides (rounded as the slides round them) or are the
slides' closed forms evaluated independently here; the graphs are built by chainrule.lectures.
"""

import math
import subprocess
import sys

import numpy as np
import pytest

from chainrule import layers, lectures


def run(build):
    graph, inputs = build()
    out = graph.forward(inputs)
    return graph, out, graph.backward()


def test_B_add_multiply_forward_and_backward():
    """f = (x + y) z at (-2, 5, -4): q = 3, f = -12; df/dx = df/dy = -4, df/dz = 3, df/dq = -4."""
    graph, out, grads = run(lectures.add_multiply_graph)
    assert graph["q"].value == 3.0 and out == -12.0
    assert grads == {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "f": 1.0}


def test_C_sigmoid_neuron_forward_values_as_on_the_slide():
    """Forward: -2, 6, 4, 1, -1, 0.37, 1.37, 0.73."""
    graph, out, _ = run(lectures.sigmoid_neuron_graph)
    values = [
        round(graph[name].value, 2)
        for name in ("w0*x0", "w1*x1", "sum", "z", "-z", "exp", "1+exp", "f")
    ]
    assert values == [-2.0, 6.0, 4.0, 1.0, -1.0, 0.37, 1.37, 0.73]


def test_C_sigmoid_neuron_gradients_as_on_the_slide():
    """Backward: -0.53 at 1/x and +1, -0.20 at exp, 0.20 at x-1 and the adds; inputs as shown."""
    _, _, grads = run(lectures.sigmoid_neuron_graph)
    rounded = {k: round(v, 2) for k, v in grads.items()}
    assert rounded["1+exp"] == -0.53 and rounded["exp"] == -0.53
    assert rounded["-z"] == -0.20
    assert rounded["z"] == 0.20 and rounded["sum"] == 0.20
    assert rounded["w0*x0"] == 0.20 and rounded["w1*x1"] == 0.20
    assert (rounded["w0"], rounded["x0"]) == (-0.20, 0.39)  # the slide rounds x0's to 0.4
    assert (rounded["w1"], rounded["x1"], rounded["w2"]) == (-0.39, -0.59, 0.20)


def test_C_sigmoid_neuron_matches_its_closed_form():
    """Does every input's gradient equal sigma'(z) times the other factor, computed directly?"""
    _, out, grads = run(lectures.sigmoid_neuron_graph)
    w0, x0, w1, x1, w2 = 2.0, -1.0, -3.0, -2.0, -3.0
    s = 1.0 / (1.0 + math.exp(-(w0 * x0 + w1 * x1 + w2)))
    ds = s * (1 - s)
    assert out == pytest.approx(s, rel=1e-15)
    expected = {"w0": x0 * ds, "x0": w0 * ds, "w1": x1 * ds, "x1": w1 * ds, "w2": ds}
    for name, value in expected.items():
        assert grads[name] == pytest.approx(value, rel=1e-14)


def test_C_one_sigmoid_gate_gives_the_same_gradients():
    """Grouping exp, +1, 1/x into one SigmoidGate: local gradient 0.20, same input gradients."""
    graph, out, grouped = run(lectures.sigmoid_neuron_grouped_graph)
    _, out_fine, fine = run(lectures.sigmoid_neuron_graph)
    assert out == pytest.approx(out_fine, rel=1e-15)
    assert round(graph.backward_steps()[0].local[0], 2) == 0.20
    for name in ("w0", "x0", "w1", "x1", "w2"):
        assert grouped[name] == pytest.approx(fine[name], rel=1e-14)


def test_C_derivative_table():
    """e^x -> e^x, a x -> a, 1/x -> -1/x^2, c + x -> 1 (the slide's table), at x = 1.37."""
    from chainrule import AddConstantGate, ExpGate, InverseGate, ScaleGate

    x = 1.37
    table = [
        (ExpGate(), math.exp(x)),
        (ScaleGate(-1.0), -1.0),
        (InverseGate(), -1.0 / x**2),
        (AddConstantGate(1.0), 1.0),
    ]
    for gate, local in table:
        gate.forward(x)
        assert gate.backward(1.0)[0] == pytest.approx(local, rel=1e-15)


def test_D_patterns_add_distributes_max_routes_mul_switches():
    """f = 2 (x y + max(z, w)) at (3, -4, 2, -1): dz = 2, dw = 0, dx = -8, dy = 6."""
    graph, out, grads = run(lectures.gate_patterns_graph)
    assert out == -20.0
    assert grads["sum"] == 2.0 and grads["x*y"] == 2.0 and grads["max(z,w)"] == 2.0  # add
    assert (grads["z"], grads["w"]) == (2.0, 0.0)  # max routes
    assert (grads["x"], grads["y"]) == (-4.0 * 2.0, 3.0 * 2.0)  # mul switches


@pytest.mark.parametrize("lam", [0.0, 0.1, 2.5])
def test_D_fan_out_regularised_regression(lam):
    """CSC413: w feeds z = wx + b and R = w^2/2, so w_bar = z_bar x + R_bar w, R_bar = lambda."""
    graph, out, grads = run(lambda: lectures.regularised_regression_graph(lam))
    w, x, b, t = 0.5, 2.0, -1.0, 1.0
    z = w * x + b
    y = 1.0 / (1.0 + math.exp(-z))
    assert out == pytest.approx(0.5 * (y - t) ** 2 + lam * 0.5 * w**2, rel=1e-15)
    z_bar = (y - t) * y * (1 - y)
    assert grads["z"] == pytest.approx(z_bar, rel=1e-14)
    assert grads["R"] == pytest.approx(lam, rel=1e-15)
    assert grads["w"] == pytest.approx(z_bar * x + lam * w, rel=1e-14)
    assert grads["b"] == pytest.approx(z_bar, rel=1e-14)


def test_E_wx_squared_values_and_gradients():
    """||Wx||^2: q = [0.22, 0.26], f = 0.116, grad q = [0.44, 0.52], grad W and grad x as shown."""
    w, x = lectures.wx_squared_arrays()
    q, cache_q = layers.matmul_forward(w, x)
    f, cache_f = layers.l2_squared_forward(q)
    dq = layers.l2_squared_backward(1.0, cache_f)
    dw, dx = layers.matmul_backward(dq, cache_q)
    np.testing.assert_allclose(q, [0.22, 0.26], rtol=1e-14)
    assert float(f) == pytest.approx(0.116, rel=1e-14)
    np.testing.assert_allclose(dq, [0.44, 0.52], rtol=1e-14)
    np.testing.assert_allclose(dw, [[0.088, 0.176], [0.104, 0.208]], rtol=1e-13)
    np.testing.assert_allclose(dx, [-0.112, 0.636], rtol=1e-13)
    assert dw.shape == w.shape and dx.shape == x.shape  # the shape rule


def test_E_elementwise_jacobian_is_diagonal():
    """The Jacobian of max(0, x) (4096 x 4096 on the slide) is diagonal: built here at 6 x 6."""
    x = np.random.default_rng(0).standard_normal(6)
    _, cache = layers.relu_forward(x)
    jac = np.stack([layers.relu_backward(np.eye(6)[i], cache) for i in range(6)])
    assert np.array_equal(jac, np.diag((x > 0).astype(float)))


def test_main_prints_each_lecture_example(capsys):
    """Does `make lectures` show the forward values and gradients the slides show?"""
    lectures.main()
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


def test_lectures_run_as_a_module():
    """Does `python -m chainrule.lectures` exit 0 (what `make lectures` runs)?"""
    done = subprocess.run(
        [sys.executable, "-m", "chainrule.lectures"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "== f = (x + y) z ==" in done.stdout
