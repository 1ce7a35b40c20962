"""Gradient checking: compare an analytic gradient with centered differences.

    result = check_gradient(loss_of_w, w, dw)
    print(result)  # gradient check passed (full, 12 coordinates, 25 evaluations of f): ...
    assert result.ok

The numerical gradient is slow and approximate but easy to get right; the analytic gradient is
fast and exact but easy to get wrong. Derive the analytic one, check it with the numerical one.

Thresholds (measured; see ``bench/bench_gradcheck.py`` and docs/benchmarks.md)
------------------------------------------------------------------------------
The pass rule is on the *whole* gradient, not coordinate by coordinate::

    ||numerical - analytic|| <= rtol * (||numerical|| + ||analytic||) + floor

with ``rtol = 1e-6`` in float64 and ``floor`` the rounding noise of centered differences
(``atol`` plus eps * |f| / h per coordinate). On a correct CS231n 2-layer net (101,110
parameters, float64, h = 1e-5) the whole-vector relative error is below 1e-9, while the worst
single coordinate's relative error |a - b| / (|a| + |b|) reaches ~1e-3 on coordinates whose
gradient is nearly zero: a per-coordinate "< 1e-7" rule would fail correct code. The smallest
planted bug (every entry x 1.0001) gives a relative error of 5e-5, 50x above ``rtol``.

Modes
-----
- ``"full"``: every coordinate (2 evaluations of f each);
- ``"sampled"``: ``samples`` random coordinates;
- ``"direction"``: ``directions`` directional derivatives (2 evaluations each), which test the
  whole gradient at once: the analytic gradient's own direction (catches a wrong scale) and
  random sign vectors (catch a wrong entry). Three directions, six forward passes, catch every
  planted bug in tests/chainrule/test_gradcheck.py.

Upstream form
-------------
For an array-valued f (a layer) with upstream gradient dout, the numerical dL/dx_i is
sum(dout * (f(x + h e_i) - f(x - h e_i))) / 2h: the two outputs are subtracted entry by entry
first, then weighted by dout and summed, as CS231n's ``eval_numerical_gradient_array`` does.
Reducing each side to sum(dout * f(x +- h)) before subtracting cancels catastrophically: on
CS231n's own affine and ReLU checks it was 100x-1000x less precise and failed their bounds.

float32 is too coarse for h = 1e-5 (about 3 significant digits survive): a warning says so.
Near a kink of max or ReLU the numerical gradient straddles two slopes: a warning says so too.
"""

import math
import numbers
import warnings

import numpy as np

from ._checks import is_real
from .backend import get_array_module, to_numpy
from .errors import GradientCheckWarning, ShapeError

__all__ = [
    "DEFAULT_H",
    "DEFAULT_RTOL",
    "DEFAULT_ATOL",
    "numerical_gradient",
    "rel_error",
    "max_rel_error",
    "check_gradient",
    "check_gate",
    "GradientCheck",
    "GateCheck",
]

DEFAULT_H = 1e-5
DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-8
_EPS = float(np.finfo(np.float64).eps)


# -- numerical gradients -------------------------------------------------------------------------


def numerical_gradient(f, x, h=DEFAULT_H, upstream=None):
    """Centered-difference gradient of ``f`` at ``x``: (f(x + h e_i) - f(x - h e_i)) / 2h.

    Inputs:
    - f: a function of x. It returns a scalar, or, with ``upstream``, an array of any shape.
    - x: a float, or a float array of any shape. Arrays are perturbed in place one entry at a
      time and always restored, even when f raises.
    - h: the step.
    - upstream: for an array-valued f, the upstream gradient dL/df (the shape of f(x)); the
      result is then the vector-Jacobian product sum(upstream * df/dx), i.e. dL/dx:

          dL/dx_i = sum(upstream * (f(x + h e_i) - f(x - h e_i))) / 2h

      The two outputs are subtracted first, entry by entry, and only then weighted by the
      upstream gradient and summed (see ``_downstream``).

    Returns:
    - grad: a float if x is a float, else an array of the shape of x.
    """
    if is_real(x):
        x = float(x)
        out_plus = _output(f(x + h), upstream)
        out_minus = _output(f(x - h), upstream)
        return _downstream(out_plus - out_minus, upstream) / (2.0 * h)
    _check_float_array(x, "numerical_gradient", h)
    grad = get_array_module(x).zeros_like(x)
    for idx in np.ndindex(x.shape):
        grad[idx] = _partial(f, x, idx, h, upstream)
    return grad


