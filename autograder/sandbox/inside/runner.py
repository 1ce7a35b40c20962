"""The process that runs one submission's cells inside the sandbox, and watches them.

It is started by ``autograder.sandbox.host`` as ``python runner.py`` (this folder is mounted at
``/opt/backprop-kit`` under bubblewrap) and imports nothing of the grader: only the standard
library, IPython, what the notebook imports, and its three neighbours here:

    runner_audit.py      ``Watch``: the audit hook (files, network, processes, audit hooks)
    runner_integrity.py  ``Integrity``: snapshots of what the tests rely on; reference tripwires
    runner_output.py     ``Capped`` streams and the shell's display and traceback hooks

The grader, outside the sandbox, sends the cells one at a time over a pipe, so the hidden tests
are never on the sandbox's disk and a cell cannot read the ones after it. Protocol, one JSON
object per line (the host's side, with every field of a reply, is ``autograder.sandbox.reply``):

    fd 0 (requests)  {"op": "init", "config": {...}}  then  {"op": "run", "cell": 7, "source":
                     "...", "student": true, "task": "mul-gate", "timeout": 60}  ...
                     {"op": "finish"}; every request carries a "nonce" its reply echoes
    fd 1 (replies)   {"ok": true, ...} per request: status, outputs, error, integrity events
    fd 2             anything written to the file descriptors directly (C code, subprocesses)

Everything here runs in the same process as student code. A student who studies these files can
still defeat checks made in-process; the sandbox's limits and the grader's own bookkeeping (the
locked cells it sends, the scores it computes outside) do not depend on them.
"""

import json
import os
import signal
import sys
import time

from runner_audit import Watch
from runner_integrity import Integrity, check_answers, wrap_references
from runner_output import Capped, alarm, hooks_into, no_source_kept

__all__ = ["Runner", "main", "make_shell"]


