"""Gradient-check problems with a correct analytic gradient and planted bugs.

One registry serves tests/chainrule/test_gradcheck.py and bench/bench_gradcheck.py. Each problem
packs a network's parameters into one flat vector ``theta`` so ``check_gradient`` sees the whole
gradient at once.

- ``softmax_net``: the CS231n 2-layer net (affine - ReLU - affine - softmax, L2 weight decay);
  at N, D, H, C = 64, 1000, 100, 10 it has 101,110 parameters. Bugs: every entry x 1.01,
  every entry x 1.0001, one typical entry x 1.5.
- ``sigmoid_net``: the lecture's "20-line" net (sigmoid hidden layer, squared loss, no biases).
  Bugs: the sigmoid's local gradient (1 - s) s left out; the squared loss's factor 2 left out.
- ``cs231n_affine`` and ``cs231n_relu``: the layer checks of CS231n's FullyConnectedNets.ipynb
  (its shapes, seed 231), an array-valued f per gradient with the upstream gradient dout.
  ``layer_bugs`` plants bugs in their backward passes.
"""

from dataclasses import dataclass, field

import numpy as np

from chainrule import layers

__all__ = ["Problem", "softmax_net", "sigmoid_net", "cs231n_affine", "cs231n_relu", "layer_bugs"]


@dataclass
class Problem:
    name: str
    f: object  # theta -> loss
    theta: np.ndarray
    grad: np.ndarray  # the correct analytic gradient at theta
    bugs: dict = field(default_factory=dict)  # bug name -> wrong gradient
    kinks: object = None  # ReLU inputs, for the kink warning


def _packer(shapes):
    sizes = [int(np.prod(s)) for s in shapes]
    offsets = np.cumsum([0] + sizes)

    def unpack(theta):
        return [theta[a:b].reshape(s) for a, b, s in zip(offsets[:-1], offsets[1:], shapes)]

    return unpack


