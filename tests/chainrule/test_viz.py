"""Does draw_graph put each edge's value above it and its gradient below, as on the slides?"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from chainrule import lectures  # noqa: E402
from chainrule.viz import GRAD_COLOR, VALUE_COLOR, draw_graph, graph_layout  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _labels(ax, color):
    return [t.get_text() for t in ax.texts if t.get_color() == color]


def test_layout_puts_inputs_first_and_gates_right_of_their_inputs():
    """Is every gate in a column to the right of each of its inputs?"""
    graph, _ = lectures.sigmoid_neuron_graph()
    pos = graph_layout(graph)
    for node in graph.nodes:
        if node.is_input:
            assert pos[node.name][0] == 0
        for src in node.inputs:
            assert pos[src.name][0] < pos[node.name][0]
    column = [pos[n.name] for n in graph.nodes if pos[n.name][0] == 1]
    assert len({row for _, row in column}) == len(column), "nodes in a column must not overlap"


def test_sigmoid_neuron_shows_the_slide_numbers():
    """Are the slide's forward values (green) and gradients (red) on the edges?"""
    graph, values = lectures.sigmoid_neuron_graph()
    graph.forward(values)
    graph.backward()
    ax = draw_graph(graph)
    assert {"2.00", "-1.00", "0.37", "1.37", "0.73"} <= set(_labels(ax, VALUE_COLOR))
    assert {"-0.53", "-0.20", "0.20", "0.39", "-0.39", "-0.59", "1.00"} <= set(
        _labels(ax, GRAD_COLOR)
    )


def test_fan_out_edges_carry_each_branch_and_the_sum_is_marked():
    """Does w's drawing show both branch gradients (-0.25, 0.05) and their sum (-0.20)?"""
    graph, values = lectures.regularised_regression_graph(0.1)
    graph.forward(values)
    graph.backward()
    grads = _labels(draw_graph(graph), GRAD_COLOR)
    assert "-0.25" in grads and "0.05" in grads
    assert "sum -0.20" in grads


def test_graph_before_forward_draws_structure_only():
    """Does an unevaluated graph draw without numbers instead of failing?"""
    graph, _ = lectures.add_multiply_graph()
    ax = draw_graph(graph, title="f = (x + y) z")
    assert _labels(ax, VALUE_COLOR) == [] and _labels(ax, GRAD_COLOR) == []
    assert ax.get_title() == "f = (x + y) z"
