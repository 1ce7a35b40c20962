"""Tests for chainrule.graph: order, accumulation, the operator front end, and every error."""

import math

import pytest

from chainrule import (
    AddConstantGate,
    AddGate,
    ComputationalGraph,
    ExpGate,
    Gate,
    GraphError,
    InverseGate,
    MultiplyGate,
    ScaleGate,
    maximum,
)


def issue_example():
    graph = ComputationalGraph()
    x, y, z = graph.inputs("x", "y", "z")
    q = graph.gate(AddGate(), x, y, name="q")
    graph.gate(MultiplyGate(), q, z, name="f")
    return graph


def test_the_documented_example():
    """Does f = (x + y) z give -12 forward and the documented gradient dict backward?"""
    graph = issue_example()
    assert graph.forward(x=-2.0, y=5.0, z=-4.0) == -12.0
    assert graph.backward() == {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "f": 1.0}


def test_forward_accepts_a_mapping_and_integers():
    """Can inputs come as one dict, and are integer inputs treated as floats?"""
    graph = issue_example()
    assert graph.forward({"x": -2, "y": 5, "z": -4}) == -12.0
    assert isinstance(graph["q"].value, float)


def test_nodes_expose_order_values_and_gradients():
    """Does graph.nodes list inputs before gates, with each node's value and gradient?"""
    graph = issue_example()
    assert [n.value for n in graph.nodes] == [None] * 5
    graph.forward(x=-2.0, y=5.0, z=-4.0)
    assert [n.name for n in graph.nodes] == ["x", "y", "z", "q", "f"]
    assert [n.value for n in graph.nodes] == [-2.0, 5.0, -4.0, 3.0, -12.0]
    assert all(n.grad is None for n in graph.nodes)
    graph.backward()
    assert [n.grad for n in graph.nodes] == [-4.0, -4.0, 3.0, -4.0, 1.0]
    q = graph["q"]
    assert [n.name for n in q.inputs] == ["x", "y"] and not q.is_input and graph["x"].is_input
    assert graph.values() == {"x": -2.0, "y": 5.0, "z": -4.0, "q": 3.0, "f": -12.0}


def test_backward_is_repeatable():
    """Does calling backward() twice give the same gradients (no accumulation across calls)?"""
    graph = issue_example()
    graph.forward(x=-2.0, y=5.0, z=-4.0)
    assert graph.backward() == graph.backward()


def test_upstream_seeds_the_output_gradient():
    """Does backward(upstream=3) scale every gradient by 3?"""
    graph = issue_example()
    graph.forward(x=-2.0, y=5.0, z=-4.0)
    assert graph.backward(upstream=3.0) == {"x": -12.0, "y": -12.0, "z": 9.0, "q": -12.0, "f": 3.0}


def test_gradients_add_when_a_variable_is_used_twice():
    """Does x * x give 2x, i.e. both inputs' contributions summed, not the last one kept?"""
    graph = ComputationalGraph()
    x = graph.input("x")
    graph.gate(MultiplyGate(), x, x)
    graph.forward(x=3.0)
    assert graph.backward()["x"] == 6.0


def test_gradients_add_along_a_diamond():
    """b = a + a, c = b + b: is dc/da = 4 (micrograd's fan-out test)?"""
    graph = ComputationalGraph()
    a = graph.input("a")
    b = (a + a).named("b")
    (b + b).named("c")
    graph.forward(a=-4.0)
    grads = graph.backward()
    assert grads["a"] == 4.0 and grads["b"] == 2.0 and graph["c"].value == -16.0


def test_a_chain_of_100000_gates_needs_no_recursion():
    """Do forward and backward work on a 100,000-gate chain (no recursion limit)?"""
    graph = ComputationalGraph()
    node = graph.input("x")
    for _ in range(100_000):
        node = graph.gate(AddConstantGate(1.0), node)
    assert graph.forward(x=0.0) == 100_000.0
    assert graph.backward()["x"] == 1.0