def softmax_net(N=64, D=1000, H=100, C=10, reg=1e-3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    y = rng.integers(0, C, N)
    shapes = [(D, H), (H,), (H, C), (C,)]
    unpack = _packer(shapes)
    theta = np.concatenate(
        [
            (np.sqrt(2.0 / D) * rng.standard_normal(D * H)),
            0.1 * rng.standard_normal(H),
            (np.sqrt(2.0 / H) * rng.standard_normal(H * C)),
            0.1 * rng.standard_normal(C),
        ]
    )

    def forward(theta):
        W1, b1, W2, b2 = unpack(theta)
        h, c1 = layers.affine_forward(X, W1, b1)
        a, c2 = layers.relu_forward(h)
        s, c3 = layers.affine_forward(a, W2, b2)
        loss, ds = layers.softmax_loss(s, y)
        r1, dr1 = layers.l2_regularization(W1, reg)
        r2, dr2 = layers.l2_regularization(W2, reg)
        return loss + r1 + r2, (ds, c1, c2, c3, dr1, dr2, h)

    def f(theta):
        return forward(theta)[0]

    _, (ds, c1, c2, c3, dr1, dr2, h) = forward(theta)
    da, dW2, db2 = layers.affine_backward(ds, c3)
    dh = layers.relu_backward(da, c2)
    _, dW1, db1 = layers.affine_backward(dh, c1, input_grad=False)
    grad = np.concatenate([(dW1 + dr1).ravel(), db1, (dW2 + dr2).ravel(), db2])

    one = grad.copy()
    nonzero = np.flatnonzero(grad)
    typical = nonzero[np.argsort(np.abs(grad[nonzero]))[nonzero.size // 2]]  # median |g|
    one[typical] *= 1.5
    bugs = {
        "every entry x 1.01": grad * 1.01,
        "every entry x 1.0001": grad * 1.0001,
        "one entry x 1.5": one,
    }
    return Problem(f"softmax net {N}x{D}-{H}-{C}", f, theta, grad, bugs, kinks=h)


def sigmoid_net(N=64, D=1000, H=100, C=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    Y = rng.standard_normal((N, C))
    shapes = [(D, H), (H, C)]
    unpack = _packer(shapes)
    theta = np.concatenate(
        [
            np.sqrt(1.0 / D) * rng.standard_normal(D * H),
            np.sqrt(1.0 / H) * rng.standard_normal(H * C),
        ]
    )

    def f(theta):
        W1, W2 = unpack(theta)
        s, _ = layers.sigmoid_forward(X @ W1)
        return layers.squared_error_loss(s @ W2, Y)[0]

    W1, W2 = unpack(theta)
    s, cache = layers.sigmoid_forward(X @ W1)
    loss, dpred = layers.squared_error_loss(s @ W2, Y)

    def grads(dpred, with_sigmoid_factor=True):
        dW2 = s.T @ dpred
        ds = dpred @ W2.T
        dh = layers.sigmoid_backward(ds, cache) if with_sigmoid_factor else ds
        return np.concatenate([(X.T @ dh).ravel(), dW2.ravel()])

    bugs = {
        "sigmoid local gradient (1 - s) s missing": grads(dpred, with_sigmoid_factor=False),
        "squared loss factor 2 missing": grads(dpred / 2.0),
    }
    return Problem(f"sigmoid net {N}x{D}-{H}-{C}", f, theta, grads(dpred), bugs)


# -- CS231n's layer checks (array-valued f, upstream gradient) -----------------------------------


def cs231n_affine():
    """CS231n's affine_backward check: x (10, 2, 3), w (6, 5), b (5,), dout (10, 5), seed 231.

    Returns ({"dx" | "dw" | "db": (f, input, analytic gradient)}, dout), where f maps that input
    to the layer's output (10, 5) with the other two held fixed.
    """
    rng = np.random.RandomState(231)
    x, w, b = rng.randn(10, 2, 3), rng.randn(6, 5), rng.randn(5)
    dout = rng.randn(10, 5)
    _, cache = layers.affine_forward(x, w, b)
    dx, dw, db = layers.affine_backward(dout, cache)
    return {
        "dx": (lambda t: layers.affine_forward(t, w, b)[0], x, dx),
        "dw": (lambda t: layers.affine_forward(x, t, b)[0], w, dw),
        "db": (lambda t: layers.affine_forward(x, w, t)[0], b, db),
    }, dout


def cs231n_relu():
    """CS231n's relu_backward check: x (10, 10) and dout (10, 10), seed 231.

    Returns ({"dx": (f, x, analytic dx)}, dout), where f maps x to relu(x) (10, 10).
    """
    rng = np.random.RandomState(231)
    x = rng.randn(10, 10)
    dout = rng.randn(*x.shape)
    _, cache = layers.relu_forward(x)
    return {"dx": (lambda t: layers.relu_forward(t)[0], x, layers.relu_backward(dout, cache))}, dout


def layer_bugs():
    """Planted bugs in the two layers' backward passes: (name, f, x, wrong gradient, dout)."""
    affine, dout_a = cs231n_affine()
    relu, dout_r = cs231n_relu()
    f, x, dx = affine["dx"]
    wrong_entry = dx.copy()
    wrong_entry.flat[7] *= 1.5
    yield "affine dx x 1.01", f, x, dx * 1.01, dout_a
    yield "affine dx, one entry x 1.5", f, x, wrong_entry, dout_a
    fw, w, dw = affine["dw"]
    yield "affine dw with its rows reversed", fw, w, dw[::-1], dout_a
    fb, b, _ = affine["db"]
    yield "affine db = dout.mean(axis=0)", fb, b, dout_a.mean(axis=0), dout_a
    fr, xr, _ = relu["dx"]
    yield "relu passes dout where x < 0", fr, xr, dout_r.copy(), dout_r
    yield "relu mask inverted", fr, xr, np.where(xr > 0, 0.0, dout_r), dout_r
