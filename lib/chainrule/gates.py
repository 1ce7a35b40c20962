"""Scalar gates: the nodes of a computational graph, with the lecture's forward/backward API.

A gate computes one output from its inputs. ``forward(*inputs)`` caches what the backward pass
needs and returns the output; ``backward(upstream)`` takes the gradient of the final output with
respect to this gate's output (the *upstream* gradient) and returns one gradient per input, as a
tuple in input order. Every backward is the chain rule for one node::

    downstream gradient = local gradient x upstream gradient

    gate                forward            local gradient(s)
    AddGate             x + y              1, 1             (distributes the upstream gradient)
    SubtractGate        x - y              1, -1
    MultiplyGate        x * y              y, x             (switches the inputs)
    MaxGate             max(x, y)          1, 0 or 0, 1     (routes to the larger input)
    ExpGate             e^x                e^x
    LogGate             ln x               1/x
    InverseGate         1/x                -1/x^2
    AddConstantGate(c)  c + x              1
    ScaleGate(a)        a * x              a
    PowerGate(p)        x^p                p x^(p-1)
    SigmoidGate         1/(1 + e^-x)       (1 - s) s        where s = sigmoid(x)
    ReLUGate            max(0, x)          1 if x > 0 else 0
    TanhGate            tanh x             1 - t^2          where t = tanh(x)

Gates work on Python floats (``math``), which keeps them fast and exact to the slides; the
vectorized versions are in ``chainrule.layers``. A gate instance caches one forward pass, so a
graph uses a fresh instance per node.
"""

import math

from ._checks import is_real
from .errors import GateError

__all__ = [
    "Gate",
    "AddGate",
    "SubtractGate",
    "MultiplyGate",
    "MaxGate",
    "ExpGate",
    "LogGate",
    "InverseGate",
    "AddConstantGate",
    "ScaleGate",
    "PowerGate",
    "SigmoidGate",
    "ReLUGate",
    "TanhGate",
    "sigmoid",
]


