"""Does notebook 7 name the commonest mistakes of a hand-written 2-layer net when fed them?

Each case replaces one task's answer cell in the solution notebook with a known wrong
implementation and runs the notebook's own test cell on it.
"""

import pytest

from tests.notebooks._run import SOLUTIONS, failure_message, run_task

NET = SOLUTIONS / "07-two-layer-net" / "two_layer_net.ipynb"

SIGMOID_FROM_Z = """
def sigmoid_net_loss(x, y, w1, w2):
    z = x @ w1
    h = 1.0 / (1.0 + np.exp(-z))
    y_pred = h @ w2
    d = 2.0 * (y_pred - y)
    return float(np.square(y_pred - y).sum()), x.T @ (d @ w2.T * z * (1 - z)), h.T @ d
"""

SOFTMAX = """
def softmax_loss(scores, y):
    n = scores.shape[0]
    {shift}
    probs = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = float(-np.log(probs[np.arange(n), y]).mean())
    d = probs.copy()
    d[np.arange(n), y] -= 1
    return loss, d / {divisor}
"""
SOFTMAX_NO_SHIFT = SOFTMAX.format(shift="s = scores", divisor="n")
SOFTMAX_LOG_OF_P = SOFTMAX.format(
    shift="s = scores - scores.max(axis=1, keepdims=True)", divisor="n"
)
SOFTMAX_GLOBAL_SHIFT = """
def softmax_loss(scores, y):
    n = scores.shape[0]
    s = scores - scores.max()
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    d = np.exp(logp)
    d[np.arange(n), y] -= 1
    return float(-logp[np.arange(n), y].mean()), d / n
"""

SOFTMAX_N_TWICE = """
def softmax_loss(scores, y):
    n = scores.shape[0]
    s = scores - scores.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    d = np.exp(logp)
    d[np.arange(n), y] -= 1
    return float(-logp[np.arange(n), y].mean()), d / n / n
"""

TWO_LAYER = """
def two_layer_loss(params, X, y, reg):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    n = X.shape[0]
    h1 = np.maximum(0.0, X @ W1 + b1)
    scores = h1 @ W2 + b2
    data_loss, dscores = softmax_loss(scores, y)
    loss = data_loss + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dW2 = {dW2}
    db2 = dscores.sum(axis=0)
    dh1 = (dscores @ W2.T) * (h1 > 0)
    dW1 = X.T @ dh1 + reg * W1
    db1 = {db1}
    return loss, {{"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}}
"""
RIGHT_DW2, RIGHT_DB1 = "h1.T @ dscores + reg * W2", "dh1.sum(axis=0)"
BIAS_NOT_SUMMED = TWO_LAYER.format(dW2=RIGHT_DW2, db1="dh1")
REG_MISSING = TWO_LAYER.format(dW2="h1.T @ dscores", db1=RIGHT_DB1)
REG_DOUBLED = TWO_LAYER.format(dW2="h1.T @ dscores + 2 * reg * W2", db1=RIGHT_DB1)
N_TWICE = TWO_LAYER.format(dW2="h1.T @ dscores / n + reg * W2", db1=RIGHT_DB1)
NO_RELU_MASK = TWO_LAYER.format(dW2=RIGHT_DW2, db1=RIGHT_DB1).replace(" * (h1 > 0)", "")

DELTAS_SUMMED = """
def delta_backprop(Ws, bs, X, Y):
    acts = [X]
    for W, b in zip(Ws, bs):
        acts.append(1.0 / (1.0 + np.exp(-(W @ acts[-1] + b[:, None]))))
    delta = (acts[-1] - Y) * acts[-1] * (1 - acts[-1])
    dWs, dbs = [None] * len(Ws), [None] * len(Ws)
    for l in reversed(range(len(Ws))):
        dWs[l], dbs[l] = delta @ acts[l].T, delta.sum(axis=1)
        delta = (Ws[l].T @ delta) * acts[l] * (1 - acts[l])
    return dWs, dbs
"""

DELTAS_BACKWARD_ORDER = """
def delta_backprop(Ws, bs, X, Y):
    n = X.shape[1]
    acts = [X]
    for W, b in zip(Ws, bs):
        acts.append(1.0 / (1.0 + np.exp(-(W @ acts[-1] + b[:, None]))))
    delta = (acts[-1] - Y) * acts[-1] * (1 - acts[-1])
    dWs, dbs = [], []
    for l in reversed(range(len(Ws))):
        dWs.append(delta @ acts[l].T / n)
        dbs.append(delta.sum(axis=1) / n)
        delta = (Ws[l].T @ delta) * acts[l] * (1 - acts[l])
    return dWs, dbs
"""