def test_a_chain_given_by_names_in_reverse_is_sorted_without_recursion():
    """Is a 20,000-gate chain declared output-first (by names) ordered iteratively?"""
    graph = ComputationalGraph()
    n = 20_000
    for k in range(n, 0, -1):
        graph.gate(ScaleGate(1.0), f"v{k - 1}" if k > 1 else "x", name=f"v{k}")
    graph.input("x")
    graph.output = f"v{n}"
    assert graph.forward(x=2.0) == 2.0
    assert graph.backward()["x"] == 1.0
    assert graph.nodes[0].name == "x" and graph.nodes[-1].name == f"v{n}"


def test_names_may_refer_to_nodes_defined_later():
    """Can a gate take an input by the name of a node added after it?"""
    graph = ComputationalGraph()
    graph.gate(MultiplyGate(), "q", "z", name="f")
    graph.gate(AddGate(), "x", "y", name="q")
    graph.inputs("x", "y", "z")
    graph.output = "f"
    assert graph.forward(x=-2.0, y=5.0, z=-4.0) == -12.0
    assert graph.backward()["x"] == -4.0
    assert [n.name for n in graph.nodes][-1] == "f"


def test_operator_front_end_builds_the_same_gates():
    """Does ((x + y) * z) build an AddGate and a MultiplyGate and give the same gradients?"""
    graph = ComputationalGraph()
    x, y, z = graph.inputs("x", "y", "z")
    f = ((x + y).named("q") * z).named("f")
    assert type(f.gate) is MultiplyGate and type(graph["q"].gate) is AddGate
    assert graph.forward(x=-2.0, y=5.0, z=-4.0) == -12.0
    assert graph.backward() == {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "f": 1.0}


def test_operator_front_end_signs_and_constants():
    """Do -, /, reversed constants and powers have the right signs and gradients?"""
    graph = ComputationalGraph()
    a, b = graph.inputs("a", "b")
    # f = (a - b) + (3 - a) + a / b + 2 / b + b ** 2 - a / 4 + maximum(a, b) + (-a)
    f = (a - b) + (3 - a) + a / b + 2 / b + b**2 - a / 4 + maximum(a, b) + (-a)
    assert f is graph.output
    av, bv = 1.5, -2.0
    value = (av - bv) + (3 - av) + av / bv + 2 / bv + bv**2 - av / 4 + max(av, bv) - av
    assert graph.forward(a=av, b=bv) == pytest.approx(value)
    grads = graph.backward()
    assert grads["a"] == pytest.approx(1 - 1 + 1 / bv - 0.25 + 1 - 1)
    assert grads["b"] == pytest.approx(-1 - av / bv**2 - 2 / bv**2 + 2 * bv)


def test_unary_methods():
    """Do exp, log, sigmoid, relu and tanh methods build working gates?"""
    graph = ComputationalGraph()
    x = graph.input("x")
    (x.exp() + x.sigmoid() + x.relu() + x.tanh() + (x * x + 1).log()).named("f")
    graph.forward(x=0.5)
    s = 1 / (1 + math.exp(-0.5))
    expected = math.exp(0.5) + s * (1 - s) + 1 + (1 - math.tanh(0.5) ** 2) + 2 * 0.5 / 1.25
    assert graph.backward()["x"] == pytest.approx(expected)


def test_nodes_not_feeding_the_output_get_zero_gradient():
    """When the output is set to an earlier node, do later nodes and unused inputs get 0?"""
    graph = ComputationalGraph()
    x, y, unused = graph.inputs("x", "y", "unused")
    q = graph.gate(MultiplyGate(), x, y, name="q")
    graph.gate(ExpGate(), q, name="later")
    graph.output = q
    assert graph.forward(x=2.0, y=3.0, unused=1.0) == 6.0
    grads = graph.backward()
    assert grads == {"x": 3.0, "y": 2.0, "unused": 0.0, "q": 1.0, "later": 0.0}
    assert graph["later"].value == pytest.approx(math.exp(6.0))


