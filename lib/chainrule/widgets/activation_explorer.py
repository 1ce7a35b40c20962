"""Activation explorer: f and f', where the gradient vanishes, and what survives n layers.

Left: the activation and its derivative, shaded where |f'| < 0.05. Right: a gradient sent back
through n stacked layers h = W a + b, a = f(h) of width 64 on 256 random inputs (weights drawn
with the scale that suits the activation: sqrt(1/fan_in) for sigmoid and tanh, sqrt(2/fan_in)
for the ReLU family), as the mean |gradient| at each layer relative to the last, on a log scale,
next to (max |f'|)^k, which is what k layers of derivatives alone can pass back at best.
Sigmoid's max |f'| is 0.25: after 10 layers, 0.25^10 ~ 1e-6.
"""

import ipywidgets as w
import numpy as np

from .._checks import is_integer
from ..activations import activation
from ..viz import GRAD_COLOR, plot_activation
from ._app import App, guarded

__all__ = ["ActivationExplorer", "surviving_gradient", "CHOICES"]

CHOICES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus")
MAX_LAYERS = 30
_HE = {"relu", "leaky_relu", "elu", "softplus"}  # the ReLU family keeps its scale with sqrt(2/n)


def surviving_gradient(name, layers, width=64, n=256, seed=0):
    """Mean |d(out)/d(h_l)| for each layer l = 1..layers, divided by the last layer's.

    The stack is h_l = W_l a_{l-1}, a_l = f(h_l) with a_0 standard normal of shape (n, width)
    and W_l Gaussian of scale sqrt(1/width) (sigmoid, tanh) or sqrt(2/width) (ReLU family);
    the upstream gradient at the top is standard normal. Returns an array of shape (layers,):
    entry 0 is the first layer, entry -1 is 1.0.
    """
    act = activation(name)
    rng = np.random.default_rng(seed)
    scale = np.sqrt((2.0 if name in _HE else 1.0) / width)
    a = rng.standard_normal((n, width))
    Ws, hs = [], []
    for _ in range(layers):
        W = scale * rng.standard_normal((width, width))
        h = a @ W
        Ws.append(W)
        hs.append(h)
        a = act.f(h)
    grad = rng.standard_normal((n, width))  # d(out)/d(a_L)
    sizes = []
    for W, h in zip(reversed(Ws), reversed(hs)):
        dh = grad * act.df(h)  # through the activation: local gradient f'(h)
        sizes.append(np.abs(dh).mean())
        grad = dh @ W.T  # through the weights, to the layer below
    sizes = np.array(sizes[::-1])
    return sizes / sizes[-1]


class ActivationExplorer(App):
    """Pick an activation and a depth; see f, f', and the gradient that survives the stack.

        app = ActivationExplorer("sigmoid", layers=10)
        app

    After each change ``app.ratios`` holds ``surviving_gradient(name, layers)`` and
    ``app.bound`` the per-layer (max |f'|)^k curve (k = layers - l).
    """

    description = "activation explorer"

    def __init__(self, name="sigmoid", *, layers=10):
        if name not in CHOICES:
            raise ValueError(
                f"ActivationExplorer: activation must be one of {CHOICES}, got {name!r}"
            )
        if not is_integer(layers) or not 1 <= layers <= MAX_LAYERS:
            raise ValueError(
                f"ActivationExplorer: layers must be a whole number from 1 to {MAX_LAYERS}, "
                f"got {layers!r}"
            )
        super().__init__(figsize=(9.0, 3.6))
        self.choice = w.Dropdown(options=list(CHOICES), value=name, description="activation")
        self.layers = w.IntSlider(
            value=layers, min=1, max=MAX_LAYERS, description="layers", continuous_update=True
        )
        self.layers.add_class("chainrule-slider-layers")
        self.choice.observe(lambda _change: self.update(), names="value")
        self.layers.observe(lambda _change: self.update(), names="value")
        self.ratios = None
        self.bound = None
        self._built_for = None
        self.ui = w.VBox([w.HBox([self.choice, self.layers]), self.image, self.status])
        self.update()

    def _build(self, name):
        """Both panels for activation ``name``; depth changes then only move the right's lines."""
        act = activation(name)
        z = np.linspace(-8.0, 8.0, 2001)
        self._max_df = float(np.abs(act.df(z)).max())
        deepest = surviving_gradient(name, self.layers.max)
        fig = self.figure
        fig.clear()
        self.animated = []
        left, right = fig.subplots(1, 2)
        plot_activation(name, ax=left)
        (self._measured,) = right.semilogy(
            [], [], "o-", color=GRAD_COLOR, ms=3, label="measured (random net)"
        )
        saturates = self._max_df < 1.0
        label = f"({self._max_df:.2f})^k from f' alone" if saturates else "_no bound"
        (self._bound_line,) = right.semilogy([], [], "--", color="#555555", label=label)
        self._bound_line.set_visible(saturates)
        right.axhline(1.0, color="#999999", lw=0.6)
        right.set_xlim(0.5, self.layers.max + 0.5)
        low = min(deepest.min(), self._max_df ** (self.layers.max - 1), 0.1)
        high = max(deepest.max(), 1.0)
        right.set_ylim(low / 5, high * 5)
        right.set_xlabel("layer (1 = first, nearest the input)")
        right.set_ylabel("mean |gradient| / last layer's")
        right.set_title(" ", fontsize=10)
        right.legend(fontsize=7, loc="lower right")
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.15, top=0.9, wspace=0.28)
        self.animate(self._measured, self._bound_line, right.title)
        self.invalidate()
        self._built_for = name

    @guarded
    def update(self):
        name, n = self.choice.value, int(self.layers.value)
        if self._built_for != name:
            self._build(name)
        self.ratios = surviving_gradient(name, n)
        self.bound = self._max_df ** np.arange(n - 1, -1, -1.0)
        k = np.arange(1, n + 1)
        self._measured.set_data(k, self.ratios)
        self._bound_line.set_data(k, self.bound)
        layers = "layer" if n == 1 else "layers"
        self.figure.axes[1].set_title(f"gradient through {n} {name} {layers}", fontsize=10)
        self.render()
        if n == 1:
            where = "With one layer there is nothing below it to vanish into."
        else:
            where = (
                f"The first of {n} layers receives {self.ratios[0]:.2g} × the gradient at the last."
            )
        self.show_info(f"{name}: max |f'| = {self._max_df:.2f}. {where}")
