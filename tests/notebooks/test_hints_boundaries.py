"""Do notebook 6's test messages name the commonest mistakes when fed those mistakes?

Each case replaces one task's answer cell in solutions/06-boundaries with a known wrong
implementation and runs the notebook's own test cell (visible and hidden tests) on it.
"""

import pytest

from chainrule.testcells import TaskFailure
from tests.notebooks._run import SOLUTIONS, failure_message, run_task

BOUNDARIES = SOLUTIONS / "06-boundaries" / "boundaries.ipynb"

BOUNDARY_SIGN = """
def boundary_x2(x1, w, b):
    return (w[0] * x1 + b) / w[1]
"""

COMBINE = """
def hidden_units(X):
    x1, x2 = X[:, 0], X[:, 1]
    return np.column_stack(
        [sigmoid(10 * x1 + 10 * x2 - 30), sigmoid(10 * x1 - 10 * x2 - 30), {h3}]
    )


def sum_then_sigmoid(H):
    return sigmoid(H.sum(axis=1))


def logistic_on_top(H):
    return {top}
"""
COMBINE_OK = {"h3": "sigmoid(-10 * x1 + x2 - 3)", "top": "sigmoid(10 * H.sum(axis=1) - 1)"}
H3_TYPO = COMBINE.format(**{**COMBINE_OK, "h3": "sigmoid(-10 * x1 + 10 * x2 - 3)"})
TOP_WITHOUT_BIAS = COMBINE.format(**{**COMBINE_OK, "top": "sigmoid(10 * H.sum(axis=1))"})

NAIVE_BOUND_ZERO = """
naive_min = float(sum_then_sigmoid(hidden_units(my_grid)).min())
naive_bound = 0.0
network_class1_fraction = float(np.mean(logistic_on_top(hidden_units(my_grid)) >= 0.5))
"""

NAIVE_MIN_HALF = """
naive_min = 0.5
naive_bound = 0.5
network_class1_fraction = float(np.mean(logistic_on_top(hidden_units(my_grid)) >= 0.5))
"""

TOWERS = """
N_TOWERS = (2, 4, 8, 16, 32, 64)
K = 50.0
x_plot = np.linspace(0.0, 2 * np.pi, 400)


def tower(x, a, b, k):
    return {tower}


def approximate(f, x, n_towers, lo, hi, k):
    edges = np.linspace(lo, hi, n_towers + 1)
    return sum({height} * tower(x, a, b, k) for a, b in zip(edges[:-1], edges[1:]))


errors = [
    np.mean(np.abs(approximate(np.sin, x_plot, n, 0.0, 2 * np.pi, K) - np.sin(x_plot)))
    for n in N_TOWERS
]
"""
TOWERS_OK = {"tower": "sigmoid(k * (x - a)) - sigmoid(k * (x - b))", "height": "f((a + b) / 2)"}
TOWER_UPSIDE_DOWN = TOWERS.format(
    **{**TOWERS_OK, "tower": "sigmoid(k * (x - b)) - sigmoid(k * (x - a))"}
)
HEIGHTS_AT_LEFT_EDGES = TOWERS.format(**{**TOWERS_OK, "height": "f(a)"})

SATURATING = """
def sigmoid_grad(z):
    return {sigmoid}


def tanh_grad(z):
    return {tanh}


def softplus_grad(z):
    return {softplus}
"""
SATURATING_OK = {
    "sigmoid": "sigmoid(z) * (1 - sigmoid(z))",
    "tanh": "1 - np.tanh(z) ** 2",
    "softplus": "sigmoid(z)",
}
SIGMOID_FROM_Z = SATURATING.format(**{**SATURATING_OK, "sigmoid": "z * (1 - z)"})
TANH_FROM_Z = SATURATING.format(**{**SATURATING_OK, "tanh": "1 - z ** 2"})
SOFTPLUS_EXP = SATURATING.format(**{**SATURATING_OK, "softplus": "np.exp(z)"})
SOFTPLUS_OVERFLOWS = SATURATING.format(
    **{**SATURATING_OK, "softplus": "np.exp(z) / (1 + np.exp(z))"}
)
SIGMOID_WITH_MATH = "import math\n" + SATURATING.format(
    **{**SATURATING_OK, "sigmoid": "math.exp(-z) / (1 + math.exp(-z)) ** 2"}
)

