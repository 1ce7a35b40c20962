"""Helpers for the notebooks' test cells: say what was expected, what came back, and a hint.

A test cell wraps its checks in ``task``, which names the exercise in every message::

    with task("mul-gate"):
        gate = MultiplyGate()
        expect_gate(gate, (3.0, -4.0), upstream=2.0, out=-12.0, grads=(-8.0, 6.0),
                    mistakes=[swapped_inputs((-8.0, 6.0)), forgot_upstream((-8.0, 6.0), 2.0)])

On success it prints one line; on failure it raises ``TaskFailure`` (an ``AssertionError``, so
nbgrader scores the cell 0) whose message starts with ``[mul-gate]``. Untouched exercises
(``NotImplementedError``) and cells run out of order (``NameError``) get a message that says so
instead of a traceback into the test.

How a task came out is defined here once, for the test cells that write the messages and for
the two readers of them (``backprop-kit check`` and grading): the statuses ``PASS``, ``FAIL``,
``TODO`` and ``NOT_RUN``, the markers the messages carry (``PASSED``, ``NOT_STARTED``, ``HINT``)
and ``classify``, which turns how a task's cells ended into its status.

A ``Mistake`` is a known wrong answer with the hint that explains it. The factories below build
the commonest ones from the right answer: ``forgot_upstream``, ``swapped_inputs``,
``routed_to_both``, ``assigned_at_branch``, ``sigmoid_grad_from_x`` and ``transposed``. When a
student's value matches one of them, the message names that mistake.
"""

import re

import numpy as np

__all__ = [
    "PASS",
    "FAIL",
    "TODO",
    "NOT_RUN",
    "PASSED",
    "NOT_STARTED",
    "HINT",
    "FAILURES",
    "classify",
    "failure_message",
    "hints_in",
    "passed_line",
    "TaskFailure",
    "task",
    "Mistake",
    "expect_close",
    "expect_tuple",
    "expect_gate",
    "forgot_upstream",
    "swapped_inputs",
    "routed_to_both",
    "assigned_at_branch",
    "sigmoid_grad_from_x",
    "transposed",
]


# -- a task's outcome ---------------------------------------------------------------------------

PASS, FAIL, TODO, NOT_RUN = "pass", "fail", "todo", "not run"
PASSED = "passed the tests in this cell"  # the line a test cell prints, after "[task-id] "
NOT_STARTED = "not done yet"  # how a test cell's message says the exercise is untouched
HINT = "Hint: "  # what comes before each hint in a message
FAILURES = ("TaskFailure", "AssertionError")  # errors whose message is the test's own words


def passed_line(task_id):
    """The line a passing test cell of ``task_id`` prints: ``[mul-gate] passed the tests ...``."""
    return f"[{task_id}] {PASSED}"


def classify(test_error, answer_errors=(), ran=True):
    """The status of one task from how its cells ended: ``PASS``, ``FAIL``, ``TODO``, ``NOT_RUN``.

    - ``test_error``: the test cell's error as ``(ename, evalue)``, or None if it passed;
    - ``answer_errors``: the error names (``ename``) of the task's answer cells that raised;
    - ``ran``: False when the test cell never ran (an earlier cell hung, the notebook died).

    A test cell that ran and passed is ``PASS``, whatever the answer cells did. Otherwise an
    answer cell still raising ``NotImplementedError``, or a test message marked
    ``NOT_STARTED``, is ``TODO``; an answer cell that raised anything else is ``FAIL`` even if
    the test cell never ran.
    """
    if ran and test_error is None:
        return PASS
    if "NotImplementedError" in answer_errors:
        return TODO
    if not ran:
        return FAIL if answer_errors else NOT_RUN
    ename, evalue = test_error
    if ename in FAILURES and NOT_STARTED in evalue:
        return TODO
    return FAIL


def failure_message(ename, evalue):
    """What to show for a failed test cell: the test's own words, or ``ename: evalue``."""
    if ename in FAILURES:
        return evalue
    return f"{ename}: {evalue}" if evalue else ename


def hints_in(message):
    """The hints a message gives, in order: the text after each ``HINT`` to the line's end."""
    return re.findall(re.escape(HINT) + r"(.+?)(?:\n|$)", message)


class TaskFailure(AssertionError):
    """A visible or hidden test of one task failed; the message starts with ``[task-id]``."""

    def __init__(self, task_id, message):
        self.task_id = task_id
        self.detail = message
        super().__init__(f"[{task_id}] {message}")


