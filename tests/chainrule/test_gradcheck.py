"""Tests for chainrule.gradcheck: it passes correct gradients and catches every planted bug."""

import warnings

import numpy as np
import pytest

from chainrule import GateError, GradientCheckWarning, MaxGate, MultiplyGate, ReLUGate, ShapeError
from chainrule.gradcheck import (
    check_gate,
    check_gradient,
    max_rel_error,
    numerical_gradient,
    rel_error,
)

from .planted_bugs import cs231n_affine, cs231n_relu, layer_bugs, sigmoid_net, softmax_net

# -- numerical_gradient -------------------------------------------------------------------------


def test_numerical_gradient_of_a_scalar_function():
    """Is d/dx x^3 at 2 found as 12 by centered differences (error ~h^2)?"""
    assert numerical_gradient(lambda x: x**3, 2.0) == pytest.approx(12.0, rel=1e-9)


def test_numerical_gradient_of_an_array():
    """Is the gradient of sum(x^2) equal to 2x, in x's shape?"""
    x = np.arange(6.0).reshape(2, 3)
    grad = numerical_gradient(lambda x: float((x**2).sum()), x)
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-8, atol=1e-8)


def test_upstream_form_for_array_valued_functions():
    """With upstream u, is the result sum(u * df/dx), e.g. u * cos(x) for f = sin?"""
    x = np.linspace(-1, 1, 5)
    u = np.array([1.0, -2.0, 0.5, 3.0, 0.0])
    np.testing.assert_allclose(numerical_gradient(np.sin, x, upstream=u), u * np.cos(x), rtol=1e-8)


def test_x_is_restored_even_when_f_raises():
    """If f raises midway, is every entry of x back to its original value?"""
    x = np.array([1.0, 2.0, 3.0])
    calls = []

    def f(x):
        calls.append(1)
        if len(calls) == 4:  # while the second entry is perturbed
            raise RuntimeError("boom")
        return float(x.sum())

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


def test_x_is_restored_after_a_full_check():
    """After check_gradient in every mode, is x bit-for-bit unchanged?"""
    x = np.random.default_rng(0).standard_normal(7)
    before = x.copy()
    for mode in ("full", "sampled", "direction"):
        check_gradient(lambda x: float((x**2).sum()), x, 2 * x, mode=mode)
    np.testing.assert_array_equal(x, before)


def test_array_output_without_upstream_is_explained():
    """Does an array-valued f without upstream= say to pass upstream with f's shape?"""
    with pytest.raises(ShapeError, match=r"f returned an array of shape \(2,\); pass upstream="):
        numerical_gradient(lambda x: x * 2, np.ones(2))


def test_upstream_shape_mismatch_is_reported():
    """Is an upstream of the wrong shape reported with both shapes?"""
    with pytest.raises(ShapeError, match=r"f returned shape \(2,\) but upstream has shape \(3,\)"):
        numerical_gradient(lambda x: x * 2, np.ones(2), upstream=np.ones(3))


def test_integer_arrays_are_refused():
    """Is an int array (which cannot be perturbed by 1e-5) refused with the fix?"""
    with pytest.raises(TypeError, match=r"x must hold floats .* got dtype int64; use x.astype"):
        numerical_gradient(lambda x: float(x.sum()), np.arange(3))


def test_float32_warns():
    """Does a float32 x raise a GradientCheckWarning recommending float64?"""
    with pytest.warns(GradientCheckWarning, match="float32.*Check in float64"):
        numerical_gradient(lambda x: float(x.sum()), np.ones(3, dtype=np.float32))


# -- rel_error ----------------------------------------------------------------------------------


def test_rel_error_is_safe_at_zero():
    """Is rel_error(0, 0) exactly 0 (no division by zero), and 1 when only one side is 0?"""
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(0.0, 0.0) == 0.0
    assert rel_error(np.zeros(2), np.ones(2)) == 1.0


def test_rel_error_is_symmetric_and_scale_free():
    """Is rel_error(a, b) = rel_error(b, a) and unchanged by scaling both?"""
    a, b = np.array([1.0, 2.0]), np.array([1.0, 2.1])
    assert rel_error(a, b) == rel_error(b, a)
    assert rel_error(1e6 * a, 1e6 * b) == pytest.approx(rel_error(a, b))
    assert rel_error(a, b) == pytest.approx(0.1 / (np.linalg.norm(a) + np.linalg.norm(b)))