PIECEWISE = """
def relu_grad(z):
    return {relu}


def leaky_relu_grad(z):
    return {leaky}


def elu_grad(z):
    return {elu}


def hard_threshold_grad(z):
    return np.zeros_like(z, dtype=float)


def maxout_grad(z, w, b):
    w, b, z = np.asarray(w, dtype=float), np.asarray(b, dtype=float), np.asarray(z, dtype=float)
    return {maxout}
"""
PIECEWISE_OK = {
    "relu": "np.where(z > 0, 1.0, 0.0)",
    "leaky": "np.where(z > 0, 1.0, 0.1)",
    "elu": "np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0)))",
    "maxout": "w[np.argmax(w * z[..., None] + b, axis=-1)]",
}
LEAKY_SLOPE_001 = PIECEWISE.format(**{**PIECEWISE_OK, "leaky": "np.where(z > 0, 1.0, 0.01)"})
ELU_GRAD_IS_ELU = PIECEWISE.format(**{**PIECEWISE_OK, "elu": "np.where(z > 0, 1.0, np.exp(z) - 1)"})
RELU_ONE_AT_ZERO = PIECEWISE.format(**{**PIECEWISE_OK, "relu": "np.where(z >= 0, 1.0, 0.0)"})
MAXOUT_LARGEST_SLOPE = PIECEWISE.format(**{**PIECEWISE_OK, "maxout": "np.full(z.shape, w.max())"})
RELU_WITH_IF = PIECEWISE.format(**{**PIECEWISE_OK, "relu": "1.0 if z > 0 else 0.0"})

VANISHING = """
def weight_grad_norms(x, Ws, f, df, upstream):
    a, cache = x, []
    for W in Ws:
        z = a @ W
        cache.append((a, z))
        a = f(z)
    da, norms = upstream, []
    for W, (a_in, z) in zip(reversed(Ws), reversed(cache)):
        dz = da * {local}
        norms.append(np.linalg.norm(a_in.T @ dz))
        da = dz @ {weight}
    return np.array({order})


sigmoid_bound = {bound}
"""
VANISHING_OK = {"local": "df(z)", "weight": "W.T", "order": "norms[::-1]", "bound": "0.25**15"}
NORMS_REVERSED = VANISHING.format(**{**VANISHING_OK, "order": "norms"})
DF_OF_OUTPUT = VANISHING.format(**{**VANISHING_OK, "local": "df(f(z))"})
NO_TRANSPOSE = VANISHING.format(**{**VANISHING_OK, "weight": "W"})
BOUND_HALF = VANISHING.format(**{**VANISHING_OK, "bound": "0.5**15"})
BOUND_SUM = VANISHING.format(**{**VANISHING_OK, "bound": "0.25 * 15"})
BOUND_ONE_SHORT = VANISHING.format(**{**VANISHING_OK, "bound": "0.25**14"})

# case -> (task id, wrong answer cell, phrase its message must contain)
CASES = {
    "boundary with the sign flipped": ("boundary-line", BOUNDARY_SIGN, "sign is flipped"),
    "h3 with 10 x2 instead of x2": ("combine-units", H3_TYPO, "x2's coefficient is 1"),
    "unit on top without its bias": ("combine-units", TOP_WITHOUT_BIAS, "b = -1 is missing"),
    "tower upside down": ("towers", TOWER_UPSIDE_DOWN, "upside down"),
    "tower heights at the left edges": ("towers", HEIGHTS_AT_LEFT_EDGES, "left edges"),
    "sigmoid' from z": ("saturating-grads", SIGMOID_FROM_Z, "uses the input z"),
    "tanh' as 1 - z^2": ("saturating-grads", TANH_FROM_Z, "square the *output*"),
    "softplus' as e^z": ("saturating-grads", SOFTPLUS_EXP, "only the inner derivative"),
    "leaky ReLU slope 0.01": ("piecewise-grads", LEAKY_SLOPE_001, "not 0.01"),
    "ELU' as e^z - 1": ("piecewise-grads", ELU_GRAD_IS_ELU, "Its derivative is e^z"),
    "ReLU' = 1 at the kink": ("piecewise-grads", RELU_ONE_AT_ZERO, "slope from the left"),
    "maxout' as the largest slope": ("piecewise-grads", MAXOUT_LARGEST_SLOPE, "largest slope"),
    "norms with the top layer first": ("vanishing-grads", NORMS_REVERSED, "reverse order"),
    "bound from sigma(0) = 0.5": ("vanishing-grads", BOUND_HALF, "0.5 is sigma(0)"),
    "bound as a sum": ("vanishing-grads", BOUND_SUM, "*multiply*"),
    "bound with 14 factors (within 1e-8 of 0.25^15)": (
        "vanishing-grads",
        BOUND_ONE_SHORT,
        "15 factors",
    ),
}

