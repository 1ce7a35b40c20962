"""The value tasks: what each one draws for a student, its answers and its usual mistakes.

One ``ValueTask`` per worked example of the lectures that the notebooks grade as numbers; the
tasks that share an example share its numbers (``TASKS`` maps each task id to its entry, whose
``key`` seeds the draw). ``chainrule.variants`` draws the numbers and checks the answers; the
test cells only name the task and hand over the student's answers.

Each entry has:

- ``slide``: the lecture's inputs, {name: value}, the worked example and the numbers without an id;
- ``draw(dice)``: a student's inputs from a ``variants.Dice``; ``accept(values)`` refuses draws
  where a usual mistake would give the right answer (a tie, a zero, two equal inputs);
- ``answers(v)``: {answer name: right value} for a ``Variant`` v, in the order the task lists them;
- ``mistakes(v, want)``: {answer name: [(wrong value, hint)]}, the hints the test gives;
- ``tolerance``: {answer name: (rtol, atol)} where the default (1e-6, 1e-8) is too strict;
- ``advice``: {answer name: hint} given when the value is wrong in an unknown way.
"""

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from .testcells import _plain

__all__ = ["ValueTask", "TASKS", "spec", "task_ids"]

_RTOL, _ATOL = 1e-6, 1e-8


@dataclass(frozen=True)
class ValueTask:
    """One worked example's numbers, answers and mistakes (see the module's docstring)."""

    key: str
    slide: dict
    draw: object
    answers: object
    accept: object = lambda values: True
    mistakes: object = lambda v, want: {}
    tolerance: dict = field(default_factory=dict)
    advice: dict = field(default_factory=dict)

    def close(self, name, got, want):
        """Is ``got`` (a plain number, tuple or array) ``want`` within ``name``'s tolerance?"""
        if got is None or not _plain(got):
            return False
        rtol, atol = self.tolerance.get(name, (_RTOL, _ATOL))
        if type(got) in (int, float) and type(want) in (int, float):  # the common case, fast
            return math.isfinite(got) and abs(got - want) <= atol + rtol * abs(want)
        have, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
        return have.shape == want.shape and bool(np.allclose(have, want, rtol=rtol, atol=atol))


# -- notebook 1: f = (x + y) z and the cost of a numerical gradient ------------------------------


def _cost_draw(dice):
    choices = (50_000, 120_000, 200_000, 250_000, 400_000, 600_000, 750_000, 2_000_000, 3_000_000)
    return {"weights": dice.choice((*choices, 5_000_000, 8_000_000, 10_000_000))}


def _cost_mistakes(v, want):
    n = v.weights
    return {
        "numerical_forward_passes": [
            (n, "centered differences evaluate f twice per weight, at x + h and at x - h."),
            (
                n + 1,
                "that is the one-sided count (f(x) once plus one per weight); the centered "
                "difference evaluates f twice per weight.",
            ),
        ],
        "backprop_forward_pass_equivalents": [
            (2, "count the forward pass too: 1 forward + a backward that costs about 2 forwards."),
        ],
    }


COST = ValueTask(
    key="cost",
    slide={"weights": 1_000_000},
    draw=_cost_draw,
    answers=lambda v: {
        "numerical_forward_passes": 2 * v.weights,
        "backprop_forward_pass_equivalents": 3,
    },
    mistakes=_cost_mistakes,
    tolerance={
        "numerical_forward_passes": (0, 0.5),
        "backprop_forward_pass_equivalents": (0, 0.01),
    },
)


def _xyz_draw(dice):
    return {n: float(dice.integer(-9, 9, exclude=(0,))) for n in ("x", "y", "z")}


def _xyz_accept(v):
    q = v["x"] + v["y"]
    return q not in (0.0, 1.0, v["z"]) and v["z"] != 1.0


def _forward_mistakes(v, want):
    found = [(v.x + v.y * v.z, "f = (x + y) z: add first (q = x + y), then multiply q by z.")]
    if v.is_slide:
        found.append((12.0, "f = 12 comes from z = 4, the typo on one Aarhus slide; use z = -4."))
    return {"f": found}


