"""Tests for chainrule.gates: each gate's forward value and local gradients."""

import math

import pytest

from chainrule import gates
from chainrule.errors import GateError
from chainrule.gates import (
    AddConstantGate,
    AddGate,
    ExpGate,
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
from chainrule.gradcheck import check_gate

# (gate factory, inputs, expected forward value, expected backward with upstream 2.0)
CASES = [
    (AddGate, (3.0, -4.0), -1.0, (2.0, 2.0)),
    (SubtractGate, (3.0, -4.0), 7.0, (2.0, -2.0)),
    (MultiplyGate, (3.0, -4.0), -12.0, (-8.0, 6.0)),
    (MaxGate, (2.0, -1.0), 2.0, (2.0, 0.0)),
    (MaxGate, (-1.0, 2.0), 2.0, (0.0, 2.0)),
    (ExpGate, (-1.0,), math.exp(-1.0), (2.0 * math.exp(-1.0),)),
    (LogGate, (4.0,), math.log(4.0), (0.5,)),
    (InverseGate, (1.37,), 1.0 / 1.37, (-2.0 / 1.37**2,)),
    (lambda: AddConstantGate(1.0), (0.37,), 1.37, (2.0,)),
    (lambda: ScaleGate(-1.0), (1.0,), -1.0, (-2.0,)),
    (lambda: PowerGate(3.0), (-2.0,), -8.0, (2.0 * 3.0 * 4.0,)),
    (SigmoidGate, (1.0,), 1.0 / (1.0 + math.exp(-1.0)), None),
    (ReLUGate, (1.5,), 1.5, (2.0,)),
    (ReLUGate, (-1.5,), 0.0, (0.0,)),
    (TanhGate, (0.5,), math.tanh(0.5), (2.0 * (1.0 - math.tanh(0.5) ** 2),)),
]


@pytest.mark.parametrize("make, inputs, value, grads", CASES)
def test_forward_value_and_backward_gradients(make, inputs, value, grads):
    """Does each gate compute the right output and return local x upstream per input?"""
    gate = make()
    assert gate.forward(*inputs) == pytest.approx(value, rel=1e-15)
    got = gate.backward(2.0)
    assert isinstance(got, tuple) and len(got) == len(inputs)
    if grads is not None:
        assert got == pytest.approx(grads, rel=1e-15)


@pytest.mark.parametrize("make, inputs, value, grads", CASES)
def test_backward_agrees_with_numerical_gradient(make, inputs, value, grads):
    """Does every gate pass check_gate, i.e. match centered differences of its own forward?"""
    result = check_gate(make(), *inputs)
    assert result.ok, str(result)


def test_sigmoid_local_gradient_is_one_minus_sigma_times_sigma():
    """Is the sigmoid gate's local gradient (1 - s) s, 0.20 at the slide's s = 0.73?"""
    gate = SigmoidGate()
    s = gate.forward(1.0)
    assert round(s, 2) == 0.73
    (local,) = gate.backward(1.0)
    assert local == pytest.approx((1 - s) * s, rel=1e-15)
    assert round(local, 2) == 0.20


def test_sigmoid_does_not_overflow_far_from_zero():
    """Does sigmoid(-1000) give 0 and sigmoid(1000) give 1 instead of an OverflowError?"""
    assert gates.sigmoid(-1000.0) == 0.0
    assert gates.sigmoid(1000.0) == 1.0
    assert SigmoidGate().forward(-800.0) == 0.0


def test_max_tie_routes_everything_to_the_first_input():
    """At a tie max(x, x), does exactly one input (the first) get the upstream gradient?"""
    gate = MaxGate()
    assert gate.forward(1.5, 1.5) == 1.5
    assert gate.backward(3.0) == (3.0, 0.0)


def test_relu_at_zero_passes_no_gradient():
    """Is ReLU's gradient at the kink x = 0 taken as 0 (the subgradient chosen)?"""
    gate = ReLUGate()
    assert gate.forward(0.0) == 0.0
    assert gate.backward(5.0) == (0.0,)


ALL_GATES = [
    AddGate(),
    SubtractGate(),
    MultiplyGate(),
    MaxGate(),
    ExpGate(),
    LogGate(),
    InverseGate(),
    AddConstantGate(1.0),
    ScaleGate(2.0),
    PowerGate(2.0),
    SigmoidGate(),
    ReLUGate(),
    TanhGate(),
]


@pytest.mark.parametrize("gate", ALL_GATES, ids=lambda g: type(g).__name__)
def test_backward_before_forward_names_the_gate(gate):
    """Does backward() before forward() raise a GateError that names the gate and the fix?"""
    with pytest.raises(GateError) as info:
        gate.backward(1.0)
    message = str(info.value)
    assert type(gate).__name__ in message
    assert "before forward()" in message
    assert "forward(" + ", ".join(gate.input_names) + ")" in message


def test_backward_does_not_consume_the_cache():
    """Can backward run twice on one forward and give the same answer (repeatable backward)?"""
    gate = MultiplyGate()
    gate.forward(3.0, -4.0)
    assert gate.backward(1.0) == gate.backward(1.0) == (-4.0, 3.0)


def test_forward_overwrites_the_cache():
    """Does a second forward replace what the first cached?"""
    gate = MultiplyGate()
    gate.forward(3.0, -4.0)
    gate.forward(5.0, 7.0)
    assert gate.backward(1.0) == (7.0, 5.0)


def test_log_of_non_positive_says_what_it_got():
    """Does ln(0) raise a ValueError quoting the input it received?"""
    with pytest.raises(ValueError, match=r"LogGate: ln\(x\) needs x > 0, got x = 0.0"):
        LogGate().forward(0.0)


def test_inverse_of_zero_says_what_it_got():
    """Does 1/0 raise a ZeroDivisionError that names the gate?"""
    with pytest.raises(ZeroDivisionError, match=r"InverseGate: 1/x is undefined at x = 0.0"):
        InverseGate().forward(0.0)


def test_fractional_power_of_negative_is_refused():
    """Does (-8)^(1/3), complex in Python, raise instead of returning a complex number?"""
    with pytest.raises(ValueError, match="is not a real number"):
        PowerGate(1.0 / 3.0).forward(-8.0)


@pytest.mark.parametrize(
    "make, bad, error, pattern",
    [
        (ScaleGate, "2", TypeError, r"ScaleGate: a must be a real number, got str '2'"),
        (
            AddConstantGate,
            None,
            TypeError,
            r"AddConstantGate: c must be a real number, got NoneType",
        ),
        (PowerGate, float("nan"), ValueError, r"PowerGate: p must be finite, got nan"),
        (ScaleGate, True, TypeError, r"ScaleGate: a must be a real number, got bool"),
    ],
)
def test_constant_parameters_are_validated(make, bad, error, pattern):
    """Does a gate with a bad constant say which parameter, what it got and what it needs?"""
    with pytest.raises(error, match=pattern):
        make(bad)


def test_labels_and_reprs_show_constants():
    """Do labels and reprs show a gate's constant, for drawings and error messages?"""
    assert ScaleGate(-1).label == "*-1"
    assert AddConstantGate(1).label == "+1"
    assert PowerGate(2).label == "^2"
    assert repr(ScaleGate(0.5)) == "ScaleGate(a=0.5)"
    assert MultiplyGate().label == "*" and repr(MultiplyGate()) == "MultiplyGate()"


def test_a_custom_gate_that_forgot_self_cache_is_told_so():
    """Does a gate that cached in self.x instead of self.cache learn where backward looks?"""

    class MyMul(gates.Gate):
        input_names = ("x", "y")

        def forward(self, x, y):
            self.x, self.y = x, y
            return x * y

        def backward(self, dz):
            x, y = self.saved()
            return (y * dz, x * dz)

    gate = MyMul()
    gate.forward(2.0, 3.0)
    with pytest.raises(GateError, match=r"must store it in self.cache in forward"):
        gate.backward(1.0)