SGD_LABELS_UNSHUFFLED = """
def sgd_epoch(net, X, y, learning_rate, batch_size, rng):
    order = rng.permutation(X.shape[0])
    losses = []
    for s in range(0, X.shape[0], batch_size):
        idx = order[s : s + batch_size]
        losses.append(net.step(X[idx], y[s : s + batch_size], learning_rate))
    return losses
"""

STOP_ON_EQUAL = """
def early_stopping(val_losses, patience):
    best, waited = 0, 0
    for i in range(1, len(val_losses)):
        if val_losses[i] <= val_losses[best]:
            best, waited = i, 0
        else:
            waited += 1
            if waited == patience:
                return best, i
    return best, len(val_losses) - 1
"""

SGD_RESHUFFLES = """
def sgd_epoch(net, X, y, learning_rate, batch_size, rng):
    losses = []
    for start in range(0, X.shape[0], batch_size):
        idx = rng.permutation(X.shape[0])[:batch_size]
        losses.append(net.step(X[idx], y[idx], learning_rate))
    return losses
"""

STOP_SEES_THE_FUTURE = """
def early_stopping(val_losses, patience):
    best, waited = int(np.argmin(val_losses)), 0
    for i in range(1, len(val_losses)):
        waited = 0 if val_losses[i] < min(val_losses[:i]) else waited + 1
        if waited == patience:
            return best, i
    return best, len(val_losses) - 1
"""

NO_BIASES = """
def parameter_count(sizes):
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
"""

DX_AT_INPUT = """
def matmul_flops(N, sizes):
    forward = sum(N * a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return forward, 2 * forward
"""

CASES = {
    "sigmoid gradient from its input z": (
        "twenty-lines",
        SIGMOID_FROM_Z,
        "sigmoid's input z",
    ),
    "softmax without the max-shift": ("softmax-loss", SOFTMAX_NO_SHIFT, "each row's own maximum"),
    "softmax shifted by the global maximum": (
        "softmax-loss",
        SOFTMAX_GLOBAL_SHIFT,
        "each row's own maximum",
    ),
    "softmax loss through log(p)": ("softmax-loss", SOFTMAX_LOG_OF_P, "log(0) = -inf"),
    "softmax gradient divided by N twice": ("softmax-loss", SOFTMAX_N_TWICE, "divided out twice"),
    "bias gradient not summed over the batch": (
        "two-layer-loss",
        BIAS_NOT_SUMMED,
        "sum dh1 over the batch",
    ),
    "regularisation gradient missing": ("two-layer-loss", REG_MISSING, "reg * W2 is missing"),
    "regularisation gradient doubled": ("two-layer-loss", REG_DOUBLED, "counted twice"),
    "weight gradient divided by N twice": ("two-layer-loss", N_TWICE, "divided out twice"),
    "ReLU's local gradient left out": ("two-layer-loss", NO_RELU_MASK, "ReLU's local gradient"),
    "deltas summed, not averaged": ("deltas", DELTAS_SUMMED, "average over the n examples"),
    "deltas listed in backward order": ("deltas", DELTAS_BACKWARD_ORDER, "backward order"),
    "labels not shuffled with the inputs": ("sgd", SGD_LABELS_UNSHUFFLED, "their own labels"),
    "an equal loss counted as improvement": ("early-stopping", STOP_ON_EQUAL, "not <="),
    "SGD reshuffles for every batch": ("sgd", SGD_RESHUFFLES, "exactly once per epoch"),
    "early stopping that sees the future": (
        "early-stopping",
        STOP_SEES_THE_FUTURE,
        "lowest loss of the whole run",
    ),
    "parameters without biases": ("mnist-params", NO_BIASES, "weights only"),
    "a gradient for the input data": ("backward-cost", DX_AT_INPUT, "first layer needs no dx"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_known_mistake_gets_its_hint(case):
    """Does the task's test cell fail with a message that names this mistake?"""
    task_id, wrong, phrase = CASES[case]
    failure_message(NET, task_id, wrong, phrase)


@pytest.mark.parametrize("task_id", sorted({task_id for task_id, _, _ in CASES.values()}))
def test_solution_passes_where_the_mistakes_fail(task_id):
    """Is the same test cell satisfied by the solution (so the hint tests are not vacuous)?"""
    assert run_task(NET, task_id) is None
