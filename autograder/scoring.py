"""From the runner's replies to a notebook's result, and to a notebook that is safe to show.

``score_notebook`` turns the test cells' outcomes and the integrity events into a
``NotebookResult`` (graded / zero / flagged, with the reason in words); ``executed_notebook``
writes the cells as run, with the visible tests only, no traceback into a test, hidden-test
lines withheld, and the student's own markdown as plain text.
"""

import re
from pathlib import Path

import nbformat

from .results import NotebookResult, TaskOutcome
from .submission import defined_names

__all__ = [
    "CHEATING",
    "FLAGGING",
    "zero_result",
    "score_notebook",
    "executed_notebook",
    "withhold_hidden",
    "rebinding_events",
    "printable",
]

CHEATING = {"tamper", "reference", "forbidden-path"}
FLAGGING = CHEATING | {"write-outside", "network"}
PASSED = "passed the tests in this cell"  # chainrule.grading.task's line on success
WITHHELD = "[withheld: a line of the hidden tests]"
_HINT = re.compile(r"Hint: (.+?)(?:\n|$)")


def zero_result(info, name, reason, status="zero"):
    outcomes = [TaskOutcome(t.id, float(t.points), 0.0, "not run") for t in info.tasks[name]]
    flags = [reason] if status == "flagged" else []
    return NotebookResult(
        Path(name).stem, 0.0, info.max_score(name), status, reason, flags, outcomes
    )


def _message(reply):
    error = reply.get("error") or {}
    ename, evalue = error.get("ename", "Error"), error.get("evalue", "")
    if ename in ("TaskFailure", "AssertionError"):
        return evalue
    return f"{ename}: {evalue}" if evalue else ename


def score_notebook(info, name, plan, replies, died, events, notes):
    where = {c.grade_id: i for i, c in enumerate(plan.cells) if c.kind == "test"}
    outcomes, reasons = [], []
    for t in info.tasks[name]:
        reply = replies.get(where.get(t.id))
        out = TaskOutcome(t.id, float(t.points))
        if reply is None:
            out.message = "the test cell did not run"
        elif reply["status"] == "ok":
            out.status, out.score = "pass", float(t.points)
        else:
            out.message = _message(reply)
            stub = any(
                _stubbed(replies.get(i))
                for i, c in enumerate(plan.cells)
                if c.kind == "answer" and c.task == t.id
            )
            todo = stub or "not done yet" in out.message
            out.status = "todo" if todo else "fail"
            out.hints = [h for h in _HINT.findall(out.message) if _known_hint(h, info)]
        if t.id in plan.tampered:
            out.status, out.score = "flagged", 0.0
            out.message = plan.tampered[t.id] + (
                f" (it {'passes' if reply and reply['status'] == 'ok' else 'fails'})"
            )
        outcomes.append(out)
    flags = [plan.tampered[k] for k in plan.tampered if k not in {o.id for o in outcomes}]
    flags += [o.message for o in outcomes if o.status == "flagged"]
    flags += [e["detail"] for e in events if e["kind"] in FLAGGING]
    for i, reply in sorted(replies.items()):
        if reply.get("timed_out"):
            cell = plan.cells[i]
            what = f" (task {cell.task})" if cell.task else ""
            limit = f"{reply['limit']:g}"  # Sandbox.run puts the cell's limit in every reply
            reasons.append(f"cell {i}{what} ran past its {limit} s limit and was interrupted")
    forged = died is not None and died.forged
    cheated = forged or any(e["kind"] in CHEATING for e in events)
    score = sum(o.score for o in outcomes)
    if died is not None:
        reasons.insert(0, died.reason)
        for o in outcomes:
            if o.status != "flagged" and where.get(o.id, -1) >= (died.cell or 0):
                o.status, o.message = "not run", "the notebook stopped before this test"
    if cheated or died is not None:
        status, score = ("flagged" if cheated else "zero"), 0.0
        for o in outcomes:
            o.score = 0.0
    elif flags:
        status = "flagged"
    else:
        status = "graded"
    flags = [printable(f) for f in flags]
    reason = printable("; ".join(reasons + flags + notes))
    return NotebookResult(
        Path(name).stem, score, info.max_score(name), status, reason, flags, outcomes
    )


def _known_hint(hint, info):
    """A hint counts if the course wrote it (the notebook's tests or chainrule.grading), not
    if a student's own error message says "Hint: ..."."""
    return hint[:40] in info.hint_text


def _stubbed(reply):
    return bool(reply) and (reply.get("error") or {}).get("ename") == "NotImplementedError"


