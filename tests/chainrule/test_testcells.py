"""Do the test-cell helpers say what was expected, what came back, and the right hint?"""

import numpy as np
import pytest

from chainrule import Gate, MultiplyGate
from chainrule.testcells import (
    Mistake,
    TaskFailure,
    assigned_at_branch,
    expect_close,
    expect_gate,
    expect_tuple,
    forgot_upstream,
    routed_to_both,
    sigmoid_grad_from_x,
    swapped_inputs,
    task,
    transposed,
)


def test_expect_close_passes_equal_values_and_names_both_when_not():
    """Does a mismatch message carry the name, the expected value and the value received?"""
    expect_close("q", 3.0 + 1e-12, 3.0)
    expect_close("grads", (1.0, 2.0), np.array([1.0, 2.0]))
    with pytest.raises(AssertionError, match=r"^df_dx: expected -4, got 1\.$"):
        expect_close("df_dx", 1.0, -4.0)


def test_expect_close_reports_none_wrong_type_and_wrong_shape():
    """Are a missing return, a non-number and a wrong shape each described as such?"""
    with pytest.raises(AssertionError, match="is None; expected 3.*without `return`"):
        expect_close("q", None, 3.0)
    with pytest.raises(AssertionError, match="should be a number, got str 'three'"):
        expect_close("q", "three", 3.0)
    with pytest.raises(AssertionError, match=r"has shape \(3,\), expected shape \(2,\)"):
        expect_close("dx", np.zeros(3), np.zeros(2))


def test_matching_mistake_adds_its_hint_and_others_do_not():
    """Is the hint given only when the received value is that mistake's value?"""
    m = Mistake(12.0, "z is -4")
    with pytest.raises(AssertionError, match="Hint: z is -4"):
        expect_close("f", 12.0, -12.0, mistakes=[m])
    with pytest.raises(AssertionError) as info:
        expect_close("f", 11.0, -12.0, mistakes=[m])
    assert "Hint" not in str(info.value)
    with pytest.raises(AssertionError, match="Hint: generic"):
        expect_close("f", 11.0, -12.0, mistakes=[m], hint="generic")


def test_tiny_mistakes_are_matched_with_the_checks_own_tolerance():
    """Is 0.25**16 left unnamed when the only listed mistake is 0.25**14 and atol is 0?

    Both lie within the default atol of 1e-8 of each other; a relative check must tell them apart.
    """
    m = Mistake(0.25**14, "14 factors")
    with pytest.raises(AssertionError) as info:
        expect_close("bound", 0.25**16, 0.25**15, mistakes=[m], rtol=1e-9, atol=0)
    assert "14 factors" not in str(info.value)
    with pytest.raises(AssertionError, match="Hint: 14 factors"):
        expect_close("bound", 0.25**14, 0.25**15, mistakes=[m], rtol=1e-9, atol=0)


def test_integers_print_exactly():
    """Are counts shown to the unit (1000001, not 1e+06) and -0.0 as 0?"""
    with pytest.raises(AssertionError, match=r"expected 2000000, got 1000001\."):
        expect_close("n", 1_000_001, 2_000_000)
    with pytest.raises(AssertionError, match=r"expected \[0, 1\], got \[0, 2\.5\]"):
        expect_close("v", [-0.0, 2.5], [0.0, 1.0])


def test_expect_tuple_names_what_should_come_back():
    """Does a wrong return say what came back and which values were expected?"""
    assert expect_tuple("f()", [1, 2], ("a", "b")) == (1, 2)
    with pytest.raises(
        AssertionError, match=r"f\(\) returned float 1\.5; expected a tuple \(a, b\)"
    ):
        expect_tuple("f()", 1.5, ("a", "b"))
    with pytest.raises(AssertionError, match=r"f\(\) returned 3 values; expected a tuple \(a, b\)"):
        expect_tuple("f()", (1, 2, 3), ("a", "b"))


