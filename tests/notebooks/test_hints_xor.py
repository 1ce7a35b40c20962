"""Do notebook 5's test messages name the commonest mistakes when fed those mistakes?

Each case replaces one task's answer cell in solutions/05-xor/xor.ipynb with a known wrong
answer and runs the notebook's own test cell on it.
"""

import pytest

from chainrule.testcells import TaskFailure
from tests.notebooks._run import SOLUTIONS, failure_message, run_task

XOR = SOLUTIONS / "05-xor" / "xor.ipynb"

ERRORS_AT_OR_ABOVE_ZERO = """
def count_errors(w, b, X, y):
    return int(np.sum((X @ w + b >= 0).astype(int) != y))
"""

ERRORS_WITHOUT_BIAS = """
def count_errors(w, b, X, y):
    return int(np.sum((X @ w > 0).astype(int) != y))
"""

LOGISTIC = """
def logistic_loss_grad(w, b, X, y):
    z = X @ w + b
    p = sigmoid(z)
    loss = float(np.mean(np.logaddexp(0.0, z) - y * z))
    dz = {dz}
    return loss, {dw}, {db}
"""
LOGISTIC_WRONG_SIGN = LOGISTIC.format(dz="(y - p) / len(y)", dw="X.T @ dz", db="float(dz.sum())")
LOGISTIC_N_TWICE = LOGISTIC.format(
    dz="(p - y) / len(y)", dw="X.T @ dz / len(y)", db="float(dz.sum()) / len(y)"
)
LOGISTIC_SQUARED_ERROR = LOGISTIC.format(
    dz="(p - y) * p * (1 - p) / len(y)", dw="X.T @ dz", db="float(dz.sum())"
)

SHIFTS_WITHOUT_WRAP = """
def all_shifts(pattern):
    n = len(pattern)
    out = np.zeros((n, n))
    for k in range(n):
        out[k, k:] = pattern[: n - k]
    return out
"""

SHIFT_SUM = """
def shift_average(pattern):
    return all_shifts(pattern).sum(axis=0)


def mean_shift_score(w, b, pattern):
    return float(np.mean(all_shifts(pattern) @ w + b))
"""

PSI_WITHOUT_PRODUCT = """
def psi(X):
    return np.column_stack([X[:, 0], X[:, 1]])
"""

PSI_WEIGHTS_OR = """
w_psi = np.array([1.0, 1.0, 0.0])
b_psi = -0.5
"""

OR_AND = "(np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([-0.5, -1.5]), np.array([1.0, -1.0]), -0.5)"
NET_2_RESCALED = f"""
net_1 = {OR_AND}
net_2 = (2.0 * net_1[0], 2.0 * net_1[1], net_1[2], net_1[3])
"""
NET_2_REORDERED = f"""
net_1 = {OR_AND}
net_2 = (net_1[0][:, ::-1], net_1[1][::-1], net_1[2][::-1], net_1[3])
"""
NET_1_ON_THE_BOUNDARY = """
net_1 = (np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([-1.0, -2.0]), np.array([1.0, -1.0]), -0.5)
net_2 = (np.array([[1.0, -1.0], [-1.0, 1.0]]), np.array([-0.5, -0.5]), np.array([1.0, 1.0]), -0.5)
"""

COLLAPSE_REVERSED = """
def collapse(Ws, bs):
    W, b = Ws[0], bs[0]
    for W_next, b_next in zip(Ws[1:], bs[1:]):
        W, b = W @ W_next, W @ b_next + b
    return W, b
"""
COLLAPSE_SUMMED_BIASES = """
def collapse(Ws, bs):
    W = Ws[0]
    for W_next in Ws[1:]:
        W = W_next @ W
    return W, sum(bs)
"""
COLLAPSE_THREE_LAYERS_ONLY = """
def collapse(Ws, bs):
    W1, W2, W3 = Ws
    b1, b2, b3 = bs
    return W3 @ W2 @ W1, W3 @ W2 @ b1 + W3 @ b2 + b3
"""

COUNT_AS_FLOAT = """
def count_errors(w, b, X, y):
    return float(np.sum(((X @ w + b) > 0) != y))
"""

CASES = {
    "error count returned as a float": ("linear-errors", COUNT_AS_FLOAT, "int("),
    "threshold at z >= 0": (
        "linear-errors",
        ERRORS_AT_OR_ABOVE_ZERO,
        "the threshold is 1 only if z > 0",
    ),
    "count_errors forgets the bias": ("linear-errors", ERRORS_WITHOUT_BIAS, "bias b is missing"),
    "logistic gradient with the wrong sign": (
        "logistic-grad",
        LOGISTIC_WRONG_SIGN,
        "dL/dz = p - y",
    ),
    "logistic gradient divided by N twice": (
        "logistic-grad",
        LOGISTIC_N_TWICE,
        "divided by N twice",
    ),
    "logistic gradient with sigma' of the squared error": (
        "logistic-grad",
        LOGISTIC_SQUARED_ERROR,
        "sigma' cancels",
    ),
    "shifts without wrap-around": ("all-shifts", SHIFTS_WITHOUT_WRAP, "wrap-around"),
    "sum of the shifts instead of their mean": ("shift-average", SHIFT_SUM, "divide by 16"),
    "psi without the product column": ("psi", PSI_WITHOUT_PRODUCT, "the product x1 * x2"),
    "psi weights that compute OR": ("psi-weights", PSI_WEIGHTS_OR, "this is OR"),
    "second network a positive rescaling of the first": (
        "threshold-xor",
        NET_2_RESCALED,
        "Rescaling units by positive numbers",
    ),
    "second network the first with units reordered": (
        "threshold-xor",
        NET_2_REORDERED,
        "no feature of its own",
    ),
    "hidden unit exactly on a corner": (
        "threshold-xor",
        NET_1_ON_THE_BOUNDARY,
        "1 only if z > 0",
    ),
    "layers multiplied in the wrong order": (
        "linear-collapse",
        COLLAPSE_REVERSED,
        "the first layer acts first",
    ),
    "biases summed instead of passed through": (
        "linear-collapse",
        COLLAPSE_SUMMED_BIASES,
        "not b1 + b2 + b3",
    ),
    "collapse written for exactly three layers": (
        "linear-collapse",
        COLLAPSE_THREE_LAYERS_ONLY,
        "any number of layers",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_known_mistake_gets_its_hint(case):
    """Does the task's test cell fail with a message that names this mistake?"""
    task_id, wrong, phrase = CASES[case]
    assert "Hint:" in failure_message(XOR, task_id, wrong, phrase)


@pytest.mark.parametrize("task_id", sorted({task_id for task_id, _, _ in CASES.values()}))
def test_solution_passes_where_the_mistakes_fail(task_id):
    """Is the same test cell satisfied by the solution (so the hint tests are not vacuous)?"""
    assert run_task(XOR, task_id) is None


def test_a_genuinely_different_second_network_passes():
    """Does a second XOR network with new hidden features (OR and NAND, then AND) pass?"""
    answer = f"""
net_1 = {OR_AND}
net_2 = (np.array([[1.0, -1.0], [1.0, -1.0]]), np.array([-0.5, 1.5]), np.array([1.0, 1.0]), -1.5)
"""
    assert run_task(XOR, "threshold-xor", answer=answer) is None


def test_untouched_answer_says_not_done():
    """Does an untouched answer cell produce 'not done yet' rather than a traceback?"""
    stub = "def collapse(Ws, bs):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    err = run_task(XOR, "linear-collapse", answer=stub)
    assert isinstance(err, TaskFailure), repr(err)
    assert "not done yet" in str(err), str(err)
