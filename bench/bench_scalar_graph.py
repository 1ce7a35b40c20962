"""Scalar engine speed: chainrule's ComputationalGraph vs micrograd on MLP(2, [16, 16, 1]).

One forward + backward pass on one point through micrograd's MLP(2, [16, 16, 1]) (about 640
scalar operations), and the same network built from chainrule gates with the same weights.
micrograd builds its graph during the forward pass, so three chainrule variants are timed:

- prebuilt graph: the graph is built once; each step is forward(**inputs) + backward().
- operators: the graph is rebuilt with the operator front end every step, as micrograd does.

Run:  OMP_NUM_THREADS=1 .venv/bin/python bench/bench_scalar_graph.py
Needs micrograd (``pip install -e '.[bench]'``).
"""

import random

from _common import best_times, ratio_line

from chainrule import AddGate, ComputationalGraph, MultiplyGate, ReLUGate

try:
    from micrograd.engine import Value
    from micrograd.nn import MLP
except ImportError as exc:  # pragma: no cover
    raise SystemExit("micrograd is not installed: pip install -e '.[bench]'") from exc


def micrograd_step(model, point):
    model.zero_grad()
    out = model([Value(v) for v in point])
    out.backward()
    return out


def count_ops(out):
    """Operations micrograd recorded: nodes with children."""
    seen, stack, ops = set(), [out], 0
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        ops += bool(v._prev)
        stack.extend(v._prev)
    return ops


def build_graph(model):
    """The same MLP as chainrule gates, summing in micrograd's order: ((b + w0x0) + w1x1) ..."""
    graph = ComputationalGraph()
    feed = {}
    acts = list(graph.inputs("x0", "x1"))
    for li, layer in enumerate(model.layers):
        outs = []
        for ni, neuron in enumerate(layer.neurons):
            b = graph.input(f"b{li}_{ni}")
            feed[b.name] = neuron.b.data
            total = b
            for k, (w, a) in enumerate(zip(neuron.w, acts)):
                wk = graph.input(f"w{li}_{ni}_{k}")
                feed[wk.name] = w.data
                total = graph.gate(AddGate(), total, graph.gate(MultiplyGate(), wk, a))
            outs.append(graph.gate(ReLUGate(), total) if neuron.nonlin else total)
        acts = outs
    return graph, feed


def operator_step(model, point):
    """Rebuild the network with operators every step, then forward + backward."""
    graph = ComputationalGraph()
    acts = list(graph.inputs("x0", "x1"))
    feed = {"x0": point[0], "x1": point[1]}
    for li, layer in enumerate(model.layers):
        outs = []
        for ni, neuron in enumerate(layer.neurons):
            total = graph.input(f"b{li}_{ni}")
            feed[total.name] = neuron.b.data
            for k, (w, a) in enumerate(zip(neuron.w, acts)):
                wk = graph.input(f"w{li}_{ni}_{k}")
                feed[wk.name] = w.data
                total = total + wk * a
            outs.append(total.relu() if neuron.nonlin else total)
        acts = outs
    graph.forward(feed)
    return graph.backward()


def main():
    random.seed(0)
    model = MLP(2, [16, 16, 1])
    point = [0.5, -1.5]
    out = micrograd_step(model, point)
    ops = count_ops(out)

    graph, feed = build_graph(model)
    feed.update(x0=point[0], x1=point[1])
    value = graph.forward(feed)
    grads = graph.backward()
    # Same network, same numbers: compare every weight's gradient with micrograd's.
    assert abs(value - out.data) < 1e-12, (value, out.data)
    for li, layer in enumerate(model.layers):
        for ni, neuron in enumerate(layer.neurons):
            assert abs(grads[f"b{li}_{ni}"] - neuron.b.grad) < 1e-12
            for k, w in enumerate(neuron.w):
                assert abs(grads[f"w{li}_{ni}_{k}"] - w.grad) < 1e-12
    gate_count = sum(1 for n in graph.nodes if n.gate is not None)

    def prebuilt():
        graph.forward(feed)
        graph.backward()

    best = best_times(
        {
            "micrograd": lambda: micrograd_step(model, point),
            "prebuilt": prebuilt,
            "operators": lambda: operator_step(model, point),
        }
    )
    base = best["micrograd"]
    print(f"MLP(2, [16, 16, 1]) on one point: micrograd {ops} ops, chainrule {gate_count} gates")
    print(f"  {'forward + backward':<40} {'time':>13}   ratio to micrograd")
    print(ratio_line("micrograd (builds graph each step)", base, base, "us", 1e6))
    print(ratio_line("chainrule prebuilt graph", best["prebuilt"], base, "us", 1e6))
    print(ratio_line("chainrule operators (rebuild each step)", best["operators"], base, "us", 1e6))
    for name in ("micrograd", "prebuilt", "operators"):
        print(f"  per op, {name:<32} {best[name] / ops * 1e6:10.2f} us")


if __name__ == "__main__":
    main()