def test_backward_steps_show_local_times_upstream():
    """Does each backward step satisfy downstream = local x upstream, and sum to the gradients?"""
    graph = issue_example()
    graph.forward(x=-2.0, y=5.0, z=-4.0)
    grads = graph.backward()
    steps = graph.backward_steps()
    assert [s.node.name for s in steps] == ["f", "q"]
    f_step, q_step = steps
    assert (f_step.upstream, f_step.local, f_step.downstream) == (1.0, (-4.0, 3.0), (-4.0, 3.0))
    assert (q_step.upstream, q_step.local, q_step.downstream) == (-4.0, (1.0, 1.0), (-4.0, -4.0))
    assert str(f_step) == "f [*]: df/dq = (-4.00)(1.00) = -4.00; df/dz = (3.00)(1.00) = 3.00"
    assert graph.backward() == grads  # stepping did not disturb the pass


def test_auto_names_are_unique_and_readable():
    """Are unnamed gates named by kind and count, skipping names already taken?"""
    graph = ComputationalGraph()
    x, y = graph.inputs("x", "mul1")
    assert (x * y).name == "mul2"
    assert (x * y).name == "mul3"
    assert (x + y).name == "add1"


def test_repr_mentions_size_inputs_and_output():
    """Does the graph's repr say how many nodes, which inputs and which output?"""
    graph = issue_example()
    assert repr(graph) == "<ComputationalGraph: 5 nodes, inputs (x, y, z), output 'f'>"
    assert repr(graph["q"]) == "Node('q', AddGate()(x, y))"


# -- errors -------------------------------------------------------------------------------------


def test_missing_input_is_named():
    """Does forward() without z say z is missing and list the graph's inputs?"""
    with pytest.raises(
        GraphError, match=r"missing 'z'\); the graph's inputs are \['x', 'y', 'z'\]"
    ):
        issue_example().forward(x=1.0, y=2.0)


def test_unknown_input_is_named():
    """Does forward() with a misspelt input name it as unknown?"""
    with pytest.raises(GraphError, match=r"unknown 'w'"):
        issue_example().forward(x=1.0, y=2.0, z=3.0, w=4.0)


def test_an_intermediate_node_is_not_an_input():
    """Is feeding a value for a gate's node (q) refused as an unknown input?"""
    with pytest.raises(GraphError, match=r"unknown 'q'"):
        issue_example().forward(x=1.0, y=2.0, z=3.0, q=4.0)


@pytest.mark.parametrize(
    "value, pattern",
    [
        ("3", r"input 'x' must be a real number, got str '3'"),
        (None, r"input 'x' must be a real number, got NoneType None"),
        (float("nan"), r"input 'x' must be finite, got nan"),
        (float("inf"), r"input 'x' must be finite, got inf"),
        (True, r"input 'x' must be a real number, got bool True"),
    ],
)
def test_bad_input_values_are_refused(value, pattern):
    """Are non-numbers and non-finite inputs refused with what was received?"""
    with pytest.raises(GraphError, match=pattern):
        issue_example().forward(x=value, y=2.0, z=3.0)


def test_a_cycle_is_reported_with_its_nodes():
    """Does a cycle written through names raise a GraphError listing the cycle's nodes?"""
    graph = ComputationalGraph()
    x = graph.input("x")
    graph.gate(AddGate(), x, "b", name="a")
    graph.gate(MultiplyGate(), "a", x, name="b")
    graph.gate(ExpGate(), "b", name="out")
    with pytest.raises(GraphError, match=r"the graph has a cycle: '(a|b)' -> '(a|b)' -> '(a|b)'"):
        graph.forward(x=1.0)


def test_a_self_loop_is_a_cycle():
    """Is a gate fed by its own output reported as a cycle?"""
    graph = ComputationalGraph()
    graph.gate(ExpGate(), "e", name="e")
    with pytest.raises(GraphError, match=r"cycle: 'e' -> 'e'"):
        graph.forward()


def test_a_name_reference_to_nothing_is_reported():
    """Does an input given by a name no node has raise an error naming both nodes?"""
    graph = ComputationalGraph()
    x = graph.input("x")
    graph.gate(AddGate(), x, "w", name="q")
    with pytest.raises(
        GraphError,
        match=r"node 'q' \(AddGate\(\)\) takes input 'w', but the graph has no node named 'w'",
    ):
        graph.forward(x=1.0)


