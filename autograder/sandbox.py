"""One submission's cells run in a sandboxed process: bubblewrap, else ``unshare``, else limits.

``Sandbox`` starts ``autograder/runner.py`` in a fresh sandbox and hands it cells one at a time
(see the runner's protocol). What the sandbox holds and enforces, strongest first:

- ``bubblewrap`` (Debian's ``bwrap``): new PID, network, IPC and UTS namespaces; a file system
  of read-only system and Python folders, the library, and two size-capped tmpfs: the
  submission's folder ``/home/student/<assignment>`` (holding only the student's notebook) and
  ``/tmp``. The course, its solutions, the gradebook and other students' files are not there.
- ``unshare`` (util-linux): the same namespaces, but the host's file system, read through the
  permissions of the sandbox's user; the runner's audit hook refuses the course's files.
- ``none``: resource limits, a process group and the audit hook only; said in the output.

In every mode: limits on memory (address space), CPU seconds, file size and processes
(``RLIMIT_NPROC`` binds when the grader is root: each worker slot runs as its own user id,
61000 + slot); a wall-clock limit per cell (the runner interrupts the cell; if the cell ignores
the interrupt the sandbox is killed) and per notebook; and, at the end, every process it
started is killed: the PID namespace goes with its first process, and in the ``none`` mode
processes carrying the sandbox's token in their environment are hunted down.
"""

import atexit
import functools
import json
import os
import resource
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .watchdog import Watchdog, kill_marked

__all__ = ["Limits", "Isolation", "Sandbox", "SandboxDied", "detect_isolation"]

RUNNER = Path(__file__).resolve().parent / "runner.py"
RUNNER_INSIDE = "/opt/backprop-kit/runner.py"
HOME = "/home/student"
BASE_UID = 61000
# The grader's own Python, as a clean absolute path (``bench/../.venv/bin/python`` would not
# exist inside a sandbox that holds no bench/ folder).
PYTHON = os.path.normpath(os.path.abspath(sys.executable))
MAX_REPLY = 64 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Sizes in MiB, times in seconds."""

    memory_mb: int = 2048
    cpu_seconds: int = 600
    file_mb: int = 64
    disk_mb: int = 256
    processes: int = 256
    cell_seconds: float = 60
    notebook_seconds: float = 600
    grace_seconds: float = 5
    output_chars: int = 20000

    def __post_init__(self):
        for name, value in vars(self).items():
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"Limits.{name} = {value!r}; expected a positive number")


@dataclass(frozen=True)
class Isolation:
    """The strongest sandbox this machine allows: ``kind`` and a sentence for the output."""

    kind: str
    detail: str
    drop: bool = False


class SandboxDied(RuntimeError):
    """The sandboxed process stopped answering: it crashed, exited, or ran out of time."""

    def __init__(self, reason, cell=None, timed_out=False, forged=False):
        super().__init__(reason)
        self.reason = reason
        self.cell = cell
        self.timed_out = timed_out
        self.forged = forged


def _probe(cmd):
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=20, text=True)
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    return "" if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")


# The runner's Python must be the grader's own (the same version), with IPython and NumPy.
_CHECK = ["-c", f"import sys, IPython, numpy; assert sys.version == {sys.version!r}"]


@functools.cache
def detect_isolation(prefer=None):
    """Try bubblewrap, then unshare, on this machine; ``prefer`` forces one kind (tests).

    Each kind is tried by starting Python in it and importing IPython and NumPy, as the runner
    will. Outside bubblewrap, the grader running as root drops to the slot's own user only when
    that user can run Python there (``Isolation.drop``)."""
    order = [prefer] if prefer else ["bubblewrap", "unshare", "none"]
    tried = []
    for kind in order:
        drop = kind == "bubblewrap" or _drop_works()
        if kind == "none":
            why = "; ".join(tried) or "chosen"
            return Isolation(
                "none",
                "no sandbox available (" + why + "): submissions run as separate processes "
                "with resource limits" + _as_whom(drop) + ", and the runner refuses the "
                "course's files, the network and new processes. Install bubblewrap "
                "(apt-get install bubblewrap) for full isolation.",
                drop,
            )
        exe = shutil.which("bwrap" if kind == "bubblewrap" else "unshare")
        if not exe:
            tried.append(f"{kind}: not installed")
            continue
        tmp = Path(tempfile.gettempdir())
        error = _probe(_command(kind, tmp, "x", [PYTHON, *_CHECK], 0, drop=drop))
        if not error:
            detail = {
                "bubblewrap": "bubblewrap: own PID, network and IPC namespaces, a private "
                "file system with only the student's notebook, limits on memory, CPU, file "
                "size and processes",
                "unshare": "unshare: own PID, network and IPC namespaces, limits on memory, CPU, "
                "file size and processes" + _as_whom(drop) + "; the host's file system is "
                "visible through permissions, and the runner refuses the course's files "
                "(install bubblewrap for a private file system)",
            }[kind]
            return Isolation(kind, detail, drop)
        tried.append(f"{kind}: {error.splitlines()[-1][:120]}")
    return Isolation("none", "; ".join(tried))


@functools.cache
def _drop_works():
    """Whether, as root, the slot's user can run this Python outside bubblewrap."""
    if not _is_root() or not shutil.which("setpriv"):
        return False
    return not _probe(_drop(0) + [PYTHON, *_CHECK])


