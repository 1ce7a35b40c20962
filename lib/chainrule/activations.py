"""Activation functions and their derivatives, one table keyed by name.

    f, df = ACTIVATIONS["relu"].f, ACTIVATIONS["relu"].df
    f(z), df(z)                      # elementwise, any array shape, NumPy or CuPy

The lectures' list: linear, hard threshold, sigmoid, tanh, ReLU, leaky ReLU max(0.1z, z), ELU and
soft ReLU log(1 + e^z) (CSC413 and CS231n). Maxout takes parameters, so it is a function of its
own: ``maxout(z, w, b)`` = max_k (w_k z + b_k), of which ReLU and leaky ReLU are special cases.

At a kink (ReLU and friends at 0, the threshold's step) ``df`` returns the derivative from the
left, as the backward passes in ``chainrule.layers`` do: ReLU'(0) = 0.
"""

from dataclasses import dataclass

from .backend import get_array_module
from .layers import sigmoid_forward

__all__ = ["Activation", "ACTIVATIONS", "activation", "maxout", "maxout_grad"]


@dataclass(frozen=True)
class Activation:
    """An elementwise activation: ``f(z)`` and its derivative ``df(z)``, both of z's shape."""

    name: str
    formula: str
    f: object
    df: object


def _sigmoid(z):
    return sigmoid_forward(z)[0]  # 1 / (1 + e^-z), without overflow for large |z|


def _tanh(z):
    return get_array_module(z).tanh(z)


def _softplus(z):
    xp = get_array_module(z)
    return xp.logaddexp(0.0, z)  # log(1 + e^z), without overflow


def _elu(z, alpha=1.0):
    xp = get_array_module(z)
    return xp.where(z > 0, z, alpha * xp.expm1(xp.minimum(z, 0.0)))


def _elu_grad(z, alpha=1.0):
    xp = get_array_module(z)
    return xp.where(z > 0, 1.0, alpha * xp.exp(xp.minimum(z, 0.0)))


def _table():
    def one(z):
        return get_array_module(z).ones_like(z, dtype=float)

    def zero(z):
        return get_array_module(z).zeros_like(z, dtype=float)

    def step(z):
        return (z > 0) * 1.0

    entries = [
        Activation("linear", "z", lambda z: z * 1.0, one),
        Activation("hard_threshold", "1 if z > 0 else 0", step, zero),
        Activation("sigmoid", "1 / (1 + e^-z)", _sigmoid, lambda z: _sigmoid(z) * _sigmoid(-z)),
        Activation("tanh", "tanh(z)", _tanh, lambda z: 1.0 - _tanh(z) ** 2),
        Activation("relu", "max(0, z)", lambda z: get_array_module(z).maximum(z, 0.0), step),
        Activation(
            "leaky_relu",
            "max(0.1 z, z)",
            lambda z: get_array_module(z).where(z > 0, z, 0.1 * z),
            lambda z: get_array_module(z).where(z > 0, 1.0, 0.1),
        ),
        Activation("elu", "z if z > 0 else e^z - 1", _elu, _elu_grad),
        Activation("softplus", "log(1 + e^z)  (soft ReLU)", _softplus, _sigmoid),
    ]
    return {a.name: a for a in entries}


ACTIVATIONS = _table()


def activation(name):
    """The ``Activation`` called ``name``; a clear error names the ones that exist."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"no activation {name!r}; expected one of: {', '.join(ACTIVATIONS)}"
        ) from None


def maxout(z, w=(1.0, 0.1), b=(0.0, 0.0)):
    """Maxout of one input: max over pieces k of w[k] * z + b[k], elementwise.

    Inputs:
    - z: array of any shape
    - w, b: sequences of K slopes and K intercepts (K >= 2); the default is leaky ReLU

    Returns an array of z's shape.
    """
    _, _, values = _piece_values(z, w, b)
    return values.max(axis=0)


def maxout_grad(z, w=(1.0, 0.1), b=(0.0, 0.0)):
    """d maxout / dz: the slope of the piece that wins at each z.

    Where pieces tie (a kink) it is the derivative from the left, as for ReLU: the smallest
    slope among the tied pieces, the one that wins just left of the kink.
    """
    xp, w, values = _piece_values(z, w, b)
    slopes = xp.asarray(w, dtype=float).reshape((len(w),) + (1,) * (values.ndim - 1))
    return xp.where(values == values.max(axis=0), slopes, xp.inf).min(axis=0)


def _piece_values(z, w, b):
    """(xp, slopes, values): each piece's w[k] * z + b[k], stacked along a new first axis."""
    w, b = tuple(float(v) for v in w), tuple(float(v) for v in b)
    if len(w) < 2 or len(w) != len(b):
        raise ValueError(
            f"maxout: w and b must list the same number (>= 2) of pieces, "
            f"got {len(w)} slopes and {len(b)} intercepts"
        )
    xp = get_array_module(z)
    return xp, w, xp.stack([wk * z + bk for wk, bk in zip(w, b)])
