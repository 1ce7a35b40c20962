"""Tests for chainrule.layers: values and gradients against HIPS autograd, and shape errors."""

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from chainrule import layers
from chainrule.errors import ShapeError
from chainrule.gradcheck import numerical_gradient, rel_error

rng = np.random.default_rng(1234)


def vjp(fun, args, argnum, upstream):
    """dL/d(args[argnum]) for L = sum(fun(*args) * upstream), by autograd (independent answer)."""

    def scalar(*a):
        return anp.sum(fun(*a) * upstream)

    return autograd.grad(scalar, argnum)(*args)


def test_affine_matches_autograd():
    """Do affine_forward/backward agree with autograd for out = x w + b?"""
    x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    out, cache = layers.affine_forward(x, w, b)
    np.testing.assert_allclose(out, x @ w + b, rtol=1e-13)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = layers.affine_backward(dout, cache)

    def f(x, w, b):
        return anp.dot(x, w) + b

    for got, k in ((dx, 0), (dw, 1), (db, 2)):
        np.testing.assert_allclose(got, vjp(f, (x, w, b), k, dout), rtol=1e-12)


def test_affine_flattens_extra_dimensions_and_restores_dx_shape():
    """Does an (N, 2, 3) input work as (N, 6), with dx back in (N, 2, 3)?"""
    x, w, b = rng.standard_normal((4, 2, 3)), rng.standard_normal((6, 5)), rng.standard_normal(5)
    out, cache = layers.affine_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = layers.affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    num = numerical_gradient(lambda x: layers.affine_forward(x, w, b)[0], x.copy(), upstream=dout)
    assert rel_error(dx, num) < 1e-9


def test_affine_backward_can_skip_the_input_gradient():
    """Does input_grad=False return dx = None and the same dw, db?"""
    x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    out, cache = layers.affine_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    full = layers.affine_backward(dout, cache)
    dx, dw, db = layers.affine_backward(dout, cache, input_grad=False)
    assert dx is None
    np.testing.assert_array_equal(dw, full[1])
    np.testing.assert_array_equal(db, full[2])


@pytest.mark.parametrize(
    "name, reference",
    [
        ("relu", lambda x: anp.maximum(x, 0.0)),
        ("sigmoid", lambda x: 1.0 / (1.0 + anp.exp(-x))),
        ("tanh", anp.tanh),
    ],
)
def test_elementwise_layers_match_autograd(name, reference):
    """Do the relu/sigmoid/tanh pairs give autograd's values and input gradients?"""
    forward = getattr(layers, f"{name}_forward")
    backward = getattr(layers, f"{name}_backward")
    x = rng.standard_normal((3, 4))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from ReLU's kink
    out, cache = forward(x)
    np.testing.assert_allclose(out, reference(x), rtol=1e-13)
    dout = rng.standard_normal(x.shape)
    np.testing.assert_allclose(backward(dout, cache), vjp(reference, (x,), 0, dout), rtol=1e-12)


def test_sigmoid_is_stable_and_keeps_float32():
    """Does sigmoid give exact 0/1 limits without overflow, and keep float32 as float32?"""
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out, _ = layers.sigmoid_forward(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])
    out32, _ = layers.sigmoid_forward(np.ones(3, dtype=np.float32))
    assert out32.dtype == np.float32


def test_matmul_matches_autograd_for_vectors_and_matrices():
    """Do dW = dq x^T and dx = W^T dq hold for x of shape (D,) and (D, K)?"""
    w = rng.standard_normal((3, 4))
    for x in (rng.standard_normal(4), rng.standard_normal((4, 2))):
        q, cache = layers.matmul_forward(w, x)
        dq = rng.standard_normal(q.shape)
        dw, dx = layers.matmul_backward(dq, cache)

        def f(w, x):
            return anp.dot(w, x)

        np.testing.assert_allclose(dw, vjp(f, (w, x), 0, dq), rtol=1e-12)
        np.testing.assert_allclose(dx, vjp(f, (w, x), 1, dq), rtol=1e-12)


def test_l2_squared_matches_autograd():
    """Is d||q||^2/dq = 2 q (times the upstream scalar)?"""
    q = rng.standard_normal(5)
    f, cache = layers.l2_squared_forward(q)
    assert float(f) == pytest.approx(float(q @ q))
    np.testing.assert_allclose(
        layers.l2_squared_backward(0.5, cache), 0.5 * autograd.grad(lambda q: anp.sum(q * q))(q)
    )


def softmax_reference(scores, y):
    """Cross-entropy written out with autograd.numpy (logsumexp form)."""
    n = scores.shape[0]
    m = anp.max(scores, axis=1, keepdims=True)
    logsumexp = anp.log(anp.sum(anp.exp(scores - m), axis=1)) + m[:, 0]
    return anp.sum(logsumexp - scores[np.arange(n), y]) / n


def svm_reference(scores, y):
    n = scores.shape[0]
    correct = scores[np.arange(n), y][:, None]
    margins = anp.maximum(0.0, scores - correct + 1.0)
    mask = np.ones(scores.shape)
    mask[np.arange(n), y] = 0.0
    return anp.sum(margins * mask) / n


