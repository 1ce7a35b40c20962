"""The runner's audit hook: what a notebook opens, writes, lists, connects to or starts.

``Watch`` is installed with ``sys.addaudithook`` (it cannot be removed) before any student code
runs. It reports, and where the sandbox is weak refuses, reading the course's solutions, the
gradebook or other notebooks, writing outside the submission's folder and ``/tmp``, network use,
new processes and new audit hooks. Events are ``{"kind": ..., "detail": ...}`` dicts sent back to
the grader with each cell's reply (kinds: tamper, forbidden-path, write-outside, network,
process, reference).

Runs inside the sandbox: the standard library only.
"""

import os
import re
import sys

__all__ = ["Watch", "CELL_FILE"]

CELL_FILE = re.compile(r"<ipython-input-(\d+)-")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PATH_EVENTS = {
    "os.remove": 0,
    "os.rmdir": 0,
    "os.mkdir": 0,
    "os.chmod": 0,
    "os.chown": 0,
    "os.truncate": 0,
    "os.utime": 0,
    "shutil.rmtree": 0,
    "os.rename": 1,
    "os.link": 1,
    "os.symlink": 1,
    "shutil.copyfile": 1,
    "shutil.move": 1,
}
_LIST_EVENTS = {"os.listdir", "os.scandir", "glob.glob", "os.walk"}
_INTROSPECTION = {
    "gc.get_objects",
    "gc.get_referrers",
    "gc.get_referents",
    "sys._current_frames",
}
_PROCESS_EVENTS = {"os.fork", "os.forkpty", "subprocess.Popen", "os.system", "os.posix_spawn"}
_NET_EVENTS = {"socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo"}


class Watch:
    """What the audit hook and the checks saw; ``events`` are sent back after each cell."""

    def __init__(self, config):
        self.events = []
        self.student_counts = set()
        self.cell_task = {}
        self.in_student = False
        self.armed = False
        self.block = bool(config.get("block"))
        self.forbidden = [p.rstrip("/") for p in config.get("forbidden_paths", [])]
        self.forbidden_names = set(config.get("forbidden_names", []))
        self.forbidden_prefixes = list(config.get("forbidden_prefixes", []))
        self.own_notebook = config.get("notebook", "")
        self.write_roots = [os.path.realpath(p) for p in config.get("write_roots", [])]
        self.processes = 0

    def report(self, kind, detail):
        if len(self.events) < 200 and not any(
            e["kind"] == kind and e["detail"] == detail for e in self.events
        ):
            self.events.append({"kind": kind, "detail": detail})

    def take(self):
        out, self.events = self.events, []
        return out

    # -- the audit hook ------------------------------------------------------------------------

    def hook(self, event, args):
        if not self.armed:
            return
        if event == "sys.addaudithook":
            self.report("tamper", "tried to add an audit hook (sys.addaudithook)")
            raise RuntimeError("adding audit hooks is not allowed while grading")
        if event in _INTROSPECTION:
            self.report(
                "tamper",
                f"searched the interpreter's objects ({event}), as attacks on the grader do",
            )
        elif event == "open":
            self._open(args)
        elif event in _PATH_EVENTS:
            self._write(str(args[_PATH_EVENTS[event]]), event)
        elif event in _LIST_EVENTS:
            self._read(args[0] if args else ".", event)
        elif event == "sqlite3.connect":
            self._write(str(args[0]), "sqlite3.connect")
        elif event in _NET_EVENTS:
            self.report("network", f"network use ({event}); grading runs without a network")
            if self.block:
                raise PermissionError("no network while grading")
        elif event in _PROCESS_EVENTS:
            self.processes += 1
            if self.block:
                self.report("process", f"started a process ({event}); not allowed here")
                raise PermissionError("no new processes while grading without a sandbox")

    def _open(self, args):
        path, mode, flags = (list(args) + [None, None, None])[:3]
        if not isinstance(path, (str, bytes, os.PathLike)):
            return
        path = os.fsdecode(path)
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        )
        if writing:
            self._write(path, "open")
        else:
            self._read(path, "open")

    def _forbidden(self, path):
        full = os.path.abspath(path)
        if any(full == r or full.startswith(r + "/") for r in self.write_roots):
            return False
        if any(full.startswith(p) for p in self.forbidden_prefixes):
            return True
        if any(full == p or full.startswith(p + "/") for p in self.forbidden):
            return True
        parts = set(full.split("/"))
        if parts & self.forbidden_names:
            return True
        name = os.path.basename(full)
        return name.endswith(".ipynb") and name != self.own_notebook

    def _read(self, path, event):
        if not isinstance(path, (str, bytes, os.PathLike)):
            return
        path = os.fsdecode(path)
        if os.path.abspath(path).startswith(("/proc/self/fd", f"/proc/{os.getpid()}/fd")):
            self.report("tamper", f"looked for the grader's pipes ({path})")
        if self._forbidden(path):
            self.report(
                "forbidden-path",
                f"tried to read {path} ({event}); solutions, other notebooks and the "
                "gradebook are not available while grading",
            )
            raise PermissionError(f"{path}: not available while grading")

    def _write(self, path, event):
        if self._forbidden(path):
            self.report("forbidden-path", f"tried to write {path} ({event})")
            raise PermissionError(f"{path}: not available while grading")
        full = os.path.realpath(path)
        if full == "/dev/null" or any(
            full == r or full.startswith(r + "/") for r in self.write_roots
        ):
            return
        self.report("write-outside", f"tried to write {path} ({event}), outside its folder")
        if self.block:
            raise PermissionError(f"{path}: writing outside the submission's folder")

    def caller_task(self, depth=2):
        """The task of the answer cell whose code is ``depth`` frames up, else None."""
        frame = sys._getframe(depth)
        match = CELL_FILE.match(frame.f_code.co_filename)
        return self.cell_task.get(int(match.group(1))) if match else None