def make_shell():
    """The notebook's IPython shell (one per process), without history: no history file and
    no thread saving it. A warm slot's parent makes it before forking (``zygote.py``)."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    if InteractiveShell.initialized():
        return InteractiveShell.instance()
    config = Config()
    config.HistoryManager.enabled = False
    return InteractiveShell.instance(config=config, colors="nocolor", history_length=0)


class Runner:
    """One notebook's IPython shell, its audit hook and integrity checks, cell after cell.

    ``config`` is the ``init`` request's: ``references`` (dotted names of the reference
    implementations), ``answer_names`` ({task id: names its answer cells define}),
    ``forbidden_paths`` / ``forbidden_names`` / ``forbidden_prefixes`` (what the audit hook
    refuses), ``write_roots`` (where writing is allowed), ``block`` (refuse network and new
    processes outright: no namespace does), ``output_limit`` (characters kept per stream) and
    ``notebook`` (the submission's own file name), ``guarded`` (more tasks whose answer cells
    must not call a reference: {dotted name: task ids}) and ``environ`` (variables set before the
    first cell, e.g. the collected student id of ``chainrule.variants``).
    """

    def __init__(self, config):
        self.config = config
        for key, value in dict(config.get("environ") or {}).items():
            os.environ[str(key)] = str(value)
        self.watch = Watch(config)
        self.limit = int(config.get("output_limit", 20000))
        sys.addaudithook(self.watch.hook)
        os.environ.setdefault("MPLBACKEND", "Agg")
        shell = make_shell()
        shell.history_manager.enabled = False
        self.shell = shell
        self.sink = hooks_into(shell, self.limit)
        self.builtins = shell.user_ns.get("__builtins__")
        self.budget = int(config.get("notebook_output_limit", 2_000_000))
        self.answer_names = config.get("answer_names", {})
        self.refs, self.ref_codes = wrap_references(
            config.get("references", []), self.answer_names, self.watch, config.get("guarded")
        )
        self.all_answers = sorted({n for names in self.answer_names.values() for n in names})
        self.checks = Integrity(shell, self.watch)
        self.pid = os.getpid()
        self.threads = set(sys._current_frames())

    def run(self, request):
        """Run one ``run`` request's cell; return the reply ``autograder.sandbox.reply`` reads.

        ``request``: ``cell`` (its index in the notebook), ``source``, ``student`` (the
        student's own code: watched as such), ``task`` (the task of an answer cell, else None)
        and ``timeout`` (seconds before the cell is interrupted with KeyboardInterrupt).
        """
        cell, student = request["cell"], bool(request.get("student"))
        shell, watch = self.shell, self.watch
        count = shell.execution_count
        if student:
            watch.student_counts.add(count)
            if request.get("task"):
                watch.cell_task[count] = request["task"]
        sink = self.sink
        sink.outputs, sink.error = [], None
        self._guard_namespace(cell, student)
        before = {n: id(shell.user_ns.get(n)) for n in self.all_answers}
        out, err = Capped(self.limit), Capped(self.limit)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        fired = []
        signal.signal(signal.SIGALRM, alarm(fired))
        timed_out = False
        start = time.perf_counter()
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        watch.in_student = student
        signal.setitimer(signal.ITIMER_REAL, float(request.get("timeout", 60)))
        try:
            with no_source_kept(shell, not student):
                result = shell.run_cell(request["source"], store_history=True)
            if os.getpid() != self.pid:  # a process the cell forked: it must not reply
                os._exit(0)
            failed = result.error_before_exec or result.error_in_exec or sink.error
            timed_out = isinstance(failed, KeyboardInterrupt) and bool(fired)
        except KeyboardInterrupt:
            if os.getpid() != self.pid:
                os._exit(0)
            timed_out, failed = True, True
            sink.error = {"ename": "KeyboardInterrupt", "evalue": "", "traceback": []}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            watch.in_student = False
            sys.stdout, sys.stderr = saved
            shell.execution_count = count + 1
        seconds = time.perf_counter() - start
        self.checks.run(cell)
        self._threads(cell)
        self._tidy()
        if student:
            check_answers(self.all_answers, before, self.refs, self.ref_codes, shell.user_ns, watch)
        outputs = [{"output_type": "stream", "name": "stdout", "text": out.text()}]
        outputs.append({"output_type": "stream", "name": "stderr", "text": err.text()})
        outputs = self._spend([o for o in outputs if o["text"]] + sink.outputs)
        error = sink.error if failed else None
        if failed and error is None:
            error = {"ename": type(failed).__name__, "evalue": str(failed), "traceback": []}
        return {
            "ok": True,
            "cell": cell,
            "status": "error" if failed else "ok",
            "timed_out": timed_out,
            "error": error,
            "outputs": outputs,
            "events": watch.take(),
            "seconds": round(seconds, 4),
            "processes": watch.processes,
        }

    def _guard_namespace(self, cell, student):
        """``__builtins__`` in the notebook's namespace must stay the real one (cells would
        otherwise import through a student's ``__import__``); put it back and report it."""
        ns = self.shell.user_ns
        if ns.get("__builtins__") is not self.builtins:
            ns["__builtins__"] = self.builtins
            self.checks.flag("the notebook's __builtins__ was replaced", cell - 1)

    def _threads(self, cell):
        """A thread of the notebook's that outlives its cell could change what the tests use
        while the checks are not looking: reported."""
        self.watch.armed = False  # the runner's own look is not an attack
        try:
            extra = set(sys._current_frames()) - self.threads
        finally:
            self.watch.armed = True
        if extra:
            self.checks.flag("a thread started by the notebook was still running", cell)

    def _spend(self, outputs):
        """Outputs within the notebook's whole budget; past it, a note of what was cut."""
        kept = []
        for o in outputs:
            if self.budget <= 0:
                o = dict(o, text="[output cut: the notebook's output passed its limit]\n")
                kept.append(o)
                break
            o = dict(o, text=o["text"][: self.budget])
            self.budget -= len(o["text"])
            kept.append(o)
        return kept

    def _tidy(self):
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            try:
                pyplot.close("all")
            except Exception:  # a student may have broken pyplot; the checks report it
                pass


def main():
    """Serve requests from fd 0 until ``finish``; replies go to a private copy of fd 1."""
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - the notebook's stdin for its whole life
    runner = None
    for line in requests:
        request = json.loads(line)
        op = request.get("op")
        if op == "init":
            runner = Runner(request["config"])
            reply = {"ok": True, "python": sys.version.split()[0], "pid": os.getpid()}
            runner.watch.armed = True
        elif op == "run":
            reply = runner.run(request)
        elif op == "finish":
            reply = {"ok": True, "events": runner.watch.take() if runner else []}
        else:
            reply = {"ok": False, "error": f"unknown request {op!r}"}
        reply["nonce"] = request.get("nonce")
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
        if op == "finish":
            break
    os._exit(0)


if __name__ == "__main__":
    main()
