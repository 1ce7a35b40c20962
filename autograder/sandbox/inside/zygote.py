"""A warm slot's parent: imports done once, then one fresh, isolated child per submission.

Started by ``autograder.sandbox.warm`` under bubblewrap (this folder at ``/opt/backprop-kit``)
with the capabilities it needs to build each child's sandbox (CAP_SYS_ADMIN, and as root
CAP_SETUID, CAP_SETGID and CAP_SETPCAP), never with student code: only the grader talks to it,
over the control socket whose number is ``argv[1]``. It imports what the notebooks import
(NumPy, matplotlib, chainrule, IPython and its shell), then serves, one message per request on
the SOCK_SEQPACKET control socket:

    spawn   {"op": "spawn", "folder": "01-graphs", "notebook": "01-graphs.ipynb", "env": {...},
             "uid": 61003 or null, "limits": {...}, "nproc": 256, "disk": bytes}
            with four file descriptors: the runner's stdin, stdout and stderr, and the notebook
            -> {"spawned": pid, "ns": "pid:[4026532...]"}  or  {"error": "..."}
    (later) {"exited": pid, "status": 0..255}, when that child's sandbox is gone

Each child (``_child``), before any submission code runs, in this order:

1. new mount, PID, network, IPC and UTS namespaces (the network one holds only a loopback);
2. a fresh size-capped tmpfs on ``/tmp`` (a copy of the parent's: the font cache and IPython's
   profile folder, nothing a student wrote; the Python folders bubblewrap binds below ``/tmp``,
   for a checkout there, are bound again as they were, not copied) and on ``/home/student``,
   holding only the submission's folder and its notebook;
3. a fork, so the runner's pid 1 is a reaper in the new PID namespace with a fresh ``/proc``
   (in a mount namespace of its own, so that the fork's parent keeps the server's);
4. in the runner (pid 2): the limits (memory, CPU seconds, file size, processes, no core),
   the slot's own user id (root drops to it; otherwise every capability is dropped), no new
   privileges, the submission's environment, its folder as working folder, no file
   descriptor but 0, 1 and 2, NumPy's global random state reseeded; then ``runner.main``.

Each submission therefore starts from the parent's memory as it was before any submission:
its modules, NumPy, IPython and matplotlib state, environment and threads (the parent has none
but its main thread) are copies the previous child could not touch.
"""

import ctypes
import json
import os
import resource
import select
import signal
import socket
import sys

__all__ = ["main", "preload"]

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 0x1000, 0x4000, 0x40000
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
HOME = "/home/student"
PRELOAD = (
    "numpy",
    "matplotlib",
    "matplotlib.pyplot",
    "IPython",
    "chainrule",
    "chainrule.testcells",
    "chainrule.variants",
    "chainrule.value_tasks",
    "chainrule.viz",
    "chainrule.widgets",
    "chainrule.lectures",
    "chainrule.activations",
    "chainrule.layers",
    "chainrule.data",
    "chainrule.backend",
)

_libc = ctypes.CDLL(None, use_errno=True)


def _call(name, *args):
    """A libc call that raises OSError (with the call's name) when it fails."""
    if getattr(_libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags, data=None):
    _call(
        "mount",
        source.encode() if source else None,
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )


def preload():
    """Import what the notebooks import and make the runner's shell; returns what failed."""
    import importlib

    failed = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception as err:  # a missing optional module is imported by the cell instead
            failed.append(f"{name}: {type(err).__name__}")
    from runner import make_shell

    make_shell()
    return failed


# -- one child --------------------------------------------------------------------------------


def _mounts_below(root):
    """The mount points strictly below ``root``, outermost first: bubblewrap binds the Python
    folders there when a checkout (or its ``.venv``) lives under ``/tmp``."""
    below = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            point = _unescape(line.split()[4])
            if point.startswith(root.rstrip("/") + "/"):
                below.append(point)
    return sorted(set(below), key=lambda p: p.count("/"))


def _unescape(field):
    """mountinfo writes space, tab, newline and backslash as three octal digits after ``\\``."""
    for code in ("040", "011", "012", "134"):
        field = field.replace("\\" + code, chr(int(code, 8)))
    return field