def test_non_finite_value_names_the_node():
    """Does a gate that produces inf (1e200 * 1e200) get named, with its inputs?"""
    graph = ComputationalGraph()
    x, y = graph.inputs("x", "y")
    graph.gate(MultiplyGate(), x, y, name="big")
    with pytest.raises(
        GraphError,
        match=r"non-finite value inf at node 'big' = MultiplyGate\(x=1e\+200, y=1e\+200\)",
    ):
        graph.forward(x=1e200, y=1e200)


def test_a_gate_error_in_forward_names_the_node():
    """Does exp(1000) overflowing say which node failed and on what input?"""
    graph = ComputationalGraph()
    x = graph.input("x")
    graph.gate(ExpGate(), x, name="e")
    with pytest.raises(
        GraphError, match=r"forward failed at node 'e' = ExpGate\(x=1000.0\): math range error"
    ):
        graph.forward(x=1000.0)


def test_division_by_zero_names_the_node():
    """Does 1/x at x = 0 name the node?"""
    graph = ComputationalGraph()
    x = graph.input("x")
    graph.gate(InverseGate(), x, name="inv")
    with pytest.raises(GraphError, match=r"node 'inv' = InverseGate\(x=0.0\)"):
        graph.forward(x=0.0)


def test_non_finite_gradient_names_the_node():
    """Does a gradient overflowing to inf in backward name the node it reached?"""
    graph = ComputationalGraph()
    x = graph.input("x")
    graph.gate(InverseGate(), x, name="inv")
    graph.forward(x=1e-200)
    with pytest.raises(GraphError, match=r"non-finite gradient -inf at node 'x'"):
        graph.backward()


def test_backward_before_forward_is_an_error():
    """Does backward() before any forward() say to run forward first?"""
    with pytest.raises(GraphError, match=r"backward\(\) needs forward\(...\) to run first"):
        issue_example().backward()


def test_changing_the_graph_requires_a_new_forward():
    """After adding a gate, does backward() refuse the stale forward pass?"""
    graph = issue_example()
    graph.forward(x=-2.0, y=5.0, z=-4.0)
    graph.gate(ExpGate(), graph["f"])
    with pytest.raises(GraphError, match=r"to run first \(or again, after the graph changed\)"):
        graph.backward()


def test_backward_steps_before_backward_is_an_error():
    """Does backward_steps() before backward() say so?"""
    graph = issue_example()
    graph.forward(x=-2.0, y=5.0, z=-4.0)
    with pytest.raises(GraphError, match=r"backward_steps\(\) needs backward\(\) to run first"):
        graph.backward_steps()


def test_bad_upstream_is_refused():
    """Is a non-numeric upstream gradient refused with what was received?"""
    graph = issue_example()
    graph.forward(x=-2.0, y=5.0, z=-4.0)
    with pytest.raises(
        GraphError, match=r"the upstream gradient must be a real number, got str 'one'"
    ):
        graph.backward(upstream="one")


def test_duplicate_names_are_refused():
    """Is a second node named x refused?"""
    graph = ComputationalGraph()
    graph.input("x")
    with pytest.raises(GraphError, match=r"already has a node named 'x'"):
        graph.input("x")
    with pytest.raises(GraphError, match=r"already has a node named 'x'"):
        graph.gate(ExpGate(), graph["x"], name="x")


@pytest.mark.parametrize("name", ["", None, 3])
def test_bad_names_are_refused(name):
    """Are empty and non-string names refused?"""
    with pytest.raises(GraphError, match="a node name must be a non-empty string"):
        ComputationalGraph().input(name)


def test_wrong_number_of_gate_inputs():
    """Does a MultiplyGate with one input say it takes 2 (x, y)?"""
    graph = ComputationalGraph()
    x = graph.input("x")
    with pytest.raises(GraphError, match=r"MultiplyGate\(\) takes 2 input\(s\) \(x, y\), got 1"):
        graph.gate(MultiplyGate(), x)


def test_a_three_input_gate_is_refused():
    """Is a custom gate with three inputs refused with the reason?"""

    class Sum3(Gate):
        input_names = ("a", "b", "c")

    graph = ComputationalGraph()
    a, b, c = graph.inputs("a", "b", "c")
    with pytest.raises(GraphError, match="graph gates take one or two"):
        graph.gate(Sum3(), a, b, c)


