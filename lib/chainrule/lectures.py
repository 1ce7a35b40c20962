"""The lectures' worked examples as ready-made graphs and arrays (CS231n L4, CSC413 L2, Aarhus L3).

Each ``*_graph()`` function returns ``(graph, inputs)``: a fresh ``ComputationalGraph`` and the
input values the slides use, so ``graph.forward(inputs); graph.backward()`` reproduces the
slide. The tests and the widgets open on these, and ``python -m chainrule.lectures`` (``make
lectures``) prints each one step by step: forward values, then the backward pass, where each line
is one gate applying the chain rule: downstream = local x upstream.
"""

import numpy as np

from . import layers
from .formatting import wrap
from .gates import (
    AddConstantGate,
    AddGate,
    ExpGate,
    InverseGate,
    MaxGate,
    MultiplyGate,
    PowerGate,
    ScaleGate,
    SigmoidGate,
    SubtractGate,
)
from .graph import ComputationalGraph

__all__ = [
    "add_multiply_graph",
    "sigmoid_neuron_graph",
    "sigmoid_neuron_grouped_graph",
    "gate_patterns_graph",
    "regularised_regression_graph",
    "wx_squared_arrays",
    "EXAMPLES",
    "expression",
    "show_graph",
    "show_wx_squared",
    "main",
]


def add_multiply_graph():
    """f(x, y, z) = (x + y) z at x = -2, y = 5, z = -4 (all three lectures): q = 3, f = -12."""
    graph = ComputationalGraph()
    x, y, z = graph.inputs("x", "y", "z")
    q = graph.gate(AddGate(), x, y, name="q")
    graph.gate(MultiplyGate(), q, z, name="f")
    return graph, {"x": -2.0, "y": 5.0, "z": -4.0}


def _neuron_input():
    """The neuron's weighted sum z = w0 x0 + w1 x1 + w2, shared by both sigmoid graphs."""
    graph = ComputationalGraph()
    w0, x0, w1, x1, w2 = graph.inputs("w0", "x0", "w1", "x1", "w2")
    w0x0 = graph.gate(MultiplyGate(), w0, x0, name="w0*x0")
    w1x1 = graph.gate(MultiplyGate(), w1, x1, name="w1*x1")
    s = graph.gate(AddGate(), w0x0, w1x1, name="sum")
    return graph, graph.gate(AddGate(), s, w2, name="z")


def sigmoid_neuron_graph():
    """f(w, x) = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))), gate by gate, as on the CS231n slide.

    w = [2, -3, -3], x = [-1, -2]: the output is 0.73 and the gradients are
    w0 -0.20, x0 0.39, w1 -0.39, x1 -0.59, w2 0.20.
    """
    graph, z = _neuron_input()
    neg = graph.gate(ScaleGate(-1.0), z, name="-z")
    e = graph.gate(ExpGate(), neg, name="exp")
    d = graph.gate(AddConstantGate(1.0), e, name="1+exp")
    graph.gate(InverseGate(), d, name="f")
    return graph, {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}


def sigmoid_neuron_grouped_graph():
    """The same neuron with the last four gates grouped into one SigmoidGate: same gradients."""
    graph, z = _neuron_input()
    graph.gate(SigmoidGate(), z, name="f")
    return graph, {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}


