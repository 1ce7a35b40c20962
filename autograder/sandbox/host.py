"""The host's side of a sandboxed runner: start it, hand it cells, read its replies, kill it.

``Sandbox`` starts ``inside/runner.py`` in a fresh sandbox of the kind ``isolation`` chose and
hands it cells one at a time over a pipe (the protocol is in the runner's docstring, each reply
checked by ``reply.valid``). It enforces a wall-clock limit per cell (the runner interrupts the
cell; if the cell ignores the interrupt the sandbox is killed) and per notebook; a watchdog
(``watchdog``) stops a sandbox whose processes break the limits; and, at the end, every process
it started is killed: the PID namespace goes with its first process, and in the ``none`` mode
processes carrying the sandbox's token in their environment are hunted down.

Under bubblewrap the runner is, by default, a fresh child of the slot's warm parent
(``warm``), which has NumPy, matplotlib, IPython and chainrule imported already; elsewhere, or
with ``warm=False``, it is a new process. The host talks to both the same way.
"""

import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from autograder.sandbox import warm as warm_slots
from autograder.sandbox.watchdog import Watchdog, kill_marked

from .isolation import (
    BASE_UID,
    HOME,
    PYTHON,
    RUNNER,
    RUNNER_INSIDE,
    Limits,
    detect_isolation,
    font_cache,
    limit_process,
    process_limit,
    sandbox_command,
)
from .reply import valid

__all__ = ["Sandbox", "SandboxDied"]

MAX_REPLY = 64 * 1024 * 1024


class SandboxDied(RuntimeError):
    """The sandboxed process stopped answering: it crashed, exited, or ran out of time."""

    def __init__(self, reason, cell=None, timed_out=False, forged=False):
        super().__init__(reason)
        self.reason = reason
        self.cell = cell
        self.timed_out = timed_out
        self.forged = forged


