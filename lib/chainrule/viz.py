"""Drawings as on the slides: computational graphs, decision boundaries, activations, loss curves.

``draw_graph(graph)`` lays the graph out left to right (inputs in the first column, each gate one
column right of its deepest input) and labels every edge with the value that flows forward along
it (green, above) and the gradient that flows back along it (red, below), in the lecture's
two-decimal format. Where a variable feeds several gates, each edge carries its own branch's
gradient and the variable is marked with their sum. Run ``graph.forward(...)`` first, and
``graph.backward()`` too for the gradients.

``plot_decision_boundary(predict, X, y)`` shades what a classifier predicts over the plane and
draws its boundary; ``plot_activation(name)`` draws f and f' side by side; ``plot_loss_curve``
draws training (and validation) loss against steps.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle

from .activations import activation
from .formatting import fmt

__all__ = [
    "draw_graph",
    "graph_layout",
    "graph_figsize",
    "decision_grid",
    "plot_decision_boundary",
    "plot_activation",
    "plot_loss_curve",
]

VALUE_COLOR = "#1a7f37"  # green, as the slides print forward values
GRAD_COLOR = "#c62828"  # red, as the slides print gradients
HIGHLIGHT_COLOR = "#ffd54f"  # the gate the backward-pass stepper is at


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


def graph_figsize(graph, max_width=None):
    """The (width, height) in inches that draws ``graph`` at the slides' scale.

    With ``max_width`` a wider drawing is scaled down to that width, keeping its proportions.
    """
    layout = graph_layout(graph).values()
    cols = max((c for c, _ in layout), default=0)
    rows = max((r for _, r in layout), default=0)
    width = 0.75 * (cols * _DX + _DX + 2.2)
    height = 0.75 * (rows * _DY + 1.4) + 0.4
    if max_width is not None and width > max_width:
        width, height = max_width, height * max_width / width
    return width, height


def draw_graph(
    graph,
    ax=None,
    title=None,
    *,
    forward_steps=None,
    backward_steps=None,
    highlight=None,
    show_names=False,
):
    """Draw ``graph`` with values above and gradients below each edge; return the Axes.

    Nodes that have not been computed show no numbers. The output gets a short edge of its own
    carrying the output value and its gradient (1.00 after ``backward()``).

    Part of a pass can be shown, as the backward-pass stepper does: ``forward_steps=k`` shows
    the values of the inputs and of the first k gates in topological order; ``backward_steps=j``
    the gradients sent by the first j gates of ``graph.backward_steps()`` (a fan-out variable's
    sum appears once all its branches are in). ``highlight`` names a node whose gate is filled;
    ``show_names`` writes each gate's node name above it.
    """
    pos = {k: (c * _DX, -r * _DY) for k, (c, r) in graph_layout(graph).items()}
    xs = [x for x, _ in pos.values()] or [0.0]
    ys = [y for _, y in pos.values()] or [0.0]
    x_lo, x_hi = min(xs) - 1.3, max(xs) + _DX + 0.9  # room left of the inputs for a sum
    y_lo, y_hi = min(ys) - 0.7, max(ys) + 0.7
    if ax is None:
        _, ax = plt.subplots(figsize=graph_figsize(graph))
    nodes = graph.nodes
    gates = [n.name for n in nodes if not n.is_input]
    known = {n.name for n in nodes if n.is_input}
    known.update(gates if forward_steps is None else gates[:forward_steps])
    uses = {}
    for node in nodes:
        for src in node.inputs:
            uses[src.name] = uses.get(src.name, 0) + 1
    drawn = {}  # edges drawn so far from each node
    branch = {}  # (gate node, input slot) -> the gradient sent back along that edge
    sent = {}  # node -> how many of its edges carry a gradient so far
    out = graph.output
    backward_started = out is not None and out.grad is not None and backward_steps != 0
    if backward_started:
        for step in graph.backward_steps()[:backward_steps]:
            for i, (src, down) in enumerate(zip(step.node.inputs, step.downstream)):
                branch[(step.node.name, i)] = down
                sent[src.name] = sent.get(src.name, 0) + 1
    for node in nodes:
        x, y = pos[node.name]
        if node.is_input:
            ax.text(x, y, node.name, ha="right", va="center", fontsize=11, fontweight="bold")
            continue
        face = HIGHLIGHT_COLOR if node.name == highlight else "#f2f2f2"
        ax.add_patch(Circle((x, y), _R, facecolor=face, edgecolor="#333333", zorder=2))
        label = _SHORT.get(node.gate.label, node.gate.label)
        size = 10 if len(label) <= 2 else 8 if len(label) <= 3 else 6.5
        ax.text(x, y, label, ha="center", va="center", fontsize=size)
        if show_names:
            ax.text(
                x, y + _R + 0.06, node.name, ha="center", va="bottom", fontsize=7, color="#666666"
            )
        twice = {src.name for src in node.inputs if node.inputs.count(src) > 1}
        for i, src in enumerate(node.inputs):
            k = drawn[src.name] = drawn.get(src.name, -1) + 1  # stagger labels at fan-out
            t = _T[k % len(_T)]
            value = src.value if src.name in known else None
            start, end = _exit(pos, src), (x - _R, y)
            if src.name in twice:  # x * x: one arc above, one below
                rad = -0.35 if i == 0 else 0.35
            elif _blocked(pos, src.name, node.name, start, end):
                rad = 0.3  # bow around a node the straight line would cross
            else:
                rad = 0.0
            _edge(ax, start, end, value, branch.get((node.name, i)), t, rad)
    for name, n in uses.items():  # fan-out: the variable's gradient is the sum of its edges'
        node = graph[name]
        if n > 1 and backward_started and (backward_steps is None or sent.get(name, 0) == n):
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
    if out is not None:
        x0, y = _exit(pos, out)
        value = out.value if out.name in known else None
        _edge(ax, (x0, y), (x0 + _DX - 0.6, y), value, out.grad if backward_started else None)
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


def _blocked(pos, src, dst, start, end):
    """Whether the straight edge from ``start`` to ``end`` passes through another node."""
    (x0, y0), (x1, y1) = start, end
    length2 = (x1 - x0) ** 2 + (y1 - y0) ** 2
    for name, (x, y) in pos.items():
        if name in (src, dst) or length2 == 0:
            continue
        u = max(0.0, min(1.0, ((x - x0) * (x1 - x0) + (y - y0) * (y1 - y0)) / length2))
        if (x - x0 - u * (x1 - x0)) ** 2 + (y - y0 - u * (y1 - y0)) ** 2 < (_R + 0.1) ** 2:
            return True
    return False


def _edge(ax, src, dst, value, grad, t=0.4, rad=0.0):
    """An arrow from ``src`` to ``dst`` with the value on one side and the gradient on the other.

    The labels sit at fraction ``t`` of the way, nearer the source where converging edges are
    still apart, off the line on either side (the value above a left-to-right edge, the
    gradient below) on a white ground, so a line never runs through a digit or a minus sign.
    ``rad`` bends the edge into an arc (matplotlib's arc3), for edges that would overlap.
    """
    ax.annotate(
        "",
        xy=dst,
        xytext=src,
        annotation_clip=False,
        arrowprops={
            "arrowstyle": "->",
            "color": "#555555",
            "lw": 1.2,
            "shrinkA": 0,
            "shrinkB": 0,
            "connectionstyle": f"arc3,rad={rad}",
        },
    )
    (x0, y0), (x1, y1) = src, dst
    dx, dy = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2 + rad * dy, (y0 + y1) / 2 - rad * dx  # arc3's control point
    # the point at t on the (quadratic Bezier) edge, and the unit normal there
    mx = (1 - t) ** 2 * x0 + 2 * (1 - t) * t * cx + t**2 * x1
    my = (1 - t) ** 2 * y0 + 2 * (1 - t) * t * cy + t**2 * y1
    tx = 2 * (1 - t) * (cx - x0) + 2 * t * (x1 - cx)
    ty = 2 * (1 - t) * (cy - y0) + 2 * t * (y1 - cy)
    norm = max((tx * tx + ty * ty) ** 0.5, 1e-12)
    nx, ny = -ty / norm, tx / norm  # left of the direction of travel: "above" going right
    ground = {"facecolor": "white", "edgecolor": "none", "pad": 0.3, "alpha": 0.85}
    for number, side, color in ((value, 1, VALUE_COLOR), (grad, -1, GRAD_COLOR)):
        if number is not None:
            x, y = mx + side * _OFF * nx, my + side * _OFF * ny
            ax.text(
                x, y, fmt(number), color=color, ha="center", va="center", fontsize=9, bbox=ground
            )


_OFF = 0.2  # how far an edge's labels sit off the line


CLASS_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd")


def decision_grid(extent, resolution=200):
    """A grid over ``extent = (x1_min, x1_max, x2_min, x2_max)``.

    Returns (xx, yy, points): xx and yy of shape (resolution, resolution) and the grid's points
    as an array of shape (resolution**2, 2), row by row, ready for a classifier.
    """
    x1_min, x1_max, x2_min, x2_max = (float(v) for v in extent)
    if not (x1_min < x1_max and x2_min < x2_max):
        raise ValueError(
            f"decision_grid: extent must be (x1_min, x1_max, x2_min, x2_max) with min < max, "
            f"got {tuple(extent)}"
        )
    xx, yy = np.meshgrid(
        np.linspace(x1_min, x1_max, resolution), np.linspace(x2_min, x2_max, resolution)
    )
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def plot_decision_boundary(
    predict, X=None, y=None, *, ax=None, extent=None, resolution=200, title=None
):
    """Shade what ``predict`` says over the plane, draw the boundary, and scatter (X, y).

    Inputs:
    - predict: maps points of shape (M, 2) to either probabilities of class 1, shape (M,) or
      (M, 1) (the plane is shaded by probability and the 0.5 contour is the boundary), or class
      scores, shape (M, C) with C >= 2 (each region is shaded by its argmax class)
    - X: optional points of shape (n, 2) with labels y of shape (n,), drawn on top
    - extent: (x1_min, x1_max, x2_min, x2_max); by default X's range plus a margin, or [-1, 1]^2

    Returns the Axes.
    """
    if extent is None:
        if X is None:
            extent = (-1.0, 1.0, -1.0, 1.0)
        else:
            X = np.asarray(X)
            lo, hi = X.min(axis=0), X.max(axis=0)
            pad = 0.15 * np.maximum(hi - lo, 1e-9)
            extent = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
    xx, yy, points = decision_grid(extent, resolution)
    out = np.asarray(predict(points), dtype=float)
    if out.shape == (len(points), 1):  # one column: probabilities of class 1
        out = out[:, 0]
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    if out.shape == (len(points),):
        field = out.reshape(xx.shape)
        ax.contourf(xx, yy, field, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.5)
        if field.min() < 0.5 < field.max():
            ax.contour(xx, yy, field, levels=[0.5], colors="k", linewidths=1.5)
    elif out.ndim == 2 and out.shape[0] == len(points):
        classes = out.argmax(axis=1).reshape(xx.shape)
        k = max(out.shape[1], 2)
        cmap = plt.matplotlib.colors.ListedColormap(
            [CLASS_COLORS[i % len(CLASS_COLORS)] for i in range(k)]
        )
        ax.contourf(xx, yy, classes, levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.3)
        ax.contour(xx, yy, classes, levels=np.arange(k - 1) + 0.5, colors="k", linewidths=1.0)
    else:
        raise ValueError(
            f"plot_decision_boundary: predict returned shape {out.shape} for {len(points)} "
            f"points; expected ({len(points)},) probabilities or ({len(points)}, C) scores"
        )
    if X is not None:
        X = np.asarray(X)
        labels = np.zeros(len(X), dtype=int) if y is None else np.asarray(y, dtype=int)
        for c in np.unique(labels):
            ax.scatter(
                *X[labels == c].T,
                s=18,
                color=CLASS_COLORS[c % len(CLASS_COLORS)],
                edgecolors="k",
                linewidths=0.4,
                label=f"class {c}",
            )
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def plot_activation(name, ax=None, z_range=(-5.0, 5.0), vanish_below=0.05):
    """Draw activation ``name`` and its derivative over ``z_range``; return the Axes.

    Where |f'(z)| < ``vanish_below`` the curve is shaded: there the gradient all but vanishes.
    """
    act = activation(name)
    z = np.linspace(*z_range, 401)
    f, df = act.f(z), act.df(z)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.2))
    ax.axhline(0, color="#999999", lw=0.6)
    ax.axvline(0, color="#999999", lw=0.6)
    ax.plot(z, f, color=VALUE_COLOR, lw=2, label=f"f(z) = {act.formula}")
    ax.plot(z, df, color=GRAD_COLOR, lw=2, ls="--", label="f'(z)")
    lo, hi = ax.get_ylim()
    ax.fill_between(
        z,
        lo,
        hi,
        where=np.abs(df) < vanish_below,
        color="#999999",
        alpha=0.2,
        label=f"|f'| < {vanish_below}",
    )
    ax.set_ylim(lo, hi)
    ax.set_xlabel("z")
    ax.set_title(name)
    ax.legend(fontsize=7, loc="upper left")
    return ax


def plot_loss_curve(train, val=None, ax=None, every=1, ylabel="loss"):
    """Training loss (and validation loss, if given) against step; return the Axes.

    ``train`` holds one loss per step; ``val`` one loss per ``every`` steps.
    """
    train = np.asarray(train, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(np.arange(len(train)), train, label="training", color="#1f77b4")
    if val is not None:
        val = np.asarray(val, dtype=float)
        ax.plot(np.arange(len(val)) * every, val, label="validation", color="#ff7f0e")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax
