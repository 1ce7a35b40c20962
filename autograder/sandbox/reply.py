"""The contract between host and sandbox: what a runner's reply holds, checked field by field.

Everything a reply says comes from a process that runs student code, so the host trusts none of
it until ``valid`` has checked it: a reply that is not well formed, or does not echo its
request's nonce, is refused as forged (``Sandbox`` then stops the sandbox and flags the
notebook). The shapes below are what the rest of the grader may rely on afterwards.
"""

from typing import Literal, NotRequired, TypedDict

__all__ = ["Event", "CellError", "Output", "Reply", "EVENT_KINDS", "valid", "encodable"]

# What the runner reports (runner_audit.Watch and runner_integrity.Integrity).
EVENT_KINDS = ("tamper", "forbidden-path", "write-outside", "network", "process", "reference")


class Event(TypedDict):
    """One integrity event: ``kind`` (one of ``EVENT_KINDS``) and a sentence for a person."""

    kind: str
    detail: str


class CellError(TypedDict):
    """The exception a cell ended with: its class name, its message and a short traceback."""

    ename: str
    evalue: str
    traceback: NotRequired[list[str]]


class Output(TypedDict):
    """One output: a stream (``name`` stdout or stderr) or a result or display, as text."""

    output_type: Literal["stream", "execute_result", "display_data"]
    text: str
    name: NotRequired[Literal["stdout", "stderr"]]


class Reply(TypedDict):
    """The reply to one ``run`` request, after ``valid`` and ``Sandbox.run``.

    - ``cell``: the index of the cell in the assembled notebook (the request's);
    - ``status``: ``"ok"``, or ``"error"`` when the cell raised (``error`` says what);
    - ``timed_out``: the cell was interrupted at its time limit;
    - ``outputs``: what it printed and showed, each capped at ``Limits.output_chars``;
    - ``events``: the integrity events seen while it ran;
    - ``seconds``: how long it ran; ``processes``: processes the notebook started so far;
    - ``limit``: the cell's time limit in seconds (set by ``Sandbox.run``, not the runner).
    """

    ok: bool
    nonce: str
    cell: int
    status: Literal["ok", "error"]
    timed_out: bool
    error: CellError | None
    outputs: list[Output]
    events: list[Event]
    seconds: float
    processes: int
    limit: float


def valid(reply, request):
    """The runner's reply to ``request``, checked field by field; ``ValueError`` otherwise.

    Missing optional fields get their defaults (``events`` [], ``timed_out`` False,
    ``error`` None, ``seconds`` 0, ``processes`` 0), so a checked ``run`` reply has every field
    of ``Reply`` but ``limit``."""
    if not isinstance(reply, dict) or reply.get("nonce") != request["nonce"]:
        raise ValueError("no reply with this request's nonce")
    events = reply.setdefault("events", [])
    if not isinstance(events, list) or not all(
        isinstance(e, dict) and isinstance(e.get("kind"), str) and isinstance(e.get("detail"), str)
        for e in events
    ):
        raise ValueError("malformed integrity events")
    if request["op"] != "run":
        return encodable(reply)
    if reply.get("cell") != request["cell"] or reply.get("status") not in ("ok", "error"):
        raise ValueError("wrong cell or status")
    error = reply.get("error")
    if error is not None and not (
        isinstance(error, dict)
        and all(isinstance(error.get(k), str) for k in ("ename", "evalue"))
        and isinstance(error.get("traceback", []), list)
    ):
        raise ValueError("malformed error")
    outputs = reply.get("outputs")
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict)
        and isinstance(o.get("text"), str)
        and o.get("output_type") in ("stream", "execute_result", "display_data")
        and (o["output_type"] != "stream" or o.get("name") in ("stdout", "stderr"))
        for o in outputs
    ):
        raise ValueError("malformed outputs")
    if not isinstance(reply.setdefault("seconds", 0), (int, float)):
        raise ValueError("malformed time")
    if not isinstance(reply.setdefault("timed_out", False), bool):
        raise ValueError("malformed timeout flag")
    if not isinstance(reply.setdefault("processes", 0), int):
        raise ValueError("malformed process count")
    reply.setdefault("error", None)
    return encodable(reply)


def encodable(value):
    """Strings made safe to write as UTF-8 (a lone surrogate from a notebook becomes '?')."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [encodable(v) for v in value]
    if isinstance(value, dict):
        return {encodable(k): encodable(v) for k, v in value.items()}
    return value