def _partial(f, x, idx, h, upstream):
    """One centered difference along coordinate ``idx`` of the array ``x``, restoring x."""
    old = x[idx].item()
    try:
        x[idx] = old + h
        out_plus = _output(f(x), upstream)
        x[idx] = old - h
        out_minus = _output(f(x), upstream)
    finally:
        x[idx] = old
    return _downstream(out_plus - out_minus, upstream) / (2.0 * h)


def _output(out, upstream):
    """f's output, checked: a float without ``upstream``, else a copy of the array f returned.

    The copy matters because the two outputs are subtracted after both calls: an f that
    returns x itself or a view of x (``lambda x: x.reshape(-1)``) would otherwise see its first
    output overwritten by the second perturbation.
    """
    if isinstance(out, tuple):
        raise TypeError(
            f"f returned a tuple of {len(out)} items; return only the value to check, e.g. "
            "lambda s: softmax_loss(s, y)[0] or lambda x: affine_forward(x, w, b)[0]"
        )
    if out is None:
        raise TypeError(
            "f returned None; it must return the value to check (did it forget return?)"
        )
    if upstream is None:
        size = getattr(out, "size", 1)
        if size != 1:
            raise ShapeError(
                f"f returned an array of shape {tuple(out.shape)}; pass upstream= with that "
                "shape to check an array-valued function"
            )
        return float(out.reshape(()) if hasattr(out, "reshape") else out)
    xp = get_array_module(out, upstream)
    out = xp.asarray(out)
    if out.shape != xp.shape(upstream):
        raise ShapeError(
            f"f returned shape {out.shape} but upstream has shape {xp.shape(upstream)}; "
            "they must match"
        )
    return out.copy()


def _downstream(df, upstream):
    """The upstream gradient applied to a change ``df`` of f's output: sum(upstream * df).

    ``df`` is f(x + h) - f(x - h), already subtracted entry by entry (the shape of f(x)), or a
    float for a scalar f (``upstream`` None). Subtracting first is what keeps the digits: the
    entries of f that the step does not move cancel exactly, and the rest differ by ~2h * df/dx,
    about 1e-5 of f, whose rounding error is eps * |f|. Reducing each side first,
    sum(upstream * f(x + h)) - sum(upstream * f(x - h)), subtracts two sums of size
    ~sum|upstream * f| that agree in their first five digits, and each sum's own rounding error
    (eps * sum|upstream * f|) lands in the difference: on CS231n's affine and ReLU checks that
    was 100x to 1000x less precise (docs/benchmarks.md). The sum is NumPy's pairwise one
    (CuPy's on a GPU); math.fsum measured no better (the two differ by ~1e-14 relative,
    against ~1e-10 of rounding already in df).
    """
    if upstream is None:
        return float(df)
    xp = get_array_module(df, upstream)
    return float(xp.sum(df * upstream))


def rel_error(a, b):
    """Relative error of two arrays (or numbers) as wholes: ||a - b|| / (||a|| + ||b||).

    0.0 when both are zero; 1.0 when exactly one is. Between 0 and 1 otherwise. This is the
    measure ``check_gradient`` judges by. It is *not* CS231n's ``rel_error``, the maximum over
    entries of |a - b| / (|a| + |b|): that one is ``max_rel_error``, and it is dominated by
    entries whose gradient is nearly zero (see the module docstring).
    """
    xp = get_array_module(a, b)
    a = xp.asarray(a, dtype=float)
    b = xp.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ShapeError(f"rel_error: shapes {a.shape} and {b.shape} differ")
    num = float(xp.linalg.norm((a - b).ravel()))
    den = float(xp.linalg.norm(a.ravel())) + float(xp.linalg.norm(b.ravel()))
    return 0.0 if den == 0.0 else num / den


