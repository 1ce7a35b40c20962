"""Tests for chainrule.nets (TwoLayerNet, MLP): gradients, training, and argument errors."""

import numpy as np
import pytest

from chainrule import TwoLayerNet, data
from chainrule.gradcheck import check_gradient
from chainrule.nets import MLP


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


# -- MLP: the same recipe at any depth ---------------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_mlp_gradients_pass_the_full_check_at_three_hidden_layers(activation):
    X, y = data.spirals(n=30, seed=2)
    net = MLP([2, 7, 5, 6, 3], activation=activation, reg=0.05, seed=1)
    rng = np.random.default_rng(0)
    for i in (1, 2, 3):  # a unit whose inputs are all 0 would sit exactly on ReLU's kink
        net.params[f"b{i}"] += 0.1 * rng.standard_normal(net.params[f"b{i}"].shape)
    _, grads = net.loss(X, y)
    assert sorted(grads) == sorted(net.params)
    for name, param in net.params.items():
        result = check_gradient(lambda _: net.loss(X, y)[0], param, grads[name])
        assert result.ok, f"{name}: {result}"


def test_mlp_with_one_hidden_layer_is_the_two_layer_net():
    X, y = data.spirals(n=60, seed=4)
    mlp, two = MLP([2, 9, 3], reg=0.1, seed=5), TwoLayerNet(2, 9, 3, reg=0.1, seed=5)
    for name in two.params:
        np.testing.assert_array_equal(mlp.params[name], two.params[name])
    for _ in range(5):
        assert mlp.step(X, y, 0.5) == pytest.approx(two.step(X, y, 0.5), rel=1e-12)
    np.testing.assert_allclose(mlp.scores(X), two.scores(X), rtol=1e-12)


def test_mlp_learns_xor_with_two_hidden_layers():
    X, y = data.xor(n=200, seed=0)
    net = MLP([2, 16, 16, 2], activation="tanh", seed=0)
    for _ in range(300):
        net.step(X, y, 0.3)
    assert (net.predict(X) == y).mean() > 0.97


def test_mlp_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"sizes must be at least two positive integers.*\[2\]"):
        MLP([2])
    with pytest.raises(ValueError, match=r"got \[2, 0, 3\]"):
        MLP([2, 0, 3])
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP([2, 3], activation="swish")
    with pytest.raises(ValueError, match="reg must be a number >= 0, got -1"):
        MLP([2, 3], reg=-1)
