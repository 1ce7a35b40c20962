"""From the runner's replies to a notebook's result, and to a notebook that is safe to show.

``score_notebook`` turns the test cells' outcomes and the integrity events into a
``NotebookResult`` (graded / zero / flagged, with the reason in words); ``executed_notebook``
writes the cells as run, with the visible tests only, no traceback into a test, hidden-test
lines withheld, and the student's own markdown as plain text.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.course.variants import match_flags
from autograder.intake.submission import defined_names
from autograder.results.records import NotebookResult, TaskOutcome
from chainrule.testcells import NOT_RUN, PASS, classify, failure_message, hints_in, passed_line

__all__ = [
    "NotebookRun",
    "FLAGGED",
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
FLAGGED = "flagged"  # a task's status, beyond chainrule.testcells' four, when it was tampered
WITHHELD = "[withheld: a line of the hidden tests]"


@dataclass
class NotebookRun:
    """One notebook of a submission as its sandbox ran it: what ``score_notebook`` reads.

    - ``info``: the ``Assignment`` (its tasks and points, hidden tests, the course's hint texts);
    - ``name``: the notebook's file name in the assignment, e.g. ``graphs.ipynb``;
    - ``plan``: the ``Plan`` that ``intake.submission.assemble`` made (cells in order, with
      kind and task; ``tampered``: {task id: what was done to its locked cells});
    - ``replies``: {cell index: ``sandbox.reply.Reply``} for every cell that ran;
    - ``died``: the ``SandboxDied`` that stopped the notebook, or None;
    - ``events``: the integrity events (``sandbox.reply.Event``) of the whole run;
    - ``notes``: remarks in words for the reason (a renamed file, a repaired cell id);
    - ``flags``: what the grader found before the run for a person to look at (a
      ``STUDENT_ID`` that names another student).
    """

    info: object
    name: str
    plan: object
    replies: dict = field(default_factory=dict)
    died: object = None
    events: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    flags: list = field(default_factory=list)


def zero_result(info, name, reason, status="zero"):
    outcomes = [TaskOutcome(t.id, float(t.points), 0.0, "not run") for t in info.tasks[name]]
    flags = [reason] if status == "flagged" else []
    return NotebookResult(
        Path(name).stem, 0.0, info.max_score(name), status, reason, flags, outcomes
    )


def _test_error(reply):
    """A test cell's reply as ``classify`` reads it: ``(ename, evalue)``, or None if it passed."""
    if reply["status"] == "ok":
        return None
    error = reply["error"] or {}
    return error.get("ename", "Error"), error.get("evalue", "")


def _task_outcome(run, task, where):
    """One task's outcome: status from ``classify``, the test's message and the course's hints."""
    plan, replies = run.plan, run.replies
    reply = replies.get(where.get(task.id))
    answers = [
        replies.get(i) for i, c in enumerate(plan.cells) if c.kind == "answer" and c.task == task.id
    ]
    answer_errors = [
        (r["error"] or {}).get("ename", "Error") for r in answers if r and r["status"] == "error"
    ]
    test_error = _test_error(reply) if reply is not None else None
    out = TaskOutcome(task.id, float(task.points))
    out.status = classify(test_error, answer_errors, ran=reply is not None)
    if out.status == PASS:
        out.score = float(task.points)
    elif reply is None:
        out.message = "the test cell did not run"
    elif test_error is not None:
        out.message = failure_message(*test_error)
        out.hints = [h for h in hints_in(out.message) if _known_hint(h, run.info)]
    if task.id in plan.tampered:
        out.status, out.score = FLAGGED, 0.0
        passes = "passes" if reply and reply["status"] == "ok" else "fails"
        out.message = f"{plan.tampered[task.id]} (it {passes})"
    return out


def score_notebook(run):
    """The ``NotebookResult`` of one ``NotebookRun``: each task's outcome and score, then the
    notebook's status (graded / zero / flagged) and the reason in words.

    A notebook that died scores 0 (``zero``, or ``flagged`` if its reply was forged); one with
    cheating events scores 0 and is flagged; other flags (a tampered task, a write outside its
    folder, network use, answers that fit another student's numbers or the slide's, a
    ``STUDENT_ID`` naming someone else) keep the scores and mark the notebook ``flagged`` for a
    person."""
    info, name, plan, replies, died = run.info, run.name, run.plan, run.replies, run.died
    where = {c.grade_id: i for i, c in enumerate(plan.cells) if c.kind == "test"}
    outcomes = [_task_outcome(run, t, where) for t in info.tasks[name]]
    reasons = []
    flags = [plan.tampered[k] for k in plan.tampered if k not in {o.id for o in outcomes}]
    flags += [o.message for o in outcomes if o.status == FLAGGED]
    flags += [e["detail"] for e in run.events if e["kind"] in FLAGGING]
    flags += run.flags + match_flags(outcomes)
    for i, reply in sorted(replies.items()):
        if reply["timed_out"]:
            cell = plan.cells[i]
            what = f" (task {cell.task})" if cell.task else ""
            reasons.append(
                f"cell {i}{what} ran past its {reply['limit']:g} s limit and was interrupted"
            )
    forged = died is not None and died.forged
    cheated = forged or any(e["kind"] in CHEATING for e in run.events)
    score = sum(o.score for o in outcomes)
    if died is not None:
        reasons.insert(0, died.reason)
        for o in outcomes:
            if o.status != FLAGGED and where.get(o.id, -1) >= (died.cell or 0):
                o.status, o.message = NOT_RUN, "the notebook stopped before this test"
    if cheated or died is not None:
        status, score = (FLAGGED if cheated else "zero"), 0.0
        for o in outcomes:
            o.score = 0.0
    elif flags:
        status = FLAGGED
    else:
        status = "graded"
    flags = [printable(f) for f in flags]
    reason = printable("; ".join(reasons + flags + run.notes))
    return NotebookResult(
        Path(name).stem, score, info.max_score(name), status, reason, flags, outcomes
    )


def _known_hint(hint, info):
    """A hint counts if the course wrote it (the notebook's tests or chainrule.testcells), not
    if a student's own error message says "Hint: ..."."""
    return hint[:40] in info.hint_text


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
                keep = [ln for ln in text.splitlines() if task and ln == passed_line(task)]
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
