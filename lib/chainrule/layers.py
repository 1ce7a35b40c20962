"""Vectorized layers as forward/backward pairs, in the CS231n convention.

    out, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)

A forward returns its output and a cache of what the backward pass needs; a backward takes the
upstream gradient ``dout`` (same shape as ``out``) and returns one gradient per input, each with
the shape of that input (the lecture's shape rule). Losses return ``(loss, dscores)`` directly.

Every function works on NumPy or CuPy arrays alike (``xp = get_array_module(...)``), and checks
shapes with errors that name the layer and every shape involved. Integer and boolean inputs are
computed in float64; float16/32/64 inputs keep their precision.

Caches hold references to the arrays passed in, as in CS231n: modify an input in place only
after its backward pass has run.
"""

from ._checks import is_real
from .backend import get_array_module
from .errors import ShapeError

__all__ = [
    "affine_forward",
    "affine_backward",
    "relu_forward",
    "relu_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_forward",
    "tanh_backward",
    "matmul_forward",
    "matmul_backward",
    "l2_squared_forward",
    "l2_squared_backward",
    "softmax_loss",
    "svm_loss",
    "squared_error_loss",
    "l2_regularization",
]


# -- affine ------------------------------------------------------------------------------------


def affine_forward(x, w, b):
    """Fully connected layer: out = x w + b.

    Inputs:
    - x: data, of shape (N, D) or (N, d_1, ..., d_k) with d_1 * ... * d_k = D (flattened per row)
    - w: weights, of shape (D, M)
    - b: biases, of shape (M,)

    Returns:
    - out: of shape (N, M)
    - cache: (x, w) for affine_backward
    """
    xp = get_array_module(x, w, b)
    x, w, b = _arrays(xp, "affine_forward", x=x, w=w, b=b)
    if x.ndim < 2:
        raise ShapeError(
            f"affine_forward: x must have a batch dimension, shape (N, D); got x {x.shape}. "
            "For one example use x[None, :]"
        )
    if w.ndim != 2 or b.ndim != 1:
        raise ShapeError(
            f"affine_forward: expected x of shape (N, D), w of shape (D, M) and b of shape (M,); "
            f"got x {x.shape}, w {w.shape}, b {b.shape}"
        )
    rows = x.reshape(x.shape[0], -1) if x.ndim != 2 else x
    if rows.shape[1] != w.shape[0] or b.shape[0] != w.shape[1]:
        raise ShapeError(
            f"affine_forward: x {x.shape} has D = {rows.shape[1]} features per row, so w must be "
            f"({rows.shape[1]}, M) and b (M,); got w {w.shape}, b {b.shape}"
        )
    out = rows @ w
    out += b
    return out, (x, w)


def affine_backward(dout, cache, *, input_grad=True):
    """Backward pass of affine_forward.

    Inputs:
    - dout: upstream gradient, of shape (N, M)
    - cache: (x, w) from affine_forward
    - input_grad: compute dx. Pass False for a first layer whose input is data: its gradient
      is never used and costs as much as dw (one more (N, M) x (M, D) product).

    Returns:
    - dx: of shape x.shape, or None when input_grad is False
    - dw: of shape (D, M), dw = x^T dout
    - db: of shape (M,), db = sum of dout over the batch
    """
    x, w = _unpack("affine_backward", cache, "the (x, w) tuple returned by affine_forward", 2)
    dout = _check_dout("affine_backward", dout, (x.shape[0], w.shape[1]))
    rows = x.reshape(x.shape[0], -1) if x.ndim != 2 else x
    dw = rows.T @ dout
    db = dout.sum(axis=0)
    dx = (dout @ w.T).reshape(x.shape) if input_grad else None
    return dx, dw, db


# -- elementwise nonlinearities ----------------------------------------------------------------


def relu_forward(x):
    """ReLU, elementwise: out = max(0, x).

    Inputs:
    - x: input, of any shape

    Returns:
    - out: of the same shape as x
    - cache: x
    """
    xp = get_array_module(x)
    (x,) = _arrays(xp, "relu_forward", x=x)
    return xp.maximum(x, 0), x