FORWARD_VALUES = ValueTask(
    key="forward-values",
    slide={"x": -2.0, "y": 5.0, "z": -4.0},
    draw=_xyz_draw,
    accept=_xyz_accept,
    answers=lambda v: {"q": v.x + v.y, "f": (v.x + v.y) * v.z},
    mistakes=_forward_mistakes,
)


def _hand_mistakes(v, want):
    q = v.x + v.y
    switch = "the multiply gate switches its inputs: df/dz is the other input, q; df/dq is z."
    local_only = (
        "1 is dq/dx, the add gate's local gradient alone. Multiply it by the upstream gradient "
        "df/dq: downstream = local x upstream."
    )
    return {
        "df_dz": [(v.z, switch)],
        "df_dq": [(q, switch)],
        "df_dx": [(1.0, local_only)],
        "df_dy": [(1.0, local_only)],
    }


HAND_GRADIENTS = ValueTask(
    key="forward-values",
    slide=FORWARD_VALUES.slide,
    draw=_xyz_draw,
    accept=_xyz_accept,
    answers=lambda v: {
        "df_df": 1.0,
        "df_dz": v.x + v.y,
        "df_dq": v.z,
        "df_dx": v.z,
        "df_dy": v.z,
    },
    mistakes=_hand_mistakes,
    advice={"df_df": "the gradient of f with respect to itself is 1."},
)


# -- notebook 2: the sigmoid neuron ---------------------------------------------------------------

_NEURON = ("w0", "x0", "w1", "x1", "w2")


def _neuron_draw(dice):
    values = {n: float(dice.integer(-4, 4, exclude=(0,))) for n in _NEURON[:4]}
    s = values["w0"] * values["x0"] + values["w1"] * values["x1"]
    z = dice.choice((-2.0, -1.0, 1.0, 2.0))  # the neuron's input: sigma neither flat nor 0.5
    return values | {"w2": z - s}


def _neuron_accept(v):
    return 0 < abs(v["w2"]) <= 6 and v["w0"] != v["x0"] and v["w1"] != v["x1"]


def _neuron_z(v):
    return v.w0 * v.x0 + v.w1 * v.x1 + v.w2


def _neuron_forward(v):
    a, b = v.w0 * v.x0, v.w1 * v.x1
    s = a + b
    z = s + v.w2
    e = math.exp(-z)
    return {"a": a, "b": b, "s": s, "z": z, "neg": -z, "e": e, "d": 1.0 + e, "f": 1.0 / (1.0 + e)}


def _neuron_backward(v):
    e = math.exp(-_neuron_z(v))
    g = e / (1.0 + e) ** 2  # the gradient at z: sigma(z) (1 - sigma(z))
    return {
        "df_dd": -1.0 / (1.0 + e) ** 2,
        "df_de": -1.0 / (1.0 + e) ** 2,
        "df_dneg": -g,
        "df_dz": g,
        "df_ds": g,
        "df_dw2": g,
        "df_da": g,
        "df_db": g,
        "df_dw0": v.x0 * g,
        "df_dx0": v.w0 * g,
        "df_dw1": v.x1 * g,
        "df_dx1": v.w1 * g,
    }


def _neuron_backward_mistakes(v, want):
    e = math.exp(-_neuron_z(v))
    g = want["df_dz"]
    sign = "the sign is flipped: the x(-1) gate's local gradient is -1, and 1/x's is -1/x^2."
    local = (
        "this is the local gradient alone; multiply it by the upstream gradient "
        "(downstream = local x upstream)."
    )
    switch = (
        "the multiply gate switches: the gradient of w0 uses x0's value and the gradient of "
        "x0 uses w0's."
    )
    rounded = "this multiplies a rounded gradient at z; carry more decimals of it."
    local_only = {"df_de": 1.0, "df_dneg": e, "df_dz": -1.0}
    local_only.update({"df_dw0": v.x0, "df_dx0": v.w0, "df_dw1": v.x1, "df_dx1": v.w1})
    switched = {"df_dw0": v.w0 * g, "df_dx0": v.x0 * g, "df_dw1": v.w1 * g, "df_dx1": v.x1 * g}
    found = {}
    for name, right in want.items():
        found[name] = [(-right, sign)]
        if name in local_only:
            found[name].append((local_only[name], local))
        if name in switched:
            found[name].append((switched[name], switch))
            off = local_only[name] * round(g, 2)
            if abs(off - right) > 0.006:  # a rounded g shows only where it moves two decimals
                found[name].append((off, rounded))
    if v.is_slide:
        found["df_dx0"].append((0.4, "0.4 is the slide's rounding of (2)(0.1966) = 0.39."))
    return found


