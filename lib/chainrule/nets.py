"""A reference two-layer network built from ``chainrule.layers``.

    net = TwoLayerNet(input_dim=2, hidden_dim=16, num_classes=3, seed=0)
    loss, grads = net.loss(X, y)     # forward and backward, CS231n assignment-2 style
    net.step(X, y, learning_rate=0.5)

affine -> activation -> affine -> softmax cross-entropy, with L2 regularisation on the weights.
It runs on NumPy or CuPy (``xp=cupy``); benchmarks, widgets and the GPU section all use it.

``MLP(sizes)`` is the same recipe at any depth (``MLP([2, 16, 16, 2])``: two hidden layers of
16); the training playground trains it.
"""

import numpy as np

from . import layers
from ._checks import is_integer, is_real

__all__ = ["TwoLayerNet", "MLP", "ACTIVATIONS"]

ACTIVATIONS = {
    "relu": (layers.relu_forward, layers.relu_backward),
    "sigmoid": (layers.sigmoid_forward, layers.sigmoid_backward),
    "tanh": (layers.tanh_forward, layers.tanh_backward),
}


class _Net:
    """What both nets share: the argument checks, ``predict`` and the gradient-descent ``step``.

    A subclass defines ``scores(X)`` and ``loss(X, y)``.
    """

    @staticmethod
    def _check(where, activation, reg):
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"{where}: activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}"
            )
        if not is_real(reg) or not reg >= 0:
            raise ValueError(f"{where}: reg must be a number >= 0, got {reg!r}")

    def predict(self, X):
        """Predicted labels of shape (N,)."""
        return self.scores(X).argmax(axis=1)

    def step(self, X, y, learning_rate):
        """One step of gradient descent on the batch (X, y); returns the loss before the step."""
        loss, grads = self.loss(X, y)
        for name, grad in grads.items():
            self.params[name] -= learning_rate * grad
        return loss


class TwoLayerNet(_Net):
    """affine - activation - affine - softmax loss, with L2 weight decay 0.5 * reg * ||W||^2.

    Parameters (``params``):
    - W1: of shape (D, H), b1: of shape (H,)
    - W2: of shape (H, C), b2: of shape (C,)

    Weights start Gaussian with standard deviation ``weight_scale`` (default sqrt(2 / fan_in),
    He initialisation, which trains ReLU nets quickly); biases start at 0.
    """

    def __init__(
        self,
        input_dim,
        hidden_dim,
        num_classes,
        *,
        activation="relu",
        reg=0.0,
        weight_scale=None,
        seed=0,
        dtype=np.float64,
        xp=np,
    ):
        self._check("TwoLayerNet", activation, reg)
        for name, value in (
            ("input_dim", input_dim),
            ("hidden_dim", hidden_dim),
            ("num_classes", num_classes),
        ):
            if not is_integer(value) or value < 1:
                raise ValueError(f"TwoLayerNet: {name} must be a positive integer, got {value!r}")
        self.activation = activation
        self.reg = reg
        self.dtype = np.dtype(dtype)
        self.xp = xp
        rng = np.random.default_rng(seed)

        def weights(fan_in, fan_out):
            scale = np.sqrt(2.0 / fan_in) if weight_scale is None else weight_scale
            return xp.asarray(scale * rng.standard_normal((fan_in, fan_out)), dtype=dtype)

        self.params = {
            "W1": weights(input_dim, hidden_dim),
            "b1": xp.zeros(hidden_dim, dtype=dtype),
            "W2": weights(hidden_dim, num_classes),
            "b2": xp.zeros(num_classes, dtype=dtype),
        }

    def scores(self, X):
        """Class scores of shape (N, C) for inputs X of shape (N, D)."""
        X = self.xp.asarray(X, dtype=self.dtype)
        p = self.params
        act_forward, _ = ACTIVATIONS[self.activation]
        h, _ = layers.affine_forward(X, p["W1"], p["b1"])
        a, _ = act_forward(h)
        s, _ = layers.affine_forward(a, p["W2"], p["b2"])
        return s

    def loss(self, X, y=None):
        """Loss and gradients for inputs X of shape (N, D) and labels y of shape (N,).

        Returns (loss, grads) with grads[name] of the shape of params[name]; without labels,
        the scores of shape (N, C), as in CS231n. X is computed in the network's dtype.
        """
        if y is None:
            return self.scores(X)
        X = self.xp.asarray(X, dtype=self.dtype)
        p, reg = self.params, self.reg
        act_forward, act_backward = ACTIVATIONS[self.activation]
        # forward: h1 = X W1 + b1, a1 = act(h1), scores = a1 W2 + b2
        h1, cache1 = layers.affine_forward(X, p["W1"], p["b1"])
        a1, cache_act = act_forward(h1)
        scores, cache2 = layers.affine_forward(a1, p["W2"], p["b2"])
        data_loss, dscores = layers.softmax_loss(scores, y)
        reg1, dreg1 = layers.l2_regularization(p["W1"], reg)
        reg2, dreg2 = layers.l2_regularization(p["W2"], reg)
        # backward, in reverse: dscores -> dW2, db2, da1 -> dh1 -> dW1, db1
        da1, dW2, db2 = layers.affine_backward(dscores, cache2)
        dh1 = act_backward(da1, cache_act)
        _, dW1, db1 = layers.affine_backward(dh1, cache1, input_grad=False)
        grads = {"W1": dW1 + dreg1, "b1": db1, "W2": dW2 + dreg2, "b2": db2}
        return data_loss + reg1 + reg2, grads


