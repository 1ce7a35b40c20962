"""Gradient-check thresholds from measurement, and how few forward passes catch planted bugs.

1. On a correct CS231n 2-layer net with 101,110 parameters (float64, h = 1e-5), compute the full
   numerical gradient and report the whole-vector relative error next to the worst single
   coordinate's relative error |a - b| / max(1e-8, |a| + |b|) (CS231n's rel_error).
2. For each planted bug (tests/chainrule/planted_bugs.py), the relative error in full mode and
   whether the random-direction mode catches it, with how many evaluations of the loss.
3. The upstream form on CS231n's own layer checks (FullyConnectedNets.ipynb: affine and ReLU,
   seed 231): CS231n's rel_error of the checker (subtract f(x + h) - f(x - h), then reduce with
   dout), of the form it replaced (reduce each side with dout, then subtract) and of the
   checker's form with an exactly rounded sum (math.fsum); then direction mode on the correct
   layers and on planted layer bugs.

Run:  OMP_NUM_THREADS=1 .venv/bin/python bench/bench_gradcheck.py     (about 4 minutes)
      add --layers for section 3 alone (a second)
"""

import math
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
from tests.chainrule.planted_bugs import (  # noqa: E402
    cs231n_affine,
    cs231n_relu,
    layer_bugs,
    sigmoid_net,
    softmax_net,
)


def _by_coordinate(f, x, dout, reduce, h=1e-5):
    """A numerical dL/dx, coordinate by coordinate, with ``reduce(plus, minus, dout)`` giving
    sum(dout * (f(x + h) - f(x - h))) in the form under test."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = f(x).copy()
        x[idx] = old - h
        minus = f(x).copy()
        x[idx] = old
        grad[idx] = reduce(plus, minus, dout) / (2 * h)
    return grad


FORMS = {
    "reduce each side, then subtract (before)": lambda p, m, d: (
        float((p * d).sum()) - float((m * d).sum())
    ),
    "subtract, then reduce with fsum": lambda p, m, d: math.fsum(((p - m) * d).ravel()),
}


def layer_checks():
    """Section 3: the upstream form on CS231n's affine and ReLU checks."""
    print("CS231n layer checks (seed 231), CS231n rel_error of each numerical gradient:")
    for layer, build, bound in (("affine", cs231n_affine, 1e-9), ("relu", cs231n_relu, 1e-11)):
        checks, dout = build()
        for grad, (f, x, analytic) in checks.items():
            ours = max_rel_error(numerical_gradient(f, x, upstream=dout), analytic)
            others = {
                form: max_rel_error(_by_coordinate(f, x, dout, reduce), analytic)
                for form, reduce in FORMS.items()
            }
            print(
                f"  {layer} {grad} (notebook's bound {bound:g}): checker {ours:.1e}; "
                + "; ".join(f"{form} {err:.1e}" for form, err in others.items())
            )
            ok = check_gradient(f, x, analytic, mode="direction", upstream=dout)
            print(f"    direction mode, correct {grad}: {ok}")
    for name, f, x, wrong, dout in layer_bugs():
        caught = check_gradient(f, x, wrong, mode="direction", upstream=dout)
        print(
            f"  bug '{name}': direction mode {'caught' if not caught.ok else 'MISSED'} with "
            f"{caught.evaluations} evaluations (relative error {caught.rel_error:.1e})"
        )


def main():
    layer_checks()
    if "--layers" in sys.argv[1:]:
        return
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
