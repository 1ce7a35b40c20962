"""A computational graph of scalar gates over named variables.

    graph = ComputationalGraph()
    x, y, z = graph.inputs("x", "y", "z")
    q = graph.gate(AddGate(), x, y, name="q")
    f = graph.gate(MultiplyGate(), q, z, name="f")
    graph.forward(x=-2.0, y=5.0, z=-4.0)   # -12.0: the output is the graph's last gate, f
    graph.backward()                       # {'x': -4.0, 'y': -4.0, 'z': 3.0, 'q': -4.0, 'f': 1.0}

``forward`` runs every gate in topological order (also gates that do not feed the output, so
every node has a value to show); ``backward`` walks the same order in reverse,
handing each gate its upstream gradient and *adding* what it returns to its inputs' gradients,
so a variable used twice gets the sum of both contributions. The order is computed iteratively
(Kahn's algorithm), once per change to the graph, so a chain of 100,000 gates is fine.

The same graph can be built with operators: ``f = ((x + y) * z).named("f")``. Gate inputs may
also be given by node *name*, which lets a graph refer to a node defined later; that is how a
cycle could be written, and it is reported as an error.
"""

import math
import numbers
import operator
from collections import deque
from collections.abc import Mapping

from ._checks import is_real
from .errors import GraphError
from .formatting import fmt, wrap
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

__all__ = ["ComputationalGraph", "Node", "BackwardStep", "maximum"]


class Node:
    """One variable of a graph: an input, or the output of a gate.

    ``value`` and ``grad`` read the graph's latest forward and backward pass (``None`` before
    them). ``inputs`` are the nodes feeding the gate (empty for an input). Arithmetic on nodes
    adds gates to the same graph: ``x * y``, ``x + 1``, ``-x``, ``x / y``, ``x ** 2``,
    ``x.exp()``, ``x.sigmoid()``, ``maximum(x, y)``.
    """

    __slots__ = ("graph", "index", "name", "gate", "_inputs")

    def __init__(self, graph, index, name, gate, inputs):
        self.graph = graph
        self.index = index  # creation order
        self.name = name
        self.gate = gate  # None for an input
        self._inputs = inputs  # Nodes, or names resolved when the graph is compiled

    @property
    def is_input(self):
        return self.gate is None

    @property
    def inputs(self):
        """The nodes feeding this node's gate, in the gate's input order."""
        return tuple(self.graph._resolve(self, ref) for ref in self._inputs)

    @property
    def value(self):
        """This node's value from the latest forward pass, or None."""
        return self.graph._read(self, self.graph._values)

    @property
    def grad(self):
        """d(output)/d(this node) from the latest backward pass, or None."""
        return self.graph._read(self, self.graph._grads)

    def named(self, name):
        """Rename this node (names key the gradient dict) and return it."""
        self.graph._rename(self, name)
        return self

    def __repr__(self):
        if self.gate is None:
            return f"Node({self.name!r}, input)"
        refs = ", ".join(r.name if isinstance(r, Node) else repr(r) for r in self._inputs)
        return f"Node({self.name!r}, {self.gate!r}({refs}))"

    # -- operator front end: each builds the gate the lecture would draw -------------------

    def _apply(self, gate, *others):
        graph = self.graph
        for other in others:
            if other.graph is not graph:
                raise GraphError(f"node {other.name!r} belongs to another graph")
        # A fresh gate on nodes of this graph: nothing left to validate, skip graph.gate().
        return graph._add(graph._fresh_name(gate.short_name), gate, (self, *others))

    def _binary(self, other, gate_cls, const_gate):
        if isinstance(other, Node):
            return self._apply(gate_cls(), other)
        if isinstance(other, numbers.Real):
            return self._apply(const_gate(other))
        return NotImplemented

    def __add__(self, other):
        return self._binary(other, AddGate, AddConstantGate)

    def __radd__(self, other):
        if isinstance(other, int) and other == 0:
            return self  # sum([x, y, ...]) starts from 0: no "+0" gate
        return self._binary(other, AddGate, AddConstantGate)

    def __mul__(self, other):
        return self._binary(other, MultiplyGate, ScaleGate)

    __rmul__ = __mul__

    def __sub__(self, other):
        return self._binary(other, SubtractGate, lambda c: AddConstantGate(-c))

    def __rsub__(self, other):  # c - x = c + (-1 * x)
        if isinstance(other, numbers.Real):
            return (-self)._apply(AddConstantGate(other))
        return NotImplemented

    def __neg__(self):
        return self._apply(ScaleGate(-1.0))

    def __truediv__(self, other):  # x / y = x * (1/y);  x / c = (1/c) * x
        if isinstance(other, Node):
            return self * other._apply(InverseGate())
        if isinstance(other, numbers.Real):
            if other == 0:
                raise ZeroDivisionError(f"cannot divide node {self.name!r} by the constant 0")
            return self._apply(ScaleGate(1.0 / other))
        return NotImplemented

    def __rtruediv__(self, other):  # c / x = c * (1/x)
        if isinstance(other, numbers.Real):
            inv = self._apply(InverseGate())
            return inv if other == 1 else inv._apply(ScaleGate(other))
        return NotImplemented

    def __pow__(self, p):
        if isinstance(p, numbers.Real):
            return self._apply(PowerGate(p))
        if isinstance(p, Node):
            raise TypeError(
                f"{self.name} ** {p.name}: the exponent of a PowerGate is a constant; for a node "
                f"exponent write ({p.name} * {self.name}.log()).exp() (for {self.name} > 0)"
            )
        return NotImplemented

    def __rpow__(self, base):
        raise TypeError(
            f"{base!r} ** {self.name}: the exponent of a PowerGate is a constant; for c ** x "
            f"write ({self.name} * math.log(c)).exp()"
        )

    def _no_ordering(self, other):
        raise TypeError(
            "graph nodes have no order (their values exist only after forward); "
            "for a max gate use chainrule.maximum(a, b), for max(x, 0) use x.relu()"
        )

    __lt__ = __le__ = __gt__ = __ge__ = _no_ordering

    def exp(self):
        return self._apply(ExpGate())

    def log(self):
        return self._apply(LogGate())

    def sigmoid(self):
        return self._apply(SigmoidGate())

    def relu(self):
        return self._apply(ReLUGate())

    def tanh(self):
        return self._apply(TanhGate())