def _tree(root, skip=()):
    """{relative path: bytes or None for a folder} of the small tree under ``root``, leaving
    out the mount points ``skip`` (another file system's files, not the parent's own)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if os.path.join(folder, d) not in skip]
        rel = os.path.relpath(folder, root)
        if rel != ".":
            found[rel] = None
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path) and path not in skip:
                with open(path, "rb") as fh:
                    found[os.path.normpath(os.path.join(rel, name))] = fh.read()
    return found


def _outermost(points):
    """The mount points not below another one of ``points`` (a recursive bind brings those)."""
    return [p for p in points if not any(p.startswith(q + "/") for q in points if q != p)]


def _bind_again(held):
    """Put the mounts that the fresh ``/tmp`` covered back in place: ``held`` is
    ``[(mount point, O_PATH descriptor opened before)]``; a bind keeps each one's flags."""
    for point, fd in held:
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(point, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(point), exist_ok=True)
            open(point, "ab").close()
        _mount(f"/proc/self/fd/{fd}", point, None, MS_BIND | MS_REC)
        os.close(fd)


def _plant(root, tree):
    for rel, data in sorted(tree.items()):
        path = os.path.join(root, rel)
        if data is None:
            os.makedirs(path, mode=0o777, exist_ok=True)
            os.chmod(path, 0o777)
        else:
            with open(path, "wb") as fh:
                fh.write(data)
            os.chmod(path, 0o644)