def _as_whom(drop):
    if not _is_root():
        return ""
    if drop:
        return ", each worker slot as its own user"
    return (
        ", as root (the slot's own user cannot run this Python: install it where other "
        "users can read it)"
    )


def _is_root():
    return os.geteuid() == 0


def _drop(slot):
    """The command prefix that drops root to the worker slot's own user id."""
    if not _is_root() or not shutil.which("setpriv"):
        return []
    uid = str(BASE_UID + slot)
    return [
        "setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]


def _python_dirs():
    """Folders the sandboxed Python needs: its installation, the venv and the library."""
    dirs = {sys.base_prefix, sys.prefix, sys.exec_prefix}
    try:
        import chainrule

        dirs.add(str(Path(chainrule.__file__).resolve().parent.parent))
    except ImportError:
        pass
    for p in sys.path:
        if p and os.path.isdir(p) and not any(p.startswith(d + "/") for d in dirs):
            if "site-packages" in p or p.endswith(".zip"):
                dirs.add(p)
    return sorted(d for d in dirs if os.path.isdir(d))


def _bwrap(disk):
    """bubblewrap's namespaces, a size-capped ``/tmp`` and the read-only folders every sandbox
    gets, in this order: the Python folders are mounted after ``/tmp``, so a checkout and its
    ``.venv`` under /tmp stay visible."""
    cmd = ["bwrap", "--die-with-parent", "--new-session"]
    cmd += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
    cmd += ["--unshare-cgroup-try"]
    if not _is_root():
        cmd += ["--unshare-user"]
    for top in ("usr", "bin", "lib", "lib64", "lib32", "sbin", "etc"):
        src = Path("/") / top
        if src.is_symlink():
            cmd += ["--symlink", os.readlink(src), f"/{top}"]
        elif src.is_dir():
            cmd += ["--ro-bind", str(src), f"/{top}"]
    cmd += ["--size", disk, "--perms", "1777", "--tmpfs", "/tmp"]
    made = set()
    for d in _python_dirs():
        for parent in reversed(Path(d).parents[:-1]):
            if str(parent) not in made and not parent.is_symlink():
                made.add(str(parent))
                cmd += ["--perms", "0755", "--dir", str(parent)]
        cmd += ["--ro-bind", d, d]
    cmd += ["--perms", "0755", "--dir", os.path.dirname(RUNNER_INSIDE)]
    cmd += ["--ro-bind", str(RUNNER), RUNNER_INSIDE]
    cmd += ["--dev", "/dev", "--proc", "/proc"]
    return cmd


def _command(kind, workdir, notebook_name, argv, slot, limits=None, fd=None, drop=False, extra=()):
    """The argv that starts ``argv`` in a sandbox of ``kind`` with ``workdir`` as its folder.
    ``extra``: (file descriptor, path) pairs copied into the sandbox's ``/tmp`` (bubblewrap)."""
    limits = limits or Limits()
    disk = str(limits.disk_mb * 1024 * 1024)
    if kind == "bubblewrap":
        cmd = _bwrap(disk)
        cmd += ["--size", disk, "--perms", "0755", "--tmpfs", HOME]
        inside = f"{HOME}/{workdir.name}"
        cmd += ["--perms", "0777", "--dir", inside]
        if fd is not None:
            cmd += ["--perms", "0644", "--file", str(fd), f"{inside}/{notebook_name}"]
        for extra_fd, dest in extra:
            cmd += ["--perms", "0777", "--dir", os.path.dirname(dest)]
            cmd += ["--perms", "0644", "--file", str(extra_fd), dest]
        cmd += ["--chdir", inside, "--"]
        return cmd + _drop(slot) + argv
    if kind == "unshare":
        cmd = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--net", "--ipc"]
        cmd += ["--uts"] + ([] if _is_root() else ["--map-root-user"]) + ["--"]
        return cmd + (_drop(slot) if drop else []) + argv
    return (_drop(slot) if drop else []) + argv


def _nproc(limits, drop):
    """``RLIMIT_NPROC`` counts every task of the user: the slot's own user when root drops to
    it; otherwise the grader's user, whose tasks already running are added (root is exempt)."""
    if drop and _is_root():
        return limits.processes
    uid, running = os.getuid(), 0
    for pid in os.listdir("/proc"):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except (OSError, ValueError):
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("Uid", "").split()[:1] == [str(uid)]:
            running += int(fields.get("Threads", "1").strip() or 1)
    return running + limits.processes


def _limit(limits, nproc):
    def apply():
        os.setsid()
        mb = 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * mb,) * 2)
        cpu = int(limits.cpu_seconds)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


