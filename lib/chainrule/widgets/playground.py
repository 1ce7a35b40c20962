"""Training playground: a small net learns a 2-D dataset live, trained by chainrule's layers.

Pick a dataset (XOR, circles, spirals, blobs, moons) and its noise, the hidden layers and units,
the activation, the learning rate and the L2 strength; press play. Each frame takes a few steps of
full-batch gradient descent on ``chainrule.nets.MLP`` (affine, activation, ..., softmax loss)
and redraws the decision boundary and the loss curve. Changing the data or the architecture
starts over; the learning rate and L2 apply from the next step, as in TensorFlow Playground.

Play runs the frames in the kernel, as a task on its asyncio event loop that hands control back
between frames (so pause, the sliders and reset answer at once), at most ``fps`` frames a second.

Inputs are standardised (zero mean, unit variance per coordinate), and the plots use those
coordinates.
"""

import asyncio
import time

import ipywidgets as w
import numpy as np
from matplotlib.colors import to_rgb

from .. import data
from .._checks import is_integer, is_real
from ..nets import ACTIVATIONS, MLP
from ..viz import CLASS_COLORS, decision_grid
from ._app import App, guarded

__all__ = ["TrainingPlayground", "DATASETS", "LEARNING_RATES", "L2_STRENGTHS"]


def _blobs(n, noise, seed):
    return data.blobs(n=n, std=1.0 + 4.0 * noise, seed=seed)  # noise widens the blobs


DATASETS = {
    "xor": lambda n, noise, seed: data.xor(n=n, noise=noise, seed=seed),
    "circles": lambda n, noise, seed: data.circles(n=n, noise=noise, seed=seed),
    "spirals": lambda n, noise, seed: data.spirals(n=n, noise=noise, seed=seed),
    "blobs": _blobs,
    "moons": lambda n, noise, seed: data.moons(n=n, noise=noise, seed=seed),
}
LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
L2_STRENGTHS = (0.0, 0.0001, 0.001, 0.01, 0.1, 1.0)
EXTENT = (-2.6, 2.6, -2.6, 2.6)
ACTIVATION_CHOICES = sorted(ACTIVATIONS)  # what chainrule.layers has forward/backward for
GROWTH_WARNING = 10  # a loss this many times its starting value gets a warning


