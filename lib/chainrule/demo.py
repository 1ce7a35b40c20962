"""Print the lectures' examples step by step: forward values, then the backward pass.

    python -m chainrule.demo

Each backward line is one gate applying the chain rule: downstream = local x upstream.
"""

import numpy as np

from . import layers
from .gates import AddConstantGate, ScaleGate
from .graph import wrap
from .lectures import EXAMPLES, wx_squared_arrays

__all__ = ["main", "expression"]


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