def sigmoid(x):
    """The logistic function 1 / (1 + e^-x), computed without overflow for any float x."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


class Gate:
    """Base class: one node's forward and backward.

    Subclasses set ``input_names`` (one name per input, used in messages), ``short_name`` (used
    to name graph nodes: ``mul1``, ``exp2``), and implement ``forward`` and ``backward``.
    ``forward`` stores what backward needs in ``self.cache``; ``backward`` reads it back with
    ``self.saved()``, which raises a clear error if forward has not run yet.
    """

    input_names: tuple = ()
    short_name = "gate"
    cache = None  # set by forward(); None means forward has not run
    _node = None  # the graph node this gate computes, once it is in a graph

    @property
    def arity(self):
        """How many inputs the gate takes."""
        return len(self.input_names)

    @property
    def label(self):
        """A short label for drawings, e.g. ``*`` or ``+1``."""
        return self.short_name

    def forward(self, *inputs):  # pragma: no cover - every gate overrides it
        raise NotImplementedError

    def backward(self, upstream):  # pragma: no cover - every gate overrides it
        raise NotImplementedError

    def saved(self):
        """Return what ``forward`` cached; raise ``GateError`` if it has not run."""
        if self.cache is None:
            raise GateError(
                f"{self!r}.backward() was called before forward(): run "
                f"forward({', '.join(self.input_names)}) first so the gate can cache "
                "what its local gradient needs (a gate of your own must store it in "
                "self.cache in forward)"
            )
        return self.cache

    def __repr__(self):
        return f"{type(self).__name__}()"


class AddGate(Gate):
    """z = x + y. Both local gradients are 1: the add gate *distributes* the upstream gradient."""

    input_names = ("x", "y")
    short_name = "add"
    label = "+"

    def forward(self, x, y):
        self.cache = ()  # nothing needed: the local gradients are constants
        return x + y

    def backward(self, dz):
        self.saved()
        return (dz, dz)


class SubtractGate(Gate):
    """z = x - y. Local gradients 1 and -1: the second input gets the upstream gradient negated."""

    input_names = ("x", "y")
    short_name = "sub"
    label = "-"

    def forward(self, x, y):
        self.cache = ()
        return x - y

    def backward(self, dz):
        self.saved()
        return (dz, -dz)


class MultiplyGate(Gate):
    """z = x * y. dz/dx = y and dz/dy = x: the multiply gate *switches* its inputs."""

    input_names = ("x", "y")
    short_name = "mul"
    label = "*"

    def forward(self, x, y):
        self.cache = (x, y)
        return x * y

    def backward(self, dz):
        x, y = self.saved()
        return (y * dz, x * dz)


class MaxGate(Gate):
    """z = max(x, y). The max gate *routes* the whole upstream gradient to the larger input.

    The other input gets exactly 0. Tie rule: when x == y the gradient goes to the first input
    (x), so exactly one input receives it and the gradients still sum to the upstream gradient.
    """

    input_names = ("x", "y")
    short_name = "max"
    label = "max"

    def forward(self, x, y):
        x_wins = x >= y
        self.cache = (x_wins,)
        return x if x_wins else y

    def backward(self, dz):
        (x_wins,) = self.saved()
        return (dz, 0.0) if x_wins else (0.0, dz)


class ExpGate(Gate):
    """z = e^x. Local gradient e^x, which is the output itself, so forward caches the output."""

    input_names = ("x",)
    short_name = "exp"
    label = "exp"

    def forward(self, x):
        z = math.exp(x)
        self.cache = (z,)
        return z

    def backward(self, dz):
        (z,) = self.saved()
        return (z * dz,)


class LogGate(Gate):
    """z = ln x for x > 0. Local gradient 1/x."""

    input_names = ("x",)
    short_name = "log"
    label = "log"

    def forward(self, x):
        if x <= 0:
            raise ValueError(f"LogGate: ln(x) needs x > 0, got x = {x!r}")
        self.cache = (x,)
        return math.log(x)

    def backward(self, dz):
        (x,) = self.saved()
        return (dz / x,)


class InverseGate(Gate):
    """z = 1/x. Local gradient -1/x^2 = -z^2, so forward caches the output."""

    input_names = ("x",)
    short_name = "inv"
    label = "1/x"

    def forward(self, x):
        if x == 0:
            raise ZeroDivisionError(f"InverseGate: 1/x is undefined at x = {x!r}")
        z = 1.0 / x
        self.cache = (z,)
        return z

    def backward(self, dz):
        (z,) = self.saved()
        return (-z * z * dz,)


class AddConstantGate(Gate):
    """z = c + x for a fixed constant c. Local gradient 1."""

    input_names = ("x",)
    short_name = "addc"

    def __init__(self, c):
        self.c = _constant("AddConstantGate", "c", c)

    @property
    def label(self):
        return f"{self.c:+g}"

    def forward(self, x):
        self.cache = ()
        return self.c + x

    def backward(self, dz):
        self.saved()
        return (dz,)

    def __repr__(self):
        return f"AddConstantGate(c={self.c!r})"


class ScaleGate(Gate):
    """z = a * x for a fixed constant a. Local gradient a."""

    input_names = ("x",)
    short_name = "scale"

    def __init__(self, a):
        self.a = _constant("ScaleGate", "a", a)

    @property
    def label(self):
        return f"*{self.a:g}"

    def forward(self, x):
        self.cache = ()
        return self.a * x

    def backward(self, dz):
        self.saved()
        return (self.a * dz,)

    def __repr__(self):
        return f"ScaleGate(a={self.a!r})"


class PowerGate(Gate):
    """z = x^p for a fixed real exponent p. Local gradient p x^(p-1)."""

    input_names = ("x",)
    short_name = "pow"

    def __init__(self, p):
        self.p = _constant("PowerGate", "p", p)

    @property
    def label(self):
        return f"^{self.p:g}"

    def forward(self, x):
        z = x**self.p
        if isinstance(z, complex):
            raise ValueError(f"PowerGate(p={self.p!r}): {x!r} ** {self.p!r} is not a real number")
        self.cache = (x,)
        return z

    def backward(self, dz):
        (x,) = self.saved()
        p = self.p
        if p == 0:
            return (0.0,)  # x^0 = 1 is constant, even at x = 0 where x^-1 is undefined
        return (p * x ** (p - 1) * dz,)

    def __repr__(self):
        return f"PowerGate(p={self.p!r})"


class SigmoidGate(Gate):
    """z = sigmoid(x) = 1/(1 + e^-x), as one gate: local gradient (1 - z) z.

    The lecture's point: the exp, +1 and 1/x gates it replaces give the same gradient, but
    grouping them into one gate whose local gradient we can write down is simpler and faster.
    """

    input_names = ("x",)
    short_name = "sigmoid"
    label = "sigmoid"

    def forward(self, x):
        z = sigmoid(x)
        self.cache = (z,)
        return z

    def backward(self, dz):
        (z,) = self.saved()
        return ((1.0 - z) * z * dz,)


class ReLUGate(Gate):
    """z = max(0, x). Local gradient 1 where x > 0 and 0 elsewhere (0 at the kink x = 0)."""

    input_names = ("x",)
    short_name = "relu"
    label = "relu"

    def forward(self, x):
        active = x > 0
        self.cache = (active,)
        return x if active else 0.0

    def backward(self, dz):
        (active,) = self.saved()
        return (dz if active else 0.0,)


class TanhGate(Gate):
    """z = tanh x. Local gradient 1 - z^2, so forward caches the output."""

    input_names = ("x",)
    short_name = "tanh"
    label = "tanh"

    def forward(self, x):
        z = math.tanh(x)
        self.cache = (z,)
        return z

    def backward(self, dz):
        (z,) = self.saved()
        return ((1.0 - z * z) * dz,)


def _constant(gate, name, value):
    """Validate a gate's constant parameter: a finite real number, returned as a float."""
    if not is_real(value):
        raise TypeError(
            f"{gate}: {name} must be a real number, got {type(value).__name__} {value!r}"
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{gate}: {name} must be finite, got {value!r}")
    return value