def relu_backward(dout, cache):
    """Backward pass of relu_forward: the gradient passes where x > 0 and is 0 elsewhere.

    The Jacobian of an elementwise function is diagonal, so it is never built: the backward
    pass is an elementwise product with the local gradient.

    Inputs:
    - dout: upstream gradient, of the shape of x
    - cache: x from relu_forward

    Returns:
    - dx: of the shape of x
    """
    (x,) = _unpack("relu_backward", cache, "the array x returned by relu_forward", 1)
    dout = _check_dout("relu_backward", dout, x.shape)
    return dout * (x > 0)


def sigmoid_forward(x):
    """Logistic sigmoid, elementwise: out = 1 / (1 + exp(-x)), without overflow for large |x|.

    Inputs:
    - x: input, of any shape

    Returns:
    - out: of the same shape as x, in (0, 1)
    - cache: a copy of out (the local gradient is (1 - out) * out), so changing out in place
      cannot corrupt the backward pass
    """
    xp = get_array_module(x)
    (x,) = _arrays(xp, "sigmoid_forward", x=x)
    e = xp.exp(-xp.abs(x))  # in (0, 1]: never overflows
    out = xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    if out.dtype != x.dtype:
        out = out.astype(x.dtype)
    return out, out.copy()


def sigmoid_backward(dout, cache):
    """Backward pass of sigmoid_forward: dx = dout * (1 - s) * s with s = sigmoid(x).

    Inputs:
    - dout: upstream gradient, of the shape of x
    - cache: s, the output of sigmoid_forward

    Returns:
    - dx: of the shape of x
    """
    (s,) = _unpack("sigmoid_backward", cache, "the array returned by sigmoid_forward", 1)
    dout = _check_dout("sigmoid_backward", dout, s.shape)
    return dout * (1.0 - s) * s


def tanh_forward(x):
    """Hyperbolic tangent, elementwise.

    Inputs:
    - x: input, of any shape

    Returns:
    - out: of the same shape as x, in (-1, 1)
    - cache: a copy of out (the local gradient is 1 - out^2)
    """
    xp = get_array_module(x)
    (x,) = _arrays(xp, "tanh_forward", x=x)
    out = xp.tanh(x)
    return out, out.copy()


def tanh_backward(dout, cache):
    """Backward pass of tanh_forward: dx = dout * (1 - t^2) with t = tanh(x).

    Inputs:
    - dout: upstream gradient, of the shape of x
    - cache: t, the output of tanh_forward

    Returns:
    - dx: of the shape of x
    """
    (t,) = _unpack("tanh_backward", cache, "the array returned by tanh_forward", 1)
    dout = _check_dout("tanh_backward", dout, t.shape)
    return dout * (1.0 - t * t)


# -- the lecture's f(x, W) = ||W x||^2 ---------------------------------------------------------


def matmul_forward(w, x):
    """Matrix times vector (or matrix): q = W x.

    Inputs:
    - w: of shape (M, D)
    - x: of shape (D,), or (D, K) for K column vectors at once

    Returns:
    - q: of shape (M,) or (M, K)
    - cache: (w, x)
    """
    xp = get_array_module(w, x)
    w, x = _arrays(xp, "matmul_forward", w=w, x=x)
    if w.ndim != 2 or x.ndim not in (1, 2) or x.shape[0] != w.shape[1]:
        raise ShapeError(
            f"matmul_forward: expected W of shape (M, D) and x of shape (D,) or (D, K); "
            f"got W {w.shape} and x {x.shape}"
        )
    return w @ x, (w, x)


def matmul_backward(dq, cache):
    """Backward pass of matmul_forward: dW = dq x^T, dx = W^T dq.

    Inputs:
    - dq: upstream gradient, of the shape of q: (M,) or (M, K)
    - cache: (w, x) from matmul_forward

    Returns:
    - dw: of shape (M, D), the shape of W
    - dx: of the shape of x
    """
    w, x = _unpack("matmul_backward", cache, "the (w, x) tuple returned by matmul_forward", 2)
    dq = _check_dout("matmul_backward", dq, (w.shape[0],) + x.shape[1:])
    xp = get_array_module(w, x)
    dw = xp.outer(dq, x) if x.ndim == 1 else dq @ x.T
    return dw, w.T @ dq


