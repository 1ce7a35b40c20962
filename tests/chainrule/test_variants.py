"""Do the value tasks' per-student numbers come out the same everywhere, differ between students,
and have answers that agree with the graph engine and a numerical gradient?"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from chainrule import variants
from chainrule.gradcheck import numerical_gradient
from chainrule.lectures import (
    add_multiply_graph,
    gate_patterns_graph,
    regularised_regression_graph,
    sigmoid_neuron_graph,
)
from chainrule.testcells import TaskFailure
from chainrule.value_tasks import TASKS, spec, task_ids
from chainrule.variants import (
    GRADER_VARIABLE,
    HUB_VARIABLE,
    MATCHES,
    StudentNumbers,
    as_collected,
    check_answers,
    current_id,
    variant,
)

IDS = [f"s{n:07d}" for n in range(1, 201)] + ["alice", "bob", "Ünïcode-ID", "x" * 200]


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    """Each test starts as a new kernel: no pinned id, no grader or hub variable."""
    monkeypatch.delenv(GRADER_VARIABLE, raising=False)
    monkeypatch.delenv(HUB_VARIABLE, raising=False)
    variants.reset()
    yield
    variants.reset()


def test_an_empty_id_gives_the_slide():
    """Without an id, is every task on the lecture's own numbers?"""
    for t in task_ids():
        for empty in ("", None, "   "):
            mine = variant(empty, t)
            assert mine.is_slide and mine == variant("", t)
            assert all(np.array_equal(mine[k], v) for k, v in spec(t).slide.items())


@pytest.mark.parametrize("task_id", task_ids())
def test_two_ids_get_different_numbers(task_id):
    """Do two students get different numbers, and none of them the slide's?"""
    assert variant("alice", task_id) != variant("bob", task_id)
    drawn = [variant(s, task_id) for s in IDS]
    assert not any(v == variant("", task_id) for v in drawn)
    distinct = {repr(v) for v in drawn}
    assert len(distinct) >= min(8, len(IDS)), distinct


