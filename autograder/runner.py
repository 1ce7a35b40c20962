"""The process that runs one submission's cells inside the sandbox, and watches them.

It is started by ``autograder.sandbox`` as ``python runner.py`` and imports nothing of the
grader: only the standard library, IPython and what the notebook imports. The grader, outside
the sandbox, sends the cells one at a time over a pipe, so the hidden tests are never on the
sandbox's disk and a cell cannot read the ones after it. Protocol, one JSON object per line:

    fd 0 (requests)  {"op": "init", "config": {...}}  then  {"op": "run", "cell": 7, "source":
                     "...", "student": true, "timeout": 60}  ...  {"op": "finish"}
    fd 1 (replies)   {"ok": true, ...} per request: status, outputs, error, integrity events
    fd 2             anything written to the file descriptors directly (C code, subprocesses)

Integrity, checked before any student code runs and after every cell:
- a snapshot of the objects tests rely on (builtins, numpy, numpy.testing, math, chainrule, the
  IPython shell and ``sys`` hooks): anything replaced, or a function whose code was swapped,
  is reported as tampering;
- IPython input/AST transformers, custom exception handlers and event callbacks added;
- an audit hook (it cannot be removed) that reports, and refuses, opening the course's
  solutions, source, gradebook or other notebooks, writes outside the submission's folder and
  ``/tmp``, network use, and new audit hooks;
- the reference implementations of what a task asks for (``chainrule`` functions and classes of
  the same name), wrapped so that a call from a student's cell is reported.

Everything here runs in the same process as student code. A student who studies this file can
still defeat checks made in-process; the sandbox's limits and the grader's own bookkeeping (the
locked cells it sends, the scores it computes outside) do not depend on them.
"""

import contextlib
import json
import os
import re
import signal
import sys
import time

__all__ = ["main"]

_CELL_FILE = re.compile(r"<ipython-input-(\d+)-")
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
        match = _CELL_FILE.match(frame.f_code.co_filename)
        return self.cell_task.get(int(match.group(1))) if match else None


# -- snapshots of what the tests rely on ---------------------------------------------------------


_MISSING = object()


def _snapshot(namespaces):
    """``[(label, namespace dict, {name: (object, its __code__)})]``: references kept, so the
    check below compares identities without building a string per name."""
    snap = []
    for label, ns in namespaces:
        items = {}
        for name, value in list(ns.items()):
            items[name] = (value, getattr(value, "__code__", None))
        snap.append((label, ns, items))
    return snap


def _changes(snap):
    """(label.name, what happened) for every entry replaced, deleted or with code swapped."""
    for label, ns, items in snap:
        for name, (value, code) in items.items():
            now = ns.get(name, _MISSING)
            if now is value:
                if code is not None and getattr(now, "__code__", None) is not code:
                    yield f"{label}.{name}", "had its code swapped"
            elif now is _MISSING:
                yield f"{label}.{name}", "was deleted"
            else:
                yield f"{label}.{name}", "was replaced"


def _hooks(shell):
    return {
        "input transformer": [id(f) for f in shell.input_transformers_cleanup]
        + [id(f) for f in shell.input_transformers_post]
        + [id(f) for f in shell.input_transformer_manager.cleanup_transforms]
        + [id(f) for f in shell.input_transformer_manager.line_transforms],
        "AST transformer": [id(f) for f in shell.ast_transformers],
        "custom exception handler": [id(c) for c in shell.custom_exceptions],
        "event callback": [
            id(cb)
            for name in sorted(shell.events.callbacks)
            for cb in shell.events.callbacks[name]
            if not _library_callback(cb)
        ],
        "sys.excepthook": [id(sys.excepthook)],
        "trace or profile function": [id(sys.gettrace()), id(sys.getprofile())],
        "shell method": sorted((k, id(v)) for k, v in vars(shell).items() if callable(v)),
        "shell component": [
            (name, id(getattr(shell, name, None)))
            + tuple(
                sorted(
                    (k, id(v))
                    for k, v in vars(getattr(shell, name, None) or 0).items()
                    if callable(v)
                )
            )
            for name in _COMPONENTS
        ],
    }


_COMPONENTS = (
    "compile",
    "input_transformer_manager",
    "events",
    "displayhook",
    "display_pub",
    "display_formatter",
    "InteractiveTB",
    "SyntaxTB",
)
_LIBRARIES = ("matplotlib", "matplotlib_inline", "ipywidgets", "IPython", "ipykernel")