@pytest.mark.parametrize(
    "loss_fn, reference",
    [(layers.softmax_loss, softmax_reference), (layers.svm_loss, svm_reference)],
)
def test_classification_losses_match_autograd(loss_fn, reference):
    """Do softmax_loss and svm_loss give autograd's loss and dscores?"""
    scores = rng.standard_normal((6, 4))
    y = rng.integers(0, 4, 6)
    loss, dscores = loss_fn(scores, y)
    assert loss == pytest.approx(float(reference(scores, y)), rel=1e-13)
    np.testing.assert_allclose(dscores, autograd.grad(reference)(scores, y), rtol=1e-11, atol=1e-15)


def test_softmax_loss_survives_huge_scores():
    """With scores near 1e4 (exp overflows without the max shift), is the loss finite and right?"""
    scores = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dscores = layers.softmax_loss(scores, np.array([0, 1]))
    assert loss == pytest.approx(np.log(2) / 2)
    assert np.isfinite(dscores).all()


def test_softmax_loss_of_uniform_scores_is_log_c():
    """Is the loss log(C) when all scores are equal (the sanity check CS231n asks for)?"""
    loss, _ = layers.softmax_loss(np.zeros((5, 10)), np.arange(5))
    assert loss == pytest.approx(np.log(10), rel=1e-15)


@pytest.mark.parametrize("reduction, n", [("sum", 1), ("mean", 4)])
def test_squared_error_loss(reduction, n):
    """Is the loss sum (p - t)^2 (or /N) with gradient 2 (p - t) (or /N)?"""
    p, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    loss, dp = layers.squared_error_loss(p, t, reduction=reduction)
    assert loss == pytest.approx(float(((p - t) ** 2).sum()) / n)
    np.testing.assert_allclose(dp, autograd.grad(lambda p: anp.sum((p - t) ** 2) / n)(p))


def test_l2_regularization_adds_lambda_w():
    """Is the penalty 0.5 reg ||W||^2 with gradient reg W (the lecture's 'adds lambda W')?"""
    w = rng.standard_normal((3, 4))
    loss, dw = layers.l2_regularization(w, 0.3)
    assert loss == pytest.approx(0.15 * float((w * w).sum()))
    np.testing.assert_allclose(dw, 0.3 * w)


# -- errors -------------------------------------------------------------------------------------


def test_affine_shape_mismatch_names_the_layer_and_shapes():
    """Does x (4, 5) with w (6, 3) say affine_forward, D = 5 and both shapes?"""
    with pytest.raises(
        ShapeError,
        match=r"affine_forward: x \(4, 5\) has D = 5 features per row, "
        r"so w must be \(5, M\) and b \(M,\); got w \(6, 3\), b \(3,\)",
    ):
        layers.affine_forward(np.zeros((4, 5)), np.zeros((6, 3)), np.zeros(3))


def test_affine_bias_mismatch():
    """Is a bias of the wrong length reported with all shapes?"""
    with pytest.raises(ShapeError, match=r"got w \(5, 3\), b \(4,\)"):
        layers.affine_forward(np.zeros((4, 5)), np.zeros((5, 3)), np.zeros(4))


def test_wrong_upstream_shape_is_reported():
    """Does relu_backward with dout of the wrong shape name both shapes?"""
    _, cache = layers.relu_forward(np.zeros((2, 3)))
    with pytest.raises(
        ShapeError,
        match=r"relu_backward: the upstream gradient must have the "
        r"forward output's shape \(2, 3\), got \(3, 2\)",
    ):
        layers.relu_backward(np.zeros((3, 2)), cache)


def test_matmul_shape_mismatch():
    """Does W (2, 3) times x (2,) name matmul_forward and both shapes?"""
    with pytest.raises(ShapeError, match=r"matmul_forward: .* got W \(2, 3\) and x \(2,\)"):
        layers.matmul_forward(np.zeros((2, 3)), np.zeros(2))