class task:
    """Context manager that tags every failure inside it with the task id.

    ``quiet=True`` skips the line printed on success (used by hidden tests).
    """

    def __init__(self, task_id, quiet=False):
        self.task_id = task_id
        self.quiet = quiet

    def __enter__(self):
        return self

    def __exit__(self, etype, err, tb):
        tid = self.task_id
        if etype is None:
            if not self.quiet:
                print(passed_line(tid))
            return False
        if isinstance(err, TaskFailure):
            return False
        if issubclass(etype, NotImplementedError):
            raise TaskFailure(
                tid,
                f"{NOT_STARTED}: the code cell of Task {tid} still raises NotImplementedError. "
                "Replace `# YOUR CODE HERE` and the `raise NotImplementedError()` line with your "
                "code, run that cell, then run this one.",
            ) from None
        if issubclass(etype, NameError):
            raise TaskFailure(
                tid,
                f"{err}. Your code cell of Task {tid} must define it, with the name the "
                "instructions use. Run that cell (and the cells above it, from the top) before "
                "this one; if it stopped with an error, fix that error first.",
            ) from None
        if issubclass(etype, AssertionError):
            raise TaskFailure(tid, str(err) or "an assertion in this cell failed") from err
        raise TaskFailure(tid, f"your code raised {etype.__name__}: {err}") from err


class Mistake:
    """A known wrong answer ``wrong`` and the ``hint`` that explains how it comes about."""

    def __init__(self, wrong, hint):
        self.wrong = wrong
        self.hint = hint

    def __repr__(self):
        return f"Mistake({_show(self.wrong)}, {self.hint!r})"


# -- comparing ----------------------------------------------------------------------------------


def expect_close(what, got, expected, *, mistakes=(), hint=None, rtol=1e-6, atol=1e-8):
    """Raise ``AssertionError`` unless ``got`` equals ``expected`` (numbers, tuples or arrays).

    ``what`` names the value in the message (``"dx"``, ``"gate.backward(2.0)"``). The message
    says what was expected and what came back. If ``got`` matches one of ``mistakes`` the hint
    names that mistake; otherwise ``hint`` (if given) is added.
    """
    want = np.asarray(expected, dtype=float)
    if got is None:
        raise AssertionError(
            f"{what} is None; expected {_show(want)}. Did the function end without `return`?"
        )
    if not _plain(got):
        if type(got) is str:
            shown = f"str {_brief(got)}"
        else:
            shown = _offender(got) + " (only numbers, arrays, lists and tuples count)"
        raise AssertionError(f"{what} should be {_kind(want)}, got {shown}")
    try:
        have = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise AssertionError(
            f"{what} should be {_kind(want)}, got {type(got).__name__} {_brief(got)}"
        ) from None
    found = _match(have, mistakes, rtol, atol)
    if have.shape != want.shape:
        msg = f"{what} has shape {have.shape}, expected shape {want.shape}."
        raise AssertionError(_with_hint(msg, found or hint))
    if np.allclose(have, want, rtol=rtol, atol=atol):
        return
    msg = f"{what}: expected {_show(want)}, got {_show(have)}."
    raise AssertionError(_with_hint(msg, found or hint))


def expect_tuple(what, got, names):
    """Raise ``AssertionError`` unless ``got`` is a tuple (or list) with one entry per name.

    ``names`` spells out what the function should return, e.g. ``("grad_W", "grad_x")``.
    """
    want = f"a tuple ({', '.join(names)})"
    if not isinstance(got, (tuple, list)):
        raise AssertionError(f"{what} returned {type(got).__name__} {_brief(got)}; expected {want}")
    if len(got) != len(names):
        raise AssertionError(f"{what} returned {len(got)} values; expected {want}")
    return tuple(got)


def expect_gate(gate, inputs, *, upstream, out, grads, mistakes=(), rtol=1e-6, atol=1e-8):
    """Check one gate: ``forward(*inputs)`` returns ``out``, ``backward(upstream)`` ``grads``.

    ``grads`` has one entry per input, in input order. Messages show the call that failed.
    """
    name = type(gate).__name__
    call = f"{name}().forward({', '.join(_show(v) for v in inputs)})"
    expect_close(call, gate.forward(*inputs), out, rtol=rtol, atol=atol)
    back = f"{name}.backward({_show(upstream)}) after {call}"
    got = gate.backward(upstream)
    if not isinstance(got, (tuple, list)) or len(got) != len(grads):
        size = f"{len(got)} values" if isinstance(got, (tuple, list)) else repr(got)
        raise AssertionError(
            f"{back} returned {size}; it must return a tuple with one gradient per input "
            f"({len(grads)} here), in input order"
        )
    expect_close(back, tuple(got), tuple(grads), mistakes=mistakes, rtol=rtol, atol=atol)


