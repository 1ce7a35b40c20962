"""One SGD step of the CS231n 2-layer net: chainrule.layers vs hand-written NumPy (vs torch).

affine -> ReLU -> affine -> softmax cross-entropy with L2 weight decay, then an SGD update, in
float64, at two sizes: (N, D_in, H, D_out) = (64, 1000, 100, 10) and (256, 4096, 1024, 10).

- chainrule: ``TwoLayerNet.step`` (built from chainrule.layers).
- numpy: the same step written by hand in one function, as in the CS231n assignment.
- torch: the same step with torch CPU autograd, if torch is installed (optional peer).

All contenders start from the same parameters and are checked to compute the same loss and
gradients before timing. Timing is interleaved best-of-rounds, single-threaded BLAS.

Run:  OMP_NUM_THREADS=1 .venv/bin/python bench/bench_two_layer.py
"""

import numpy as np
from _common import best_times, ratio_line

from chainrule import TwoLayerNet

try:
    import torch
except ImportError:  # optional peer
    torch = None

SIZES = [(64, 1000, 100, 10), (256, 4096, 1024, 10)]
REG, LR = 1e-3, 1e-3


def numpy_step(p, X, y, reg, lr):
    """The hand-written step: forward, loss, backward, update."""
    W1, b1, W2, b2 = p["W1"], p["b1"], p["W2"], p["b2"]
    n = X.shape[0]
    h = X @ W1 + b1
    a = np.maximum(h, 0)
    scores = a @ W2 + b2
    scores -= scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    probs = exp / exp.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(n), y]).mean() + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dscores = probs
    dscores[np.arange(n), y] -= 1
    dscores /= n
    grads = {"W2": a.T @ dscores + reg * W2, "b2": dscores.sum(axis=0)}
    da = dscores @ W2.T
    da[h <= 0] = 0
    grads["W1"] = X.T @ da + reg * W1
    grads["b1"] = da.sum(axis=0)
    for k, g in grads.items():
        p[k] -= lr * g
    return loss, grads


def torch_step(p, X, y, reg, lr):
    for t in p.values():
        t.grad = None
    h = torch.relu(X @ p["W1"] + p["b1"])
    scores = h @ p["W2"] + p["b2"]
    loss = torch.nn.functional.cross_entropy(scores, y) + 0.5 * reg * (
        (p["W1"] * p["W1"]).sum() + (p["W2"] * p["W2"]).sum()
    )
    loss.backward()
    with torch.no_grad():
        for t in p.values():
            t -= lr * t.grad
    return loss


def main():
    if torch is not None:
        torch.set_num_threads(1)
    for N, D, H, C in SIZES:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((N, D))
        y = rng.integers(0, C, N)
        net = TwoLayerNet(D, H, C, reg=REG, seed=0)
        start = {k: v.copy() for k, v in net.params.items()}

        # Same step, same numbers: compare loss and gradients once before timing.
        loss, grads = net.loss(X, y)
        ref_loss, ref_grads = numpy_step({k: v.copy() for k, v in start.items()}, X, y, REG, 0.0)
        assert abs(loss - ref_loss) < 1e-10 * abs(ref_loss)
        for k in grads:
            np.testing.assert_allclose(grads[k], ref_grads[k], rtol=1e-9, atol=1e-12)

        hand = {k: v.copy() for k, v in start.items()}
        fns = {
            "chainrule.layers": lambda net=net, X=X, y=y: net.step(X, y, LR),
            "hand-written numpy": lambda p=hand, X=X, y=y: numpy_step(p, X, y, REG, LR),
        }
        if torch is not None:
            tp = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
            tX, ty = torch.tensor(X), torch.tensor(y)
            t_loss = torch_step(tp, tX, ty, REG, 0.0)
            assert abs(float(t_loss.detach()) - ref_loss) < 1e-9 * abs(ref_loss)
            fns["torch CPU autograd"] = lambda p=tp, X=tX, y=ty: torch_step(p, X, y, REG, LR)
        best = best_times(fns, repeat=9, budget=0.3)
        base = best["hand-written numpy"]
        print(f"2-layer net SGD step, N, D_in, H, D_out = {N}, {D}, {H}, {C} (float64)")
        print(f"  {'contender':<40} {'time':>13}   ratio to hand-written numpy")
        for name, seconds in best.items():
            print(ratio_line(name, seconds, base))
    if torch is None:
        print("(torch not installed: pip install torch to add it as a peer)")


if __name__ == "__main__":
    main()
