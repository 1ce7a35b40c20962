"""Decision-boundary explorer: drag the weights of logistic units and watch the boundary move.

Mode "one unit": p(x) = sigmoid(w1 x1 + w2 x2 + b), opening on the lecture's w = [1, 1], b = -3,
whose boundary p = 0.5 is the line w1 x1 + w2 x2 + b = 0, here x2 = -x1 + 3. The weight vector w
is drawn as an arrow: it is normal to the line and points to class 1.

Mode "three units" (Aarhus Lecture 3): hidden units h_i = sigmoid(w_i . x + b_i) and an output
sigmoid(v1 h1 + v2 h2 + v3 h3 + c). The presets are the lecture's: with v = (1, 1, 1), c = 0 the
output never drops below 0.5; with v = (10, 10, 10), c = -1 it carves out the triangle.
"""

import contextlib

import ipywidgets as w
import numpy as np

from .._checks import is_integer
from ..activations import ACTIVATIONS
from ..viz import decision_grid
from ._app import App, guarded

__all__ = ["BoundaryExplorer", "clip_line", "linear_text", "AARHUS_UNITS", "PRESETS"]

_sigmoid = ACTIVATIONS["sigmoid"].f  # overflow-free for any z

# h1 = sigmoid(10 x1 + 10 x2 - 30), h2 = sigmoid(10 x1 - 10 x2 - 30), h3 = sigmoid(-10 x1 + x2 - 3)
AARHUS_UNITS = ((10.0, 10.0, -30.0), (10.0, -10.0, -30.0), (-10.0, 1.0, -3.0))
PRESETS = {
    "sigmoid(h1 + h2 + h3): never below 0.5": ((1.0, 1.0, 1.0), 0.0),
    "sigmoid(10 (h1 + h2 + h3) - 1): the triangle": ((10.0, 10.0, 10.0), -1.0),
}
UNIT_EXTENT = (-6.0, 6.0, -6.0, 6.0)
AARHUS_EXTENT = (-10.0, 10.0, -10.0, 10.0)


def clip_line(w1, w2, b, extent):
    """The part of the line w1 x1 + w2 x2 + b = 0 inside ``extent``, as two (x1, x2) points.

    Returns None when the line misses the box or is not a line (w1 = w2 = 0).
    """
    x_lo, x_hi, y_lo, y_hi = extent
    points = []
    if w2 != 0:  # crossings with the left and right edges
        for x in (x_lo, x_hi):
            y = -(w1 * x + b) / w2
            if y_lo <= y <= y_hi:
                points.append((x, y))
    if w1 != 0:  # crossings with the bottom and top edges
        for y in (y_lo, y_hi):
            x = -(w2 * y + b) / w1
            if x_lo <= x <= x_hi:
                points.append((x, y))
    if len(points) < 2:
        return None
    # the two crossings farthest apart (a corner can be found twice)
    pairs = [(p, q) for i, p in enumerate(points) for q in points[i + 1 :]]
    p, q = max(pairs, key=lambda pq: (pq[0][0] - pq[1][0]) ** 2 + (pq[0][1] - pq[1][1]) ** 2)
    if p == q:
        return None
    return (tuple(map(float, p)), tuple(map(float, q)))


def linear_text(terms, const, spec=".2f"):
    """``a x1 + b x2 + c`` as a person writes it: ``x1 - 0.50 x2 + 3.00``, ``-x1``, ``-1.00``.

    ``terms`` are (coefficient, name) pairs; zero coefficients are left out, and a 1 or -1 is
    written as a sign. Numbers use the format ``spec``.
    """
    out = []
    for coef, name in terms:
        if coef == 0:
            continue
        sign = "-" if coef < 0 else "+"
        size = abs(coef)
        term = name if size == 1 else f"{size:{spec}} {name}"
        out.append((sign, term))
    if const != 0 or not out:
        out.append(("-" if const < 0 else "+", f"{abs(const):{spec}}"))
    first_sign, first = out[0]
    text = ("-" if first_sign == "-" else "") + first
    return text + "".join(f" {sign} {term}" for sign, term in out[1:])


