"""Which sandbox this machine allows, and the command line that starts a process in it.

The kinds, strongest first:

- ``bubblewrap`` (Debian's ``bwrap``): new PID, network, IPC and UTS namespaces; a file system
  of read-only system and Python folders, the library, the runner's folder (``inside/``, at
  ``/opt/backprop-kit``) and two size-capped tmpfs: the submission's folder
  ``/home/student/<assignment>`` (holding only the student's notebook) and ``/tmp``. The
  course, its solutions, the gradebook and other students' files are not there.
- ``unshare`` (util-linux): the same namespaces, but the host's file system, read through the
  permissions of the sandbox's user; the runner's audit hook refuses the course's files.
- ``none``: resource limits, a process group and the audit hook only; said in the output.

In every mode: limits on memory (address space), CPU seconds, file size and processes
(``RLIMIT_NPROC`` binds when the grader is root: each worker slot runs as its own user id,
61000 + slot). ``Limits`` holds them, with the wall-clock limits the host enforces.
"""

import atexit
import functools
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Limits",
    "Isolation",
    "detect_isolation",
    "sandbox_command",
    "zygote_command",
    "limit_process",
    "process_limit",
    "font_cache",
    "RUNNER",
    "RUNNER_INSIDE",
    "HOME",
    "BASE_UID",
    "PYTHON",
]

RUNNER_DIR = Path(__file__).resolve().parent / "inside"
RUNNER = RUNNER_DIR / "runner.py"
INSIDE_DIR = "/opt/backprop-kit"
RUNNER_INSIDE = f"{INSIDE_DIR}/{RUNNER.name}"
ZYGOTE_INSIDE = f"{INSIDE_DIR}/zygote.py"
HOME = "/home/student"
BASE_UID = 61000
# The grader's own Python, as a clean absolute path (``bench/../.venv/bin/python`` would not
# exist inside a sandbox that holds no bench/ folder).
PYTHON = os.path.normpath(os.path.abspath(sys.executable))


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
        error = _probe(sandbox_command(kind, tmp, "x", [PYTHON, *_CHECK], 0, drop=drop))
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
    cmd += ["--perms", "0755", "--dir", INSIDE_DIR]
    cmd += ["--ro-bind", str(RUNNER_DIR), INSIDE_DIR]
    cmd += ["--dev", "/dev", "--proc", "/proc"]
    return cmd


def sandbox_command(
    kind, workdir, notebook_name, argv, slot, limits=None, fd=None, drop=False, extra=()
):
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


def zygote_command(limits, control_fd, extra=()):
    """The argv that starts a warm slot's parent (``inside/zygote.py``) under bubblewrap.

    The same file system as a submission's sandbox, with an empty ``/home/student``, and the
    capabilities the parent needs to build each child's namespaces and drop to the slot's
    user: CAP_SYS_ADMIN (mounts, namespaces) and, as root, CAP_SETUID, CAP_SETGID and
    CAP_SETPCAP; without root, bubblewrap's user namespace gives CAP_SYS_ADMIN inside it only.
    ``control_fd`` is the parent's end of the control socket; ``extra`` as for
    ``sandbox_command``."""
    disk = str(limits.disk_mb * 1024 * 1024)
    cmd = _bwrap(disk)
    cmd += ["--size", disk, "--perms", "0755", "--tmpfs", HOME]
    for extra_fd, dest in extra:
        cmd += ["--perms", "0777", "--dir", os.path.dirname(dest)]
        cmd += ["--perms", "0644", "--file", str(extra_fd), dest]
    if _is_root():
        cmd += ["--cap-drop", "ALL"]
        for cap in ("SYS_ADMIN", "SETUID", "SETGID", "SETPCAP"):
            cmd += ["--cap-add", f"CAP_{cap}"]
    else:
        cmd += ["--cap-add", "CAP_SYS_ADMIN"]
    return cmd + ["--chdir", "/", "--", PYTHON, ZYGOTE_INSIDE, str(control_fd)]


def process_limit(limits, drop):
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


def limit_process(limits, nproc):
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