def gate_patterns_graph():
    """f = 2 (x y + max(z, w)) at x = 3, y = -4, z = 2, w = -1 (CS231n "patterns" slide).

    The add gate distributes 2 to both branches, the max gate routes it to z (dz = 2, dw = 0),
    the multiply gate switches: dx = y * 2 = -8, dy = x * 2 = 6.
    """
    graph = ComputationalGraph()
    x, y, z, w = graph.inputs("x", "y", "z", "w")
    xy = graph.gate(MultiplyGate(), x, y, name="x*y")
    m = graph.gate(MaxGate(), z, w, name="max(z,w)")
    s = graph.gate(AddGate(), xy, m, name="sum")
    graph.gate(ScaleGate(2.0), s, name="f")
    return graph, {"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0}


def regularised_regression_graph(lam=0.1):
    """CSC413's L2-regularised logistic least squares: w feeds two paths, so gradients add.

    z = w x + b, y = sigmoid(z), L = (y - t)^2 / 2, R = w^2 / 2, L_reg = L + lambda R, at
    w = 0.5, x = 2, b = -1, t = 1 (values chosen here; the slides give only symbols). Backward:
    w_bar = z_bar x + R_bar w with R_bar = lambda.
    """
    graph = ComputationalGraph()
    w, x, b, t = graph.inputs("w", "x", "b", "t")
    wx = graph.gate(MultiplyGate(), w, x, name="w*x")
    z = graph.gate(AddGate(), wx, b, name="z")
    y = graph.gate(SigmoidGate(), z, name="y")
    diff = graph.gate(SubtractGate(), y, t, name="y-t")
    sq = graph.gate(PowerGate(2.0), diff, name="(y-t)^2")
    loss = graph.gate(ScaleGate(0.5), sq, name="L")
    w2 = graph.gate(PowerGate(2.0), w, name="w^2")
    reg = graph.gate(ScaleGate(0.5), w2, name="R")
    lam_reg = graph.gate(ScaleGate(lam), reg, name="lambda*R")
    graph.gate(AddGate(), loss, lam_reg, name="L_reg")
    return graph, {"w": 0.5, "x": 2.0, "b": -1.0, "t": 1.0}


def wx_squared_arrays():
    """f(x, W) = ||W x||^2 with W = [[0.1, 0.5], [-0.3, 0.8]] and x = [0.2, 0.4] (CS231n).

    q = W x = [0.22, 0.26], f = 0.116, grad_q = 2q, grad_W = 2 q x^T, grad_x = 2 W^T q.
    """
    return np.array([[0.1, 0.5], [-0.3, 0.8]]), np.array([0.2, 0.4])


EXAMPLES = {
    "f = (x + y) z": add_multiply_graph,
    "sigmoid neuron, gate by gate": sigmoid_neuron_graph,
    "sigmoid neuron, one sigmoid gate": sigmoid_neuron_grouped_graph,
    "patterns: add, max, mul": gate_patterns_graph,
    "L2-regularised regression (fan-out)": regularised_regression_graph,
}


# -- printing them, step by step (make lectures) --------------------------------------------------


def expression(node):
    """How a node is computed, e.g. ``q + z``, ``exp(-z)``, ``1 + exp``, ``-1 * z``."""
    gate = node.gate
    if gate is None:
        return "input"
    args = [wrap(n.name) for n in node.inputs]
    if isinstance(gate, AddConstantGate):
        return f"{gate.c:g} + {args[0]}"
    if isinstance(gate, ScaleGate):
        return f"{gate.a:g} * {args[0]}"
    if gate.label in ("+", "-", "*"):
        return f" {gate.label} ".join(args)
    if gate.label.startswith("^"):
        return f"{args[0]}{gate.label}"
    if gate.label == "1/x":
        return f"1 / {args[0]}"
    return f"{gate.label}({', '.join(n.name for n in node.inputs)})"


def show_graph(title, build):
    """Run one example graph forward and backward, printing every step."""
    graph, inputs = build()
    print(f"== {title} ==")
    graph.forward(inputs)
    print("forward, in topological order:")
    for node in graph.nodes:
        how = "" if node.is_input else f" = {expression(node)}"
        print(f"  {node.name}{how} = {node.value:.2f}")
    graph.backward()
    print("backward, in reverse (downstream = local gradient x upstream gradient):")
    for step in graph.backward_steps():
        print(f"  {step}")
    fan_out = {}
    for step in graph.backward_steps():
        for node, down in zip(step.node.inputs, step.downstream):
            fan_out.setdefault(node.name, []).append((down, step.node.name))
    for name, parts in fan_out.items():
        if len(parts) > 1:
            terms = " + ".join(f"({down:.2f} via {via})" for down, via in parts)
            print(
                f"  {name} feeds {len(parts)} gates, so its gradients add: {terms} "
                f"= {graph[name].grad:.2f}"
            )
    grads = ", ".join(f"{n.name} {n.grad:.2f}" for n in graph.nodes if n.is_input)
    print(f"gradients of {graph.output.name} = {graph.output.value:.2f}: {grads}\n")


def show_wx_squared():
    """The vectorized example f = ||W x||^2 through chainrule.layers."""
    w, x = wx_squared_arrays()
    print("== f(x, W) = ||W x||^2, vectorized ==")
    q, cache_q = layers.matmul_forward(w, x)
    f, cache_f = layers.l2_squared_forward(q)
    dq = layers.l2_squared_backward(1.0, cache_f)
    dw, dx = layers.matmul_backward(dq, cache_q)

    def show(a):
        return np.array2string(a, precision=3, suppress_small=True, separator=", ")

    print(f"  W = {show(w)}, x = {show(x)}".replace("\n", ""))
    print(f"  q = W x = {show(q)}, f = ||q||^2 = {float(f):.3f}")
    print(f"  grad q = 2 q = {show(dq)}")
    print(f"  grad W = 2 q x^T = {show(dw)}  (shape {dw.shape}, the shape of W)".replace("\n", ""))
    print(f"  grad x = 2 W^T q = {show(dx)}  (shape {dx.shape}, the shape of x)\n")


def main():
    """Print every lecture example: forward values, backward steps, gradients."""
    for title, build in EXAMPLES.items():
        show_graph(title, build)
    show_wx_squared()


if __name__ == "__main__":
    main()