@functools.cache
def font_cache():
    """matplotlib's font list, built once per grader process and copied into every sandbox,
    so that no notebook spends half a second building its own. None if it cannot be built."""
    folder = Path(tempfile.mkdtemp(prefix="backprop-kit-fonts-"))
    atexit.register(shutil.rmtree, folder, True)
    env = dict(os.environ, MPLCONFIGDIR=str(folder), MPLBACKEND="Agg")
    done = subprocess.run(
        [PYTHON, "-c", "import matplotlib.font_manager"],
        env=env,
        capture_output=True,
        timeout=120,
    )
    found = sorted(folder.glob("fontlist-*.json"))
    if done.returncode != 0 or not found:
        return None
    found[0].chmod(0o644)
    return found[0]


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
        kind = self.isolation.kind
        inside = f"{HOME}/{self.workdir.name}" if kind == "bubblewrap" else str(self.workdir)
        tmp = "/tmp" if kind == "bubblewrap" else str(self.workdir / ".tmp")
        if kind != "bubblewrap":
            os.makedirs(tmp, exist_ok=True)
            if (fonts := font_cache()) and fonts.is_file():
                os.makedirs(f"{tmp}/matplotlib", exist_ok=True)
                shutil.copyfile(fonts, f"{tmp}/matplotlib/{fonts.name}")
            if self.isolation.drop:
                uid = BASE_UID + self.slot
                for p in (self.workdir.parent, self.workdir, *self.workdir.rglob("*")):
                    os.chown(p, uid, uid)
        env = {
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
        runner = RUNNER_INSIDE if kind == "bubblewrap" else str(RUNNER)
        argv = [PYTHON, runner]
        nb_file = self.workdir / self.notebook_name
        fd = os.open(nb_file, os.O_RDONLY) if kind == "bubblewrap" else None
        fonts = font_cache()
        extra = []
        if fonts is not None and kind == "bubblewrap" and fonts.is_file():
            extra.append((os.open(fonts, os.O_RDONLY), f"/tmp/matplotlib/{fonts.name}"))
        cmd = _command(
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
                preexec_fn=_limit(self.limits, _nproc(self.limits, self.isolation.drop)),
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

    def run(self, cell, source, student, task=None, timeout=None):
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
            reply = _valid(json.loads(line), request)
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


def _valid(reply, request):
    """The runner's reply to ``request``, checked field by field; ``ValueError`` otherwise."""
    if not isinstance(reply, dict) or reply.get("nonce") != request["nonce"]:
        raise ValueError("no reply with this request's nonce")
    events = reply.setdefault("events", [])
    if not isinstance(events, list) or not all(
        isinstance(e, dict) and isinstance(e.get("kind"), str) and isinstance(e.get("detail"), str)
        for e in events
    ):
        raise ValueError("malformed integrity events")
    if request["op"] != "run":
        return _encodable(reply)
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
    if not isinstance(reply.get("seconds", 0), (int, float)):
        raise ValueError("malformed time")
    return _encodable(reply)


def _encodable(value):
    """Strings made safe to write as UTF-8 (a lone surrogate from a notebook becomes '?')."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_encodable(v) for v in value]
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    return value