_NUMBERS = (int, float, bool, np.number, np.bool_)


def _plain(value, depth=0):
    """Numbers, NumPy arrays of numbers, and lists or tuples of them: values whose conversion
    runs no code of the student's (an object with its own ``__array__`` or ``__float__`` could
    answer with whatever the check expects)."""
    if isinstance(value, _NUMBERS) and type(value).__module__ in ("builtins", "numpy"):
        return True
    if type(value) is np.ndarray:
        return value.dtype.kind in "biuf"
    if type(value) in (list, tuple) and depth < 8:
        return all(_plain(v, depth + 1) for v in value)
    return False


def _offender(value):
    """The type that is not a plain value, named without running any of its code."""
    if type(value) in (list, tuple):
        inner = next((v for v in value if not _plain(v)), None)
        return f"{type(value).__name__} holding {_offender(inner)}"
    return type(value).__name__


def _brief(v):
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _match(have, mistakes, rtol=1e-6, atol=1e-8):
    """The hint of the first mistake ``have`` equals, within the check's own tolerances."""
    for m in mistakes:
        wrong = np.asarray(m.wrong, dtype=float)
        if wrong.shape == have.shape and np.allclose(have, wrong, rtol=rtol, atol=atol):
            return m.hint
    return None


def _with_hint(msg, hint):
    return f"{msg} {HINT}{hint}" if hint else msg


def _kind(a):
    return "a number" if a.ndim == 0 else f"an array of shape {a.shape}"


def _show(v):
    """Numbers as ``-8``, ``0.196612``; arrays as nested lists of them (long ones abridged)."""
    a = np.asarray(v, dtype=float)
    if a.size > 24:
        return np.array2string(a, precision=6, separator=", ", threshold=24)
    return _nested(a)


def _nested(a):
    if a.ndim == 0:
        v = float(a)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))  # 1000001 stays 1000001, -0.0 prints as 0
        return f"{v:.6g}"
    return "[" + ", ".join(_nested(row) for row in a) + "]"


# -- the commonest mistakes -------------------------------------------------------------------


def forgot_upstream(grads, upstream):
    """The local gradient alone: ``grads`` divided by the upstream gradient."""
    return Mistake(
        np.asarray(grads, dtype=float) / upstream,
        "this is the local gradient alone. Multiply it by the upstream gradient: "
        "downstream = local gradient x upstream gradient.",
    )


def swapped_inputs(grads):
    """The multiply gate's gradients given to the wrong inputs: ``(x*up, y*up)``."""
    return Mistake(
        tuple(grads)[::-1],
        "the inputs look swapped. For z = x*y, dz/dx = y and dz/dy = x: each input's "
        "gradient is the *other* input's value times the upstream gradient.",
    )


def routed_to_both(upstream, n=2):
    """The max gate sending the upstream gradient to every input."""
    return Mistake(
        (upstream,) * n,
        "max routes: the whole upstream gradient goes to the larger input and the other "
        "input gets 0. Only the add gate sends it to both.",
    )


def assigned_at_branch(*contributions):
    """One branch's contribution alone, for a variable that feeds several branches."""
    return [
        Mistake(
            c,
            "this is one branch's contribution only. A variable used in several places gets "
            "the *sum* of the gradients from every branch: accumulate with +=, do not assign.",
        )
        for c in contributions
    ]


def sigmoid_grad_from_x(x, upstream):
    """sigma'(x) computed as (1 - x) x instead of (1 - sigma(x)) sigma(x)."""
    x = np.asarray(x, dtype=float)
    return Mistake(
        (1.0 - x) * x * upstream,
        "the local gradient is (1 - s) s with s = sigmoid(x), the gate's *output*; (1 - x) x "
        "uses the input. Keep s from forward in the cache.",
    )


def transposed(expected, what="dW", rule=None):
    """A matrix gradient with rows and columns exchanged; ``rule`` states the right formula."""
    expected = np.asarray(expected, dtype=float)
    hint = (
        f"{what} looks transposed. A gradient has the shape of its variable, {expected.shape} "
        "here: check which factor of the product comes first and which one is transposed."
    )
    return Mistake(expected.T, f"{hint} ({rule})" if rule else hint)
