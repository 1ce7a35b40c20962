"""Differential tests: random expression graphs against HIPS autograd and numerical gradients.

Hypothesis draws a random DAG: a few inputs, then gates whose operands are any earlier nodes (so
fan-out, x * x and diamonds all occur). The same expression is replayed with autograd.numpy;
both engines' input gradients must agree, and both must agree with centered differences.
Points where the expression is undefined or not differentiable (overflow, 1/x near 0, ln of a
non-positive number, a max tie or ReLU at 0) are rejected, not tested.
"""

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chainrule import (
    AddConstantGate,
    AddGate,
    ComputationalGraph,
    ExpGate,
    GraphError,
    InverseGate,
    LogGate,
    MaxGate,
    MultiplyGate,
    PowerGate,
    ReLUGate,
    ScaleGate,
    SigmoidGate,
    SubtractGate,
    TanhGate,
)
from chainrule.gradcheck import check_gradient

# name -> (arity, chainrule gate factory taking the constant, autograd function taking (args, c))
OPS = {
    "add": (2, lambda c: AddGate(), lambda a, c: a[0] + a[1]),
    "sub": (2, lambda c: SubtractGate(), lambda a, c: a[0] - a[1]),
    "mul": (2, lambda c: MultiplyGate(), lambda a, c: a[0] * a[1]),
    "max": (2, lambda c: MaxGate(), lambda a, c: anp.maximum(a[0], a[1])),
    "exp": (1, lambda c: ExpGate(), lambda a, c: anp.exp(a[0])),
    "log": (1, lambda c: LogGate(), lambda a, c: anp.log(a[0])),
    "inv": (1, lambda c: InverseGate(), lambda a, c: 1.0 / a[0]),
    "addc": (1, lambda c: AddConstantGate(c), lambda a, c: c + a[0]),
    "scale": (1, lambda c: ScaleGate(c), lambda a, c: c * a[0]),
    "square": (1, lambda c: PowerGate(2), lambda a, c: a[0] ** 2),
    "cube": (1, lambda c: PowerGate(3), lambda a, c: a[0] ** 3),
    # sigma(x) = (tanh(x/2) + 1)/2: the form 1/(1 + e^-x) overflows for x << 0 (e.g. -56,000),
    # where autograd's gradient becomes inf * 0 = nan while the true gradient is 0
    "sigmoid": (1, lambda c: SigmoidGate(), lambda a, c: 0.5 * (anp.tanh(0.5 * a[0]) + 1.0)),
    "relu": (1, lambda c: ReLUGate(), lambda a, c: anp.maximum(a[0], 0.0)),
    "tanh": (1, lambda c: TanhGate(), lambda a, c: anp.tanh(a[0])),
}

values = st.builds(
    lambda sign, size: sign * size, st.sampled_from([-1.0, 1.0]), st.floats(1e-3, 2.0)
)


@st.composite
def expressions(draw):
    n_inputs = draw(st.integers(1, 4))
    inputs = [draw(values) for _ in range(n_inputs)]
    ops = []
    for k in range(draw(st.integers(1, 12))):
        name = draw(st.sampled_from(sorted(OPS)))
        arity = OPS[name][0]
        operands = [draw(st.integers(0, n_inputs + k - 1)) for _ in range(arity)]
        const = draw(st.floats(-3.0, 3.0, allow_nan=False))
        ops.append((name, operands, const))
    return inputs, ops


def build(inputs, ops):
    graph = ComputationalGraph()
    nodes = list(graph.inputs(*[f"x{i}" for i in range(len(inputs))]))
    for name, operands, const in ops:
        nodes.append(graph.gate(OPS[name][1](const), *[nodes[j] for j in operands]))
    return graph


def replay(ops, n_inputs):
    def fn(*xs):
        vals = list(xs)
        for name, operands, const in ops:
            vals.append(OPS[name][2]([vals[j] for j in operands], const))
        return vals[-1]

    return fn


def well_defined(graph, inputs, ops):
    """Forward the graph; False where the expression is undefined or not differentiable."""
    feed = {f"x{i}": v for i, v in enumerate(inputs)}
    try:
        graph.forward(feed)
    except GraphError:
        return False
    vals = [n.value for n in graph.nodes]
    if any(abs(v) > 1e6 for v in vals):
        return False
    for name, operands, _ in ops:
        in_vals = [vals[j] for j in operands]
        if name == "log" and in_vals[0] < 1e-2:
            return False
        if name == "inv" and abs(in_vals[0]) < 1e-2:
            return False
        if name == "max" and abs(in_vals[0] - in_vals[1]) < 1e-4:
            return False
        if name == "relu" and abs(in_vals[0]) < 1e-4:
            return False
    return True


def differentiated(inputs, ops):
    """Build, run forward and backward; reject the case where it is not differentiable."""
    graph = build(inputs, ops)
    assume(well_defined(graph, inputs, ops))
    return graph, graph.backward()


@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@settings(max_examples=300, deadline=None)
@given(expressions())
def test_random_graphs_agree_with_autograd(case):
    """On a random DAG of gates, are our input gradients autograd's, to 1e-9?"""
    inputs, ops = case
    graph, grads = differentiated(inputs, ops)
    fn = replay(ops, len(inputs))
    assert graph.output.value == pytest.approx(float(fn(*inputs)), rel=1e-12, abs=1e-12)
    for i in range(len(inputs)):
        expected = float(autograd.grad(fn, i)(*inputs))
        assert grads[f"x{i}"] == pytest.approx(expected, rel=1e-9, abs=1e-12), (i, ops)


@settings(max_examples=150, deadline=None)
@given(expressions())
def test_random_graphs_agree_with_numerical_gradients(case):
    """On a random DAG, does check_gradient accept our input gradients?"""
    inputs, ops = case
    graph, grads = differentiated(inputs, ops)
    names = [f"x{i}" for i in range(len(inputs))]

    def f(x):
        return graph.forward(dict(zip(names, x.tolist())))

    x = np.array(inputs)
    analytic = np.array([grads[n] for n in names])
    result = check_gradient(f, x, analytic, rtol=1e-5)
    assert result.ok, f"{result}; ops {ops}"


def test_the_ops_table_covers_every_gate():
    """Does the differential test exercise every gate class chainrule exports?"""
    import chainrule

    exercised = {type(OPS[name][1](1.5)) for name in OPS}
    gate_classes = {
        getattr(chainrule, n)
        for n in chainrule.__all__
        if isinstance(getattr(chainrule, n), type)
        and issubclass(getattr(chainrule, n), chainrule.Gate)
    } - {chainrule.Gate}
    assert gate_classes == exercised
