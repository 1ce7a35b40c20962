"""Tests for chainrule.nets.TwoLayerNet: gradients, training, and argument errors."""

import numpy as np
import pytest

from chainrule import TwoLayerNet, data
from chainrule.gradcheck import check_gradient


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_gradients_pass_the_full_check(activation):
    """Does every parameter's gradient pass check_gradient, with L2 regularisation on?"""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)
    net = TwoLayerNet(5, 7, 3, activation=activation, reg=0.1, seed=1)
    net.params["b1"] += 0.1 * rng.standard_normal(7)  # keep away from symmetric points
    _, grads = net.loss(X, y)
    for name, param in net.params.items():
        result = check_gradient(lambda _: net.loss(X, y)[0], param, grads[name])
        assert result.ok, f"{name}: {result}"
        assert grads[name].shape == param.shape


def test_trains_spirals_to_high_accuracy():
    """Does gradient descent on the 3-arm spirals reach >= 95% training accuracy?"""
    X, y = data.spirals(300, classes=3)
    net = TwoLayerNet(2, 64, 3, reg=1e-3, seed=0)
    first = net.step(X, y, learning_rate=1.0)
    for _ in range(1500):
        last = net.step(X, y, learning_rate=1.0)
    assert last < first / 3
    assert np.mean(net.predict(X) == y) >= 0.95


def test_float32_stays_float32():
    """With dtype=float32, do parameters, scores and gradients stay float32?"""
    net = TwoLayerNet(4, 3, 2, dtype=np.float32)
    X = np.ones((2, 4), dtype=np.float32)
    assert net.scores(X).dtype == np.float32
    _, grads = net.loss(X, np.array([0, 1]))
    assert all(g.dtype == np.float32 for g in grads.values())


def test_bad_arguments_are_refused():
    """Are an unknown activation and a non-positive size refused with the value?"""
    with pytest.raises(
        ValueError, match=r"activation must be one of \['relu', 'sigmoid', 'tanh'\], got 'elu'"
    ):
        TwoLayerNet(2, 3, 2, activation="elu")
    with pytest.raises(ValueError, match=r"hidden_dim must be a positive integer, got 0"):
        TwoLayerNet(2, 0, 2)


def test_loss_without_labels_returns_scores():
    """Does net.loss(X) return the (N, C) scores, as CS231n's TwoLayerNet does?"""
    net = TwoLayerNet(4, 3, 2)
    X = np.ones((5, 4))
    np.testing.assert_array_equal(net.loss(X), net.scores(X))


def test_float32_net_computes_in_float32_even_with_float64_data():
    """With dtype=float32 and float64 X, are the gradients float32?"""
    net = TwoLayerNet(4, 3, 2, dtype=np.float32)
    _, grads = net.loss(np.ones((2, 4)), np.array([0, 1]))
    assert all(g.dtype == np.float32 for g in grads.values())


def test_reg_and_sizes_are_validated_at_construction():
    """Are reg='0.1' and True as a size refused when the net is built?"""
    with pytest.raises(ValueError, match=r"reg must be a number >= 0, got '0.1'"):
        TwoLayerNet(2, 3, 2, reg="0.1")
    with pytest.raises(ValueError, match=r"input_dim must be a positive integer, got True"):
        TwoLayerNet(True, 3, 2)