SIGMOID_GRAD_OVERFLOWS = """
def sigmoid_grad(z):
    return np.exp(-z) / (1 + np.exp(-z)) ** 2


def tanh_grad(z):
    return 1 - np.tanh(z) ** 2


def softplus_grad(z):
    return sigmoid(z)
"""

# Mistakes caught by checks other than a value comparison: no "expected ..., got ..." line.
CHECKS = {
    "sigmoid' overflows at z = -1000 (visible test)": (
        "saturating-grads",
        SIGMOID_GRAD_OVERFLOWS,
        "never overflow",
    ),
    "softplus' overflows at z = 1000 (hidden test)": (
        "saturating-grads",
        SOFTPLUS_OVERFLOWS,
        "inf / inf is nan",
    ),
    "math.exp on an array": ("saturating-grads", SIGMOID_WITH_MATH, "work elementwise with NumPy"),
    "if z > 0 on an array": ("piecewise-grads", RELU_WITH_IF, "np.where(z > 0, a, b)"),
    "df taken at the layer's output": ("vanishing-grads", DF_OF_OUTPUT, "layers' outputs"),
    "W instead of W.T going back": ("vanishing-grads", NO_TRANSPOSE, "da_prev = dz_l @ W_l.T"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_known_mistake_gets_its_hint(case):
    """Does the task's test cell fail with 'expected ..., got ...' and this mistake's hint?"""
    task_id, wrong, phrase = CASES[case]
    msg = failure_message(BOUNDARIES, task_id, wrong, phrase)
    assert "Hint:" in msg and "expected" in msg, msg


NAIVE = {
    "naive bound 0 instead of sigma(0)": (NAIVE_BOUND_ZERO, "h >= 0"),
    "naive minimum taken as the bound": (NAIVE_MIN_HALF, "no grid point reaches"),
}


@pytest.mark.parametrize("student", [None, "alice", "s0000002"])
@pytest.mark.parametrize("case", list(NAIVE))
def test_naive_minimum_hints_fire_on_the_students_grid(case, student):
    """Does a value task's mistake get its hint on the student's own grid (and the slide's),
    without the answer in the message?"""
    wrong, phrase = NAIVE[case]
    msg = failure_message(BOUNDARIES, "naive-minimum", wrong, phrase, student=student)
    assert "expected" not in msg and "is not right for your numbers" in msg, msg


@pytest.mark.parametrize("case", list(CHECKS))
def test_mistake_caught_by_a_check_gets_its_hint(case):
    """Is a crash, an overflow or a wrong call of df explained, not just reported?"""
    task_id, wrong, phrase = CHECKS[case]
    assert "Hint:" in failure_message(BOUNDARIES, task_id, wrong, phrase)


@pytest.mark.parametrize(
    "task_id",
    [
        "boundary-line",
        "combine-units",
        "naive-minimum",
        "towers",
        "saturating-grads",
        "piecewise-grads",
        "vanishing-grads",
    ],
)
def test_solution_passes_the_cells_the_mistakes_fail(task_id):
    """Is each test cell satisfied by the solution (so the hint tests are not vacuous)?"""
    assert run_task(BOUNDARIES, task_id) is None


def test_the_correct_templates_pass():
    """Do the templates the mistakes are made from pass when filled in correctly?"""
    for task_id, answer in [
        ("combine-units", COMBINE.format(**COMBINE_OK)),
        ("towers", TOWERS.format(**TOWERS_OK)),
        ("saturating-grads", SATURATING.format(**SATURATING_OK)),
        ("piecewise-grads", PIECEWISE.format(**PIECEWISE_OK)),
        ("vanishing-grads", VANISHING.format(**VANISHING_OK)),
    ]:
        assert run_task(BOUNDARIES, task_id, answer=answer) is None, task_id


def test_untouched_answer_says_not_done():
    """Does an untouched answer cell produce 'not done yet' rather than a traceback?"""
    stub = "def tower(x, a, b, k):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    err = run_task(BOUNDARIES, "towers", answer=stub)
    assert isinstance(err, TaskFailure), repr(err)
    assert "not done yet" in str(err), str(err)
