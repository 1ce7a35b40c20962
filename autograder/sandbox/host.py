"""The host's side of a sandboxed runner: start it, hand it cells, read its replies, kill it.

``Sandbox`` starts ``inside/runner.py`` in a fresh sandbox of the kind ``isolation`` chose and
hands it cells one at a time over a pipe (the protocol is in the runner's docstring, each reply
checked by ``reply.valid``). It enforces a wall-clock limit per cell (the runner interrupts the
cell; if the cell ignores the interrupt the sandbox is killed) and per notebook; a watchdog
(``watchdog``) stops a sandbox whose processes break the limits; and, at the end, every process
it started is killed: the PID namespace goes with its first process, and in the ``none`` mode
processes carrying the sandbox's token in their environment are hunted down.
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

    def __init__(self, workdir, notebook_name, config, limits=None, isolation=None, slot=0):
        self.workdir = Path(workdir)
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
        env = self._environment(inside, tmp)
        runner = RUNNER_INSIDE if kind == "bubblewrap" else str(RUNNER)
        argv = [PYTHON, runner]
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
            argv,
            self.slot,
            self.limits,
            fd,
            drop=self.isolation.drop,
            extra=extra,
        )
        config = dict(self.config)
        config["write_roots"] = [inside, tmp]
        config["block"] = kind != "bubblewrap"
        config["output_limit"] = self.limits.output_chars
        config["notebook"] = self.notebook_name
        try:
            self.proc = subprocess.Popen(
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
        threading.Thread(target=self._drain, daemon=True).start()
        self.watch = Watchdog(self.token, self.limits, self._stop_all)
        threading.Thread(target=self.watch.run, daemon=True).start()
        self.deadline = time.monotonic() + self.limits.notebook_seconds
        reply = self._ask({"op": "init", "config": config}, None, self.limits.cell_seconds * 2)
        return reply

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

    def _environment(self, inside, tmp):
        """The runner's whole environment: nothing of the grader's is inherited."""
        return {
            "PATH": os.path.dirname(PYTHON) + ":/usr/bin:/bin",
            "HOME": inside,
            "TMPDIR": tmp,
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": f"{tmp}/matplotlib",
            "IPYTHONDIR": f"{tmp}/ipython",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "LANG": "C.UTF-8",
            "BACKPROP_KIT_SANDBOX": self.token,
        }

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
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        kill_marked(self.token)

    def close(self):
        """Kill the sandbox and everything it started; return the raw output it wrote."""
        if getattr(self, "watch", None) is not None:
            self.watch.stop = True
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
        if self.isolation.kind == "none":
            kill_marked(self.token)
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
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
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