def test_one_gate_instance_cannot_be_two_nodes():
    """Is reusing one gate instance for a second node refused (its cache holds one pass)?"""
    graph = ComputationalGraph()
    x = graph.input("x")
    gate = ExpGate()
    graph.gate(gate, x, name="e1")
    with pytest.raises(GraphError, match=r"ExpGate\(\) is already node 'e1'"):
        graph.gate(gate, x)


def test_not_a_gate_is_refused():
    """Does graph.gate(AddGate, ...) (the class, not an instance) say a Gate instance is needed?"""
    graph = ComputationalGraph()
    x, y = graph.inputs("x", "y")
    with pytest.raises(TypeError, match="needs a Gate instance first, got type"):
        graph.gate(AddGate, x, y)


def test_constant_gate_input_is_refused_with_a_hint():
    """Does passing a number as a gate input point to AddConstantGate/ScaleGate?"""
    graph = ComputationalGraph()
    x = graph.input("x")
    with pytest.raises(TypeError, match="for a constant use AddConstantGate or ScaleGate"):
        graph.gate(MultiplyGate(), x, 2.0)


def test_nodes_of_two_graphs_do_not_mix():
    """Is combining nodes from different graphs refused?"""
    x = ComputationalGraph().input("x")
    y = ComputationalGraph().input("y")
    with pytest.raises(GraphError, match="belongs to another graph"):
        x * y


def test_an_empty_graph_has_no_output():
    """Does forward() on a graph without gates say to add one?"""
    graph = ComputationalGraph()
    graph.input("x")
    assert graph.output is None
    with pytest.raises(GraphError, match="has no gates yet"):
        graph.forward(x=1.0)


def test_unknown_node_lookup_lists_the_nodes():
    """Does graph['nope'] say which nodes exist?"""
    with pytest.raises(KeyError, match="no node named 'nope'; nodes: x, y, z, q, f"):
        issue_example()["nope"]


def test_a_backward_that_returns_a_bare_number_is_explained():
    """Does a custom gate whose backward returns a float (not a tuple) get a hint?"""

    class Twice(Gate):
        input_names = ("x",)

        def forward(self, x):
            self.cache = ()
            return 2 * x

        def backward(self, dz):
            return 2 * dz

    graph = ComputationalGraph()
    graph.gate(Twice(), graph.input("x"), name="t")
    graph.forward(x=1.0)
    with pytest.raises(GraphError, match="must return a tuple with one gradient per input"):
        graph.backward()


def test_a_gate_returning_a_non_number_is_named():
    """Does a custom gate returning a string get named in the error?"""

    class Bad(Gate):
        input_names = ("x",)

        def forward(self, x):
            self.cache = ()
            return "oops"

        def backward(self, dz):
            return (dz,)

    graph = ComputationalGraph()
    graph.gate(Bad(), graph.input("x"), name="bad")
    with pytest.raises(GraphError, match=r"node 'bad' = Bad\(x=1.0\) returned str 'oops'"):
        graph.forward(x=1.0)


# -- found by review: silent wrong answers and unhelpful errors ---------------------------------


def test_one_gate_instance_cannot_serve_two_graphs():
    """Is a gate already in one graph refused in a second (it would mix their caches)?"""
    gate = MultiplyGate()
    g1 = ComputationalGraph()
    g1.gate(gate, *g1.inputs("a", "b"))
    g2 = ComputationalGraph()
    with pytest.raises(
        GraphError, match=r"MultiplyGate\(\) is already node 'mul1' of another graph"
    ):
        g2.gate(gate, *g2.inputs("c", "d"))


def test_a_gate_run_outside_the_graph_is_detected():
    """If a graph's gate runs forward on other values, do backward and backward_steps refuse?"""
    graph = issue_example()
    graph.forward(x=-2.0, y=5.0, z=-4.0)
    graph.backward()
    graph["f"].gate.forward(100.0, 1.0)
    for call in (graph.backward, graph.backward_steps):
        with pytest.raises(
            GraphError, match=r"the gate of node 'f' \(MultiplyGate\(\)\) ran forward"
        ):
            call()
    graph.forward(x=-2.0, y=5.0, z=-4.0)
    assert graph.backward()["x"] == -4.0