def max_rel_error(a, b):
    """CS231n's relative error: the maximum over entries of |a - b| / max(1e-8, |a| + |b|)."""
    xp = get_array_module(a, b)
    a = xp.asarray(a, dtype=float)
    b = xp.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ShapeError(f"max_rel_error: shapes {a.shape} and {b.shape} differ")
    if a.size == 0:
        return 0.0
    return float(xp.max(xp.abs(a - b) / xp.maximum(1e-8, xp.abs(a) + xp.abs(b))))


# -- whole-gradient checks ----------------------------------------------------------------------


class GradientCheck:
    """The outcome of ``check_gradient``. Truthy when it passed; ``str()`` is one line.

    Attributes: ``ok``, ``rel_error`` (whole-vector, or the worst direction's), ``abs_error``,
    ``rtol``, ``floor``, ``mode``, ``checked`` (coordinates or directions), ``evaluations`` (calls
    of f), ``worst_index`` (the coordinate with the largest |analytic - numerical|, or the
    direction's number), ``worst_analytic`` and ``worst_numerical`` (their values there).
    """

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __bool__(self):
        return self.ok

    def __str__(self):
        what = "coordinates" if self.mode != "direction" else "directions"
        head = (
            f"gradient check {'passed' if self.ok else 'FAILED'} ({self.mode}, {self.checked} "
            f"{what}, {self.evaluations} evaluations of f): relative error {self.rel_error:.1e} "
            f"({'<=' if self.rel_error <= self.rtol else '>'} {self.rtol:.0e})"
        )
        if self.rel_error > self.rtol and self.ok:
            head += f", absolute error {self.abs_error:.1e} within rounding noise {self.floor:.1e}"
        where = "direction" if self.mode == "direction" else "coordinate"
        worst = self.worst_index if self.mode == "direction" else tuple(self.worst_index)
        return (
            f"{head}; worst {where} {worst}: analytic {self.worst_analytic:.6g}, "
            f"numerical {self.worst_numerical:.6g}"
        )

    __repr__ = __str__