def maximum(a, b):
    """max(a, b) of two nodes of the same graph, as a MaxGate."""
    for i, v in enumerate((a, b)):
        if not isinstance(v, Node):
            hint = " (for max(x, 0) use x.relu(), the ReLU gate)" if v == 0 else ""
            raise TypeError(
                f"maximum() takes two graph nodes, got {type(v).__name__} {v!r} as argument "
                f"{i + 1}{hint}"
            )
    return a._apply(MaxGate(), b)


class BackwardStep:
    """One gate's share of the backward pass: downstream = local x upstream, per input."""

    __slots__ = ("node", "upstream", "local", "downstream")

    def __init__(self, node, upstream, local, downstream):
        self.node = node
        self.upstream = upstream
        self.local = local
        self.downstream = downstream

    def __str__(self):
        parts = [
            f"d{wrap(self.node.name)}/d{wrap(inp.name)} = ({fmt(loc)})({fmt(self.upstream)}) "
            f"= {fmt(down)}"
            for inp, loc, down in zip(self.node.inputs, self.local, self.downstream)
        ]
        return f"{self.node.name} [{self.node.gate.label}]: " + "; ".join(parts)

    __repr__ = __str__


class _Plan:
    """The compiled form of a graph: topological order and flat instruction lists."""

    __slots__ = ("order", "slot", "names", "inputs", "forward", "backward", "output", "gates")


