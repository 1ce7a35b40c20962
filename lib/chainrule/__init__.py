"""chainrule: the reference backpropagation engine of backprop-kit.

Scalar gates with the lecture's ``forward``/``backward`` API (``chainrule.gates``), a
computational graph over them (``ComputationalGraph``), vectorized layers in the CS231n
``(out, cache)`` convention (``chainrule.layers``), a gradient checker (``chainrule.gradcheck``),
activation functions with their derivatives (``chainrule.activations``),
small datasets made in code (``chainrule.data``) and an array-module switch for NumPy/CuPy
(``chainrule.backend``).
"""

from . import activations, backend, data, gates, gradcheck, layers, nets
from .errors import ChainruleError, GateError, GradientCheckWarning, GraphError, ShapeError
from .gates import (
    AddConstantGate,
    AddGate,
    ExpGate,
    Gate,
    InverseGate,
    LogGate,
    MaxGate,
    MultiplyGate,
    PowerGate,
    ReLUGate,
    ScaleGate,
    SigmoidGate,
    SubtractGate,
    TanhGate,
)
from .gradcheck import check_gate, check_gradient, max_rel_error, numerical_gradient, rel_error
from .graph import BackwardStep, ComputationalGraph, Node, maximum
from .nets import TwoLayerNet

__version__ = "0.1.0"

__all__ = [
    # modules
    "activations",
    "backend",
    "data",
    "gates",
    "gradcheck",
    "layers",
    "nets",
    # graph
    "ComputationalGraph",
    "Node",
    "BackwardStep",
    "maximum",
    "TwoLayerNet",
    # gates
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
    # gradient checking
    "numerical_gradient",
    "rel_error",
    "max_rel_error",
    "check_gradient",
    "check_gate",
    # errors
    "ChainruleError",
    "GateError",
    "GraphError",
    "ShapeError",
    "GradientCheckWarning",
]