class BoundaryExplorer(App):
    """Sliders for logistic units' weights; the probability field and the boundary redraw live.

        app = BoundaryExplorer()            # one unit, w = [1, 1], b = -3
        app = BoundaryExplorer("three")     # the Aarhus lecture's three units
        app                                  # last line of a cell: shows it

    Read back what it drew: ``app.field`` (the probability of class 1 on the grid, shape
    (resolution, resolution), rows along x2), ``app.boundary`` (the boundary's two end points in
    mode "unit"), ``app.hidden_lines`` (the three hidden units' lines in mode "three").
    """

    description = "decision-boundary explorer"

    def __init__(self, mode="unit", *, resolution=200):
        if mode not in ("unit", "three"):
            raise ValueError(f"BoundaryExplorer: mode must be 'unit' or 'three', got {mode!r}")
        if not is_integer(resolution) or resolution < 2:
            raise ValueError(
                f"BoundaryExplorer: resolution must be a whole number of grid points per side, "
                f"at least 2, got {resolution!r}"
            )
        super().__init__(figsize=(5.2, 4.4))
        self.resolution = int(resolution)
        self._hold = False
        self.sliders = {}
        self.boundary = None
        self.hidden_lines = []
        self.field = None

        def slider(key, value, lo, hi, step, label=None):
            s = w.FloatSlider(
                value=value,
                min=lo,
                max=hi,
                step=step,
                description=label or key,
                continuous_update=True,
                readout_format=".2f" if step < 1 else ".1f",
                layout=w.Layout(width="260px"),
                style={"description_width": "32px"},
            )
            s.add_class(f"chainrule-slider-{key}")
            s.observe(self._changed, names="value")
            self.sliders[key] = s
            return s

        unit_box = w.VBox(
            [
                slider("w1", 1.0, -5.0, 5.0, 0.1),
                slider("w2", 1.0, -5.0, 5.0, 0.1),
                slider("b", -3.0, -10.0, 10.0, 0.1),
            ]
        )
        rows = []
        for i, (a1, a2, c) in enumerate(AARHUS_UNITS, start=1):
            rows.append(
                w.HBox(
                    [
                        w.Label(f"h{i}", layout=w.Layout(width="24px")),
                        slider(f"h{i}_w1", a1, -20.0, 20.0, 1.0, "w1"),
                        slider(f"h{i}_w2", a2, -20.0, 20.0, 1.0, "w2"),
                        slider(f"h{i}_b", c, -50.0, 50.0, 1.0, "b"),
                    ]
                )
            )
        (v, c0) = PRESETS["sigmoid(10 (h1 + h2 + h3) - 1): the triangle"]
        out_row = w.HBox(
            [w.Label("out", layout=w.Layout(width="24px"))]
            + [slider(f"v{i}", v[i - 1], -20.0, 20.0, 0.5) for i in (1, 2, 3)]
            + [slider("c", c0, -20.0, 20.0, 0.5)]
        )
        self.preset = w.Dropdown(
            options=list(PRESETS), value=list(PRESETS)[1], description="preset"
        )
        self.preset.observe(self._preset_chosen, names="value")
        three_box = w.VBox([self.preset, *rows, out_row])
        self._boxes = {"unit": unit_box, "three": three_box}
        self.mode_buttons = w.ToggleButtons(
            options=[("one unit", "unit"), ("three units (Aarhus L3)", "three")], value=mode
        )
        self.mode_buttons.observe(self._mode_chosen, names="value")
        self.controls = w.VBox([self._boxes[mode]])
        self.ui = w.VBox([self.mode_buttons, self.controls, self.image, self.status])
        self.update()

    @property
    def mode(self):
        return self.mode_buttons.value

    @contextlib.contextmanager
    def hold(self):
        """Change several sliders and redraw once, at the end."""
        self._hold = True
        try:
            yield self
        finally:
            self._hold = False
        self.update()

    def set(self, **values):
        """Set sliders by key (``app.set(w1=2, b=-1)``) and redraw once."""
        unknown = sorted(set(values) - set(self.sliders))
        if unknown:
            raise KeyError(
                f"BoundaryExplorer.set: no slider {unknown}; sliders: {list(self.sliders)}"
            )
        with self.hold():
            for key, value in values.items():
                self.sliders[key].value = value

    # -- callbacks ---------------------------------------------------------------------------

    def _changed(self, _change):
        if not self._hold:
            self.update()

    def _mode_chosen(self, change):
        self.controls.children = [self._boxes[change["new"]]]
        self.update()

    def _preset_chosen(self, change):
        v, c = PRESETS[change["new"]]
        self.set(v1=v[0], v2=v[1], v3=v[2], c=c)

    # -- the model and the drawing ----------------------------------------------------------

    def values(self):
        """{slider key: value}."""
        return {k: float(s.value) for k, s in self.sliders.items()}

    def probability(self, points):
        """p(class 1) at ``points`` of shape (M, 2) under the current mode and weights: (M,)."""
        p = self.values()
        points = np.asarray(points, dtype=float)
        if self.mode == "unit":
            return _sigmoid(points @ np.array([p["w1"], p["w2"]]) + p["b"])
        W = np.array([[p[f"h{i}_w1"], p[f"h{i}_w2"]] for i in (1, 2, 3)])  # (3, 2)
        b = np.array([p[f"h{i}_b"] for i in (1, 2, 3)])
        h = _sigmoid(points @ W.T + b)  # (M, 3)
        return _sigmoid(h @ np.array([p["v1"], p["v2"], p["v3"]]) + p["c"])

    def _build(self):
        """Lay out the figure for the current mode; ``update`` then only changes artists."""
        fig = self.figure
        fig.clear()
        self.animated = []
        extent = UNIT_EXTENT if self.mode == "unit" else AARHUS_EXTENT
        self._xx, self._yy, self._grid = decision_grid(extent, self.resolution)  # every redraw
        ax = fig.add_axes((0.11, 0.11, 0.66, 0.8))  # square plot, colour bar to its right
        cax = fig.add_axes((0.81, 0.11, 0.03, 0.8))
        self._im = ax.imshow(
            np.full((self.resolution, self.resolution), 0.5),
            origin="lower",
            extent=extent,
            cmap="RdBu_r",
            vmin=0.0,
            vmax=1.0,
            alpha=0.75,
            interpolation="nearest",
        )
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.set_title(" ", fontsize=10)
        fig.colorbar(self._im, cax=cax).set_label("p(class 1)")
        self.animate(self._im, ax.title)
        ground = {"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.8}
        if self.mode == "unit":
            (self._line,) = ax.plot([], [], color="k", lw=2)
            self._arrow = ax.annotate(
                "",
                xy=(0, 0),
                xytext=(0, 0),
                arrowprops={"arrowstyle": "->", "color": "k", "lw": 1.5, "shrinkA": 0},
            )
            self._w_label = ax.text(0, 0, "w", fontsize=10, ha="center", va="center", bbox=ground)
            self.animate(self._line, self._arrow, self._w_label)
        else:
            self._hidden = [ax.plot([], [], color="k", lw=1.2, ls="--")[0] for _ in "123"]
            self._labels = [
                ax.text(0, 0, "", fontsize=8, ha="center", va="center", bbox=ground) for _ in "123"
            ]
            self._contour = None
            self.animate(*self._hidden, *self._labels)
        self._built_for = self.mode
        self.invalidate()

    @guarded
    def update(self):
        """Recompute the field and the lines, redraw, render."""
        p = self.values()
        bad = [k for k, v in p.items() if not np.isfinite(v)]
        if bad:
            raise ValueError(
                f"slider {bad[0]} is {p[bad[0]]}; every weight must be a finite number"
            )
        if getattr(self, "_built_for", None) != self.mode:
            self._build()
        extent = UNIT_EXTENT if self.mode == "unit" else AARHUS_EXTENT
        self.field = self.probability(self._grid).reshape(self.resolution, self.resolution)
        self._im.set_data(self.field)
        ax = self.figure.axes[0]
        if self.mode == "unit":
            self._draw_unit(ax, p, extent)
        else:
            self._draw_three(ax, p, extent)
        self.render()

    def _draw_unit(self, ax, p, extent):
        w1, w2, b = p["w1"], p["w2"], p["b"]
        self.hidden_lines = []
        self.boundary = clip_line(w1, w2, b, extent)
        ax.set_title(f"p = σ({linear_text([(w1, 'x1'), (w2, 'x2')], b, '.1f')})", fontsize=10)
        if self.boundary is None:
            self._line.set_data([], [])
            self._arrow.set_visible(False)
            self._w_label.set_visible(False)
            side = "1" if self.field.mean() >= 0.5 else "0"  # p >= 0.5 predicts class 1
            if w1 == w2 == 0:
                self.show_info(
                    f"No boundary: w = 0, so p = σ(b) = {self.field.flat[0]:.2f} everywhere and "
                    f"the unit predicts class {side} on the whole plane."
                )
            else:
                self.show_info(
                    f"No boundary in this window: the unit predicts class {side} all over it."
                )
            return
        (xa, ya), (xb, yb) = self.boundary
        self._line.set_data([xa, xb], [ya, yb])
        # w is normal to the boundary and points where w.x + b grows: towards class 1
        mx, my = (xa + xb) / 2, (ya + yb) / 2
        ux, uy = w1 / np.hypot(w1, w2), w2 / np.hypot(w1, w2)
        self._arrow.xy = (mx + 1.5 * ux, my + 1.5 * uy)
        self._arrow.set_position((mx, my))
        self._w_label.set_position((mx + 1.9 * ux, my + 1.9 * uy))
        self._arrow.set_visible(True)
        self._w_label.set_visible(True)
        if w2 != 0:
            line = "x2 = " + linear_text([(-w1 / w2, "x1")], -b / w2)
        else:
            line = f"x1 = {-b / w1:.2f}"
        self.show_info(f"Boundary (p = 0.5): {line}. Class 1 lies on the side w points to.")

    def _draw_three(self, ax, p, extent):
        self.boundary = None
        self.hidden_lines = []
        for i, line, label in zip((1, 2, 3), self._hidden, self._labels):
            seg = clip_line(p[f"h{i}_w1"], p[f"h{i}_w2"], p[f"h{i}_b"], extent)
            self.hidden_lines.append(seg)
            if seg is None:
                line.set_data([], [])
                label.set_text("")
                continue
            (xa, ya), (xb, yb) = seg
            line.set_data([xa, xb], [ya, yb])
            label.set_position((xa + 0.12 * (xb - xa), ya + 0.12 * (yb - ya)))  # inside the plot
            label.set_text(f"h{i}")
        if self._contour is not None:  # the network's boundary: a new contour each time
            self._contour.remove()
            self.animated.remove(self._contour)
            self._contour = None
        field = self.field
        if field.min() < 0.5 < field.max():
            self._contour = ax.contour(
                self._xx, self._yy, field, levels=[0.5], colors="k", linewidths=2
            )
            self.animate(self._contour)
        out = linear_text([(p["v1"], "h1"), (p["v2"], "h2"), (p["v3"], "h3")], p["c"], "g")
        ax.set_title(f"p = σ({out})", fontsize=10)
        share = float((field >= 0.5).mean())
        units = "; ".join(
            f"h{i} = σ({linear_text([(p[f'h{i}_w1'], 'x1'), (p[f'h{i}_w2'], 'x2')], c, 'g')})"
            for i, c in ((1, p["h1_b"]), (2, p["h2_b"]), (3, p["h3_b"]))
        )
        self.show_info(
            f"{units}. p ranges over [{field.min():.4f}, {field.max():.4f}]; class 1 on "
            f"{share:.0%} of the plot. Dashed: where each hidden unit is 0.5."
        )
