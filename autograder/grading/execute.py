"""The worker side of grading one notebook: run its cells in a fresh sandbox, nothing else.

``execute(payload)`` is all a grading machine does. Everything else (finding the student's
notebook, assembling it against the release, scoring, writing the notebook as run, the record
and the gradebook) stays on the coordinator, in ``grade``. The payload and the answer are plain
data that pickle, so the same function runs in a grading thread (``--workers N``) and as a Dask
task on another machine (``--scheduler``, see ``cluster``): the notebook travels as bytes, the
cells to run as code; the course, its solutions and its gradebook never do.
"""

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox.host import Sandbox, SandboxDied
from autograder.sandbox.isolation import Isolation, Limits

__all__ = ["WORK_PREFIX", "Cell", "Payload", "execute", "died_from_dict"]

WORK_PREFIX = "backprop-kit-grade-"  # other submissions' folders, refused in weaker sandboxes


@dataclass(frozen=True)
class Cell:
    """One cell to run: ``index`` (in the assembled notebook), ``code``, ``student`` (the
    student's own code, watched as such) and ``task`` (an answer cell's task id, or None)."""

    index: int
    code: str
    student: bool
    task: str | None


@dataclass(frozen=True)
class Payload:
    """What one notebook's run needs, and nothing more.

    - ``notebook``: the submitted file's bytes; ``name``: the file name it runs under;
    - ``assignment``: the folder it sits in (the sandbox's working folder is named after it);
    - ``config``: the runner's config (``references``, ``answer_names``, ``forbidden_paths``,
      ``forbidden_names``); the work-folder prefix of the machine it runs on is added there;
    - ``cells``: the ``Cell``s to run, in order;
    - ``limits``: the ``Limits``; ``isolation``: the ``Isolation`` and ``slot``: the slot number
      (both None until the machine that runs it fills them in);
    - ``warm``: run in the slot's warm parent where the sandbox allows (``sandbox.warm``);
      False gives the notebook a new Python (``grade --no-warm``).
    """

    notebook: bytes
    name: str
    assignment: str
    config: dict
    cells: tuple
    limits: Limits
    isolation: Isolation | None = None
    slot: int | None = None
    warm: bool = True


def execute(payload):
    """Run ``payload``'s cells in a new ``Sandbox``; return ``(replies, died, events)``:

    - ``replies``: ``{cell index: reply dict}`` for each cell that answered;
    - ``died``: ``None``, or the ``SandboxDied`` that stopped the run as a dict
      (``died_from_dict`` turns it back);
    - ``events``: the integrity events of every cell, then those seen after the last one.
    """
    if payload.isolation is None or payload.slot is None:
        raise ValueError(
            f"payload of {payload.name}: isolation {payload.isolation!r}, slot {payload.slot!r}; "
            "expected both set by the machine that runs it"
        )
    config = {**payload.config, "forbidden_prefixes": [work_prefix()]}
    replies, died, events = {}, None, []
    with tempfile.TemporaryDirectory(prefix=f"{WORK_PREFIX}{os.getpid()}-") as tmp:
        work = Path(tmp) / payload.assignment
        work.mkdir()
        (work / payload.name).write_bytes(payload.notebook)
        box = Sandbox(
            work,
            payload.name,
            config,
            payload.limits,
            payload.isolation,
            payload.slot,
            warm=payload.warm,
        )
        try:
            box.start()
            for cell in payload.cells:
                replies[cell.index] = box.run(cell.index, cell.code, cell.student, cell.task)
                events += replies[cell.index]["events"]
            events += box.finish().get("events", [])
        except SandboxDied as err:
            died = _died_as_dict(err)
        finally:
            box.close()
    return replies, died, events


def work_prefix():
    """The start of every grading work folder's path on this machine."""
    return os.path.join(tempfile.gettempdir(), WORK_PREFIX)


def _died_as_dict(err):
    return {
        "reason": err.reason,
        "cell": err.cell,
        "timed_out": err.timed_out,
        "forged": err.forged,
    }


def died_from_dict(died):
    """The ``SandboxDied`` that ``execute`` returned as a dict (None stays None)."""
    return None if died is None else SandboxDied(**died)