class ComputationalGraph:
    """Scalar gates wired over named variables; forward in topological order, backward in reverse.

    The output is the last gate added unless ``output`` is set. ``nodes`` lists every node in
    topological order, each with its ``value`` and ``grad`` after a pass.
    """

    def __init__(self):
        self._nodes = []  # creation order
        self._by_name = {}
        self._name_refs = False  # True once a gate input is given by name (may point ahead)
        self._output = None
        self._plan = None  # compiled lazily, dropped on any change
        self._values = None  # per slot (topological position), from the latest forward
        self._caches = None  # each gate's cache right after that forward
        self._grads = None  # per slot, from the latest backward
        self._counters = {}

    # -- building ---------------------------------------------------------------------------

    def inputs(self, *names):
        """Add several input variables: ``x, y, z = graph.inputs("x", "y", "z")``."""
        if len(names) == 1 and not isinstance(names[0], str):
            names = tuple(names[0])
        return tuple(self.input(name) for name in names)

    def gate(self, gate, *inputs, name=None):
        """Add ``gate`` fed by ``inputs`` (nodes, or names of nodes) and return its output node."""
        if not isinstance(gate, Gate):
            raise TypeError(
                f"graph.gate() needs a Gate instance first, got {type(gate).__name__} {gate!r}"
            )
        arity = len(gate.input_names)
        if len(inputs) != arity or arity not in (1, 2):
            self._raise_bad_arity(gate, inputs)
        owner = gate._node
        if owner is not None:
            where = "" if owner.graph is self else " of another graph"
            raise GraphError(
                f"{gate!r} is already node {owner.name!r}{where}: a gate caches one forward "
                "pass, so give each node a new gate instance"
            )
        for ref in inputs:
            if isinstance(ref, Node):
                if ref.graph is not self:
                    raise GraphError(f"node {ref.name!r} belongs to another graph")
            elif isinstance(ref, str):
                self._name_refs = True
            else:
                raise TypeError(
                    f"inputs of {gate!r} must be nodes or node names, got "
                    f"{type(ref).__name__} {ref!r} (for a constant use AddConstantGate or "
                    "ScaleGate)"
                )
        if name is None:
            name = self._fresh_name(gate.short_name)
        else:
            self._check_new_name(name)
        return self._add(name, gate, inputs)

    def _raise_bad_arity(self, gate, inputs):
        if gate.arity == 0:
            raise GraphError(
                f"{gate!r} declares no inputs: set input_names on the class, e.g. "
                "input_names = ('x', 'y'), one name per argument of forward()"
            )
        if gate.arity not in (1, 2):
            raise GraphError(
                f"{gate!r} has {gate.arity} inputs; graph gates take one or two "
                "(compose wider operations from binary gates)"
            )
        raise GraphError(
            f"{gate!r} takes {gate.arity} input(s) ({', '.join(gate.input_names)}), "
            f"got {len(inputs)}"
        )

    def input(self, name):
        """Add one input variable and return its node."""
        self._check_new_name(name)
        return self._add(name, None, ())

    def _add(self, name, gate, inputs):
        node = Node(self, len(self._nodes), name, gate, inputs)
        self._nodes.append(node)
        self._by_name[name] = node
        if gate is not None:
            gate._node = node  # one gate, one node: refused again in any graph
        if self._plan is not None:
            self._changed()
        return node

    def _fresh_name(self, stem):
        k = self._counters.get(stem, 0)
        while True:
            k += 1
            name = f"{stem}{k}"
            if name not in self._by_name:
                self._counters[stem] = k
                return name

    def _check_new_name(self, name):
        if not isinstance(name, str) or not name:
            raise GraphError(f"a node name must be a non-empty string, got {name!r}")
        if name in self._by_name:
            raise GraphError(f"the graph already has a node named {name!r}; names must be unique")

    def _rename(self, node, name):
        if node.name == name:
            return
        self._check_new_name(name)
        del self._by_name[node.name]
        node.name = name
        self._by_name[name] = node
        self._changed()

    def _changed(self):
        self._plan = None
        self._values = None
        self._grads = None

    # -- looking at it ----------------------------------------------------------------------

    @property
    def output(self):
        """The node whose value ``forward`` returns and ``backward`` differentiates.

        Unless set, the last gate added that feeds no other gate, i.e. the last gate added in
        a graph built front to back; with name references it is still the graph's end.
        """
        if self._output is not None:
            return self._output
        if self._plan is not None and self._plan.output is not None:
            return self._plan.order[self._plan.output]
        consumed = {
            ref if isinstance(ref, str) else ref.name
            for node in self._nodes
            for ref in node._inputs
        }
        last_gate = None
        for node in reversed(self._nodes):
            if node.gate is not None:
                if node.name not in consumed:
                    return node
                last_gate = last_gate or node
        return last_gate

    @output.setter
    def output(self, node):
        if isinstance(node, str):
            node = self[node]
        if not isinstance(node, Node) or node.graph is not self:
            raise GraphError(f"the output must be a node of this graph, got {node!r}")
        self._output = node
        self._changed()

    @property
    def nodes(self):
        """Every node, in topological order (inputs before the gates that use them)."""
        return self._compile().order

    @property
    def input_names(self):
        return tuple(node.name for node in self._nodes if node.gate is None)

    def __getitem__(self, name):
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(
                f"the graph has no node named {name!r}; nodes: {', '.join(self._by_name)}"
            ) from None

    def __len__(self):
        return len(self._nodes)

    def __repr__(self):
        out = self.output
        return (
            f"<ComputationalGraph: {len(self._nodes)} nodes, inputs "
            f"({', '.join(self.input_names)}), output {out.name if out else None!r}>"
        )

    def values(self):
        """{name: value} from the latest forward pass, in topological order."""
        plan = self._compile()
        self._require(self._values, "values()", "forward(...)")
        return dict(zip(plan.names, self._values))

    def _resolve(self, node, ref):
        if isinstance(ref, Node):
            return ref
        target = self._by_name.get(ref)
        if target is None:
            raise GraphError(
                f"node {node.name!r} ({node.gate!r}) takes input {ref!r}, but the graph has no "
                f"node named {ref!r}; nodes: {', '.join(self._by_name)}"
            )
        return target

    def _read(self, node, per_slot):
        if per_slot is None:
            return None
        return per_slot[self._plan.slot[node.index]]

    # -- compiling: topological order, iteratively ------------------------------------------

    def _compile(self):
        """The graph as a plan the forward and backward passes run without lookups.

        The plan is the lecture's backward pass written down once. ``order`` is the topological
        order (forward visits it left to right, backward right to left: every gate sees its
        upstream gradient only after all its consumers have added theirs). ``slot`` numbers each
        node by its place in that order, so values and gradients live in flat lists. Each
        ``forward`` instruction is one gate's forward: out slot <- gate(input slots). Each
        ``backward`` instruction is one gate's chain rule: it reads the upstream gradient at its
        out slot, multiplies by the gate's local gradient (cached by its forward), and *adds*
        the result into its input slots (a node feeding two gates gets the sum, as in the
        slides' branches). Nodes the output does not depend on get no backward instruction.
        """
        if self._plan is not None:
            return self._plan
        nodes = self._nodes
        output = self.output
        if self._name_refs:
            edges = [[self._resolve(node, ref).index for ref in node._inputs] for node in nodes]
            order = self._topological_order(edges)
            slot = [0] * len(nodes)  # creation index -> position in topological order
            for s, i in enumerate(order):
                slot[i] = s
            ordered = [nodes[i] for i in order]
            args = [[slot[j] for j in edges[i]] for i in order]
        else:
            # Every input was an existing node when its gate was added, so creation order
            # is already topological (a Wengert list, like micrograd's tape): no sort needed.
            slot = range(len(nodes))
            ordered = list(nodes)
            args = [[ref.index for ref in node._inputs] for node in nodes]

        plan = _Plan()
        plan.order = tuple(ordered)
        plan.slot = slot
        plan.names = [node.name for node in ordered]
        plan.output = None if output is None else slot[output.index]
        plan.gates = [node.gate for node in ordered if node.gate is not None]
        # Instructions: (bound method, output slot, first input slot, second input slot or -1).
        plan.inputs = []
        plan.forward = forward = []
        for s, node in enumerate(ordered):
            if node.gate is None:
                plan.inputs.append((node.name, s))
            else:
                a = args[s]
                forward.append((node.gate.forward, s, a[0], a[1] if len(a) == 2 else -1))
        # Backward visits only the output's ancestors: no other node can change it.
        needed = [False] * len(ordered)
        if output is not None:
            needed[plan.output] = True
        plan.backward = backward = []
        for s in range(len(ordered) - 1, -1, -1):
            gate = ordered[s].gate
            if needed[s] and gate is not None:
                a = args[s]
                for j in a:
                    needed[j] = True
                backward.append((gate.backward, s, a[0], a[1] if len(a) == 2 else -1))
        self._plan = plan
        return plan

    def _topological_order(self, edges):
        """Kahn's algorithm: repeatedly take a node whose inputs are all placed. Iterative."""
        consumers = [[] for _ in edges]
        pending = [len(ins) for ins in edges]  # in-degree, counting x * x twice
        for i, ins in enumerate(edges):
            for j in ins:
                consumers[j].append(i)
        ready = deque(i for i, n in enumerate(pending) if n == 0)
        order = []
        while ready:
            i = ready.popleft()
            order.append(i)
            for c in consumers[i]:
                pending[c] -= 1
                if pending[c] == 0:
                    ready.append(c)
        if len(order) < len(edges):
            raise GraphError(f"the graph has a cycle: {self._find_cycle(edges, pending)}")
        return order

    def _find_cycle(self, edges, pending):
        """Name the nodes of one cycle among those Kahn's algorithm could not order."""
        stuck = {i for i, n in enumerate(pending) if n > 0}
        i = min(stuck)
        seen = []
        while i not in seen:
            seen.append(i)
            i = next(j for j in edges[i] if j in stuck)
        cycle = seen[seen.index(i) :] + [i]
        return " -> ".join(repr(self._nodes[j].name) for j in reversed(cycle))

    # -- passes -----------------------------------------------------------------------------

    def forward(self, values=None, /, **inputs):
        """Run every gate in topological order and return the output's value.

        Inputs are given by name, as keywords or as one mapping: ``forward(x=-2, y=5, z=-4)``
        or ``forward({"x": -2, "y": 5, "z": -4})``.
        """
        plan = self._compile()
        if plan.output is None:
            raise GraphError("the graph has no gates yet: add one with graph.gate(...)")
        if values is not None:
            if not isinstance(values, Mapping):
                raise GraphError(
                    f"forward() takes inputs by name, as forward(x=...) or forward({{'x': ...}}); "
                    f"got {type(values).__name__} {values!r}; the graph's inputs are "
                    f"{[name for name, _ in plan.inputs]}"
                )
            inputs = {**values, **inputs}
        vals = [0.0] * len(plan.order)
        if len(inputs) != len(plan.inputs) or not all(name in inputs for name, _ in plan.inputs):
            self._raise_bad_inputs(plan, inputs)
        for name, s in plan.inputs:
            vals[s] = _real(inputs[name], "input", name)
        self._values = self._grads = None
        step = None
        try:
            for step in plan.forward:
                fn, o, a, b = step
                vals[o] = fn(vals[a]) if b < 0 else fn(vals[a], vals[b])
        except Exception as exc:
            raise GraphError(
                f"forward failed at {self._describe(plan, step, vals)}: {exc}"
            ) from exc
        if not _all_finite(vals):
            self._raise_non_finite(plan, vals)
        self._values = vals
        self._caches = list(map(_cache_of, plan.gates))
        return vals[plan.output]

    def backward(self, upstream=1.0):
        """Backpropagate from the output and return ``{name: gradient}`` for every node.

        ``upstream`` seeds d(loss)/d(output) (1.0: the output is the loss). Gradients from a
        node's several consumers are summed. Repeatable: each call starts from zero.
        """
        plan = self._compile()
        vals = self._require(self._values, "backward()", "forward(...)")
        self._check_caches(plan)
        grads = [0.0] * len(vals)
        grads[plan.output] = _real(upstream, "the upstream gradient")
        step = None
        try:
            for step in plan.backward:
                fn, o, a, b = step
                if b < 0:
                    (da,) = fn(grads[o])
                    grads[a] += da
                else:
                    da, db = fn(grads[o])
                    grads[a] += da
                    grads[b] += db
        except Exception as exc:
            hint = ""
            if isinstance(exc, (TypeError, ValueError)):
                hint = " (a gate's backward must return a tuple with one gradient per input)"
            raise GraphError(
                f"backward failed at {self._describe(plan, step, vals)}: {exc}{hint}"
            ) from exc
        if not _all_finite(grads):
            for s, g in enumerate(grads):
                if not _is_finite_number(g):
                    raise GraphError(
                        f"backward produced a non-finite gradient {g!r} at node "
                        f"{plan.names[s]!r}; its value in the forward pass was {vals[s]!r}"
                    )
        self._grads = grads
        return dict(zip(plan.names, grads))

    def backward_steps(self):
        """The latest backward pass as one ``BackwardStep`` per gate, in the order it ran.

        Each step shows upstream, the gate's local gradients and the downstream gradients it
        sent (local x upstream), as on the slides. Run ``backward()`` first.
        """
        plan = self._compile()
        grads = self._require(self._grads, "backward_steps()", "backward()")
        self._check_caches(plan)
        steps = []
        for _, o, _, _ in plan.backward:
            node = plan.order[o]
            upstream = grads[o]  # complete: every consumer of this node ran before it
            local = node.gate.backward(1.0)  # a gate's backward is linear in upstream
            steps.append(BackwardStep(node, upstream, local, node.gate.backward(upstream)))
        return steps

    # -- messages ---------------------------------------------------------------------------

    def _check_caches(self, plan):
        """Backward reads the gates' caches: refuse if one was overwritten since forward."""
        if all(map(operator.is_, map(_cache_of, plan.gates), self._caches)):
            return
        for gate, cache in zip(plan.gates, self._caches):
            if gate.cache is not cache:
                raise GraphError(
                    f"the gate of node {gate._node.name!r} ({gate!r}) ran forward() outside "
                    "this graph after graph.forward(), so its cache no longer matches the "
                    "graph's values; run graph.forward(...) again"
                )

    def _require(self, state, what, first):
        if state is None:
            raise GraphError(
                f"{what} needs {first} to run first (or again, after the graph changed)"
            )
        return state

    def _raise_bad_inputs(self, plan, inputs):
        expected = [name for name, _ in plan.inputs]
        known = set(expected)
        missing = [name for name in expected if name not in inputs]
        unknown = [name for name in inputs if name not in known]
        problems = []
        if missing:
            problems.append(f"missing {', '.join(map(repr, missing))}")
        if unknown:
            problems.append(f"unknown {', '.join(map(repr, unknown))}")
        raise GraphError(
            f"forward() got inputs {sorted(inputs)} ({'; '.join(problems)}); "
            f"the graph's inputs are {expected}"
        )

    def _describe(self, plan, step, vals):
        """'node 'f' = MultiplyGate(q=3.0, z=-4.0)' for the instruction ``step``."""
        _, o, a, b = step
        node = plan.order[o]
        args = [a] if b < 0 else [a, b]
        shown = ", ".join(f"{plan.names[s]}={vals[s]!r}" for s in args)
        return f"node {node.name!r} = {type(node.gate).__name__}({shown})"

    def _raise_non_finite(self, plan, vals):
        for step in plan.forward:
            o = step[1]
            if not is_real(vals[o]):
                raise GraphError(
                    f"{self._describe(plan, step, vals)} returned {type(vals[o]).__name__} "
                    f"{vals[o]!r}; gates must return one real number"
                )
            if not math.isfinite(vals[o]):
                raise GraphError(
                    f"non-finite value {vals[o]!r} at {self._describe(plan, step, vals)}"
                )


_cache_of = operator.attrgetter("cache")


def _all_finite(xs):
    """True when every entry is a finite real; one C-level sum for the common case."""
    try:
        return math.isfinite(sum(xs))
    except TypeError:
        return False


def _is_finite_number(v):
    return isinstance(v, numbers.Real) and math.isfinite(v)


def _real(v, what, name=None):
    """``v`` as a finite float, or a GraphError naming ``what`` (and ``name``)."""
    if not is_real(v):
        where = what if name is None else f"{what} {name!r}"
        raise GraphError(f"{where} must be a real number, got {type(v).__name__} {v!r}")
    v = float(v)
    if not math.isfinite(v):
        where = what if name is None else f"{what} {name!r}"
        raise GraphError(f"{where} must be finite, got {v!r}")
    return v
