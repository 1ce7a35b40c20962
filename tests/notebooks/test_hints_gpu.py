"""Does notebook 8 name the usual mistakes of device-agnostic code and FLOP counting when fed them?

Each case replaces one task's answer cell in the solution notebook with a known wrong
implementation and runs the notebook's own test cell on it. None of them needs a GPU: the
device-agnostic task is checked on the simulated device (``chainrule.simdevice``).
"""

import importlib.util

import pytest

from tests.notebooks._run import SOLUTIONS, failure_message, run_task

GPU = SOLUTIONS / "08-gpu" / "gpu.ipynb"

GRADS = """
def two_layer_grads(X, W1, W2, y):
    {module}
    n = X.shape[0]
    h = {maximum}(0.0, X @ W1)
    scores = h @ W2
    e = {exp}(scores - scores.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    one_hot = {zeros}
    one_hot[{arange}(n), y] = 1.0
    dscores = (p - one_hot) / {divisor}
    dW2 = h.T @ dscores
    dh = (dscores @ W2.T) * (h > 0)
    return {result}
"""
RIGHT = {
    "module": "xp = get_array_module(X)",
    "maximum": "xp.maximum",
    "exp": "xp.exp",
    "zeros": "xp.zeros(scores.shape)",
    "arange": "xp.arange",
    "divisor": "n",
    "result": "X.T @ dh, dW2",
}


def grads(**changes):
    return GRADS.format(**{**RIGHT, **changes})


HOST_ONLY = {"maximum": "np.maximum", "exp": "np.exp", "arange": "np.arange"}
NUMPY_AS_GIVEN = grads(**HOST_ONLY, module="pass", zeros="np.zeros(scores.shape)")
ZEROS_ON_HOST = grads(zeros="np.zeros(scores.shape)", arange="np.arange")
NUMPY_ZEROS_LIKE = grads(zeros="np.zeros_like(p)")
RESULT_TO_HOST = grads(result="to_numpy(X.T @ dh), to_numpy(dW2)")
ROUND_TRIP = grads(
    **HOST_ONLY,
    module="xp = get_array_module(X)\n    X, W1, W2, y = (to_numpy(a) for a in (X, W1, W2, y))",
    zeros="np.zeros(scores.shape)",
    result="xp.asarray(X.T @ dh), xp.asarray(dW2)",
)
FIXED_MODULE = grads(module="xp = simdevice")
IMPORTS_CUPY = grads(module="import cupy as xp")
ARITHMETIC_CHANGED = grads(divisor="1")
SWAPPED = grads(result="dW2, X.T @ dh")
UPDATES_INPUTS = grads().replace(
    "    return X.T @ dh, dW2",
    "    W1 -= 0.1 * (X.T @ dh)  # an SGD step inside\n    return X.T @ dh, dW2",
)
OTHER_IMPORT = grads(module="from scipy.special import softmax\n    xp = get_array_module(X)")

# Where CuPy is installed the import succeeds and the NumPy inputs are what fails.
CUPY_PHRASE = "do not import cupy" if importlib.util.find_spec("cupy") is None else "fix its module"

FLOPS = "def step_flops(N, D, H, C):\n    return {}\n"
COUNTS_DX = FLOPS.format("2 * N * (3 * D * H + 3 * H * C)")
MULTIPLY_ADDS = FLOPS.format("N * (2 * D * H + 3 * H * C)")
FORWARD_ONLY = FLOPS.format("2 * N * (D * H + H * C)")
BACKWARD_ONLY = FLOPS.format("2 * N * (D * H + 2 * H * C)")
NO_DH = FLOPS.format("2 * N * (2 * D * H + 2 * H * C)")

CASES = {
    "the NumPy function left as it is": ("device-agnostic", NUMPY_AS_GIVEN, "xp.maximum"),
    "np.zeros left in": (
        "device-agnostic",
        ZEROS_ON_HOST,
        "write xp.arange, xp.zeros. np.arange, np.zeros make arrays in the CPU's memory",
    ),
    "np.zeros_like on a device array": ("device-agnostic", NUMPY_ZEROS_LIKE, "write xp.zeros_like"),
    "results copied to the host": ("device-agnostic", RESULT_TO_HOST, "it left the device"),
    "computed on the host, copied back": ("device-agnostic", ROUND_TRIP, "to the host"),
    "the module fixed, not asked": ("device-agnostic", FIXED_MODULE, "fix its module"),
    "cupy imported": ("device-agnostic", IMPORTS_CUPY, CUPY_PHRASE),
    "the arithmetic changed too": ("device-agnostic", ARITHMETIC_CHANGED, "not the arithmetic"),
    "dW2 returned first": ("device-agnostic", SWAPPED, "return (dW1, dW2) in that order"),
    "an input changed in place": (
        "device-agnostic",
        UPDATES_INPUTS,
        "changed its input W1 in place",
    ),
    "dX counted": ("step-flops", COUNTS_DX, "nobody needs its gradient"),
    "multiply-adds, not FLOPs": ("step-flops", MULTIPLY_ADDS, "counts multiply-adds"),
    "forward pass only": ("step-flops", FORWARD_ONLY, "forward pass only"),
    "backward pass only": ("step-flops", BACKWARD_ONLY, "backward pass only"),
    "dh left out": ("step-flops", NO_DH, "one backward product is missing"),
}

if importlib.util.find_spec("scipy") is None:  # a package the kit does not install
    CASES["another package imported"] = ("device-agnostic", OTHER_IMPORT, "is not installed here")


@pytest.mark.parametrize("case", list(CASES))
def test_known_mistake_gets_its_hint(case):
    """Does the task's test cell fail with a message that names this mistake?"""
    task_id, wrong, phrase = CASES[case]
    failure_message(GPU, task_id, wrong, phrase)


def test_round_trip_is_caught_though_the_numbers_are_right():
    """Is copying to the host and back refused as such, not as a wrong number?"""
    msg = failure_message(GPU, "device-agnostic", ROUND_TRIP, "and back")
    assert "copied" in msg and "numbers come out right" in msg, msg


def test_host_index_array_is_allowed_as_in_cupy():
    """Does np.arange as an index pass, since CuPy accepts host index arrays too?"""
    assert run_task(GPU, "device-agnostic", grads(arange="np.arange")) is None


@pytest.mark.parametrize("task_id", sorted({task_id for task_id, _, _ in CASES.values()}))
def test_solution_passes_where_the_mistakes_fail(task_id):
    """Is the same test cell satisfied by the solution (so the hint tests are not vacuous)?"""
    assert run_task(GPU, task_id) is None