NEURON_FORWARD = ValueTask(
    key="neuron",
    slide={"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0},
    draw=_neuron_draw,
    accept=_neuron_accept,
    answers=_neuron_forward,
    tolerance=dict.fromkeys(("a", "b", "s", "z", "neg", "e", "d", "f"), (0, 0.006)),
)

NEURON_BACKWARD = ValueTask(
    key="neuron",
    slide=NEURON_FORWARD.slide,
    draw=_neuron_draw,
    accept=_neuron_accept,
    answers=_neuron_backward,
    mistakes=_neuron_backward_mistakes,
    tolerance=dict.fromkeys(
        ("df_dd", "df_de", "df_dneg", "df_dz", "df_ds", "df_dw2", "df_da", "df_db"), (0, 0.006)
    )
    | dict.fromkeys(("df_dw0", "df_dx0", "df_dw1", "df_dx1"), (0, 0.006)),
)


# -- notebook 3: add distributes, max routes, multiply switches -----------------------------------


def _patterns_draw(dice):
    return {n: float(dice.integer(-5, 5, exclude=(0,))) for n in ("x", "y", "z", "w")}


def _patterns_accept(v):
    return v["x"] != v["y"] and v["z"] != v["w"] and abs(v["x"]) != 1 and abs(v["y"]) != 1


def _patterns_answers(v):
    up = 2.0  # from the x2 gate, through the add gate to both branches
    return {
        "df_dx": v.y * up,
        "df_dy": v.x * up,
        "df_dz": up if v.z >= v.w else 0.0,
        "df_dw": up if v.w > v.z else 0.0,
    }


def _patterns_mistakes(v, want):
    swapped = (
        "the inputs look swapped: each input of x*y gets the *other* input's value times the "
        "upstream gradient."
    )
    local = "this is the local gradient alone. Multiply it by the upstream gradient, 2 here."
    both = "max routes: the whole upstream gradient goes to the larger input and the other gets 0."
    smaller = "the gradient went to the smaller input; max routes it to the larger one."
    return {
        "df_dx": [(want["df_dy"], swapped), (v.y, local)],
        "df_dy": [(want["df_dx"], swapped), (v.x, local)],
        "df_dz": [(1.0, local)] * (v.z >= v.w) + [(2.0 - want["df_dz"], smaller)],
        "df_dw": [(2.0, both)] * (v.w < v.z)
        + [(1.0, local)] * (v.w > v.z)
        + [(2.0 - want["df_dw"], smaller)],
    }


PATTERN_GRADIENTS = ValueTask(
    key="pattern-gradients",
    slide={"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0},
    draw=_patterns_draw,
    accept=_patterns_accept,
    answers=_patterns_answers,
    mistakes=_patterns_mistakes,
)


def _drawing_draw(dice):
    return {
        "w": dice.choice((-1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0)),
        "x": dice.choice((-2.0, -1.0, 1.0, 2.0, 3.0)),
        "b": dice.choice((-1.0, -0.5, 0.5, 1.0)),
        "t": dice.choice((0.0, 1.0)),
        "lam": dice.choice((0.1, 0.2, 0.3, 0.5)),
    }


def _drawing_answers(v):
    y = 1.0 / (1.0 + math.exp(-(v.w * v.x + v.b)))
    z_bar = (y - v.t) * (1.0 - y) * y
    return {"w_bar_from_loss": z_bar * v.x, "w_bar_from_reg": v.lam * v.w}


def _drawing_accept(values):
    from .variants import Variant

    a = _drawing_answers(Variant("read-drawing", "?", values))
    loss, reg = a["w_bar_from_loss"], a["w_bar_from_reg"]
    return min(abs(loss), abs(reg), abs(loss - reg)) >= 0.03  # readable, and not to be swapped


def _drawing_mistakes(v, want):
    loss, reg = want["w_bar_from_loss"], want["w_bar_from_reg"]
    swapped = "the two are swapped: the square w^2 sits on the regulariser's branch."
    total = "that is the sum, w's total gradient; each edge carries one branch's part."
    return {
        "w_bar_from_loss": [(reg, swapped), (loss + reg, total)],
        "w_bar_from_reg": [(loss, swapped), (loss + reg, total)],
    }


READ_DRAWING = ValueTask(
    key="read-drawing",
    slide={"w": 0.5, "x": 2.0, "b": -1.0, "t": 1.0, "lam": 0.1},
    draw=_drawing_draw,
    accept=_drawing_accept,
    answers=_drawing_answers,
    mistakes=_drawing_mistakes,
    tolerance=dict.fromkeys(("w_bar_from_loss", "w_bar_from_reg"), (0, 0.006)),
)


# -- notebook 4: Jacobian sizes and ||W x||^2 ----------------------------------------------------


def _jacobian_draw(dice):
    return {
        "batch": dice.choice((16, 20, 25, 32, 40, 50, 64, 128, 200, 250)),
        "width": dice.choice((300, 500, 784, 1000, 1024, 2048, 3072)),
    }


def _jacobian_answers(v):
    n = v.batch * v.width
    return {
        "jacobian_shape": (v.width, v.width),
        "batch_jacobian_shape": (n, n),
        "batch_jacobian_gigabytes": n * n * 4 / 1e9,
        "relu_batch_nonzeros": n,
    }


def _jacobian_mistakes(v, want):
    n = v.batch * v.width
    return {
        "batch_jacobian_shape": [
            (
                (v.batch, v.width),
                "that is the batch's shape; the Jacobian has one row per output number and one "
                "column per input number.",
            ),
        ],
        "batch_jacobian_gigabytes": [
            (n * n * 8 / 1e9, "float32 takes 4 bytes a number, not 8."),
            (n * n * 4 / 2**30, "use 10^9 bytes per gigabyte here."),
        ],
        "relu_batch_nonzeros": [
            (
                n * n,
                "elementwise means output i depends only on input i: only the diagonal can be "
                "nonzero.",
            ),
        ],
    }


JACOBIAN_SIZES = ValueTask(
    key="jacobian-sizes",
    slide={"batch": 100, "width": 4096},
    draw=_jacobian_draw,
    answers=_jacobian_answers,
    mistakes=_jacobian_mistakes,
    tolerance={"batch_jacobian_gigabytes": (1e-3, 0.0)},
)


def _wx_draw(dice):
    def tenth():
        return dice.integer(-9, 9, exclude=(0,)) / 10

    return {
        "W": np.array([[tenth(), tenth()], [tenth(), tenth()]]),
        "x": np.array([tenth(), tenth()]),
    }


def _wx_accept(v):
    W, x = v["W"], v["x"]
    q = W @ x
    return not np.allclose(W @ x, W.T @ x, atol=1e-3) and np.all(np.abs(q) > 0.01)


def _wx_answers(v):
    q = v.W @ v.x
    return {"q": q, "f": float(q @ q)}


WX_FORWARD = ValueTask(
    key="wx",
    slide={"W": np.array([[0.1, 0.5], [-0.3, 0.8]]), "x": np.array([0.2, 0.4])},
    draw=_wx_draw,
    accept=_wx_accept,
    answers=_wx_answers,
    mistakes=lambda v, want: {
        "q": [(v.W.T @ v.x, "that is W^T x; the slide computes q = W x (rows of W times x).")],
        "f": [(math.sqrt(want["f"]), "that is the norm ||q||; f is its square, the sum of q_i^2.")],
    },
)


# -- notebook 6: the naive combination of three logistic units, in numbers ---------------------


@functools.cache
def _naive_numbers(half_width, points):
    """(min of sigma(h1 + h2 + h3), fraction where the network says 1) on the student's grid:
    few grids exist, so each is computed once, however many students share it."""
    from .activations import ACTIVATIONS
    from .viz import decision_grid

    sigmoid = ACTIVATIONS["sigmoid"].f
    _, _, grid = decision_grid((-half_width, half_width, -half_width, half_width), points)
    p1, p2 = grid[:, 0], grid[:, 1]
    s = (
        sigmoid(10 * p1 + 10 * p2 - 30)
        + sigmoid(10 * p1 - 10 * p2 - 30)
        + sigmoid(-10 * p1 + p2 - 3)
    )
    network = sigmoid(10 * s - 1)
    return (
        float(sigmoid(s).min()),
        float(np.mean(network >= 0.5)),
        float(network.min()),
        float(s.min()),
    )


def _naive_draw(dice):
    return {
        "half_width": float(dice.choice((6, 8, 12, 15))),
        "points": dice.choice((120, 150, 160, 180, 240)),
    }


def _naive_answers(v):
    low, fraction, _, _ = _naive_numbers(v.half_width, v.points)
    return {"naive_min": low, "naive_bound": 0.5, "network_class1_fraction": fraction}


def _naive_mistakes(v, want):
    _, fraction, network_min, sum_min = _naive_numbers(v.half_width, v.points)
    n = v.points**2
    return {
        "naive_min": [
            (network_min, "that is the minimum of the network, logistic_on_top."),
            (sum_min, "that is the minimum of h1 + h2 + h3 before the sigmoid."),
            (
                0.5,
                "0.5 is the bound, which no grid point reaches: every h is a little above 0. "
                "Take the minimum of sum_then_sigmoid(hidden_units(my_grid)).",
            ),
        ],
        "naive_bound": [
            (
                0.0,
                "each h is a probability, so h >= 0 and the sum is >= 0; sigma of a number >= 0 "
                "is >= sigma(0).",
            ),
            (
                1.0 / (1.0 + math.exp(-1.0)),
                "the sum can get as close to 0 as you like (all three units off), not just to 1.",
            ),
            (
                want["naive_min"],
                "that is the smallest value on your grid; the bound holds everywhere.",
            ),
        ],
        "network_class1_fraction": [
            (1 - fraction, "that is the fraction of class 0; count where the output is >= 0.5."),
            (fraction * n, f"that is a count; divide by the number of grid points, {n}."),
            (1.0, "that is the naive sum's answer; use logistic_on_top."),
            (100 * fraction, "give a fraction between 0 and 1, not a percentage."),
        ],
    }


NAIVE_MINIMUM = ValueTask(
    key="naive-minimum",
    slide={"half_width": 10.0, "points": 200},
    draw=_naive_draw,
    answers=_naive_answers,
    mistakes=_naive_mistakes,
    tolerance={"naive_min": (0, 1e-12), "naive_bound": (0, 0)},
    advice={
        "naive_min": "take the minimum of sum_then_sigmoid(hidden_units(my_grid)).",
        "naive_bound": "h1 + h2 + h3 >= 0 because each h is a probability; what is sigma(0)?",
        "network_class1_fraction": "count on your grid `my_grid`, not on a grid of your own.",
    },
)


TASKS = {
    "cost": COST,
    "forward-values": FORWARD_VALUES,
    "hand-gradients": HAND_GRADIENTS,
    "neuron-forward": NEURON_FORWARD,
    "neuron-backward": NEURON_BACKWARD,
    "pattern-gradients": PATTERN_GRADIENTS,
    "read-drawing": READ_DRAWING,
    "jacobian-sizes": JACOBIAN_SIZES,
    "wx-forward": WX_FORWARD,
    "naive-minimum": NAIVE_MINIMUM,
}


def task_ids():
    """The ids of every value task, in notebook order."""
    return tuple(TASKS)


def spec(task_id):
    """The ``ValueTask`` of ``task_id``; a ``KeyError`` naming the value tasks otherwise."""
    try:
        return TASKS[task_id]
    except (KeyError, TypeError):
        raise KeyError(
            f"{task_id!r} is not a value task; the value tasks are: {', '.join(TASKS)}"
        ) from None