class Sandbox:
    """A sandboxed runner for one notebook: ``start``, ``run`` cells, ``close`` (kills all).

    ``workdir`` is a host folder holding the student's notebook; under bubblewrap the notebook
    is copied into the sandbox's private tmpfs, otherwise the folder itself is the working
    folder (owned by the slot's user when the grader is root).
    """

    def __init__(
        self, workdir, notebook_name, config, limits=None, isolation=None, slot=0, warm=True
    ):
        self.workdir = Path(workdir)
        self.warm = warm
        self.warmed = False  # whether this run's runner came from a warm slot
        self.cold_because = ""  # why not, when a warm slot was asked for and failed
        self.notebook_name = notebook_name
        self.config = dict(config)
        self.limits = limits or Limits()
        self.isolation = isolation or detect_isolation()
        self.slot = slot
        self.token = secrets.token_hex(8)
        self.proc = None
        self.raw = []
        self.raw_size = 0
        self.deadline = None
        self._buffer = bytearray()

    # -- life cycle ----------------------------------------------------------------------------

    def start(self):
        """Start the runner in a fresh sandbox and send it ``init``; return the runner's reply
        (``{"ok": True, "python": version, "pid": ...}``).

        The runner's config is this sandbox's ``config`` (``references``, ``answer_names`` and
        the ``forbidden_*`` lists, from the grader) plus what only the sandbox knows: where the
        notebook may write, whether to refuse network and processes outright (no namespace),
        the output cap and the notebook's file name. Raises ``SandboxDied`` if the runner does
        not answer in twice a cell's time limit."""
        kind = self.isolation.kind
        inside = f"{HOME}/{self.workdir.name}" if kind == "bubblewrap" else str(self.workdir)
        tmp = "/tmp" if kind == "bubblewrap" else str(self.workdir / ".tmp")
        if kind != "bubblewrap":
            self._prepare_host_folder(tmp)
        env = warm_slots.environment(inside, tmp, self.token)
        config = dict(self.config)
        config["write_roots"] = [inside, tmp]
        config["block"] = kind != "bubblewrap"
        config["output_limit"] = self.limits.output_chars
        config["notebook"] = self.notebook_name
        parent = warm_slots.slot(self.slot, self.isolation, self.limits) if self.warm else None
        self.proc = self._from_warm_slot(parent, env) if parent is not None else None
        self.warmed = self.proc is not None
        if self.proc is None:
            self.proc = self._fresh_process(kind, env)
        threading.Thread(target=self._drain, daemon=True).start()
        self.watch = Watchdog(
            self.token, self.limits, self._stop_all, namespace=getattr(self.proc, "namespace", None)
        )
        threading.Thread(target=self.watch.run, daemon=True).start()
        self.deadline = time.monotonic() + self.limits.notebook_seconds
        reply = self._ask({"op": "init", "config": config}, None, self.limits.cell_seconds * 2)
        return reply

    def _from_warm_slot(self, parent, env):
        """A fresh child of the slot's warm parent, or None if it could not make one (the
        sandbox then starts a new process, and the slot is started again next time)."""
        drop = self.isolation.drop and os.geteuid() == 0
        fd = os.open(self.workdir / self.notebook_name, os.O_RDONLY)
        try:
            return parent.spawn(
                self.workdir.name,
                fd,
                self.notebook_name,
                env,
                BASE_UID + self.slot if drop else None,
                process_limit(self.limits, self.isolation.drop),
            )
        except warm_slots.WarmSlotError as err:
            self.cold_because = str(err)
            parent.close()
            return None
        finally:
            os.close(fd)

    def _fresh_process(self, kind, env):
        """The runner as a new process in a sandbox of ``kind`` (a ``_Fresh``)."""
        runner = RUNNER_INSIDE if kind == "bubblewrap" else str(RUNNER)
        nb_file = self.workdir / self.notebook_name
        fd = os.open(nb_file, os.O_RDONLY) if kind == "bubblewrap" else None
        fonts = font_cache()
        extra = []
        if fonts is not None and kind == "bubblewrap" and fonts.is_file():
            extra.append((os.open(fonts, os.O_RDONLY), f"/tmp/matplotlib/{fonts.name}"))
        cmd = sandbox_command(
            kind,
            self.workdir,
            self.notebook_name,
            [PYTHON, runner],
            self.slot,
            self.limits,
            fd,
            drop=self.isolation.drop,
            extra=extra,
        )
        try:
            popen = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=str(self.workdir) if kind != "bubblewrap" else None,
                env=env,
                pass_fds=([fd] if fd is not None else []) + [f for f, _ in extra],
                preexec_fn=limit_process(
                    self.limits, process_limit(self.limits, self.isolation.drop)
                ),
            )
        finally:
            for f in ([fd] if fd is not None else []) + [f for f, _ in extra]:
                os.close(f)
        return _Fresh(popen, self.token, kind)

    def _prepare_host_folder(self, tmp):
        """Outside bubblewrap the submission's host folder is the sandbox's: give it a ``/tmp``
        with the font cache, owned by the slot's user when the grader drops to it."""
        os.makedirs(tmp, exist_ok=True)
        if (fonts := font_cache()) and fonts.is_file():
            os.makedirs(f"{tmp}/matplotlib", exist_ok=True)
            shutil.copyfile(fonts, f"{tmp}/matplotlib/{fonts.name}")
        if self.isolation.drop:
            uid = BASE_UID + self.slot
            for p in (self.workdir.parent, self.workdir, *self.workdir.rglob("*")):
                os.chown(p, uid, uid)

    def run(self, cell, source, student, task=None, timeout=None):
        """Run one cell: ``cell`` (its index), ``source``, ``student`` (the student's own code,
        watched as such), ``task`` (an answer cell's task) and ``timeout`` (seconds; default the
        cell limit). Returns the checked ``reply.Reply``, with ``limit`` set to the timeout.
        Raises ``SandboxDied`` if the runner dies, forges a reply or ignores the interrupt."""
        timeout = float(timeout or self.limits.cell_seconds)
        request = {
            "op": "run",
            "cell": cell,
            "source": source,
            "student": student,
            "task": task,
            "timeout": timeout,
        }
        reply = self._ask(request, cell, timeout + self.limits.grace_seconds)
        reply["limit"] = timeout
        return reply

    def finish(self):
        """Ask for the events seen after the last cell; ``{"events": []}`` if it is gone."""
        try:
            return self._ask({"op": "finish"}, None, self.limits.grace_seconds)
        except SandboxDied:
            return {"events": []}

    def _stop_all(self):
        self.proc.kill()

    def close(self):
        """Kill the sandbox and everything it started; return the raw output it wrote."""
        if getattr(self, "watch", None) is not None:
            self.watch.stop = True
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc.release()
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
        return self.raw_text()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- talking to the runner -----------------------------------------------------------------

    def _ask(self, request, cell, wait):
        proc = self.proc
        request["nonce"] = secrets.token_hex(16)
        try:
            proc.stdin.write((json.dumps(request) + "\n").encode())
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise SandboxDied(self._death(cell), cell) from None
        left = self.deadline - time.monotonic()
        limit_hit = left < wait
        line = self._readline(min(wait, max(left, 0.0)))
        if line is None:
            if limit_hit:
                why = f"the notebook ran past its {self.limits.notebook_seconds:g} s limit"
            else:
                why = (
                    f"cell {cell} ran past {wait - self.limits.grace_seconds:g} s and did not "
                    "stop when interrupted"
                )
            self.close()
            raise SandboxDied(why + "; the sandbox was stopped", cell, timed_out=True)
        if line == b"":
            raise SandboxDied(self._death(cell), cell)
        try:
            reply = valid(json.loads(line), request)
        except ValueError as err:
            self.close()
            raise SandboxDied(
                f"the reply to cell {cell} was not the runner's ({err}): something in the "
                "notebook wrote to the grader's pipe",
                cell,
                forged=True,
            ) from None
        return reply

    def _readline(self, wait):
        """One line from the runner, ``b""`` at end of file, ``None`` after ``wait`` seconds."""
        out = self.proc.stdout
        end = time.monotonic() + wait
        with selectors.DefaultSelector() as sel:
            sel.register(out, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = end - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return None
                chunk = os.read(out.fileno(), 1 << 16)
                if not chunk:
                    return b""
                self._buffer += chunk
                if len(self._buffer) > MAX_REPLY and b"\n" not in chunk:
                    return b"{}"  # no reply is this long: refused as not the runner's
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        return line

    def _death(self, cell):
        code = self.proc.wait(timeout=5)
        self.close()
        where = f" in cell {cell}" if cell is not None else " while starting"
        if getattr(self, "watch", None) is not None and self.watch.reason:
            return f"{self.watch.reason}{where}; the sandbox was stopped"
        if code is None:
            return f"the notebook's process stopped answering{where}"
        if code < 0 or code > 128:
            sig = -code if code < 0 else code - 128
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = f"signal {sig}"
            extra = " (segmentation fault)" if name == "SIGSEGV" else ""
            if name in ("SIGKILL", "SIGXCPU"):
                extra = " (killed: out of memory or CPU time?)"
            return f"the notebook's process was killed by {name}{extra}{where}"
        raw = self.raw_text().strip().splitlines()
        tail = f": {raw[-1][:200]}" if raw and code != 0 else ""
        return f"the notebook's process exited with status {code}{where}{tail}"

    def _drain(self):
        stream = self.proc.stderr
        while True:
            try:
                chunk = stream.read1(1 << 16)
            except (OSError, ValueError):
                return
            if not chunk:
                return
            if self.raw_size < self.limits.output_chars:
                self.raw.append(chunk)
            self.raw_size += len(chunk)

    def raw_text(self):
        text = b"".join(self.raw).decode("utf-8", "replace")[: self.limits.output_chars]
        if self.raw_size > self.limits.output_chars:
            text += f"\n[output cut: {self.raw_size - self.limits.output_chars} more bytes]"
        return text


class _Fresh:
    """A runner started as a new process: ``kill`` takes its process group and, without a PID
    namespace (the ``none`` mode), every process carrying the sandbox's token."""

    def __init__(self, popen, token, kind):
        self.popen, self.token, self.kind = popen, token, kind
        self.stdin, self.stdout, self.stderr = popen.stdin, popen.stdout, popen.stderr

    def kill(self):
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        kill_marked(self.token)

    def release(self):
        """Nothing to let go of: a fresh sandbox's processes are found by their token."""

    def wait(self, timeout):
        """The exit status (negative for a signal, as ``Popen``'s), None after ``timeout``."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