def test_check_gate_on_a_graph_gate_leaves_the_graph_consistent():
    """Can a student check_gate a gate of their graph and still backpropagate the graph?"""
    from chainrule import check_gate

    graph = issue_example()
    graph.forward(x=-2.0, y=5.0, z=-4.0)
    assert check_gate(graph["f"].gate, 5.0, 7.0).ok
    assert graph.backward() == {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "f": 1.0}


def test_default_output_is_the_graph_end_even_with_name_references():
    """With f defined before q (by name), is the output f, the gate nothing else consumes?"""
    graph = ComputationalGraph()
    x, y = graph.inputs("x", "y")
    graph.gate(MultiplyGate(), "q", y, name="f")
    graph.gate(AddGate(), x, y, name="q")
    assert graph.output.name == "f"
    assert graph.forward(x=1.0, y=2.0) == 6.0


def test_forward_with_a_bare_number_explains_inputs_by_name():
    """Does forward(2.0) say inputs go by name and list them?"""
    with pytest.raises(
        GraphError,
        match=r"forward\(\) takes inputs by name.*got float 2.0; "
        r"the graph's inputs are \['x', 'y', 'z'\]",
    ):
        issue_example().forward(2.0)


def test_nodes_of_a_graph_without_gates():
    """Does graph.nodes list the inputs of a graph that has no gates yet?"""
    graph = ComputationalGraph()
    graph.inputs("x", "y")
    assert [n.name for n in graph.nodes] == ["x", "y"]


def test_a_gate_without_input_names_is_told_to_declare_them():
    """Does a custom gate that forgot input_names get told to set them?"""

    class MyMul(Gate):
        def forward(self, x, y):
            self.cache = (x, y)
            return x * y

    graph = ComputationalGraph()
    with pytest.raises(GraphError, match=r"MyMul\(\) declares no inputs: set input_names"):
        graph.gate(MyMul(), *graph.inputs("x", "y"))


def test_sum_of_nodes_adds_no_zero_gate():
    """Does sum([x, y, z]) build two add gates, without a '+0' gate for sum's start?"""
    graph = ComputationalGraph()
    total = sum(graph.inputs("x", "y", "z"))
    assert [type(n.gate).__name__ for n in graph.nodes if n.gate] == ["AddGate", "AddGate"]
    assert graph.forward(x=1.0, y=2.0, z=3.0) == 6.0 and total is graph.output


def test_comparisons_and_powers_point_to_the_right_gate():
    """Do max(x, y), maximum(x, 0), 2 ** x and x ** y each say what to write instead?"""
    graph = ComputationalGraph()
    x, y = graph.inputs("x", "y")
    with pytest.raises(
        TypeError, match=r"use chainrule.maximum\(a, b\), for max\(x, 0\) use x.relu\(\)"
    ):
        max(x, y)
    with pytest.raises(
        TypeError, match=r"got int 0 as argument 2 \(for max\(x, 0\) use x.relu\(\)"
    ):
        maximum(x, 0)
    with pytest.raises(TypeError, match=r"for c \*\* x write \(x \* math.log\(c\)\).exp\(\)"):
        2**x
    with pytest.raises(TypeError, match=r"write \(y \* x.log\(\)\).exp\(\)"):
        x**y


def test_backward_steps_show_small_numbers():
    """Is a local gradient of 1e-4 printed as 1.00e-04 rather than hidden as 0.00?"""
    graph = ComputationalGraph()
    (graph.input("x") * 1e-4).named("f")
    graph.forward(x=1.0)
    graph.backward()
    assert str(graph.backward_steps()[0]) == "f [*0.0001]: df/dx = (1.00e-04)(1.00) = 1.00e-04"


def test_power_zero_has_zero_gradient_at_zero():
    """Is d(x^0)/dx = 0 at x = 0, where p x^(p-1) would divide by zero?"""
    graph = ComputationalGraph()
    (graph.input("x") ** 0).named("f")
    assert graph.forward(x=0.0) == 1.0
    assert graph.backward()["x"] == 0.0
