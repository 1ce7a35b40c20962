"""One SGD step of the 2-layer net on the GPU: chainrule.layers on CuPy against PyTorch on CUDA.

The issue's setting: N = 8192 inputs, D_in = 4096, H = 4096, D_out = 10, float32; affine ->
ReLU -> affine -> softmax cross-entropy with L2 weight decay, then the SGD update.

- chainrule: ``TwoLayerNet(..., xp=cupy, dtype=float32).step`` (chainrule.layers on CuPy).
- torch: the same step with autograd on CUDA (``torch.cuda``), the same starting parameters.

Both are checked to compute the same loss first. Each is timed interleaved, best of rounds,
with the device synchronised before the clock is read. The FLOP count is that of the step's
matrix products, 2 N (2 D H + 3 H C): forward X W1 and h W2, backward dW2, dh and dW1 (no
gradient for the input). The report gives the time, the ratio to torch (the bar is 1.2x) and
the achieved TFLOP/s.

Run:  .venv/bin/python bench/bench_gpu.py            (needs the gpu extra: pip install -e '.[gpu]',
                                                       and torch built with CUDA for the peer)
      .venv/bin/python bench/bench_gpu.py --device sim --size 256 512 512 10
                                                      (the same code path on the CPU, to check
                                                       the script where there is no GPU)
Without a GPU it says why and exits 0, so ``make bench`` goes on.
"""

import argparse
import time

import _common  # noqa: F401 (single-threaded BLAS for the CPU stand-in)
import numpy as np
from bench_two_layer import torch, torch_step  # the same step, torch None when missing

from chainrule import TwoLayerNet, simdevice
from chainrule.backend import gpu_available, to_device, to_numpy

REG, LR = 1e-3, 1e-3


def step_flops(N, D, H, C):
    """Floating-point operations of the step's matrix products."""
    return 2 * N * (2 * D * H + 3 * H * C)


def best_of(fns, sync, repeat):
    """Interleaved best-of-``repeat`` seconds per call, synchronising around each call."""
    for fn in fns.values():  # warm up: kernels compiled, memory pools filled
        fn()
        sync()
    best = {name: float("inf") for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            sync()
            t = time.perf_counter()
            fn()
            sync()
            best[name] = min(best[name], time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", choices=("gpu", "sim"), default="gpu")
    ap.add_argument("--size", type=int, nargs=4, default=(8192, 4096, 4096, 10))
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    N, D, H, C = args.size
    if args.device == "gpu":
        status = gpu_available()
        if not status:
            print(f"bench_gpu: skipped, no GPU: {status.reason}")
            return
        import cupy

        xp, where = cupy, f"GPU: {status.reason}"

        def sync():
            cupy.cuda.Device().synchronize()
            if torch is not None and torch.cuda.is_available():
                torch.cuda.synchronize()

        torch_device = "cuda" if torch is not None and torch.cuda.is_available() else None
    else:
        xp, where = simdevice, "the simulated device (NumPy on the CPU)"

        def sync():
            pass

        torch_device = "cpu" if torch is not None else None

    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D)).astype(np.float32)
    y = rng.integers(0, C, N)
    net = TwoLayerNet(D, H, C, reg=REG, seed=0, dtype=np.float32, xp=xp)
    start = {k: to_numpy(v).copy() for k, v in net.params.items()}
    Xd, yd = to_device((X, y), args.device)
    loss = net.loss(Xd, yd)[0]
    fns = {"chainrule.layers": lambda: net.step(Xd, yd, LR)}
    if torch_device is None:
        print("(torch with CUDA not installed: timing chainrule alone)")
    else:
        tp = {k: torch.tensor(v, device=torch_device, requires_grad=True) for k, v in start.items()}
        tX = torch.tensor(X, device=torch_device)
        ty = torch.tensor(y, device=torch_device)
        t_loss = float(torch_step(tp, tX, ty, REG, LR).detach())
        assert abs(t_loss - loss) < 1e-3 * abs(loss), f"losses differ: torch {t_loss}, {loss}"
        for k, v in start.items():  # undo that step: both start from the same parameters
            with torch.no_grad():
                tp[k].copy_(torch.tensor(v, device=torch_device))
        fns[f"torch autograd ({torch_device})"] = lambda: torch_step(tp, tX, ty, REG, LR)
    best = best_of(fns, sync, args.repeat)
    flops = step_flops(N, D, H, C)
    base = best.get(f"torch autograd ({torch_device})", best["chainrule.layers"])
    print(f"2-layer net SGD step, N, D_in, H, D_out = {N}, {D}, {H}, {C} (float32) on {where}")
    print(f"  step FLOPs (matrix products): {flops / 1e9:.1f} GFLOP")
    for name, seconds in best.items():
        print(
            f"  {name:<28} {seconds * 1e3:10.3f} ms   {seconds / base:5.2f}x   "
            f"{flops / seconds / 1e12:7.2f} TFLOP/s"
        )


if __name__ == "__main__":
    main()