def test_mistake_factories_compute_the_wrong_answers():
    """Does each factory produce the value that mistake really gives?"""
    assert np.allclose(forgot_upstream((-8.0, 6.0), 2.0).wrong, (-4.0, 3.0))
    assert swapped_inputs((-8.0, 6.0)).wrong == (6.0, -8.0)
    assert routed_to_both(2.0).wrong == (2.0, 2.0)
    assert [m.wrong for m in assigned_at_branch(3.0, 4.0)] == [3.0, 4.0]
    assert np.allclose(sigmoid_grad_from_x(-1.5, 2.0).wrong, (1 + 1.5) * -1.5 * 2.0)
    w = np.arange(6.0).reshape(2, 3)
    assert transposed(w).wrong.shape == (3, 2)
    assert transposed(w, "dW", "dW = x^T dout").hint.endswith("(dW = x^T dout)")


def test_transposed_matrix_of_wrong_shape_still_gets_the_hint():
    """Is a (C, D) answer for a (D, C) gradient reported as a shape error with the hint?"""
    want = np.arange(6.0).reshape(2, 3)
    with pytest.raises(
        AssertionError, match=r"shape \(3, 2\), expected shape \(2, 3\).*transposed"
    ):
        expect_close("dW", want.T, want, mistakes=[transposed(want)])


def test_expect_gate_checks_forward_backward_and_the_tuple():
    """Does expect_gate accept a right gate and explain a backward that returns no tuple?"""
    expect_gate(MultiplyGate(), (3.0, -4.0), upstream=2.0, out=-12.0, grads=(-8.0, 6.0))

    class Bare(Gate):
        input_names = ("x", "y")

        def forward(self, x, y):
            return x * y

        def backward(self, dz):
            return dz

    with pytest.raises(AssertionError, match="must return a tuple with one gradient per input"):
        expect_gate(Bare(), (3.0, -4.0), upstream=2.0, out=-12.0, grads=(-8.0, 6.0))


def test_task_prints_on_success(capsys):
    """Does a passing test cell say so, once, with its task id?"""
    with task("mul-gate"):
        pass
    assert capsys.readouterr().out == "[mul-gate] passed the tests in this cell\n"
    with task("mul-gate", quiet=True):
        pass
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "error, phrase",
    [
        (NotImplementedError(), "not done yet"),
        (NameError("name 'q' is not defined"), "Your code cell of Task t1 must define it"),
        (AssertionError("dx: expected 1, got 2."), "dx: expected 1, got 2."),
        (ZeroDivisionError("division by zero"), "your code raised ZeroDivisionError"),
    ],
)
def test_task_turns_every_failure_into_a_tagged_task_failure(error, phrase):
    """Is each kind of failure reported as TaskFailure starting with the task id?"""
    with pytest.raises(TaskFailure) as info:
        with task("t1"):
            raise error
    assert str(info.value).startswith("[t1] ")
    assert phrase in str(info.value)
    assert info.value.task_id == "t1"
    assert isinstance(info.value, AssertionError)  # nbgrader scores a failing cell 0


def test_values_that_only_behave_like_numbers_are_refused():
    """Is an object whose __array__ or __float__ could answer anything refused by its type,
    without running its code, while lists, tuples and NumPy values pass?"""
    calls = []

    class Liar:
        def __array__(self, dtype=None, copy=None):
            calls.append("array")
            return np.asarray(3.0)

        def __float__(self):
            calls.append("float")
            return 3.0

    with pytest.raises(AssertionError, match="got Liar .only numbers, arrays"):
        expect_close("q", Liar(), 3.0)
    with pytest.raises(AssertionError, match="got tuple holding Liar"):
        expect_close("grads", (1.0, Liar()), (1.0, 3.0))
    assert calls == []
    expect_close("q", np.float32(3.0), 3.0)
    expect_close("grads", [np.int64(1), 3], (1.0, 3.0))
