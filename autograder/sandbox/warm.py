"""Warm slots: one sandboxed parent per grading slot, imports done, a fresh child per submission.

A cold sandbox pays for a new Python that imports NumPy, matplotlib, IPython and chainrule
before the notebook's first cell. A warm slot pays that once: ``WarmSlot`` starts
``inside/zygote.py`` under bubblewrap, and each submission runs in a child the parent forks
and isolates anew (its own mount, PID, network, IPC and UTS namespaces, a fresh ``/tmp`` and
folder, the same limits, the slot's own user, no capabilities); see the zygote's docstring.
The host then talks to the child's runner exactly as to a cold one (``host.Sandbox``).

Only bubblewrap gives the parent the namespaces it needs to build each child's file-system
view: with ``unshare`` or no sandbox every submission gets a fresh process, as before.
``slot(n, isolation, limits)`` returns slot ``n``'s parent, started on first use and again
if it died; ``close_all`` stops them (a grading run does at its end).
"""

import json
import os
import socket
import subprocess
import threading
import time

from .isolation import HOME, PYTHON, font_cache, zygote_command
from .watchdog import kill_namespace, namespace_processes

__all__ = ["WarmSlot", "Child", "WarmSlotError", "slot", "refused", "close_all", "environment"]

START_SECONDS = 60


class WarmSlotError(RuntimeError):
    """A warm slot could not be started or could not start a child: grade with a fresh one."""


def environment(home, tmp, token):
    """The whole environment of a sandboxed Python (nothing of the grader's is inherited)."""
    return {
        "PATH": os.path.dirname(PYTHON) + ":/usr/bin:/bin",
        "HOME": home,
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
        "BACKPROP_KIT_SANDBOX": token,
    }


def _parent_environment(n):
    """The warm parent's environment: a submission's, marked ``BACKPROP_KIT_WARM_SLOT=n:pid``
    (slot ``n`` of the grader ``pid``) rather than with a submission's token: each child gets
    its own environment, token included, though its /proc/PID/environ shows this one."""
    env = environment(HOME, "/tmp", "")
    del env["BACKPROP_KIT_SANDBOX"]
    env["BACKPROP_KIT_WARM_SLOT"] = f"{n}:{os.getpid()}"
    return env


class Child:
    """One submission's runner in a warm slot: its pipes, its PID namespace, its exit status.

    ``stdin`` / ``stdout`` / ``stderr`` are the runner's fd 0, 1 and 2 (binary file objects,
    as ``subprocess.Popen``'s); ``namespace`` is its PID namespace ("pid:[inode]")."""

    def __init__(self, owner, pid, namespace, stdin, stdout, stderr):
        self.owner, self.pid, self.namespace = owner, pid, namespace
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.status = None
        self.held = None  # an open file of the namespace: its number cannot be reused meanwhile
        self.lock = threading.Lock()

    def kill(self):
        """SIGKILL every process in the child's PID namespace (its pid 1 first); nothing once
        ``release``d (the number may then name another submission's namespace)."""
        with self.lock:
            if self.held is not None:
                kill_namespace(self.namespace)

    def release(self):
        """Let go of the namespace (after ``kill`` and ``wait``): the child is done with."""
        with self.lock:
            if self.held is not None:
                os.close(self.held)
                self.held = None

    def wait(self, timeout):
        """The runner's exit status (0-255; 128 + N for signal N), or None after ``timeout``."""
        if self.status is None:
            self.status = self.owner.exit_status(self.pid, timeout)
        return self.status

    def alive(self):
        return bool(namespace_processes(self.namespace))