class MLP(_Net):
    """affine - activation - ... - affine - softmax loss, with layer sizes ``sizes``.

    ``sizes = [D, H1, ..., Hk, C]``: inputs of dimension D, k hidden layers, C classes.
    Parameters ``params["W1"]`` of shape (D, H1), ``params["b1"]`` of shape (H1,), ... up to
    ``W{k+1}``, ``b{k+1}``. Same initialisation and L2 penalty as ``TwoLayerNet``, to which
    ``MLP([D, H, C])`` is equal for the same seed.
    """

    def __init__(self, sizes, *, activation="relu", reg=0.0, seed=0, dtype=np.float64, xp=np):
        sizes = list(sizes)
        if len(sizes) < 2 or not all(is_integer(n) and n >= 1 for n in sizes):
            raise ValueError(
                f"MLP: sizes must be at least two positive integers [D, ..., C], got {sizes!r}"
            )
        self._check("MLP", activation, reg)
        self.sizes, self.activation, self.reg = sizes, activation, reg
        self.dtype, self.xp = np.dtype(dtype), xp
        rng = np.random.default_rng(seed)
        self.params = {}
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            W = np.sqrt(2.0 / fan_in) * rng.standard_normal((fan_in, fan_out))
            self.params[f"W{i}"] = xp.asarray(W, dtype=dtype)
            self.params[f"b{i}"] = xp.zeros(fan_out, dtype=dtype)
        self.depth = len(sizes) - 1  # affine layers

    def _forward(self, X):
        """Scores of shape (N, C) and the caches backward needs."""
        act_forward, _ = ACTIVATIONS[self.activation]
        a, caches = self.xp.asarray(X, dtype=self.dtype), []
        for i in range(1, self.depth + 1):
            a, cache = layers.affine_forward(a, self.params[f"W{i}"], self.params[f"b{i}"])
            caches.append(cache)
            if i < self.depth:  # no activation after the last affine layer: those are scores
                a, cache = act_forward(a)
                caches.append(cache)
        return a, caches

    def scores(self, X):
        """Class scores of shape (N, C) for inputs X of shape (N, D)."""
        return self._forward(X)[0]

    def loss(self, X, y=None):
        """(loss, grads) for X of shape (N, D) and labels y of shape (N,); scores without y."""
        scores, caches = self._forward(X)
        if y is None:
            return scores
        _, act_backward = ACTIVATIONS[self.activation]
        loss, dout = layers.softmax_loss(scores, y)
        grads = {}
        for i in range(self.depth, 0, -1):  # backward, last layer first
            dout, dW, db = layers.affine_backward(dout, caches.pop(), input_grad=i > 1)
            reg_loss, dreg = layers.l2_regularization(self.params[f"W{i}"], self.reg)
            loss += reg_loss
            grads[f"W{i}"], grads[f"b{i}"] = dW + dreg, db
            if i > 1:
                dout = act_backward(dout, caches.pop())
        return loss, grads