def executed_notebook(student_nb, plan, replies, result, released_markdown):
    """The notebook as run, safe to show: visible tests only, no tracebacks into the tests,
    and the student's own markdown as plain text (no HTML or script of theirs in feedback)."""
    keep = ("kernelspec", "language_info")
    nb = nbformat.v4.new_notebook(
        metadata={k: v for k, v in student_nb.metadata.items() if k in keep}
    )
    count = 0
    for i, cell in enumerate(plan.cells):
        if cell.kind == "markdown":
            text = cell.shown
            if text.strip() not in released_markdown:
                text = _as_text(text)
            nb.cells.append(nbformat.v4.new_markdown_cell(text, metadata=cell.metadata))
            continue
        meta = dict(cell.metadata)
        if cell.kind not in ("test", "locked", "answer"):
            meta.pop("nbgrader", None)  # a student's cell: whatever its tags claim, not graded
        new = nbformat.v4.new_code_cell(cell.shown, metadata=meta)
        reply = replies.get(i)
        if reply is not None:
            count += 1
            new.execution_count = count
            locked = cell.kind in ("test", "locked")
            new.outputs = _outputs(reply, count, locked, cell.task if locked else None)
        nb.cells.append(new)
    nb.metadata["backprop_kit"] = {k: v for k, v in vars(result).items() if k != "tasks"} | {
        "tasks": [vars(t) for t in result.tasks]
    }
    return nb


def _as_text(markdown):
    """Markdown shown verbatim: a fenced block longer than any run of backticks inside."""
    longest = max((len(m) for m in re.findall(r"`+", markdown)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{markdown}\n{fence}"


def printable(text):
    """Control characters (a carriage return, terminal escapes) written out as \\xNN."""
    return "".join(c if c.isprintable() or c in "\n\t" else f"\\x{ord(c):02x}" for c in text)


def _outputs(reply, count, hide_traceback, task=None):
    """nbformat outputs of one cell. A test cell keeps only its task's own lines (``[task]
    passed ...``): anything else it printed may come from hidden tests, e.g. their inputs."""
    outs = []
    for o in reply.get("outputs", []):
        if o["output_type"] == "stream":
            text = o["text"]
            if hide_traceback:
                keep = [ln for ln in text.splitlines() if task and ln == f"[{task}] {PASSED}"]
                text = "\n".join(keep) + "\n" if keep else ""
            if text:
                outs.append(nbformat.v4.new_output("stream", name=o["name"], text=text))
        elif hide_traceback:
            continue
        elif o["output_type"] == "execute_result":
            outs.append(
                nbformat.v4.new_output(
                    "execute_result", data={"text/plain": o["text"]}, execution_count=count
                )
            )
        else:
            outs.append(nbformat.v4.new_output("display_data", data={"text/plain": o["text"]}))
    error = reply.get("error")
    if error:
        tb = [] if hide_traceback else list(error.get("traceback", []))
        outs.append(
            nbformat.v4.new_output(
                "error", ename=error["ename"], evalue=error["evalue"], traceback=tb
            )
        )
    return outs


def withhold_hidden(replies, hidden, locked):
    """Replace hidden-test lines in every output and error message; one event per cell. The
    tracebacks of ``locked`` cells quote their own source (hidden tests included) and are
    never shown, so they are dropped instead."""
    events = []
    for i, reply in replies.items():
        leaked = False
        for o in reply.get("outputs", []):
            o["text"], hit = _scrub_hidden(o["text"], hidden)
            leaked |= hit
        error = reply.get("error") or {}
        if "evalue" in error:
            error["evalue"], hit = _scrub_hidden(error["evalue"], hidden)
            leaked |= hit
        if i in locked:
            error["traceback"] = []
        elif "traceback" in error:
            scrubbed = [_scrub_hidden(t, hidden) for t in error["traceback"]]
            error["traceback"] = [t for t, _ in scrubbed]
            leaked |= any(hit for _, hit in scrubbed)
        if leaked:
            detail = f"cell {i} showed lines of the hidden tests (withheld from the feedback)"
            events.append({"kind": "tamper", "detail": detail})
    return events


def _scrub_hidden(text, hidden):
    if not hidden or not text:
        return text, False
    hit = False
    for line in hidden:
        if line in text:
            text, hit = text.replace(line, WITHHELD), True
    return text, hit


def rebinding_events(plan, bound):
    """Integrity events for student cells that define a name the tests import."""
    events = []
    for i, cell in enumerate(plan.cells):
        if cell.kind in ("answer", "student"):
            for name in sorted(defined_names(cell.source) & bound):
                detail = f"cell {i} redefines {name}, which the tests use"
                events.append({"kind": "tamper", "detail": detail})
    return events