def test_rel_error_shape_mismatch():
    """Are different shapes refused?"""
    with pytest.raises(ShapeError, match=r"shapes \(2,\) and \(3,\) differ"):
        rel_error(np.zeros(2), np.zeros(3))


# -- check_gradient on correct and planted-bug gradients ----------------------------------------

SMALL = [softmax_net(N=8, D=12, H=10, C=4), sigmoid_net(N=8, D=12, H=10, C=4)]
FULL_SIZE = [softmax_net(), sigmoid_net()]  # 101,110 and 101,000 parameters
MODES = ["full", "sampled", "direction"]


@pytest.mark.parametrize("problem", SMALL, ids=lambda p: p.name)
@pytest.mark.parametrize("mode", MODES)
def test_correct_gradient_passes(problem, mode):
    """Does a correct gradient pass in every mode, at least 5x below the threshold?"""
    result = check_gradient(problem.f, problem.theta, problem.grad, mode=mode)
    assert result.ok, str(result)
    assert result.rel_error < result.rtol / 5


@pytest.mark.parametrize("problem", SMALL, ids=lambda p: p.name)
def test_every_planted_bug_fails_in_full_mode(problem):
    """Does the full check fail on each planted bug?"""
    for bug, wrong in problem.bugs.items():
        result = check_gradient(problem.f, problem.theta, wrong)
        assert not result.ok, f"{bug}: {result}"


@pytest.mark.parametrize("problem", FULL_SIZE, ids=lambda p: p.name)
def test_direction_mode_on_101k_parameters(problem):
    """At 101k parameters, does direction mode pass the correct gradient and catch every bug
    in at most 10 evaluations of the loss?"""
    ok = check_gradient(problem.f, problem.theta, problem.grad, mode="direction")
    assert ok.ok and ok.evaluations <= 10, str(ok)
    for bug, wrong in problem.bugs.items():
        result = check_gradient(problem.f, problem.theta, wrong, mode="direction")
        assert not result.ok, f"{bug}: {result}"
        assert result.evaluations <= 10


def test_full_mode_points_at_the_wrong_entry():
    """With one entry x 1.5, is the worst coordinate that entry, with both values shown?"""
    problem = SMALL[0]
    wrong = problem.bugs["one entry x 1.5"]
    (bad,) = np.flatnonzero(wrong != problem.grad)
    result = check_gradient(problem.f, problem.theta, wrong)
    assert result.worst_index == (bad,)
    assert result.worst_analytic == pytest.approx(wrong[bad])
    assert result.worst_numerical == pytest.approx(problem.grad[bad], rel=1e-6)
    text = str(result)
    assert "\n" not in text
    assert text.startswith("gradient check FAILED (full, 174 coordinates, 349 evaluations of f)")
    assert f"worst coordinate ({bad},)" in text


def test_str_of_a_pass_is_one_readable_line():
    """Does a passing check read 'gradient check passed (...): relative error ... <= 1e-06'?"""
    result = check_gradient(
        lambda x: float((x**2).sum()), np.array([1.0, -2.0]), np.array([2.0, -4.0])
    )
    text = str(result)
    assert bool(result) is True
    assert text.startswith("gradient check passed (full, 2 coordinates, 5 evaluations of f)")
    assert "<= 1e-06" in text and "\n" not in text


def test_a_zero_gradient_passes_within_rounding_noise():
    """Is a correct all-zero gradient of a large constant function accepted (noise floor)?"""
    x = np.random.default_rng(0).standard_normal(50)
    result = check_gradient(lambda x: 1e4 + 0.0 * float(x.sum()), x, np.zeros(50))
    assert result.ok, str(result)


def test_sampled_mode_checks_the_requested_number_of_coordinates():
    """Does sampled mode check `samples` distinct coordinates, reproducibly for a seed?"""
    problem = SMALL[0]
    a = check_gradient(problem.f, problem.theta, problem.grad, mode="sampled", samples=7, seed=3)
    b = check_gradient(problem.f, problem.theta, problem.grad, mode="sampled", samples=7, seed=3)
    assert a.checked == 7 and a.evaluations == 15
    assert a.worst_index == b.worst_index


