"""Shared helpers for the benchmarks: single-threaded BLAS and interleaved best-of timing.

Import this module before NumPy so the thread settings take effect.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import time  # noqa: E402

__all__ = ["best_times", "ratio_line"]


def best_times(fns, repeat=7, number=None, budget=0.2):
    """Time each callable in ``fns`` (name -> fn) interleaved, ``repeat`` rounds; best per call.

    Interleaving puts every contender under the same machine load, which is what makes the
    ratios between them meaningful on a shared, noisy machine. ``number`` calls per round are
    chosen so the slowest contender's round takes about ``budget`` seconds.
    """
    if number is None:
        slowest = 0.0
        for fn in fns.values():
            t = time.perf_counter()
            fn()
            slowest = max(slowest, time.perf_counter() - t)
        number = max(1, int(budget / max(slowest, 1e-9)))
    best = {name: float("inf") for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t = time.perf_counter()
            for _ in range(number):
                fn()
            best[name] = min(best[name], (time.perf_counter() - t) / number)
    return best


def ratio_line(name, seconds, baseline, unit="ms", scale=1e3):
    return f"  {name:<40} {seconds * scale:10.3f} {unit}   {seconds / baseline:6.2f}x"