class WarmSlot:
    """Slot ``n``'s parent process under bubblewrap, and the control socket to it."""

    def __init__(self, n, limits):
        self.n, self.limits = n, limits
        self.lock = threading.Lock()
        self.exited = {}
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.control = ours
        fonts = font_cache()
        extra = []
        if fonts is not None and fonts.is_file():
            extra.append((os.open(fonts, os.O_RDONLY), f"/tmp/matplotlib/{fonts.name}"))
        fds = [theirs.fileno()] + [fd for fd, _ in extra]
        try:
            self.proc = subprocess.Popen(
                zygote_command(limits, theirs.fileno(), extra),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=_parent_environment(n),
                pass_fds=fds,
                start_new_session=True,
            )
        finally:
            theirs.close()
            for fd, _ in extra:
                os.close(fd)
        hello = self._message(START_SECONDS)
        if hello is None or "ready" not in hello:
            why = (hello or {}).get("error") or self._stderr_tail() or "no answer"
            self.close()
            raise WarmSlotError(f"the warm slot's parent did not start ({why})")
        self.not_preloaded = hello.get("not_preloaded", [])

    def spawn(self, folder, notebook_fd, notebook, env, uid, nproc):
        """A fresh child for one submission: ``folder`` (the folder's name under
        /home/student), ``notebook_fd`` (an open file of the notebook, copied in), ``notebook``
        (its file name), ``env``, ``uid`` (the slot's user when root, else None) and ``nproc``
        (its RLIMIT_NPROC). Returns a ``Child``; raises ``WarmSlotError``."""
        pipes = [os.pipe() for _ in range(3)]  # (read, write) each
        theirs = [pipes[0][0], pipes[1][1], pipes[2][1], notebook_fd]
        request = {
            "op": "spawn",
            "folder": folder,
            "notebook": notebook,
            "env": env,
            "uid": uid,
            "nproc": nproc,
            "disk": self.limits.disk_mb * 1024 * 1024,
            "limits": {
                "memory_mb": self.limits.memory_mb,
                "cpu_seconds": self.limits.cpu_seconds,
                "file_mb": self.limits.file_mb,
            },
        }
        with self.lock:
            try:
                socket.send_fds(self.control, [json.dumps(request).encode()], theirs)
            except OSError as err:
                reply = {"error": f"the warm slot is gone ({err})"}
            else:
                reply = self._reply_to_spawn()
            finally:
                for fd in theirs[:3]:
                    os.close(fd)
        ours = [pipes[0][1], pipes[1][0], pipes[2][0]]
        if "spawned" not in reply or "held" not in reply:
            for fd in ours:
                os.close(fd)
            if "held" in reply:
                os.close(reply["held"])
            why = reply.get("error") or "no file of its namespace came with the reply"
            raise WarmSlotError(f"the warm slot could not start a child: {why}")
        stdin = os.fdopen(ours[0], "wb")
        stdout = os.fdopen(ours[1], "rb", buffering=0)
        stderr = os.fdopen(ours[2], "rb")
        child = Child(self, reply["spawned"], reply["ns"], stdin, stdout, stderr)
        child.held = reply["held"]
        return child

    def _reply_to_spawn(self):
        while True:
            message = self._message(START_SECONDS, keep_fds=True)
            if message is None:
                return {"error": "no answer: " + (self._stderr_tail() or "it stopped")}
            if "spawned" in message or "error" in message:
                return message  # else an earlier child's exit report, filed

    def _message(self, timeout, keep_fds=False):
        """The next message from the parent (exit reports are filed in ``exited`` too); None
        when the parent is gone or says nothing for ``timeout`` seconds. A spawn reply's file
        of the child's namespace is in its "held" field with ``keep_fds``, else closed."""
        self.control.settimeout(timeout)
        try:
            data, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 1)
        except (TimeoutError, OSError):
            return None
        if not data:
            return None
        message = json.loads(data)
        if keep_fds and fds and "spawned" in message:
            message["held"] = fds[0]
        else:
            for fd in fds:
                os.close(fd)
        if "exited" in message and "status" in message:
            self.exited[message["exited"]] = message["status"]
        return message

    def exit_status(self, pid, timeout):
        """``pid``'s exit status once the parent reports it; None after ``timeout``."""
        end = time.monotonic() + timeout
        with self.lock:
            while pid not in self.exited:
                left = end - time.monotonic()
                if left <= 0:
                    return None
                if self._message(left) is None and pid not in self.exited:
                    return None
            return self.exited.pop(pid)

    def alive(self):
        return self.proc.poll() is None

    def close(self):
        try:
            self.control.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if self.proc.stderr:
            self.proc.stderr.close()

    def _stderr_tail(self):
        if self.proc.poll() is None:
            return ""
        text = self.proc.stderr.read().decode("utf-8", "replace").strip()
        return text.splitlines()[-1][:300] if text else f"exit {self.proc.returncode}"


_slots = {}
_slots_lock = threading.Lock()
_refused = {}


def slot(n, isolation, limits):
    """Slot ``n``'s warm parent for these limits, started when missing or dead. None where a
    warm slot cannot give every guarantee (not bubblewrap) or could not start here (the
    reason is then in ``refused()``): the submission gets a fresh process instead."""
    if isolation.kind != "bubblewrap":
        return None
    with _slots_lock:
        if limits in _refused:
            return None
        current = _slots.get(n)
        if current is not None and current.alive() and current.limits == limits:
            return current
        if current is not None:
            current.close()
        try:
            _slots[n] = WarmSlot(n, limits)
        except (WarmSlotError, OSError) as err:
            _refused[limits] = str(err)
            _slots.pop(n, None)
            return None
        return _slots[n]


def refused():
    """Why warm slots were not used in this process ('' when they were, or were not tried)."""
    return "; ".join(sorted(set(_refused.values())))


def close_all():
    """Stop every warm slot of this process."""
    with _slots_lock:
        for warm in _slots.values():
            warm.close()
        _slots.clear()