def check_gradient(
    f,
    x,
    analytic,
    *,
    mode="full",
    h=DEFAULT_H,
    rtol=DEFAULT_RTOL,
    atol=DEFAULT_ATOL,
    samples=20,
    directions=3,
    seed=0,
    upstream=None,
    kinks=None,
):
    """Check ``analytic`` (the gradient of f at x) against centered differences.

    Inputs:
    - f: function of the array x returning a scalar (or an array, with ``upstream``)
    - x: float array of any shape; perturbed in place and always restored
    - analytic: the gradient to check, of the shape of x
    - mode: "full", "sampled" (``samples`` random coordinates) or "direction" (``directions``
      directional derivatives; 2 evaluations of f each)
    - h, rtol, atol: step and tolerances (see the module docstring for how they were chosen)
    - seed: seeds the sampled coordinates and random directions
    - upstream: upstream gradient for an array-valued f, of the shape of f(x)
    - kinks: optional arrays of values whose sign flips a max/ReLU (e.g. ReLU inputs); a warning
      is issued if any lies within h of 0

    Returns a ``GradientCheck``.
    """
    if isinstance(x, numbers.Real):
        raise TypeError(
            "check_gradient: x must be a float array; for a function of one number use "
            "numerical_gradient(f, x) and compare, or check_gradient on np.array([x])"
        )
    _check_float_array(x, "check_gradient", h)
    xp = get_array_module(x)
    if analytic is None:
        raise TypeError(
            f"check_gradient: the analytic gradient is None; expected an array of x's shape "
            f"{x.shape} (affine_backward returns dx = None when input_grad=False)"
        )
    analytic = xp.asarray(analytic)
    if analytic.shape != x.shape:
        raise ShapeError(
            f"check_gradient: the analytic gradient must have x's shape {x.shape}, "
            f"got {analytic.shape}"
        )
    if analytic.dtype == np.float32:
        _warn_float32("the analytic gradient", h, stacklevel=2)  # user -> check_gradient
    _warn_kinks(kinks, h)
    if mode not in ("full", "sampled", "direction"):
        raise ValueError(
            f"check_gradient: mode must be 'full', 'sampled' or 'direction', got {mode!r}"
        )
    f0 = abs(_downstream(_output(f(x), upstream), upstream))
    noise = _EPS * max(f0, 1.0) / h  # rounding noise of one centered difference
    if mode == "direction":
        return _check_directions(f, x, analytic, h, rtol, atol, noise, directions, seed, upstream)

    if mode == "full":
        indices = list(np.ndindex(x.shape))
    else:
        if samples < 1:
            raise ValueError(f"check_gradient: samples must be >= 1, got {samples!r}")
        rng = np.random.default_rng(seed)
        flat = rng.choice(x.size, size=min(samples, x.size), replace=False)
        indices = [tuple(int(i) for i in np.unravel_index(k, x.shape)) for k in flat]
    num = np.array([_partial(f, x, idx, h, upstream) for idx in indices])
    ana = np.array([float(analytic[idx]) for idx in indices])
    diff = np.abs(num - ana)
    worst = int(np.argmax(diff))
    abs_error = float(np.linalg.norm(diff))
    floor = atol + noise * math.sqrt(len(indices))
    return GradientCheck(
        ok=bool(abs_error <= rtol * (np.linalg.norm(num) + np.linalg.norm(ana)) + floor),
        rel_error=rel_error(num, ana),
        abs_error=abs_error,
        rtol=rtol,
        floor=floor,
        mode=mode,
        checked=len(indices),
        evaluations=2 * len(indices) + 1,
        worst_index=indices[worst],
        worst_analytic=float(ana[worst]),
        worst_numerical=float(num[worst]),
    )


def _check_directions(f, x, analytic, h, rtol, atol, noise, directions, seed, upstream):
    """Directional derivatives along unit vectors v: (f(x + hv) - f(x - hv)) / 2h vs analytic . v.

    With ``upstream`` the numerator is sum(upstream * (f(x + hv) - f(x - hv))): the two outputs
    are subtracted first, as in ``numerical_gradient``.

    The first direction is the analytic gradient's own (a wrong scale shows at full strength);
    the others are random sign vectors (a wrong entry shifts them by that entry's error).
    Each direction must pass on its own: their sizes differ too much to pool them.
    """
    if directions < 1:
        raise ValueError(f"check_gradient: directions must be >= 1, got {directions!r}")
    xp = get_array_module(x)
    rng = np.random.default_rng(seed)
    ana_host = to_numpy(analytic).astype(np.float64)
    vs = []
    if np.any(ana_host):
        vs.append(ana_host / np.linalg.norm(ana_host))
    while len(vs) < directions:
        v = rng.choice([-1.0, 1.0], size=x.shape)
        vs.append(v / math.sqrt(v.size))
    rows = []
    x0 = x.copy()
    for v in vs:
        step = xp.asarray(h * v, dtype=x.dtype)
        try:
            x += step
            out_plus = _output(f(x), upstream)
            x[...] = x0
            x -= step
            out_minus = _output(f(x), upstream)
        finally:
            x[...] = x0
        num = _downstream(out_plus - out_minus, upstream) / (2.0 * h)
        ana = float(np.vdot(ana_host, v))
        err = abs(num - ana)
        allowed = rtol * (abs(num) + abs(ana)) + atol + noise
        rows.append((err / allowed, rel_error(num, ana), err, num, ana))
    # The worst direction is the one closest to (or furthest past) its allowance.
    worst = max(range(len(rows)), key=lambda i: rows[i][0])
    _, rel, err, num, ana = rows[worst]
    return GradientCheck(
        ok=all(r[0] <= 1.0 for r in rows),
        rel_error=rel,
        abs_error=err,
        rtol=rtol,
        floor=atol + noise,
        mode="direction",
        checked=len(vs),
        evaluations=2 * len(vs) + 1,
        worst_index=worst,
        worst_analytic=ana,
        worst_numerical=num,
    )