def _library_callback(cb):
    """An event callback a library registered (matplotlib's redraw hook), not a cell's."""
    func = getattr(cb, "__func__", cb)
    code = getattr(func, "__code__", None)
    module = getattr(func, "__module__", None) or ""
    return (
        code is not None
        and not _CELL_FILE.match(code.co_filename)
        and module.split(".")[0] in _LIBRARIES
    )


class Checks:
    """Compares the protected objects with their snapshot; reports what changed, once."""

    PROTECTED = ("builtins", "numpy", "numpy.testing", "math", "IPython.core.interactiveshell")

    def __init__(self, shell, watch):
        import builtins  # noqa: F401
        import math  # noqa: F401

        import numpy  # noqa: F401
        import numpy.testing  # noqa: F401

        try:
            import chainrule  # noqa: F401
            import chainrule.grading  # noqa: F401
        except ImportError:
            pass
        self.shell, self.watch = shell, watch
        self.modules = {n: sys.modules[n] for n in self._names()}
        classes = [type(shell), type(shell).__mro__[1]]
        classes += [type(getattr(shell, name)) for name in _COMPONENTS if hasattr(shell, name)]
        from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult

        classes += [ExecutionResult, ExecutionInfo]
        grading = sys.modules.get("chainrule.grading")
        if grading is not None:
            classes += [v for v in vars(grading).values() if isinstance(v, type)]
        spaces = [(m.__name__, vars(m)) for m in self.modules.values()]
        spaces += [(f"{c.__module__}.{c.__qualname__}", vars(c)) for c in classes]
        self.snap = _snapshot(spaces)
        self.hooks = _hooks(shell)
        self.seen = set()

    def _names(self):
        return [
            n
            for n in sorted(sys.modules)
            if n in self.PROTECTED or n.split(".")[0] in ("chainrule", "numpy")
        ]

    def run(self, cell):
        for name, mod in self.modules.items():
            if sys.modules.get(name) is not mod:
                self._flag(f"sys.modules[{name!r}] was replaced", cell)
        for key, what in _changes(self.snap):
            self._flag(f"{key} {what}", cell)
        hooks = _hooks(self.shell)
        for kind, value in hooks.items():
            if value != self.hooks[kind]:
                self._flag(f"an IPython {kind} was installed or changed", cell)

    def _flag(self, detail, cell):
        if detail not in self.seen:
            self.seen.add(detail)
            self.watch.report("tamper", f"{detail} (cell {cell})")


def _wrap_references(refs, answer_names, watch):
    """Wrap each reference function and each method of a reference class with a call check:
    a call straight from the answer cell of the task that asks for that name is reported."""
    import functools
    import importlib

    def tripwire(fn, label, owners):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            task = watch.caller_task()
            if task is not None and task in owners:
                watch.report("reference", f"task {task} called the reference {label}")
            return fn(*args, **kwargs)

        wrapper.__backprop_kit_reference__ = label
        return wrapper

    wrapped, codes = {}, {}
    for dotted in refs:
        module_name, _, name = dotted.rpartition(".")
        try:
            module = importlib.import_module(module_name)
            obj = getattr(module, name)
        except (ImportError, AttributeError):
            continue
        wrapped[dotted] = obj
        owners = {t for t, names in answer_names.items() if name in names}
        if isinstance(obj, type):
            for attr, value in list(vars(obj).items()):
                if callable(value) and not isinstance(value, type) and not attr.startswith("__"):
                    setattr(obj, attr, tripwire(value, f"{dotted}.{attr}", owners))
                    if hasattr(value, "__code__"):
                        codes[id(value.__code__)] = f"{dotted}.{attr}"
        elif callable(obj):
            setattr(module, name, tripwire(obj, dotted, owners))
            if hasattr(obj, "__code__"):
                codes[id(obj.__code__)] = dotted
    return wrapped, codes


def _reference_in(obj, codes):
    """The reference a function (or a class's method) is, or runs the code of; else None."""
    funcs = [obj]
    if isinstance(obj, type):
        funcs = [v for k, v in vars(obj).items() if callable(v) and not k.startswith("__")]
    for f in funcs:
        label = getattr(f, "__backprop_kit_reference__", None)
        if label:
            return label
        code = getattr(getattr(f, "__func__", f), "__code__", None)
        if code is not None and id(code) in codes:
            return codes[id(code)]
    return None


def _check_answers(names, before, refs, codes, user_ns, watch):
    """Report answer names a cell bound to, or to a subclass of, or to the code of, the
    reference they should re-implement. ``before`` holds the names' ids before the cell."""
    for name in names:
        obj = user_ns.get(name)
        if obj is None or id(obj) == before.get(name):
            continue
        for dotted, ref in refs.items():
            if dotted.rpartition(".")[2] != name:
                continue
            if obj is ref or getattr(obj, "__wrapped__", None) is ref:
                watch.report("reference", f"{name} is the reference {dotted} itself")
            elif isinstance(obj, type) and isinstance(ref, type) and issubclass(obj, ref):
                watch.report("reference", f"{name} subclasses the reference {dotted}")
        label = _reference_in(obj, codes)
        if label:
            watch.report("reference", f"{name} runs the code of the reference {label}")