def test_check_gradient_argument_errors():
    """Are a wrongly shaped analytic gradient and an unknown mode refused clearly?"""
    x = np.zeros(3)
    with pytest.raises(ShapeError, match=r"must have x's shape \(3,\), got \(2,\)"):
        check_gradient(lambda x: 0.0, x, np.zeros(2))
    with pytest.raises(
        ValueError, match=r"mode must be 'full', 'sampled' or 'direction', got 'fast'"
    ):
        check_gradient(lambda x: 0.0, x, np.zeros(3), mode="fast")
    with pytest.raises(ValueError, match=r"directions must be >= 1, got 0"):
        check_gradient(lambda x: 0.0, x, np.zeros(3), mode="direction", directions=0)


def test_kink_warning_for_relu_inputs_near_zero():
    """Does passing ReLU inputs with an entry within h of 0 warn about the kink?"""
    x = np.array([1.0, 2.0])
    with pytest.warns(GradientCheckWarning, match=r"1 max/ReLU input\(s\) lie within h = 1e-05"):
        check_gradient(lambda x: float(x.sum()), x, np.ones(2), kinks=np.array([0.3, 2e-6, -0.5]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_gradient(lambda x: float(x.sum()), x, np.ones(2), kinks=np.array([0.3, -0.5]))


# -- check_gate ---------------------------------------------------------------------------------


class SwappedMultiply(MultiplyGate):
    """A classic mistake: dx = x * dz instead of y * dz."""

    def backward(self, dz):
        x, y = self.saved()
        return (x * dz, y * dz)


class ForgetsUpstream(MultiplyGate):
    def backward(self, dz):
        x, y = self.saved()
        return (y, x)


class HalfWrong(MultiplyGate):
    def backward(self, dz):
        x, y = self.saved()
        return (y * dz, 2 * x * dz)


def test_check_gate_names_the_wrong_input_with_both_values():
    """Does check_gate say input 1 (y) is wrong, with backward's value and the numerical one?"""
    result = check_gate(HalfWrong(), 3.0, -4.0, upstream=2.0)
    assert not result.ok and result.wrong == ["y"]
    assert str(result) == (
        "HalfWrong check FAILED: input 1 (y) is wrong: backward gave 12.0, "
        "the numerical gradient is 6 (upstream 2)"
    )


def test_check_gate_catches_swapped_inputs():
    """Are both inputs of a mul gate with swapped local gradients reported wrong?"""
    assert check_gate(SwappedMultiply(), 3.0, -4.0).wrong == ["x", "y"]


def test_check_gate_catches_a_forgotten_upstream():
    """With the default (non-unit) upstream, is a backward that ignores it caught?"""
    result = check_gate(ForgetsUpstream(), 3.0, -4.0)
    assert not result.ok and abs(result.upstream) >= 1.5


def test_check_gate_explains_a_wrong_return_shape():
    """Does a backward returning one value for two inputs get a clear problem message?"""

    class OneValue(MultiplyGate):
        def backward(self, dz):
            return (dz,)

    result = check_gate(OneValue(), 1.0, 2.0)
    assert not result.ok
    assert (
        "backward returned 1 values; it must return a tuple with one gradient per input (x, y)"
        in str(result)
    )


def test_check_gate_wrong_number_of_inputs():
    """Does checking a 2-input gate with 1 input say so?"""
    with pytest.raises(TypeError, match=r"MultiplyGate takes 2 input\(s\) \(x, y\), got 1"):
        check_gate(MultiplyGate(), 1.0)


def test_check_gate_restores_the_gate_cache():
    """After check_gate, is the gate's cache what it was before: none, or the caller's forward?"""
    fresh = MultiplyGate()
    assert check_gate(fresh, 3.0, -4.0).ok
    with pytest.raises(GateError):
        fresh.backward(1.0)
    used = MultiplyGate()
    used.forward(2.0, 5.0)
    assert check_gate(used, 3.0, -4.0).ok
    assert used.backward(1.0) == (5.0, 2.0)


@pytest.mark.parametrize("gate, inputs", [(MaxGate(), (1.0, 1.0 + 1e-7)), (ReLUGate(), (3e-6,))])
def test_check_gate_warns_near_a_kink(gate, inputs):
    """Does checking max at a near-tie, or ReLU next to 0, warn about the kink?"""
    with pytest.warns(GradientCheckWarning, match="of its kink"):
        check_gate(gate, *inputs)


# -- found by review: the commonest misuses get a message that says what to do ---------------


def test_a_function_returning_a_tuple_is_explained():
    """Does check_gradient on lambda s: softmax_loss(s, y) (forgot [0]) say to return one value?"""
    from chainrule.layers import softmax_loss

    scores, y = np.zeros((2, 3)), np.array([0, 1])
    _, ds = softmax_loss(scores, y)
    with pytest.raises(TypeError, match=r"f returned a tuple of 2 items; return only the value"):
        check_gradient(lambda s: softmax_loss(s, y), scores, ds)


def test_check_gradient_argument_messages():
    """Are a float x, a None analytic gradient and samples=0 each explained?"""
    with pytest.raises(TypeError, match=r"x must be a float array; for a function of one number"):
        check_gradient(lambda t: t * t, 2.0, 4.0)
    with pytest.raises(
        TypeError, match=r"the analytic gradient is None; expected an array of x's shape \(3,\)"
    ):
        check_gradient(lambda x: 0.0, np.zeros(3), None)
    with pytest.raises(ValueError, match=r"samples must be >= 1, got 0"):
        check_gradient(lambda x: 0.0, np.zeros(3), np.zeros(3), mode="sampled", samples=0)


def test_float32_warning_points_at_the_caller_and_quotes_h():
    """Is the float32 warning reported at the caller's line, with the h actually used?"""
    x = np.ones(3, dtype=np.float32)
    with pytest.warns(GradientCheckWarning, match=r"h = 0.01 keep only about 5") as record:
        check_gradient(lambda x: float(x.sum()), x, np.ones(3), h=1e-2)
    assert record[0].filename == __file__


def test_check_gate_input_and_forward_problems():
    """Are a node as input, a forward that returns None, and a step out of the domain explained?"""
    from chainrule import ComputationalGraph, LogGate

    node = ComputationalGraph().input("x")
    with pytest.raises(TypeError, match=r"input 0 \(x\) must be a number, .* got Node"):
        check_gate(MultiplyGate(), node, 2.0)

    class NoReturn(MultiplyGate):
        def forward(self, x, y):
            self.cache = (x, y)

    assert "returned None; it must return the output number" in str(
        check_gate(NoReturn(), 1.0, 2.0)
    )
    with pytest.raises(
        ValueError, match=r"LogGate.forward failed at x = 1e-06 \+/- h \(h = 1e-05\)"
    ):
        check_gate(LogGate(), 1e-6)


def test_max_rel_error_is_cs231n_per_entry_measure():
    """Is max_rel_error the largest |a - b| / max(1e-8, |a| + |b|) over entries?"""
    a, b = np.array([1.0, 1e-6, 0.0]), np.array([1.0, 2e-6, 0.0])
    assert max_rel_error(a, b) == pytest.approx(1e-6 / 3e-6)
    assert max_rel_error(np.zeros(2), np.zeros(2)) == 0.0
    assert rel_error(a, b) < 1e-6  # the whole-vector measure hardly notices


def test_check_gate_accepts_a_lecture_style_plain_class():
    """Does a gate written as on the slide (plain class, caching self.x, self.y) get checked,
    its attributes restored, and a bug in it named?"""

    class SlideMultiplyGate:
        def forward(self, x, y):
            self.x, self.y = x, y
            return x * y

        def backward(self, dz):
            return [self.y * dz, self.x * dz]

    class BuggyMultiplyGate(SlideMultiplyGate):
        def backward(self, dz):
            return [self.x * dz, self.y * dz]

    gate = SlideMultiplyGate()
    gate.forward(2.0, 5.0)
    assert check_gate(gate, 3.0, -4.0).ok
    assert (gate.x, gate.y) == (2.0, 5.0)
    assert check_gate(BuggyMultiplyGate(), 3.0, -4.0).wrong == ["x0", "x1"]


# -- the upstream form on CS231n's own layer checks ---------------------------------------------
# FullyConnectedNets.ipynb (CS231n assignment 2) checks affine_backward and relu_backward with
# seed 231 and expects errors below 1e-9 and 1e-11 (rel_error as max_rel_error here).


def _subtract_then_dot(f, x, upstream, h=1e-5):
    """The reference: f(x + h e_i) - f(x - h e_i) entry by entry, then dotted with upstream."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = np.array(f(x), copy=True)
        x[idx] = old - h
        minus = np.array(f(x), copy=True)
        x[idx] = old
        grad[idx] = np.dot((plus - minus).ravel(), upstream.ravel()) / (2 * h)
    return grad


CS231N_LAYERS = [  # (name, checks and upstream, the notebook's bound)
    ("affine", cs231n_affine, 1e-9),
    ("relu", cs231n_relu, 1e-11),
]


@pytest.mark.parametrize(("layer", "build", "bound"), CS231N_LAYERS, ids=["affine", "relu"])
def test_upstream_form_is_as_precise_as_subtract_then_dot(layer, build, bound):
    """On CS231n's affine and ReLU checks, is numerical_gradient(f, x, upstream=dout) within 2x
    of the subtract-then-dot reference, and below the notebook's bound?"""
    checks, dout = build()
    for grad, (f, x, analytic) in checks.items():
        ours = max_rel_error(numerical_gradient(f, x, upstream=dout), analytic)
        reference = max_rel_error(_subtract_then_dot(f, x, dout), analytic)
        assert ours <= 2 * reference + 1e-15, f"{layer} {grad}: {ours:.1e} vs {reference:.1e}"
        assert ours < bound, f"{layer} {grad}: {ours:.1e} is not below {bound:g}"


@pytest.mark.parametrize(("layer", "build", "bound"), CS231N_LAYERS, ids=["affine", "relu"])
@pytest.mark.parametrize("mode", ["full", "sampled"])
def test_check_gradient_with_upstream_reports_the_reference_error(layer, build, bound, mode):
    """Does check_gradient(..., upstream=dout) pass correct layers, with a whole-vector error
    within 2x of the reference's on the same coordinates?"""
    checks, dout = build()
    for grad, (f, x, analytic) in checks.items():
        result = check_gradient(f, x, analytic, mode=mode, upstream=dout, samples=8)
        assert result.ok, f"{layer} {grad}: {result}"
        reference = _subtract_then_dot(f, x, dout)
        if mode == "full":
            expected = rel_error(reference, analytic)
        else:  # the same coordinates the check drew (seed 0)
            flat = np.random.default_rng(0).choice(x.size, size=min(8, x.size), replace=False)
            expected = rel_error(reference.ravel()[flat], analytic.ravel()[flat])
        assert result.rel_error <= 2 * expected + 1e-15, f"{layer} {grad}: {result}"


@pytest.mark.parametrize("bug", list(layer_bugs()), ids=lambda b: b[0])
def test_layer_bugs_are_caught_in_direction_mode_with_upstream(bug):
    """Is each planted layer bug caught by direction mode with upstream, in at most 10
    evaluations, while the correct layers pass it?"""
    name, f, x, wrong, dout = bug
    result = check_gradient(f, x, wrong, mode="direction", upstream=dout)
    assert not result.ok, f"{name}: {result}"
    assert result.evaluations <= 10


@pytest.mark.parametrize(("layer", "build", "bound"), CS231N_LAYERS, ids=["affine", "relu"])
def test_correct_layers_pass_direction_mode_with_upstream(layer, build, bound):
    """Do the correct affine and ReLU gradients pass direction mode with upstream, at least 10x
    below the threshold? (A random sign direction nearly orthogonal to the gradient has a small
    derivative, so its relative error sits above the full check's.)"""
    checks, dout = build()
    for grad, (f, x, analytic) in checks.items():
        result = check_gradient(f, x, analytic, mode="direction", upstream=dout)
        assert result.ok and result.rel_error < result.rtol / 10, f"{layer} {grad}: {result}"


def test_a_view_returning_f_is_not_overwritten_by_the_second_step():
    """Is an f that returns a view of x (reshape) still differenced correctly? The output of
    f(x + h) must be kept before x moves to x - h."""
    x = np.arange(6.0).reshape(2, 3)
    upstream = np.linspace(-1.0, 1.0, 6)
    grad = numerical_gradient(lambda t: t.reshape(-1), x, upstream=upstream)
    assert np.allclose(grad, upstream.reshape(2, 3), rtol=1e-9)
    ok = check_gradient(
        lambda t: t.reshape(-1), x, upstream.reshape(2, 3), upstream=upstream, mode="direction"
    )
    assert ok.ok, str(ok)
