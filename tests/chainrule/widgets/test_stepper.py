"""Does the backward-pass stepper show each step's chain rule with the lecture's numbers?"""

import math
import re

import numpy as np
import pytest

from chainrule import ComputationalGraph, Gate, maximum
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
from chainrule.gradcheck import numerical_gradient
from chainrule.lectures import EXAMPLES, sigmoid_neuron_graph
from chainrule.viz import GRAD_COLOR, HIGHLIGHT_COLOR, VALUE_COLOR
from chainrule.widgets import BackwardStepper
from chainrule.widgets.stepper import local_gradient_text

from ._png import changed


def _texts(app, color):
    return [t.get_text() for t in app.figure.axes[0].texts if t.get_color() == color]


def _highlighted(app):
    return [p for p in app.figure.axes[0].patches if p.get_facecolor()[:3] == _rgb(HIGHLIGHT_COLOR)]


def _rgb(hex_color):
    return tuple(int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5))


def test_the_first_backward_step_is_the_slides_inverse_gate():
    app = BackwardStepper()  # the sigmoid neuron, gate by gate
    for _ in range(8):
        app.buttons["forward"].click()
    assert "f = 1/1.37 = 0.73" in app.text and "Forward pass done" in app.text
    app.buttons["backward"].click()
    assert "(-1/1.37²)(1.00) = -0.53" in app.text
    assert app.text.startswith("backward at f [1/x]")
    assert len(_highlighted(app)) == 1


def test_stepping_to_the_end_gives_the_lectures_gradients():
    app = BackwardStepper()
    app.buttons["run"].click()
    assert app.position == app.end == 8 + 8
    for name, grad in {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}.items():
        assert f"df/d{name} = {grad:.2f}" in app.text


def test_every_backward_step_is_local_times_upstream_and_the_sum_matches_numerical_gradients():
    graph, inputs = sigmoid_neuron_graph()
    app = BackwardStepper(graph, inputs)
    app.go(len(app.gates))
    for step in app.steps:
        app.buttons["backward"].click()
        for part in app.text.split(";  "):
            local, up, down = re.search(
                r"upstream = \((.*)\)\(([-\d.]+)\) = (-?\d+\.\d+)", part
            ).groups()
            assert float(down) == pytest.approx(_evaluate(local) * float(up), abs=0.011)
        assert app.text.startswith(f"backward at {step.node.name} ")

    def f(v):
        return graph.forward(dict(zip(inputs, v)))

    numeric = numerical_gradient(f, np.array(list(inputs.values())))
    for name, g in zip(inputs, numeric):
        assert f"df/d{name} = {g:.2f}" in app.text


def test_values_and_gradients_appear_one_gate_at_a_time():
    app = BackwardStepper(example="f = (x + y) z")
    assert _texts(app, VALUE_COLOR) == ["-2.00", "5.00", "-4.00"]  # inputs only
    assert _texts(app, GRAD_COLOR) == []
    app.buttons["forward"].click()  # q = x + y
    assert "3.00" in _texts(app, VALUE_COLOR) and "q = (-2.00) + 5.00 = 3.00" in app.text
    app.buttons["forward"].click()  # f = q z
    assert "-12.00" in _texts(app, VALUE_COLOR)
    app.buttons["backward"].click()  # at f: dq = z * 1, dz = q * 1
    assert sorted(_texts(app, GRAD_COLOR)) == sorted(["1.00", "-4.00", "3.00"])
    assert "df/dq = local × upstream = (-4.00)(1.00) = -4.00" in app.text
    app.buttons["backward"].click()  # at q: the add gate distributes -4
    assert sorted(_texts(app, GRAD_COLOR)) == sorted(["1.00", "-4.00", "3.00", "-4.00", "-4.00"])
    assert app.buttons["backward"].disabled and app.buttons["run"].disabled


def test_buttons_follow_the_two_passes():
    app = BackwardStepper(example="f = (x + y) z")
    assert app.buttons["backward"].disabled and app.buttons["undo"].disabled
    app.buttons["backward"].click()  # ignored before the forward pass is done
    assert app.position == 0
    app.buttons["forward"].click()
    app.buttons["forward"].click()
    assert app.buttons["forward"].disabled and not app.buttons["backward"].disabled
    before = app.image.value
    app.buttons["backward"].click()
    assert changed(before, app.image.value) > 0.0005
    app.buttons["undo"].click()
    assert app.position == 2 and app.image.value == before
    app.buttons["reset"].click()
    assert app.position == 0 and "Press forward step" in app.text


def test_fan_out_shows_the_branches_then_their_sum():
    app = BackwardStepper(example="L2-regularised regression (fan-out)")
    app.go(app.end)
    assert "sum -0.20" in _texts(app, GRAD_COLOR)  # w feeds two gates: -0.25 + 0.05
    assert "dL_reg/dw = 0.05 + (-0.25) = -0.20" in app.text  # the sum, in words too
    app.go(app.end - 1)  # the w*x gate has not sent its gradient yet
    assert not any(t.startswith("sum") for t in _texts(app, GRAD_COLOR))


def test_a_gate_whose_output_fans_out_shows_its_upstream_as_a_sum():
    graph = ComputationalGraph()
    x, y = graph.inputs("x", "y")
    q = (x * y).named("q")
    (q * q + q).named("f")  # q feeds the square twice and the sum once: 1 + 6 + 6 = 13
    app = BackwardStepper(graph, {"x": 2.0, "y": 3.0})
    app.go(app.end)
    assert "upstream df/dq = 1.00 + 6.00 + 6.00 = 13.00 (gradients add at a fan-out)" in app.text
    assert "df/dx = local × upstream = (3.00)(13.00) = 39.00" in app.text


