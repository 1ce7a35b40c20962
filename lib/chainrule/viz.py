"""Drawings as on the slides: a computational graph with forward values above each edge and
gradients below it.

``draw_graph(graph)`` lays the graph out left to right (inputs in the first column, each gate one
column right of its deepest input) and labels every edge with the value that flows forward along
it (green, above) and the gradient that flows back along it (red, below), in the lecture's
two-decimal format. Where a variable feeds several gates, each edge carries its own branch's
gradient and the variable is marked with their sum. Run ``graph.forward(...)`` first, and
``graph.backward()`` too for the gradients.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import Circle

from .graph import fmt

__all__ = ["draw_graph", "graph_layout"]

VALUE_COLOR = "#1a7f37"  # green, as the slides print forward values
GRAD_COLOR = "#c62828"  # red, as the slides print gradients


def graph_layout(graph):
    """Positions ``{node name: (column, row)}``: inputs in column 0, each gate right of its inputs.

    Rows in a column follow the mean row of each node's inputs (so edges stay short) and are
    kept at least one unit apart.
    """
    nodes = graph.nodes
    column = {}
    for node in nodes:  # topological order: a node's inputs are placed before it
        ins = node.inputs
        column[node.name] = 0 if not ins else 1 + max(column[n.name] for n in ins)
    row = {}
    inputs = [n for n in nodes if n.is_input]
    for i, node in enumerate(inputs):
        row[node.name] = float(i)
    for c in range(1, max(column.values(), default=0) + 1):
        here = [n for n in nodes if column[n.name] == c]
        wanted = sorted((sum(row[i.name] for i in n.inputs) / len(n.inputs), n.name) for n in here)
        placed = []
        for target, name in wanted:
            y = max(target, placed[-1] + 1.0) if placed else target
            placed.append(y)
            row[name] = y
    return {name: (column[name], row[name]) for name in column}


def draw_graph(graph, ax=None, title=None):
    """Draw ``graph`` with values above and gradients below each edge; return the Axes.

    Nodes that have not been computed show no numbers. The output gets a short edge of its own
    carrying the output value and its gradient (1.00 after ``backward()``).
    """
    pos = {k: (c * _DX, -r * _DY) for k, (c, r) in graph_layout(graph).items()}
    xs = [x for x, _ in pos.values()] or [0.0]
    ys = [y for _, y in pos.values()] or [0.0]
    x_lo, x_hi = min(xs) - 0.9, max(xs) + _DX + 0.9
    y_lo, y_hi = min(ys) - 0.7, max(ys) + 0.7
    if ax is None:
        _, ax = plt.subplots(figsize=(0.75 * (x_hi - x_lo), 0.75 * (y_hi - y_lo) + 0.4))
    uses = {}
    for node in graph.nodes:
        for src in node.inputs:
            uses[src.name] = uses.get(src.name, 0) + 1
    drawn = {}  # edges drawn so far from each node
    branch = {}  # (gate node, input slot) -> the gradient sent back along that edge
    if graph.output is not None and graph.output.grad is not None:
        for step in graph.backward_steps():
            for i, down in enumerate(step.downstream):
                branch[(step.node.name, i)] = down
    for node in graph.nodes:
        x, y = pos[node.name]
        if node.is_input:
            ax.text(x, y, node.name, ha="right", va="center", fontsize=11, fontweight="bold")
            continue
        ax.add_patch(Circle((x, y), _R, facecolor="#f2f2f2", edgecolor="#333333", zorder=2))
        label = _SHORT.get(node.gate.label, node.gate.label)
        ax.text(x, y, label, ha="center", va="center", fontsize=10 if len(label) <= 3 else 7)
        for i, src in enumerate(node.inputs):
            k = drawn[src.name] = drawn.get(src.name, -1) + 1  # stagger labels at fan-out
            t = _T[k % len(_T)]
            _edge(ax, _exit(pos, src), (x - _R, y), src.value, branch.get((node.name, i)), t)
    for name, n in uses.items():  # fan-out: the variable's gradient is the sum of its edges'
        node = graph[name]
        if n > 1 and node.grad is not None:
            x, y = pos[name]
            dx = -0.15 if node.is_input else 0.0
            ax.text(
                x + dx,
                y - _R - 0.05,
                f"sum {fmt(node.grad)}",
                color=GRAD_COLOR,
                ha="right" if node.is_input else "center",
                va="top",
                fontsize=8,
            )
    out = graph.output
    if out is not None:
        x0, y = _exit(pos, out)
        _edge(ax, (x0, y), (x0 + _DX - 0.6, y), out.value, out.grad)
        ax.text(x0 + _DX - 0.5, y, out.name, ha="left", va="center", fontsize=11)
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


_DX = 2.4  # column spacing
_DY = 1.3  # row spacing
_R = 0.32  # gate circle radius
_T = (0.4, 0.7, 0.25)  # where along an edge its labels sit, per edge leaving the same node
_SHORT = {"sigmoid": "σ"}  # labels too wide for the circle


def _exit(pos, node):
    """Where edges leave ``node``: just right of an input's name, or the gate circle's edge."""
    x, y = pos[node.name]
    return (x + (0.1 if node.is_input else _R), y)


def _edge(ax, src, dst, value, grad, t=0.4):
    """An arrow from ``src`` to ``dst`` with the value above it and the gradient below.

    The labels sit at fraction ``t`` of the way, nearer the source where converging edges are
    still apart.
    """
    ax.annotate(
        "",
        xy=dst,
        xytext=src,
        annotation_clip=False,
        arrowprops={"arrowstyle": "->", "color": "#555555", "lw": 1.2, "shrinkA": 0, "shrinkB": 0},
    )
    mx, my = src[0] + t * (dst[0] - src[0]), src[1] + t * (dst[1] - src[1])
    if value is not None:
        ax.text(mx, my + 0.1, fmt(value), color=VALUE_COLOR, ha="center", va="bottom", fontsize=9)
    if grad is not None:
        ax.text(mx, my - 0.1, fmt(grad), color=GRAD_COLOR, ha="center", va="top", fontsize=9)
