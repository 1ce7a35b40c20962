"""The exceptions and warnings chainrule raises.

Every error says what was received, what was expected, and where (which gate, node or layer).
They subclass the built-in exception a caller would naturally catch (``ValueError`` for bad
values and shapes, ``RuntimeError`` for calls made in the wrong order), so ``except ValueError``
keeps working.
"""

__all__ = [
    "ChainruleError",
    "GateError",
    "GraphError",
    "ShapeError",
    "GradientCheckWarning",
]


class ChainruleError(Exception):
    """Base class of every error raised by chainrule."""


class GateError(ChainruleError, RuntimeError):
    """A gate was used out of order, e.g. ``backward`` before ``forward``."""


class GraphError(ChainruleError, ValueError):
    """A computational graph is malformed, was fed bad inputs, or produced a non-finite value."""


class ShapeError(ChainruleError, ValueError):
    """Arrays given to a layer have shapes that do not fit together."""


class GradientCheckWarning(UserWarning):
    """A gradient check may be unreliable: float32 inputs, or a max/ReLU input near its kink."""