def test_node_names_and_the_steps_formula_are_in_the_figure_too():
    app = BackwardStepper()
    app.go(len(app.gates) + 1)
    texts = [t.get_text() for t in app.figure.axes[0].texts]
    assert {"w0*x0", "sum", "z", "exp", "1+exp", "f"} <= set(texts)
    caption = app.figure.axes[0].get_title(loc="left")
    assert caption.replace("\n", " ").startswith(app.text)
    sizes = set()
    for k in range(app.end + 1):  # the same size at every step: nothing jumps in the notebook
        app.go(k)
        sizes.add(tuple(app.figure.get_size_inches()))
    assert len(sizes) == 1


@pytest.mark.parametrize("example", list(EXAMPLES))
def test_every_lecture_example_steps_through(example):
    app = BackwardStepper(example=example)
    app.go(app.end)
    graph = app.graph
    done = ", ".join(f"d{graph.output.name}/d{n} = " for n in app.inputs)
    assert all(part in app.text for part in done.split(", "))
    assert app.error is None


def test_a_graph_the_student_built_with_a_gate_of_their_own():
    class Cube(Gate):
        input_names = ("x",)
        short_name = "cube"

        def forward(self, x):
            self.cache = (x,)
            return x**3

        def backward(self, dz):
            (x,) = self.saved()
            return (3 * x * x * dz,)

    graph = ComputationalGraph()
    x, y = graph.inputs("x", "y")
    m = maximum(x * y, y)
    graph.gate(Cube(), m, name="out")
    graph.forward(x=2.0, y=-1.5)  # the stepper takes the values of the latest forward pass
    app = BackwardStepper(graph)
    assert app.example.value == "your graph"
    app.go(len(app.gates) + 1)
    assert "dout/d" in app.text and "(6.75)(1.00) = 6.75" in app.text  # 3 (-1.5)^2, a number
    app.buttons["run"].click()
    assert "dout/dx = 0.00" in app.text and "dout/dy = 6.75" in app.text


def test_missing_inputs_and_failing_graphs_are_explained():
    graph = ComputationalGraph()
    x = graph.input("x")
    graph.gate(LogGate(), x, name="f")
    with pytest.raises(ValueError, match=r"give the input values.*no value for \['x'\]"):
        BackwardStepper(graph)
    with pytest.raises(TypeError, match=r"inputs must map each input's name .* got list \[1.0\]"):
        BackwardStepper(graph, [1.0])
    app = BackwardStepper(graph, {"x": -1.0})
    assert "ln(x) needs x > 0" in app.error


def test_a_graph_that_cannot_run_leaves_the_app_usable():
    graph = ComputationalGraph()
    x, y = graph.inputs("x", "y")
    (x * y).named("f")
    app = BackwardStepper(graph, {"x": 1.0})  # y is missing
    assert "missing 'y'" in app.error
    assert [k for k, b in app.buttons.items() if not b.disabled] == ["reset"]
    app.buttons["forward"].click()
    app.go(3)
    assert "missing 'y'" in app.error  # the same message, no AttributeError
    app.example.value = "f = (x + y) z"  # another graph works at once
    assert app.error is None and app.end == 4
    app.buttons["run"].click()
    assert "df/dz = 3.00" in app.text
    with pytest.raises(TypeError, match="position must be a whole number of steps .* got str"):
        app.go("a")
    with pytest.raises(TypeError, match="must be a ComputationalGraph, got dict"):
        BackwardStepper({"x": 1.0})
    with pytest.raises(ValueError, match="example must be one of"):
        BackwardStepper(example="nope")


@pytest.mark.parametrize(
    "gate, inputs",
    [
        (AddGate(), (1.5, -2.0)),
        (SubtractGate(), (1.5, -2.0)),
        (MultiplyGate(), (1.5, -2.0)),
        (MaxGate(), (1.5, -2.0)),
        (MaxGate(), (-3.0, 2.0)),
        (ExpGate(), (-1.0,)),
        (LogGate(), (2.5,)),
        (InverseGate(), (1.37,)),
        (AddConstantGate(1.0), (0.37,)),
        (ScaleGate(-1.0), (1.0,)),
        (PowerGate(2.0), (-0.5,)),
        (PowerGate(3.0), (1.2,)),
        (SigmoidGate(), (1.0,)),
        (ReLUGate(), (0.7,)),
        (ReLUGate(), (-0.7,)),
        (TanhGate(), (0.4,)),
    ],
    ids=lambda v: repr(v) if not isinstance(v, tuple) else str(v),
)
def test_local_gradient_formulas_evaluate_to_the_gates_local_gradient(gate, inputs):
    out = gate.forward(*inputs)
    texts = local_gradient_text(gate, inputs, out)
    for text, local in zip(texts, gate.backward(1.0), strict=True):
        assert _evaluate(text) == pytest.approx(local, abs=0.02), text


def _evaluate(text):
    """Evaluate a formula as the stepper prints it (2-decimal numbers, ², ^, ·)."""
    expr = text.replace("²", "**2").replace("^", "**").replace("·", "*")
    expr = re.sub(r"\be\*\*", "math.e**", expr)
    return eval(expr, {"math": math})  # the stepper's own output, in a test