# -- gates ---------------------------------------------------------------------------------------


class GateCheck:
    """The outcome of ``check_gate``: truthy when every input's gradient is right.

    ``inputs`` lists, per gate input, ``(name, analytic, numerical, ok)``; ``wrong`` names the
    inputs that failed. ``str()`` says which input is wrong, with both values.
    """

    def __init__(self, gate, upstream, inputs, problem=None):
        self.gate = gate
        self.upstream = upstream
        self.inputs = inputs
        self.problem = problem
        self.wrong = [name for name, _, _, ok in inputs if not ok]
        self.ok = problem is None and not self.wrong

    def __bool__(self):
        return self.ok

    def __str__(self):
        name = type(self.gate).__name__
        if self.problem:
            return f"{name} check FAILED: {self.problem}"
        if self.ok:
            return f"{name} check passed for inputs {', '.join(n for n, *_ in self.inputs)}"
        lines = [
            f"input {i} ({n}) is wrong: backward gave {a!r}, the numerical gradient is {num:.6g} "
            f"(upstream {self.upstream:.6g})"
            for i, (n, a, num, ok) in enumerate(self.inputs)
            if not ok
        ]
        return f"{name} check FAILED: " + "; ".join(lines)

    __repr__ = __str__


def check_gate(
    gate, *inputs, upstream=None, h=DEFAULT_H, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL, seed=0
):
    """Check a scalar gate's ``backward`` against numerical gradients of its ``forward``.

    Runs ``forward(*inputs)`` and ``backward(upstream)``, then perturbs each input in turn: the
    numerical gradient of input i is the local gradient by centered differences times the
    upstream gradient, (forward(.., x_i + h, ..) - forward(.., x_i - h, ..)) / 2h * upstream,
    the outputs subtracted before the upstream gradient multiplies them. The default upstream
    is a seeded random number away from 1, so a backward that forgets to multiply by the
    upstream gradient fails. Afterwards the gate's attributes (its cache) are restored to what
    they were before the check, so a gate inside a graph stays consistent with that graph.
    Any object with ``forward``/``backward`` works, a ``Gate`` subclass or not.

    Returns a ``GateCheck`` naming any wrong input with both values.
    """
    if upstream is None:
        rng = np.random.default_rng(seed)
        upstream = float(rng.choice([-1.0, 1.0]) * rng.uniform(1.5, 3.0))
    gate_name = type(gate).__name__
    names = tuple(getattr(gate, "input_names", ())) or tuple(f"x{i}" for i in range(len(inputs)))
    if len(names) != len(inputs):
        raise TypeError(
            f"check_gate: {gate_name} takes {len(names)} input(s) ({', '.join(names)}), "
            f"got {len(inputs)}"
        )
    for i, v in enumerate(inputs):
        if not is_real(v):
            raise TypeError(
                f"check_gate: input {i} ({names[i]}) must be a number, the value to check the "
                f"gate at; got {type(v).__name__} {v!r}"
            )
    inputs = [float(v) for v in inputs]
    _warn_gate_kinks(gate, inputs, h)
    saved = dict(vars(gate))  # whatever forward caches, in self.cache or in self.x, self.y
    try:
        return _check_gate(gate, gate_name, names, inputs, upstream, h, rtol, atol)
    finally:
        vars(gate).clear()
        vars(gate).update(saved)