def _file_system(request, notebook_fd):
    """Steps 1 and 2: the child's namespaces, its own ``/tmp`` and its submission's folder."""
    below = _mounts_below("/tmp")
    tmp = _tree("/tmp", skip=set(below))
    _call("unshare", CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    # held in the new mount namespace (a bind takes its source from the caller's namespace)
    held = [(p, os.open(p, os.O_PATH | os.O_CLOEXEC)) for p in _outermost(below)]
    size = int(request["disk"])
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    _plant("/tmp", tmp)
    _bind_again(held)  # a checkout or .venv under /tmp stays visible, read-only as it was
    _mount("tmpfs", HOME, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=0755")
    folder = os.path.join(HOME, _plain(request["folder"]))
    os.mkdir(folder)
    os.chmod(folder, 0o777)
    target = os.path.join(folder, _plain(request["notebook"]))
    with os.fdopen(notebook_fd, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    os.chmod(target, 0o644)
    return folder


def _plain(name):
    """A file or folder name from the grader: one path component, nothing else."""
    if not isinstance(name, str) or not name or "/" in name or name in (".", "..") or "\0" in name:
        raise ValueError(f"not a plain file name: {name!r}")
    return name


def _limits(request):
    lim, mb = request["limits"], 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (lim["memory_mb"] * mb,) * 2)
    cpu = int(lim["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (lim["file_mb"] * mb,) * 2)
    nproc = int(request["nproc"])
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _drop_privileges(uid):
    """Step 4's user: as root, drop the bounding set and become ``uid``; then, either way,
    empty every capability set (the user namespace's, without root) and allow no new
    privileges (no set-uid program or file capability can give any back)."""
    if uid is not None:
        for cap in range(64):
            if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                errno = ctypes.get_errno()
                if errno == 22:  # EINVAL: past the kernel's last capability
                    break
                raise OSError(errno, f"prctl(PR_CAPBSET_DROP, {cap}): {os.strerror(errno)}")
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # clears the permitted and effective sets, not the others
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()  # every set empty: effective, permitted, inheritable (ambient too)
    _call("capset", ctypes.byref(header), data)
    _call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def _close_other_fds():
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2:
            try:
                os.close(fd)
            except OSError:
                pass


def _let_go_of_the_pipes():
    """The child's own helpers (the namespace's parent and its pid 1) hold no end of the
    runner's pipes, so the grader reads end of file the moment the runner is gone."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def _reaper(runner):
    """pid 1 of the child's namespace: reap everything; leave with the runner's status."""
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(1)
        if pid == runner:
            os._exit(_exit_code(status))


def _exit_code(status):
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.waitstatus_to_exitcode(status) & 0xFF


def _report_namespace(report):
    """Send the server the new PID namespace's name and an open file of it. The grader keeps
    that file open until the submission is over: a namespace's number is reused as soon as the
    namespace is gone, and while the file is open this one cannot go, so killing "every process
    in pid:[N]" can never reach another submission's sandbox."""
    held = os.open("/proc/self/ns/pid_for_children", os.O_RDONLY)
    name = os.readlink("/proc/self/ns/pid_for_children").encode()
    socket.send_fds(report, [name], [held])
    os.close(held)
    report.close()


def _child(request, fds, report):
    """Everything between the fork and ``runner.main`` (see the module docstring). Runs in
    the forked child; never returns."""
    try:
        signal.set_wakeup_fd(-1)  # the server's, not this child's
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        stdin, stdout, stderr, notebook = fds
        os.setsid()
        folder = _file_system(request, notebook)
        for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
            os.dup2(fd, target)
            os.close(fd)
        inner = os.fork()  # pid 1 of the new namespace (which exists from this fork on)
        if inner:
            _let_go_of_the_pipes()
            _report_namespace(report)
            _, status = os.waitpid(inner, 0)
            os._exit(_exit_code(status))
        report.close()
        # A mount namespace of its own for the new /proc: the parent above still reads the
        # server's /proc (its own pid is not in the new one).
        _call("unshare", CLONE_NEWNS)
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        runner = os.fork()
        if runner:
            _let_go_of_the_pipes()
            _close_other_fds()
            _reaper(runner)
        _limits(request)
        _drop_privileges(request["uid"])
        os.environ.clear()
        os.environ.update(request["env"], PWD=folder)  # PWD as bubblewrap's --chdir sets it
        os.chdir(folder)
        _close_other_fds()
        import numpy

        numpy.random.seed()  # noqa: NPY002 - a fresh process's global state, not the parent's
        import runner as runner_module

        runner_module.main()
    except BaseException as err:  # noqa: BLE001 - a child must never return into the server
        try:  # to the server, who tells the grader (the pipe is closed once the child is made)
            report.send(f"error: {type(err).__name__}: {err}".encode())
        finally:
            os._exit(70)
    os._exit(0)


# -- the server -------------------------------------------------------------------------------


def _spawn(control, request, fds):
    """Fork a child for ``request``; reply with its pid and PID namespace, or the error."""
    if len(fds) != 4:
        for fd in fds:
            os.close(fd)
        why = f"spawn needs 4 file descriptors, got {len(fds)}"
        control.send(json.dumps({"error": why}).encode())
        return None
    listen, report = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        control.close()
        listen.close()
        _child(request, fds, report)
    report.close()
    for fd in fds:
        os.close(fd)
    namespace, held, _, _ = socket.recv_fds(listen, 4096, 1)  # b"" if it died first
    listen.close()
    if not namespace.startswith(b"pid:") or len(held) != 1:
        for fd in held:
            os.close(fd)
        _, status = os.waitpid(pid, 0)
        why = namespace.decode(errors="replace") or f"it exited with status {_exit_code(status)}"
        control.send(json.dumps({"error": why, "exited": pid}).encode())
        return None
    reply = json.dumps({"spawned": pid, "ns": namespace.decode()}).encode()
    socket.send_fds(control, [reply], held)  # the namespace itself: see _report_namespace
    os.close(held[0])
    return pid


def _reap(control, children):
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        control.send(json.dumps({"exited": pid, "status": _exit_code(status)}).encode())


def main():
    control = socket.socket(fileno=int(sys.argv[1]))
    failed = preload()
    import threading

    if threading.active_count() != 1:
        names = ", ".join(t.name for t in threading.enumerate())
        control.send(json.dumps({"error": f"threads running after the imports: {names}"}).encode())
        return
    control.send(json.dumps({"ready": os.getpid(), "not_preloaded": failed}).encode())
    children = set()
    woken, wake = os.pipe()  # SIGCHLD writes a byte here: an exit is reported at once
    os.set_blocking(wake, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake)
    while True:
        ready, _, _ = select.select([control, woken], [], [], 1.0)
        if woken in ready:
            os.read(woken, 4096)
        if control in ready:
            data, fds, _, _ = socket.recv_fds(control, 1 << 16, 8)
            if not data:
                break  # the grader closed the slot
            pid = _spawn(control, json.loads(data), fds)
            if pid is not None:
                children.add(pid)
        _reap(control, children)
    os._exit(0)


if __name__ == "__main__":
    main()