# -- running cells -------------------------------------------------------------------------------


class Capped:
    """A text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit):
        self.limit, self.parts, self.size, self.dropped = limit, [], 0, 0

    def write(self, text):
        text = str(text)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(len(text), room)
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    def text(self):
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n[output cut: {self.dropped} more characters]\n"
        return out


def _alarm(fired):
    """The handler of the cell's alarm: the cell stops with KeyboardInterrupt, as Jupyter's
    interrupt does (no thread needed, so a notebook at its process limit still stops)."""

    def handler(signum, frame):
        fired.append(True)
        raise KeyboardInterrupt

    return handler


class _Sink:
    """Where the shell's display and traceback hooks put what a cell shows: all they reach."""

    def __init__(self):
        self.outputs, self.error = [], None


def _hooks_into(shell, limit):
    """Install the output and traceback hooks as plain closures over a ``_Sink`` (not bound
    methods, whose ``__self__`` would hand a cell the runner itself)."""
    sink = _Sink()

    def result(format_dict, md_dict=None):
        text = str(format_dict.get("text/plain", ""))
        sink.outputs.append({"output_type": "execute_result", "text": text[:limit]})

    def display(data, metadata=None, **kwargs):
        text = data.get("text/plain", "") if isinstance(data, dict) else ""
        sink.outputs.append({"output_type": "display_data", "text": str(text)[:limit]})

    def traceback(etype, evalue, stb):
        sink.error = {
            "ename": getattr(etype, "__name__", str(etype)),
            "evalue": str(evalue)[:limit],
            "traceback": [line[:limit] for line in stb[-30:]],
        }

    shell.displayhook.write_output_prompt = lambda: None
    shell.displayhook.write_format_data = result
    shell.display_pub.publish = display
    shell._showtraceback = traceback
    return sink


@contextlib.contextmanager
def _no_source_kept(shell, hide):
    """While a test cell runs, IPython keeps no copy of its source for ``linecache``, so code
    it calls cannot read the hidden tests from there."""
    if not hide:
        yield
        return
    compiler = shell.compile
    real = type(compiler).cache
    compiler.cache = lambda code, number=0, raw_code=None: compiler.get_code_name(
        raw_code or code, code, number
    )
    try:
        yield
    finally:
        del compiler.cache
        assert compiler.cache.__func__ is real


class Runner:
    def __init__(self, config):
        self.config = config
        self.watch = Watch(config)
        self.limit = int(config.get("output_limit", 20000))
        sys.addaudithook(self.watch.hook)
        from IPython.core.interactiveshell import InteractiveShell

        os.environ.setdefault("MPLBACKEND", "Agg")
        shell = InteractiveShell.instance(colors="nocolor", history_length=0)
        shell.history_manager.enabled = False
        self.shell = shell
        self.sink = _hooks_into(shell, self.limit)
        self.builtins = shell.user_ns.get("__builtins__")
        self.budget = int(config.get("notebook_output_limit", 2_000_000))
        self.answer_names = config.get("answer_names", {})
        self.refs, self.ref_codes = _wrap_references(
            config.get("references", []), self.answer_names, self.watch
        )
        self.all_answers = sorted({n for names in self.answer_names.values() for n in names})
        self.checks = Checks(shell, self.watch)
        self.pid = os.getpid()
        self.threads = set(sys._current_frames())

    def run(self, request):
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
        signal.signal(signal.SIGALRM, _alarm(fired))
        timed_out = False
        start = time.perf_counter()
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        watch.in_student = student
        signal.setitimer(signal.ITIMER_REAL, float(request.get("timeout", 60)))
        try:
            with _no_source_kept(shell, not student):
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
            _check_answers(
                self.all_answers, before, self.refs, self.ref_codes, shell.user_ns, watch
            )
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
            self.checks._flag("the notebook's __builtins__ was replaced", cell - 1)

    def _threads(self, cell):
        """A thread of the notebook's that outlives its cell could change what the tests use
        while the checks are not looking: reported."""
        self.watch.armed = False  # the runner's own look is not an attack
        try:
            extra = set(sys._current_frames()) - self.threads
        finally:
            self.watch.armed = True
        if extra:
            self.checks._flag("a thread started by the notebook was still running", cell)

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
