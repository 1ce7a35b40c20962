"""Do the notebooks' test messages name the commonest mistakes when fed those mistakes?

Each case replaces one task's answer cell in a solution notebook with a known wrong
implementation and runs the notebook's own test cell on it.
"""

import pytest

from chainrule.testcells import TaskFailure
from chainrule.variants import variant
from tests.notebooks._run import SOLUTIONS, failure_message, run_task

GRAPHS = SOLUTIONS / "01-graphs" / "graphs.ipynb"
NEURON = SOLUTIONS / "02-sigmoid-neuron" / "sigmoid_neuron.ipynb"
PATTERNS = SOLUTIONS / "03-patterns" / "patterns.ipynb"
VECTORIZED = SOLUTIONS / "04-vectorized" / "vectorized.ipynb"

MUL_GATE = """
class MultiplyGate(Gate):
    input_names = ("x", "y")

    def forward(self, x, y):
        self.cache = (x, y)
        return x * y

    def backward(self, dz):
        x, y = self.saved()
        return {returned}
"""
MUL_SWAPPED = MUL_GATE.format(returned="(x * dz, y * dz)")
MUL_NO_UPSTREAM = MUL_GATE.format(returned="(y, x)")

ADD_NO_UPSTREAM = """
class AddGate(Gate):
    input_names = ("x", "y")

    def forward(self, x, y):
        self.cache = ()
        return x + y

    def backward(self, dz):
        return (1.0, 1.0)
"""

ASSIGN_AT_BRANCH = """
def backward_pass(steps, output, upstream=1.0):
    grads = {output: upstream}
    for name, gate, input_names in reversed(steps):
        for input_name, g in zip(input_names, gate.backward(grads[name])):
            grads[input_name] = g
    return grads
"""

MAX_TO_BOTH = """
class MaxGate(Gate):
    input_names = ("x", "y")

    def forward(self, x, y):
        self.cache = ()
        return max(x, y)

    def backward(self, dz):
        return (dz, dz)
"""

SIGMOID_FROM_X = """
class SigmoidGate(Gate):
    input_names = ("x",)

    def forward(self, x):
        self.cache = x
        return 1.0 / (1.0 + math.exp(-x))

    def backward(self, ds):
        x = self.saved()
        return ((1.0 - x) * x * ds,)
"""

WX_TRANSPOSED = """
def wx_squared_backward(W, x):
    q = W @ x
    return np.outer(x, 2 * q), W.T @ (2 * q)
"""

SVM_TRANSPOSED = """
def svm_loss_staged(W, X, y, reg):
    N = X.shape[0]
    rows = np.arange(N)
    scores = X @ W
    margins = np.maximum(0.0, scores - scores[rows, y][:, None] + 1.0)
    margins[rows, y] = 0.0
    loss = margins.sum() / N + 0.5 * reg * np.sum(W * W)
    dscores = (margins > 0) / N
    dscores[rows, y] = -dscores.sum(axis=1)
    return loss, (X.T @ dscores + reg * W).T
"""

COST_OFF_BY_ONE = """
numerical_forward_passes = 2 * weights + 1
backprop_forward_pass_equivalents = 3
"""

RELU_AT_ZERO = """
def relu_backward(dout, x):
    return dout * (x >= 0)
"""

AFFINE_TRANSPOSED = """
def affine_backward(dout, x, W, b):
    return dout @ W.T, dout.T @ x, dout.sum(axis=0)
"""

CASES = {
    "swapped inputs in the mul gate": (GRAPHS, "mul-gate", MUL_SWAPPED, "swapped"),
    "mul gate forgets the upstream gradient": (
        GRAPHS,
        "mul-gate",
        MUL_NO_UPSTREAM,
        "Multiply it by the upstream gradient",
    ),
    "add gate forgets the upstream gradient": (
        GRAPHS,
        "add-gate",
        ADD_NO_UPSTREAM,
        "local gradient alone",
    ),
    "assigning instead of adding at a branch": (
        PATTERNS,
        "accumulate",
        ASSIGN_AT_BRANCH,
        "accumulate with +=",
    ),
    "max routes to both inputs": (PATTERNS, "max-gate", MAX_TO_BOTH, "max routes"),
    "sigmoid gradient from x": (NEURON, "sigmoid-gate", SIGMOID_FROM_X, "uses the input"),
    "transposed grad W in ||Wx||^2": (VECTORIZED, "wx-backward", WX_TRANSPOSED, "transposed"),
    "transposed dW in the staged SVM": (NEURON, "svm-staged", SVM_TRANSPOSED, "transposed"),
    "relu passes the gradient at x = 0": (VECTORIZED, "relu-backward", RELU_AT_ZERO, "x > 0"),
    "transposed dW in affine backward": (
        VECTORIZED,
        "affine-backward",
        AFFINE_TRANSPOSED,
        "transposed",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_known_mistake_gets_its_hint(case):
    """Does the task's test cell fail with a message that names this mistake?"""
    path, task_id, wrong, phrase = CASES[case]
    msg = failure_message(path, task_id, wrong, phrase)
    assert "Hint:" in msg and "expected" in msg, msg


@pytest.mark.parametrize("case", ["swapped inputs in the mul gate", "max routes to both inputs"])
def test_solution_passes_where_the_mistake_fails(case):
    """Is the same test cell satisfied by the solution (so the hint test is not vacuous)?"""
    path, task_id, _, _ = CASES[case]
    assert run_task(path, task_id) is None


def test_untouched_answer_says_not_done():
    """Does an untouched answer cell produce 'not done yet' rather than a traceback?"""
    stub = "# YOUR CODE HERE\nraise NotImplementedError()"
    err = run_task(VECTORIZED, "jacobian-sizes", answer=stub)
    assert isinstance(err, TaskFailure), repr(err)
    assert "is not defined" in str(
        err
    ) and "Your code cell of Task jacobian-sizes must define" in str(err)
    err = run_task(GRAPHS, "graph", answer=stub.replace("raise", "def build_graph():\n    raise"))
    assert isinstance(err, TaskFailure), repr(err)
    assert "not done yet" in str(err), str(err)


def test_counts_are_checked_exactly():
    """Is a count that is off by one rejected, the student's count shown in full and the right
    one not given away?"""
    err = run_task(GRAPHS, "cost", answer=COST_OFF_BY_ONE, student="s1234567")
    assert isinstance(err, TaskFailure), repr(err)
    weights = variant("s1234567", "cost").weights
    assert f"numerical_forward_passes = {2 * weights + 1:,} is not right" in str(err), str(err)
    assert f"{2 * weights:,}" not in str(err) and str(2 * weights) not in str(err), str(err)