def l2_squared_forward(q):
    """Squared L2 norm: f = ||q||^2 = sum of q_i^2.

    Inputs:
    - q: of any shape

    Returns:
    - f: a scalar (a NumPy float, or a 0-d CuPy array)
    - cache: q
    """
    xp = get_array_module(q)
    (q,) = _arrays(xp, "l2_squared_forward", q=q)
    return xp.sum(q * q), q


def l2_squared_backward(df, cache):
    """Backward pass of l2_squared_forward: dq = 2 q df.

    Inputs:
    - df: upstream gradient, a scalar (1.0 when f is the final output)
    - cache: q

    Returns:
    - dq: of the shape of q
    """
    (q,) = _unpack("l2_squared_backward", cache, "the array q returned by l2_squared_forward", 1)
    df = _check_dout("l2_squared_backward", df, ())
    return 2.0 * q * df


# -- losses ------------------------------------------------------------------------------------


def softmax_loss(scores, y):
    """Softmax cross-entropy, averaged over the batch.

    loss = -(1/N) sum_i log( exp(s_{i, y_i}) / sum_j exp(s_{i, j}) ). Scores are shifted by
    their row maximum first, which changes nothing mathematically and prevents overflow.

    Inputs:
    - scores: of shape (N, C)
    - y: labels, of shape (N,), integers with 0 <= y[i] < C

    Returns:
    - loss: a float
    - dscores: of shape (N, C): (softmax - one_hot(y)) / N
    """
    xp = get_array_module(scores, y)
    scores, y = _scores_and_labels(xp, "softmax_loss", scores, y)
    n = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = xp.exp(shifted)
    sums = exp.sum(axis=1, keepdims=True)
    rows = xp.arange(n)
    loss = float(xp.log(sums).sum() - shifted[rows, y].sum()) / n
    dscores = exp / sums
    dscores[rows, y] -= 1.0
    dscores /= n
    return loss, dscores


def svm_loss(scores, y, delta=1.0):
    """Multiclass SVM (hinge) loss, averaged over the batch.

    loss = (1/N) sum_i sum_{j != y_i} max(0, s_{i, j} - s_{i, y_i} + delta)

    Inputs:
    - scores: of shape (N, C)
    - y: labels, of shape (N,), integers with 0 <= y[i] < C
    - delta: the margin

    Returns:
    - loss: a float
    - dscores: of shape (N, C)
    """
    xp = get_array_module(scores, y)
    scores, y = _scores_and_labels(xp, "svm_loss", scores, y)
    n = scores.shape[0]
    rows = xp.arange(n)
    margins = xp.maximum(0.0, scores - scores[rows, y][:, None] + delta)
    margins[rows, y] = 0.0
    loss = float(margins.sum()) / n
    dscores = (margins > 0).astype(scores.dtype)
    dscores[rows, y] = -dscores.sum(axis=1)
    dscores /= n
    return loss, dscores


def squared_error_loss(pred, target, *, reduction="sum"):
    """Squared error: loss = sum (pred - target)^2, or that sum divided by N.

    The lecture's 20-line network uses the plain sum; ``reduction="mean"`` divides by the
    batch size N = pred.shape[0] (a 0-d or 1-element prediction counts as N = 1).

    Inputs:
    - pred: predictions, of any shape, e.g. (N, D_out)
    - target: of the same shape as pred

    Returns:
    - loss: a float
    - dpred: of the shape of pred: 2 (pred - target), divided by N for "mean"
    """
    xp = get_array_module(pred, target)
    pred, target = _arrays(xp, "squared_error_loss", pred=pred, target=target)
    if pred.shape != target.shape:
        raise ShapeError(
            f"squared_error_loss: pred {pred.shape} and target {target.shape} must have the "
            "same shape"
        )
    if reduction not in ("sum", "mean"):
        raise ValueError(
            f"squared_error_loss: reduction must be 'sum' or 'mean', got {reduction!r}"
        )
    diff = pred - target
    loss = float((diff * diff).sum())
    dpred = 2.0 * diff
    if reduction == "mean":
        n = pred.shape[0] if pred.ndim else 1
        loss /= n
        dpred /= n
    return loss, dpred