class TrainingPlayground(App):
    """Train ``MLP([2, units, ..., units, classes])`` on a 2-D dataset and watch it, live.

        app = TrainingPlayground("spirals", hidden_layers=2, units=16)
        app                        # press play, or drive it from Python:
        app.step()                 # one frame: ``steps_per_frame`` steps, then a redraw
        await app.run(frames=100)  # what play does: frame after frame, until paused

    ``app.losses`` holds the loss before every step, ``app.accuracy`` the latest training
    accuracy, ``app.field`` what is drawn (probabilities of shape (res, res, classes)).
    A diverging run stops with a message; ``reset`` starts over.
    """

    description = "training playground"

    def __init__(
        self,
        dataset="xor",
        *,
        noise=0.1,
        hidden_layers=2,
        units=16,
        activation="relu",
        learning_rate=0.3,
        reg=0.0,
        steps_per_frame=10,
        n=200,
        resolution=60,
        seed=0,
        fps=30,
    ):
        _choice("dataset", dataset, list(DATASETS))
        _choice("activation", activation, ACTIVATION_CHOICES)
        _number("noise", noise, 0.0)
        _number("learning_rate", learning_rate, 0.0, strict=True)
        _number("reg", reg, 0.0)
        _number("fps", fps, 0.0, strict=True)
        for name, value, low in (
            ("hidden_layers", hidden_layers, 1),
            ("units", units, 1),
            ("steps_per_frame", steps_per_frame, 1),
            ("n", n, 4),
            ("resolution", resolution, 2),
            ("seed", seed, 0),
        ):
            _whole(name, value, low)
        super().__init__(figsize=(8.4, 3.8))
        self.n, self.resolution, self.seed, self.fps = int(n), int(resolution), int(seed), fps
        self._task = None
        self.dataset = w.Dropdown(options=list(DATASETS), value=dataset, description="dataset")
        self.activation = w.Dropdown(
            options=ACTIVATION_CHOICES, value=activation, description="activation"
        )

        def slider(kind, label, value, **options):
            return kind(
                value=value,
                description=label,
                style={"description_width": "110px"},
                layout=w.Layout(width="330px"),
                **options,
            )

        # a value given to the constructor beyond a slider's usual range widens the range
        self.noise = slider(w.FloatSlider, "noise", noise, min=0.0, max=max(0.5, noise), step=0.05)
        self.hidden_layers = slider(
            w.IntSlider, "hidden layers", hidden_layers, min=1, max=max(4, hidden_layers)
        )
        self.units = slider(w.IntSlider, "units per layer", units, min=1, max=max(64, units))
        self.learning_rate = slider(
            w.SelectionSlider,
            "learning rate",
            float(learning_rate),
            options=sorted({*LEARNING_RATES, float(learning_rate)}),
        )
        self.reg = slider(
            w.SelectionSlider, "L2", float(reg), options=sorted({*L2_STRENGTHS, float(reg)})
        )
        self.steps_per_frame = slider(
            w.IntSlider, "steps per frame", steps_per_frame, min=1, max=max(50, steps_per_frame)
        )
        for key, control in self._controls().items():
            control.add_class(f"chainrule-control-{key.replace('_', '-')}")
        for control in (self.dataset, self.noise, self.hidden_layers, self.units, self.activation):
            control.observe(lambda _change: self.reset(), names="value")
        self.reg.observe(self._reg_changed, names="value")
        self.play = w.ToggleButton(value=False, description="play", icon="play")
        self.play.add_class("chainrule-play")
        self.play.observe(self._play_toggled, names="value")
        self.step_button = w.Button(description="step", icon="step-forward")
        self.step_button.on_click(lambda _b: self.step())
        self.reset_button = w.Button(description="reset", icon="refresh")
        self.reset_button.on_click(lambda _b: self.reset())
        self.ui = w.VBox(
            [
                w.HBox(
                    [
                        w.VBox([self.dataset, self.noise, self.activation, self.hidden_layers]),
                        w.VBox([self.units, self.learning_rate, self.reg, self.steps_per_frame]),
                    ]
                ),
                w.HBox([self.play, self.step_button, self.reset_button]),
                self.image,
                self.status,
            ]
        )
        self.reset()

    def _controls(self):
        """{name: control} for the settings (each carries a CSS class for the browser test)."""
        names = "dataset noise hidden_layers units activation learning_rate reg steps_per_frame"
        return {k: getattr(self, k) for k in names.split()}

    # -- training ----------------------------------------------------------------------------

    @guarded
    def reset(self):
        """New data and a fresh net from the current settings; clears any message."""
        X, y = DATASETS[self.dataset.value](self.n, float(self.noise.value), self.seed)
        self.X = (X - X.mean(axis=0)) / X.std(axis=0)
        self.y = y
        self.classes = int(y.max()) + 1
        sizes = [2] + [int(self.units.value)] * int(self.hidden_layers.value) + [self.classes]
        self.net = MLP(
            sizes, activation=self.activation.value, reg=float(self.reg.value), seed=self.seed
        )
        self.losses = []
        self.accuracy = float((self.net.predict(self.X) == y).mean())
        self.error = None
        self._build_figure()
        self.draw()
        self.show_info(f"{self.dataset.value}: {len(y)} points, net {sizes}. Press play.")

    def _reg_changed(self, change):
        self.net.reg = float(change["new"])

    def _play_toggled(self, change):
        playing = change["new"]
        self.play.description, self.play.icon = ("pause", "pause") if playing else ("play", "play")
        if not playing or (self._task is not None and not self._task.done()):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # plain Python, no event loop: drive it with step() or run()
            return
        self._task = loop.create_task(self.run())

    async def run(self, frames=None):
        """Frame after frame while play is on (or ``frames`` of them), at most ``fps`` a second.

        Between frames it sleeps on the event loop, so the kernel handles button presses and
        slider moves as they come; pause (or a diverging run) ends it.
        """
        self._task = asyncio.current_task()  # so the play button does not start a second one
        if frames is not None:
            self.play.value = True
        done = 0
        while self.play.value and (frames is None or done < frames):
            start = time.perf_counter()
            self.step()
            done += 1
            await asyncio.sleep(max(0.0, 1.0 / self.fps - (time.perf_counter() - start)))
        if frames is not None:
            self.play.value = False
        return done

    @guarded
    def step(self):
        """One frame: ``steps_per_frame`` steps of gradient descent, then a redraw."""
        if self.error is not None:
            self.play.value = False
            return
        lr = float(self.learning_rate.value)
        with np.errstate(all="ignore"):  # a diverging run is caught below, by value
            for _ in range(int(self.steps_per_frame.value)):
                loss = float(self.net.step(self.X, self.y, lr))
                self.losses.append(loss)
                if not np.isfinite(loss) or not self._params_finite():
                    return self._diverged(loss, lr)
            self.accuracy = float((self.net.predict(self.X) == self.y).mean())
        self.draw()
        progress = (
            f"step {len(self.losses)} · loss {self.losses[-1]:.4f} · "
            f"training accuracy {self.accuracy:.0%}"
        )
        if self.losses[-1] > GROWTH_WARNING * self.losses[0]:
            self.show_warning(
                f"{progress}. The loss is over {GROWTH_WARNING}x where it started: the learning "
                f"rate {lr:g} is probably too large."
            )
        else:
            self.show_info(progress)

    def _params_finite(self):
        return all(np.isfinite(p).all() for p in self.net.params.values())

    def _diverged(self, loss, lr):
        self.play.value = False
        self.draw()  # the loss curve up to the blow-up, and the step it happened at
        bad = [k for k, p in self.net.params.items() if not np.isfinite(p).all()]
        what = f"the loss became {loss}" if not np.isfinite(loss) else f"{bad[0]} holds nan/inf"
        self.show_error(
            f"training diverged at step {len(self.losses)}: {what} (learning rate {lr:g}). "
            "Lower the learning rate and press reset."
        )

    # -- drawing -----------------------------------------------------------------------------

    def _build_figure(self):
        _, _, self._grid = decision_grid(EXTENT, self.resolution)  # the points drawn each frame
        self._colors = np.array(
            [to_rgb(CLASS_COLORS[c % len(CLASS_COLORS)]) for c in range(self.classes)]
        )
        fig = self.figure
        fig.clear()
        self.ax_boundary, self.ax_loss = fig.subplots(1, 2, width_ratios=(1, 1.25))
        ax = self.ax_boundary
        self._im = ax.imshow(
            np.ones((self.resolution, self.resolution, 3)),
            origin="lower",
            extent=EXTENT,
            interpolation="bilinear",
        )
        for c in range(self.classes):
            ax.scatter(
                *self.X[self.y == c].T,
                s=10,
                color=CLASS_COLORS[c % len(CLASS_COLORS)],
                edgecolors="k",
                linewidths=0.3,
            )
        ax.set_xlim(EXTENT[:2])
        ax.set_ylim(EXTENT[2:])
        ax.set_xticks([])
        ax.set_yticks([])
        (self._loss_line,) = self.ax_loss.plot([], [], color="#1f77b4")
        # What changes every frame is drawn over a saved background (blitting): the rest of
        # the figure is redrawn only when the loss plot's limits move.
        self.animated = []
        self.ax_loss.set_yscale("log")
        self.animate(self._im, *ax.collections, self._loss_line, ax.title)
        self._limits = None
        self.invalidate()
        self.ax_loss.set_xlabel("step")
        self.ax_loss.set_ylabel("training loss")
        self.ax_loss.grid(alpha=0.3)
        fig.subplots_adjust(left=0.02, right=0.98, bottom=0.14, top=0.9, wspace=0.2)

    def draw(self):
        """Redraw the boundary and the loss curve from the current net, and render."""
        scores = self.net.scores(self._grid)
        scores = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=1, keepdims=True)
        self.field = probs.reshape(self.resolution, self.resolution, self.classes)
        if np.isfinite(self.field).all():  # a diverged net keeps its last good picture
            self._im.set_data(0.45 + 0.55 * (self.field @ self._colors))  # lightened
        self._loss_line.set_data(np.arange(len(self.losses)), self.losses)
        finite = [v for v in self.losses if np.isfinite(v) and v > 0]
        # x doubles as training goes on and y (log scale) spans whole decades of the losses
        # seen, so the axes (and the saved background) change rarely
        x_max = 16
        while x_max < len(self.losses):
            x_max *= 2
        low, high = (min(finite), max(finite)) if finite else (1.0, 1.0)
        y_range = (10.0 ** np.floor(np.log10(low) - 0.3), 10.0 ** np.ceil(np.log10(high) + 0.1))
        limits = (x_max, min(y_range[0], 0.01), max(y_range[1], 10.0))
        if limits != self._limits:
            self.ax_loss.set_xlim(0, limits[0])
            self.ax_loss.set_ylim(limits[1], limits[2])
            self._limits = limits
            self.invalidate()
        self.ax_boundary.set_title(
            f"step {len(self.losses)}: training accuracy {self.accuracy:.0%}", fontsize=10
        )
        sizes = "-".join(map(str, self.net.sizes))
        setup = (
            f"{sizes} {self.net.activation} net, learning rate "
            f"{float(self.learning_rate.value):g}, L2 {self.net.reg:g}"
        )
        if self.ax_loss.get_title() != setup:  # part of the background: changes rarely
            self.ax_loss.set_title(setup, fontsize=9)
            self.invalidate()
        self.render()


def _choice(name, value, options):
    if value not in options:
        raise ValueError(f"TrainingPlayground: {name} must be one of {options}, got {value!r}")


def _number(name, value, low, strict=False):
    ok = is_real(value) and np.isfinite(value) and (value > low if strict else value >= low)
    if not ok:
        bound = f"> {low:g}" if strict else f">= {low:g}"
        raise ValueError(f"TrainingPlayground: {name} must be a number {bound}, got {value!r}")


def _whole(name, value, low):
    if not is_integer(value) or value < low:
        raise ValueError(
            f"TrainingPlayground: {name} must be a whole number >= {low}, got {value!r}"
        )