def test_the_numbers_are_the_same_in_another_python():
    """Does a fresh interpreter with another hash seed draw the same numbers (no hidden state)?"""
    code = (
        "from chainrule.variants import variant; from chainrule.value_tasks import task_ids;"
        "print([repr(variant('s0000042', t)) for t in task_ids()])"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    here = str([repr(variant("s0000042", t)) for t in task_ids()])
    assert out == here
    # and fixed for ever: a change to the draw would change every student's numbers
    assert repr(variant("alice", "forward-values")) == "x = 8, y = 7, z = -2"


@pytest.mark.parametrize("task_id", task_ids())
def test_no_usual_mistake_equals_the_right_answer(task_id):
    """For every student, is each known mistake distinguishable from the right answer?"""
    task = spec(task_id)
    for student in IDS[:120]:
        mine = variant(student, task_id)
        want = task.answers(mine)
        for name, wrongs in task.mistakes(mine, want).items():
            for wrong, hint in wrongs:
                assert not task.close(name, wrong, want[name]), (student, name, wrong, hint)


def _gradients(graph, inputs):
    graph.forward(**inputs)
    return graph.backward()


@pytest.mark.parametrize("student", ["", "alice", "s0000007", "s0000100"])
def test_answers_agree_with_the_graph_engine(student):
    """Are the registry's answers what chainrule's graphs compute at the same inputs?"""
    v = variant(student, "forward-values")
    graph, _ = add_multiply_graph()
    f = graph.forward(**v.values)
    grads = graph.backward()
    assert spec("forward-values").answers(v) == pytest.approx({"q": v.x + v.y, "f": f})
    hand = spec("hand-gradients").answers(v)
    assert [hand[k] for k in ("df_dz", "df_dq", "df_dx", "df_dy")] == pytest.approx(
        [grads["z"], grads["q"], grads["x"], grads["y"]]
    )

    v = variant(student, "neuron-backward")
    graph, _ = sigmoid_neuron_graph()
    grads = _gradients(graph, v.values)
    back = spec("neuron-backward").answers(v)
    names = {"df_dw0": "w0", "df_dx0": "x0", "df_dw1": "w1", "df_dx1": "x1", "df_dw2": "w2"}
    names |= {"df_da": "w0*x0", "df_db": "w1*x1", "df_ds": "sum", "df_dz": "z"}
    names |= {"df_dneg": "-z", "df_de": "exp", "df_dd": "1+exp"}
    for answer, node in names.items():
        assert back[answer] == pytest.approx(grads[node]), answer
    fwd = spec("neuron-forward").answers(v)
    assert fwd["f"] == pytest.approx(graph.forward(**v.values))

    v = variant(student, "pattern-gradients")
    graph, _ = gate_patterns_graph()
    grads = _gradients(graph, v.values)
    pat = spec("pattern-gradients").answers(v)
    assert [pat[f"df_d{k}"] for k in "xyzw"] == pytest.approx([grads[k] for k in "xyzw"])

    v = variant(student, "read-drawing")
    graph, _ = regularised_regression_graph(v.lam)
    grads = _gradients(graph, {k: v[k] for k in "wxbt"})
    drawn = spec("read-drawing").answers(v)
    assert drawn["w_bar_from_loss"] == pytest.approx(grads["w*x"] * v.x)
    assert drawn["w_bar_from_loss"] + drawn["w_bar_from_reg"] == pytest.approx(grads["w"])


@pytest.mark.parametrize("student", ["", "alice", "s0000011"])
def test_wx_answers_agree_with_a_numerical_gradient(student):
    """Is f of ||W x||^2 the sum of q squared, and q = W x, at the student's W and x?"""
    v = variant(student, "wx-forward")
    ans = spec("wx-forward").answers(v)
    assert np.allclose(ans["q"], v.W @ v.x)
    assert ans["f"] == pytest.approx(float(np.sum((v.W @ v.x) ** 2)))
    # its gradient, as the next task asks, is 2 W^T q: checked numerically at the same point
    g = numerical_gradient(lambda x: float(np.sum((v.W @ x) ** 2)), v.x.copy())
    assert np.allclose(g, 2 * v.W.T @ ans["q"], atol=1e-6)


def test_jacobian_answers_count_the_minibatch():
    """Are the Jacobian sizes those of the slide for its numbers (671 GB, 409,600 nonzeros)?"""
    slide = spec("jacobian-sizes").answers(variant("", "jacobian-sizes"))
    assert slide["batch_jacobian_shape"] == (409_600, 409_600)
    assert round(slide["batch_jacobian_gigabytes"]) == 671
    assert slide["relu_batch_nonzeros"] == 409_600


def test_the_id_comes_from_the_grader_then_the_hub_then_the_notebook(monkeypatch):
    """Is the grader's id used over JupyterHub's, and JupyterHub's over the notebook's line?"""
    assert current_id("nb-id") == ("nb-id", "STUDENT_ID")
    monkeypatch.setenv(HUB_VARIABLE, "hub-user")
    assert current_id("nb-id") == ("hub-user", "JupyterHub user")
    monkeypatch.setenv(GRADER_VARIABLE, "collected")
    assert current_id("nb-id") == ("collected", "as collected")
    as_collected("pinned")
    monkeypatch.setenv(GRADER_VARIABLE, "edited-by-a-cell")
    assert current_id("nb-id") == ("pinned", "as collected")


def test_without_an_id_the_notebook_says_grading_uses_your_own(capsys):
    """Does a notebook without an id run on the slide's numbers and say so?"""
    me = StudentNumbers("")
    assert "grading uses your own" in capsys.readouterr().out
    assert me("forward-values").is_slide
    me = StudentNumbers("s0000003", enabled=False)
    assert "variants are off" in capsys.readouterr().out
    assert me("forward-values").is_slide


def _answers(student, task_id):
    return spec(task_id).answers(variant(student, task_id))


@pytest.mark.parametrize("task_id", task_ids())
def test_check_answers_passes_the_right_ones_and_hides_the_expected(task_id):
    """Does the check pass the student's own answers, and fail others without the answer?"""
    StudentNumbers("s0000005")
    check_answers(task_id, **_answers("s0000005", task_id))
    slide = _answers("", task_id)
    with pytest.raises(TaskFailure) as failed:
        check_answers(task_id, **slide)
    message = str(failed.value)
    assert f"{MATCHES} the slide's example" in message, message
    # the only numbers in it are the answer given and the student's inputs
    shown = set(_numbers(message.split(" is not right")[0].split("=", 1)[1]))
    shown |= set(_numbers(repr(variant("s0000005", task_id))))
    assert set(_numbers(message)) <= shown, message


def _numbers(text):
    return re.findall(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?:e-?\d+)?", text)


def test_answers_of_the_declared_or_a_roster_id_are_named():
    """Is a wrong answer that fits another student's numbers said to match that student?"""
    StudentNumbers("bob")  # the notebook says bob...
    as_collected("alice", roster=("carol", "dave"))  # ...it was collected as alice
    with pytest.raises(TaskFailure, match=f"{MATCHES} student bob's variant"):
        check_answers("forward-values", **_answers("bob", "forward-values"))
    with pytest.raises(TaskFailure, match=f"{MATCHES} student dave's variant"):
        check_answers("forward-values", **_answers("dave", "forward-values"))
    with pytest.raises(TaskFailure) as failed:
        check_answers("forward-values", q=1.0, f=2.0)
    assert MATCHES not in str(failed.value)
    check_answers("forward-values", **_answers("alice", "forward-values"))


def test_a_known_mistake_gets_its_hint_on_variant_numbers():
    """Does the hint for a usual mistake fire on a student's own numbers?"""
    StudentNumbers("s0000009")
    v = variant("s0000009", "hand-gradients")
    right = _answers("s0000009", "hand-gradients")
    with pytest.raises(TaskFailure, match="switches its inputs"):
        check_answers("hand-gradients", **(right | {"df_dz": v.z}))
    with pytest.raises(TaskFailure, match="local gradient alone"):
        check_answers("hand-gradients", **(right | {"df_dx": 1.0}))


@pytest.mark.parametrize(
    "bad, words",
    [(42, "got int 42"), ("two\nlines", "one line"), ("x" * 201, "at most 200")],
)
def test_a_bad_student_id_is_refused_with_what_was_expected(bad, words):
    """Is an id that is not one short line of text refused, saying what was received?"""
    with pytest.raises((TypeError, ValueError), match=words):
        variant(bad, "cost")


def test_an_unknown_task_names_the_value_tasks():
    """Does asking for a task that has no variants list the ones that do?"""
    with pytest.raises(KeyError, match="forward-values"):
        variant("alice", "max-gate")
    assert set(TASKS) == set(task_ids())


def test_a_non_plain_answer_is_not_run():
    """Is an answer object with its own __array__ refused rather than asked what it equals?"""

    class Sneaky:
        def __array__(self, *args, **kwargs):
            raise AssertionError("the check ran the student's conversion")

    StudentNumbers("s0000004")
    right = _answers("s0000004", "forward-values")
    with pytest.raises(TaskFailure, match="q = Sneaky is not right"):
        check_answers("forward-values", **(right | {"q": Sneaky()}))


def test_a_bad_id_line_is_an_error_for_the_student_and_ignored_at_grading(monkeypatch, capsys):
    """Is a malformed STUDENT_ID refused in the student's Jupyter, with what was expected, and
    set aside when the grader has given the collected id?"""
    with pytest.raises(TypeError, match="got int 12345"):
        StudentNumbers(12345)
    monkeypatch.setenv(GRADER_VARIABLE, "alice")
    me = StudentNumbers(12345)
    assert me.declared == "" and me("cost") == variant("alice", "cost")