def l2_regularization(w, reg):
    """L2 weight decay: loss = 0.5 * reg * sum(w^2), whose gradient is reg * w.

    The 1/2 makes the gradient the lecture's "adds lambda W".

    Inputs:
    - w: weights, of any shape
    - reg: the strength lambda, a float >= 0

    Returns:
    - loss: a float
    - dw: of the shape of w
    """
    xp = get_array_module(w)
    (w,) = _arrays(xp, "l2_regularization", w=w)
    if not is_real(reg) or not reg >= 0:
        raise ValueError(f"l2_regularization: reg must be a number >= 0, got {reg!r}")
    flat = w.reshape(-1)
    return 0.5 * reg * float(flat @ flat), reg * w


# -- checks ------------------------------------------------------------------------------------


def _arrays(xp, layer, **named):
    """The arguments as float arrays of ``xp`` (integers and booleans become float64)."""
    out = []
    for name, a in named.items():
        a = _array(xp, layer, name, a)
        if a.dtype.kind != "f":
            if a.dtype.kind not in "iub":
                raise TypeError(
                    f"{layer}: {name} must hold numbers, got an array of dtype {a.dtype}"
                )
            a = a.astype(xp.float64)
        out.append(a)
    return out


def _array(xp, layer, name, a):
    """``a`` as an array of ``xp``, or a TypeError naming the layer and argument."""
    if isinstance(a, xp.ndarray):
        return a
    try:
        return xp.asarray(a)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{layer}: {name} must be an array, got {type(a).__name__}: {exc}"
        ) from None


def _unpack(layer, cache, what, count):
    """The arrays in a forward's cache, or a TypeError saying which cache was expected."""
    items = (cache,) if count == 1 else cache
    if (count == 1 or isinstance(cache, tuple) and len(cache) == count) and all(
        hasattr(a, "shape") and hasattr(a, "dtype") for a in items
    ):
        return items
    if isinstance(cache, tuple):
        parts = [str(a.shape) if hasattr(a, "shape") else type(a).__name__ for a in cache]
        got = f"a tuple of {len(cache)}: " + ", ".join(parts)
    else:
        got = type(cache).__name__
    raise TypeError(f"{layer}: cache must be {what}, got {got}")


def _check_dout(layer, dout, expected):
    """The upstream gradient as an array of the forward output's shape, or a ShapeError."""
    if not hasattr(dout, "shape"):
        dout = _array(get_array_module(dout), layer, "the upstream gradient", dout)
    if tuple(dout.shape) != tuple(expected):
        raise ShapeError(
            f"{layer}: the upstream gradient must have the forward output's shape "
            f"{tuple(expected)}, got {tuple(dout.shape)}"
        )
    return dout


def _scores_and_labels(xp, layer, scores, y):
    (scores,) = _arrays(xp, layer, scores=scores)
    y = _array(xp, layer, "y", y)
    if scores.ndim != 2 or y.ndim != 1 or y.shape[0] != scores.shape[0]:
        raise ShapeError(
            f"{layer}: expected scores of shape (N, C) and labels y of shape (N,); got scores "
            f"{scores.shape} and y {y.shape}"
        )
    if y.dtype.kind not in "iu":
        raise TypeError(f"{layer}: labels y must be integers, got dtype {y.dtype}")
    if scores.shape[0] == 0:
        raise ShapeError(f"{layer}: the batch is empty (scores {scores.shape}); need N >= 1")
    c = scores.shape[1]
    if int(y.min()) < 0 or int(y.max()) >= c:
        bad = y[(y < 0) | (y >= c)]
        raise ValueError(
            f"{layer}: labels must lie in 0..{c - 1} for {c} classes; got {bad[:5].tolist()}"
        )
    return scores, y