def _check_gate(gate, gate_name, names, inputs, upstream, h, rtol, atol):
    out = gate.forward(*inputs)
    if not is_real(out):
        problem = f"forward{tuple(inputs)} returned {out!r}; it must return the output number"
        return GateCheck(gate, upstream, [], problem)
    grads = gate.backward(upstream)
    if not isinstance(grads, (tuple, list)) or len(grads) != len(inputs):
        got = f"{len(grads)} values" if isinstance(grads, (tuple, list)) else repr(grads)
        problem = (
            f"backward returned {got}; it must return a tuple with one gradient per input "
            f"({', '.join(names)})"
        )
        return GateCheck(gate, upstream, [], problem)
    noise = _EPS * max(abs(float(out) * upstream), 1.0) / h
    rows = []
    for i, name in enumerate(names):

        def forward_i(t, i=i):  # the gate's output as a function of input i alone
            args = list(inputs)
            args[i] = t
            return gate.forward(*args)

        try:
            local = numerical_gradient(forward_i, inputs[i], h)  # d out / d input i
        except (ValueError, ArithmeticError) as exc:
            raise ValueError(
                f"check_gate: {gate_name}.forward failed at {name} = {inputs[i]:g} +/- h "
                f"(h = {h:g}), the points the numerical gradient needs: {exc}. Check further "
                "from the edge of the gate's domain, or pass a smaller h"
            ) from exc
        num = local * upstream  # downstream gradient = local gradient x upstream gradient
        ana = grads[i]
        try:
            ok = abs(float(ana) - num) <= rtol * (abs(float(ana)) + abs(num)) + atol + noise
        except (TypeError, ValueError):
            ok = False
        rows.append((name, ana, num, ok))
    return GateCheck(gate, upstream, rows)


# -- warnings and argument checks -----------------------------------------------------------


def _check_float_array(x, where, h):
    xp = get_array_module(x)
    if not isinstance(x, xp.ndarray):
        raise TypeError(f"{where}: x must be a float array or a float, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(
            f"{where}: x must hold floats to be perturbed by h, got dtype {x.dtype}; "
            "use x.astype(np.float64)"
        )
    if x.dtype == np.float32:
        _warn_float32("x", h, stacklevel=3)  # user -> public function -> here


def _warn_float32(what, h, stacklevel):
    """Warn at the user's line: ``stacklevel`` is counted from this function's caller."""
    digits = max(0, round(-math.log10(float(np.finfo(np.float32).eps) / h)))
    warnings.warn(
        f"{what} is float32: centered differences with h = {h:g} keep only about {digits} "
        "significant digits in float32, so correct gradients can fail and wrong ones pass. "
        "Check in float64 (x.astype(np.float64)).",
        GradientCheckWarning,
        stacklevel=stacklevel + 1,  # + this function's own frame
    )


def _warn_kinks(kinks, h):
    if kinks is None:
        return
    if not isinstance(kinks, (list, tuple)):
        kinks = [kinks]
    near = sum(int((np.abs(to_numpy(k)) <= h).sum()) for k in kinks)
    if near:
        warnings.warn(
            f"{near} max/ReLU input(s) lie within h = {h:g} of the kink at 0: the numerical "
            "gradient there mixes both slopes and may disagree with a correct analytic one",
            GradientCheckWarning,
            stacklevel=3,
        )


def _warn_gate_kinks(gate, inputs, h):
    kind = type(gate).__name__.lower()
    if "max" in kind and len(inputs) == 2 and abs(inputs[0] - inputs[1]) <= h:
        gap = f"|x - y| = {abs(inputs[0] - inputs[1]):g}"
    elif "relu" in kind and len(inputs) == 1 and abs(inputs[0]) <= h:
        gap = f"|x| = {abs(inputs[0]):g}"
    else:
        return
    warnings.warn(
        f"{type(gate).__name__} is checked within h = {h:g} of its kink ({gap}): the numerical "
        "gradient mixes both slopes there",
        GradientCheckWarning,
        stacklevel=3,
    )
