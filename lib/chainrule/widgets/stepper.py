"""Backward-pass stepper: a computational graph as on the slides, one gate at a time.

The forward pass fills in values (green, above the edges) gate by gate in topological order; the
backward pass then visits the gates in reverse, and at each one the stepper highlights the gate
and writes the chain rule with the numbers, e.g. for the sigmoid neuron's last gate

    f = 1/x:  df/d(1+exp) = local x upstream = (-1/1.37^2)(1.00) = -0.53

Opens on the lecture's examples (``chainrule.lectures.EXAMPLES``) and takes any graph::

    BackwardStepper()                              # the sigmoid neuron, gate by gate
    BackwardStepper(graph, {"x": 1.0, "y": 2.0})   # a graph you built
"""

import html
import textwrap
from collections.abc import Mapping

import ipywidgets as w

from .._checks import is_integer
from ..formatting import fmt, wrap
from ..gates import (
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
from ..graph import ComputationalGraph
from ..lectures import EXAMPLES
from ..viz import draw_graph, graph_figsize
from ._app import App, guarded

__all__ = ["BackwardStepper", "local_gradient_text", "forward_text"]

YOUR_GRAPH = "your graph"


def _p(v):
    """A number inside a formula: negative numbers in parentheses."""
    s = fmt(v)
    return f"({s})" if s.startswith("-") else s


def local_gradient_text(gate, inputs, output):
    """Each input's local gradient as the lecture writes it, with the numbers filled in.

    ``inputs`` are the gate's input values and ``output`` its output value. Returns one string
    per input, e.g. ``("-1/1.37²",)`` for 1/x at 1.37. A gate this function does not know
    gets the number its ``backward(1.0)`` returns.
    """
    x = inputs[0]
    known = {
        AddGate: lambda: ("1", "1"),
        SubtractGate: lambda: ("1", "-1"),
        MultiplyGate: lambda: (fmt(inputs[1]), fmt(x)),  # the switcher: each gets the other
        MaxGate: lambda: ("1", "0") if x >= inputs[1] else ("0", "1"),
        ExpGate: lambda: (f"e^{_p(x)}",),
        LogGate: lambda: (f"1/{_p(x)}",),
        InverseGate: lambda: (f"-1/{_p(x)}²",),
        AddConstantGate: lambda: ("1",),
        ScaleGate: lambda: (f"{gate.a:g}",),
        PowerGate: lambda: (
            f"{gate.p:g}·{_p(x)}" if gate.p == 2 else f"{gate.p:g}·{_p(x)}^{gate.p - 1:g}",
        ),
        SigmoidGate: lambda: (f"(1 - {_p(output)})·{_p(output)}",),
        ReLUGate: lambda: ("1" if x > 0 else "0",),
        TanhGate: lambda: (f"1 - {_p(output)}²",),
    }
    make = known.get(type(gate))
    if make is None:
        return tuple(_p(v) for v in gate.backward(1.0))
    return make()


def forward_text(node):
    """``name = formula = value`` for a gate node after a forward pass."""
    gate, ins = node.gate, [i.value for i in node.inputs]
    infix = {AddGate: "+", SubtractGate: "-", MultiplyGate: "·"}
    if type(gate) in infix:
        formula = f"{_p(ins[0])} {infix[type(gate)]} {_p(ins[1])}"
    elif isinstance(gate, AddConstantGate):
        formula = f"{_p(ins[0])} {'+' if gate.c >= 0 else '-'} {abs(gate.c):g}"
    elif isinstance(gate, ScaleGate):
        formula = f"{gate.a:g}·{_p(ins[0])}"
    elif isinstance(gate, PowerGate):
        formula = f"{_p(ins[0])}^{gate.p:g}"
    elif isinstance(gate, InverseGate):
        formula = f"1/{_p(ins[0])}"
    else:
        formula = f"{gate.label}({', '.join(fmt(v) for v in ins)})"
    return f"{node.name} = {formula} = {fmt(node.value)}"


class BackwardStepper(App):
    """Step a computational graph's forward and backward passes gate by gate.

    Buttons: "forward step" (the next gate computes its value), "backward step" (the next gate
    of the backward pass sends local x upstream to its inputs), "undo", "run all", "reset".
    ``app.position`` counts the steps taken: 0 .. len(gates) is the forward pass, then
    len(gates) + 1 .. len(gates) + len(backward steps) the backward pass. ``app.text`` holds
    the current step's formula.
    """

    description = "backward-pass stepper"

    def __init__(self, graph=None, inputs=None, *, example="sigmoid neuron, gate by gate"):
        super().__init__(figsize=(9.0, 4.0))
        self._graphs = {name: make for name, make in EXAMPLES.items()}
        if graph is not None:
            if not isinstance(graph, ComputationalGraph):
                raise TypeError(
                    f"BackwardStepper: graph must be a ComputationalGraph, got "
                    f"{type(graph).__name__}"
                )
            if inputs is None:
                inputs = _current_inputs(graph)
            if not isinstance(inputs, Mapping):
                raise TypeError(
                    "BackwardStepper: inputs must map each input's name to its value, e.g. "
                    f"{{'x': -2.0, 'y': 5.0}}; got {type(inputs).__name__} {inputs!r}"
                )
            self._graphs[YOUR_GRAPH] = lambda: (graph, dict(inputs))
            example = YOUR_GRAPH
        elif example not in self._graphs:
            raise ValueError(
                f"BackwardStepper: example must be one of {list(EXAMPLES)}, got {example!r}"
            )
        self.example = w.Dropdown(options=list(self._graphs), value=example, description="graph")
        self.example.observe(lambda _change: self.load(), names="value")
        self.buttons = {}
        for key, label, icon in (
            ("forward", "forward step", "step-forward"),
            ("backward", "backward step", "step-backward"),
            ("undo", "undo", "undo"),
            ("run", "run all", "fast-forward"),
            ("reset", "reset", "refresh"),
        ):
            b = w.Button(description=label, icon=icon, layout=w.Layout(width="130px"))
            b.add_class(f"chainrule-button-{key}")
            b.on_click(getattr(self, f"_{key}_clicked"))
            self.buttons[key] = b
        self.text = ""
        self.formula = w.HTML("")
        self.formula.add_class("chainrule-step-text")
        buttons = w.HBox(list(self.buttons.values()))
        self.ui = w.VBox([self.example, buttons, self.formula, self.image, self.status])
        self.load()

    # -- state -------------------------------------------------------------------------------

    def load(self):
        """(Re)build the chosen graph, run both passes once, and go back to position 0.

        A graph that cannot run (an input missing, a value out of a gate's domain) leaves an
        empty figure, the error in the status line and only reset and the menu working.
        """
        self.graph, self.inputs, self.gates, self.steps, self.position = None, {}, [], [], 0
        try:
            graph, inputs = self._graphs[self.example.value]()
            graph.forward(inputs)
            graph.backward()
            steps = graph.backward_steps()
        except Exception as exc:  # the graph's own message says what went wrong
            self.figure.clear()
            self.render()
            self.text = ""
            self.formula.value = ""
            for key, button in self.buttons.items():
                button.disabled = key != "reset"
            self.show_error(f"{type(exc).__name__}: {exc}")
            return
        self.graph, self.inputs, self.steps = graph, inputs, steps
        self.gates = [n for n in graph.nodes if not n.is_input]
        # where a node feeds several gates, the gradients its branches send back, in order
        self._branches = {}
        for step in steps:
            for inp, down in zip(step.node.inputs, step.downstream):
                self._branches.setdefault(inp.name, []).append(down)
        # every step's text, and the figure's size, fixed for this graph
        self._texts = [self._text_at(k) for k in range(self.end + 1)]
        self._size = graph_figsize(graph, max_width=11.0)
        self._caption_width = int(self._size[0] * 13)
        self._caption_lines = max(
            len(textwrap.wrap(text, width=self._caption_width)) for text, _ in self._texts
        )
        self.show_info("")
        self.go(0)

    @property
    def end(self):
        return len(self.gates) + len(self.steps)

    def go(self, position):
        """Show the state after ``position`` steps (clamped to 0 .. end) and redraw."""
        if not is_integer(position):
            raise TypeError(
                f"BackwardStepper.go: position must be a whole number of steps (0 to "
                f"{self.end}), got {type(position).__name__} {position!r}"
            )
        if self.graph is None:
            return
        self.position = max(0, min(int(position), self.end))
        k, n_fwd = self.position, len(self.gates)
        self.text, highlight = self._texts[k]
        fwd = min(k, n_fwd)
        bwd = max(0, k - n_fwd)
        self.buttons["forward"].disabled = k >= n_fwd
        self.buttons["backward"].disabled = k < n_fwd or k >= self.end
        self.buttons["undo"].disabled = k == 0
        self.buttons["run"].disabled = k >= self.end
        self.formula.value = f"<code>{html.escape(self.text, quote=False)}</code>"
        fig = self.figure
        fig.clear()
        ax = fig.add_subplot()
        draw_graph(
            self.graph,
            ax=ax,
            forward_steps=fwd,
            backward_steps=bwd,
            highlight=highlight,
            show_names=True,
        )
        # the step's formula in the figure too: on a projector, and in the still picture
        width, height = self._size
        extra = 0.2 * self._caption_lines + 0.1  # the same for every step: no jumping
        fig.set_size_inches(width, height + extra)
        ax.set_title(self._caption(self.text), fontsize=9, loc="left", family="monospace")
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - extra / (height + extra))
        self.render()

    def _text_at(self, k):
        """The formula shown after ``k`` steps, and the node to highlight."""
        n_fwd = len(self.gates)
        highlight = None
        text = ""
        if k == 0:
            text = "Inputs: " + ", ".join(f"{n} = {fmt(v)}" for n, v in self.inputs.items())
            text += ". Press forward step."
        elif k <= n_fwd:
            node = self.gates[k - 1]
            highlight = node.name
            text = "forward: " + forward_text(node)
            if k == n_fwd:
                text += ". Forward pass done: press backward step."
        else:
            step = self.steps[k - n_fwd - 1]
            highlight = step.node.name
            text = self._backward_text(step)
            if k == self.end:
                out = self.graph.output.name
                grads = ", ".join(
                    f"d{out}/d{n} = {self._sum_text(n)}{fmt(self.graph[n].grad)}"
                    for n in self.inputs
                )
                text += f". Backward pass done: {grads}."
        return text, highlight

    def _caption(self, text):
        """``text`` wrapped for the figure, padded to the graph's longest caption."""
        lines = textwrap.wrap(text, width=self._caption_width) or [""]
        return "\n".join(lines + [""] * (self._caption_lines - len(lines)))

    def _sum_text(self, name):
        """``b1 + b2 = `` where ``name`` fans out to several gates, else nothing."""
        branches = self._branches.get(name, [])
        if len(branches) < 2:
            return ""
        return " + ".join(_p(b) if i else fmt(b) for i, b in enumerate(branches)) + " = "

    def _backward_text(self, step):
        node = step.node
        out = self.graph.output.name
        locals_ = local_gradient_text(node.gate, [i.value for i in node.inputs], node.value)
        parts = [
            f"d{out}/d{wrap(inp.name)} = local × upstream = ({loc})({fmt(step.upstream)}) "
            f"= {fmt(down)}"
            for inp, loc, down in zip(node.inputs, locals_, step.downstream)
        ]
        head = f"backward at {node.name} [{node.gate.label}]: "
        if self._sum_text(node.name):  # a fan-out: its upstream is the sum of its branches
            head += (
                f"upstream d{out}/d{wrap(node.name)} = {self._sum_text(node.name)}"
                f"{fmt(step.upstream)} (gradients add at a fan-out);  "
            )
        return head + ";  ".join(parts)

    # -- buttons -----------------------------------------------------------------------------

    @guarded
    def _forward_clicked(self, _button=None):
        if self.position < len(self.gates):
            self.go(self.position + 1)

    @guarded
    def _backward_clicked(self, _button=None):
        if len(self.gates) <= self.position < self.end:
            self.go(self.position + 1)

    @guarded
    def _undo_clicked(self, _button=None):
        self.go(self.position - 1)

    @guarded
    def _run_clicked(self, _button=None):
        self.go(self.end)

    @guarded
    def _reset_clicked(self, _button=None):
        self.load()


def _current_inputs(graph):
    """A graph's input values from its latest forward pass, or a clear error without one."""
    values = {n.name: n.value for n in graph.nodes if n.is_input}
    missing = [k for k, v in values.items() if v is None]
    if missing:
        raise ValueError(
            "BackwardStepper: give the input values, e.g. BackwardStepper(graph, "
            f"{{{', '.join(repr(k) + ': 1.0' for k in values)}}}), or run graph.forward(...) "
            f"first; no value for {missing}"
        )
    return values