@pytest.mark.parametrize("loss_fn", [layers.softmax_loss, layers.svm_loss])
def test_label_problems_are_reported(loss_fn):
    """Are out-of-range, non-integer and mis-sized labels each reported clearly?"""
    name = loss_fn.__name__
    scores = np.zeros((3, 4))
    with pytest.raises(
        ValueError, match=rf"{name}: labels must lie in 0..3 for 4 classes; got \[4\]"
    ):
        loss_fn(scores, np.array([0, 4, 1]))
    with pytest.raises(TypeError, match=rf"{name}: labels y must be integers, got dtype float64"):
        loss_fn(scores, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(
        ShapeError,
        match=rf"{name}: expected scores of shape \(N, C\) and labels y "
        r"of shape \(N,\); got scores \(3, 4\) and y \(2,\)",
    ):
        loss_fn(scores, np.array([0, 1]))


def test_non_numeric_input_is_refused():
    """Does a string array get refused with the layer name and dtype?"""
    with pytest.raises(
        TypeError, match=r"relu_forward: x must hold numbers, got an array of dtype <U1"
    ):
        layers.relu_forward(np.array(["a", "b"]))


def test_lists_are_accepted_as_arrays():
    """Can a student pass plain lists?"""
    out, _ = layers.affine_forward([[1.0, 2.0]], [[1.0], [1.0]], [0.5])
    np.testing.assert_array_equal(out, [[3.5]])


def test_squared_error_shape_and_reduction_errors():
    """Are mismatched shapes and an unknown reduction refused?"""
    with pytest.raises(ShapeError, match=r"pred \(2,\) and target \(3,\) must have the same shape"):
        layers.squared_error_loss(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match=r"reduction must be 'sum' or 'mean', got 'avg'"):
        layers.squared_error_loss(np.zeros(2), np.zeros(2), reduction="avg")


def test_negative_regularisation_is_refused():
    """Is reg = -1 refused with the value?"""
    with pytest.raises(ValueError, match=r"reg must be a number >= 0, got -1"):
        layers.l2_regularization(np.zeros(2), -1)


# -- found by review -----------------------------------------------------------------------------


def test_integer_inputs_are_computed_in_float64():
    """Do small integer dtypes give the real answer (no wrap-around, no float16)?"""
    s, _ = layers.sigmoid_forward(np.array([3, 0, 200], np.uint8))
    assert s.dtype == np.float64
    np.testing.assert_allclose(s, [1 / (1 + np.exp(-3)), 0.5, 1.0])
    assert float(layers.l2_squared_forward(np.array([20, 3], np.uint8))[0]) == 409.0
    assert layers.l2_regularization(np.array([100, 100], np.int8), 1.0)[0] == 10000.0
    _, dp = layers.squared_error_loss(np.array([1], np.uint8), np.array([2], np.uint8))
    np.testing.assert_array_equal(dp, [-2.0])
    loss, _ = layers.svm_loss(np.array([[3, 5, -1], [1, 2, 0]]), np.array([0, 1]))
    assert loss == pytest.approx((3 + 0) / 2)
    out, _ = layers.affine_forward(np.array([[1, 2]]), np.array([[1], [1]]), np.array([0.5]))
    np.testing.assert_array_equal(out, [[3.5]])


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_changing_the_output_in_place_does_not_corrupt_backward(name):
    """After out *= 2, does backward still use the forward's values?"""
    forward, backward = getattr(layers, f"{name}_forward"), getattr(layers, f"{name}_backward")
    x = np.array([0.0, 1.0])
    out, cache = forward(x)
    expected = backward(np.ones(2), forward(x)[1])
    out *= 2
    np.testing.assert_array_equal(backward(np.ones(2), cache), expected)


def test_a_wrong_cache_says_which_cache_was_expected():
    """Does affine_backward given relu's cache (or a nested tuple) say it wants affine's (x, w)?"""
    _, relu_cache = layers.relu_forward(np.zeros((2, 3)))
    with pytest.raises(
        TypeError,
        match=r"affine_backward: cache must be the \(x, w\) tuple returned by affine_forward, "
        r"got ndarray",
    ):
        layers.affine_backward(np.zeros((2, 3)), relu_cache)
    out, cache = layers.affine_forward(np.zeros((2, 3)), np.zeros((3, 4)), np.zeros(4))
    with pytest.raises(TypeError, match=r"got a tuple of 2: \(2, 4\), tuple"):
        layers.affine_backward(np.zeros((2, 4)), (out, cache))
    with pytest.raises(
        TypeError,
        match=r"relu_backward: cache must be the array x returned by relu_forward, "
        r"got a tuple of 2: \(2, 3\), \(3, 4\)",
    ):
        layers.relu_backward(np.zeros((2, 3)), cache)


def test_an_upstream_gradient_given_as_a_list_is_accepted():
    """Can dout be a nested list of the right shape?"""
    _, cache = layers.affine_forward(np.ones((1, 2)), np.ones((2, 1)), np.zeros(1))
    dx, dw, db = layers.affine_backward([[2.0]], cache)
    np.testing.assert_array_equal(dx, [[2.0, 2.0]])


def test_one_example_without_a_batch_dimension_is_explained():
    """Does a 1-D x say to add the batch dimension with x[None, :]?"""
    with pytest.raises(
        ShapeError,
        match=r"x must have a batch dimension, shape \(N, D\); got x \(3,\). "
        r"For one example use x\[None, :\]",
    ):
        layers.affine_forward(np.ones(3), np.ones((3, 5)), np.zeros(5))


@pytest.mark.parametrize("loss_fn", [layers.softmax_loss, layers.svm_loss])
def test_an_empty_batch_is_refused(loss_fn):
    """Is an empty batch refused instead of dividing by zero?"""
    with pytest.raises(ShapeError, match=r"the batch is empty \(scores \(0, 3\)\); need N >= 1"):
        loss_fn(np.zeros((0, 3)), np.zeros(0, dtype=int))
