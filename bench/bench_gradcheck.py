"""Gradient-check thresholds from measurement, and how few forward passes catch planted bugs.

1. On a correct CS231n 2-layer net with 101,110 parameters (float64, h = 1e-5), compute the full
   numerical gradient and report the whole-vector relative error next to the worst single
   coordinate's relative error |a - b| / max(1e-8, |a| + |b|) (CS231n's rel_error).
2. For each planted bug (tests/chainrule/planted_bugs.py), the relative error in full mode and
   whether the random-direction mode catches it, with how many evaluations of the loss.

Run:  OMP_NUM_THREADS=1 .venv/bin/python bench/bench_gradcheck.py     (about a minute)
"""

import sys
import time
from pathlib import Path

import numpy as np
from _common import best_times  # noqa: F401  (sets single-threaded BLAS before NumPy)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from chainrule import (  # noqa: E402
    check_gradient,
    max_rel_error,
    numerical_gradient,
    rel_error,
)
from tests.chainrule.planted_bugs import sigmoid_net, softmax_net  # noqa: E402


def main():
    for problem in (softmax_net(), sigmoid_net()):
        print(f"{problem.name}: {problem.theta.size:,} parameters")
        t = time.perf_counter()
        num = numerical_gradient(problem.f, problem.theta)
        elapsed = time.perf_counter() - t
        coord = np.abs(num - problem.grad) / np.maximum(1e-8, np.abs(num) + np.abs(problem.grad))
        print(f"  full numerical gradient: {2 * num.size:,} evaluations in {elapsed:.0f} s")
        print(
            f"  correct gradient, whole-vector relative error   {rel_error(num, problem.grad):.1e}"
        )
        worst = max_rel_error(num, problem.grad)
        print(
            f"  correct gradient, worst coordinate (CS231n)     {worst:.1e}"
            f"   ({int((coord > 1e-7).sum()):,} coordinates above 1e-7)"
        )
        ok = check_gradient(problem.f, problem.theta, problem.grad, mode="direction")
        print(f"  correct gradient, direction mode: {ok}")
        for bug, wrong in problem.bugs.items():
            caught = check_gradient(problem.f, problem.theta, wrong, mode="direction")
            print(
                f"  bug '{bug}': full-mode relative error {rel_error(num, wrong):.1e}; "
                f"direction mode {'caught' if not caught.ok else 'MISSED'} with "
                f"{caught.evaluations} evaluations (relative error {caught.rel_error:.1e})"
            )


if __name__ == "__main__":
    main()
