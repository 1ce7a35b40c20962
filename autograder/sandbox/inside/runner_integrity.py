"""The runner's integrity checks: what the tests rely on, compared after every cell.

- ``Integrity``: a snapshot of the objects tests rely on (builtins, numpy, numpy.testing, math,
  chainrule with its value tasks' registry, the IPython shell and its components, ``sys``
  hooks), compared after each cell:
  anything replaced, deleted or with its code swapped is reported as tampering, once.
- ``wrap_references`` / ``check_answers``: the reference implementations of what a task asks for
  (chainrule functions and classes of the same name) wrapped so that a call from the answer
  cell of that task is reported, and answers bound to (or built on) a reference reported.

Runs inside the sandbox: the standard library, IPython and NumPy only.
"""

import sys

from runner_audit import CELL_FILE

__all__ = ["Integrity", "wrap_references", "check_answers"]

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
        and not CELL_FILE.match(code.co_filename)
        and module.split(".")[0] in _LIBRARIES
    )


def _value_tasks():
    """The value tasks' registry and each entry's fields (its answers and draws): a test of a
    value task trusts them as it trusts ``expect_close``."""
    value_tasks = sys.modules.get("chainrule.value_tasks")
    if value_tasks is None:
        return []
    label = "chainrule.value_tasks.TASKS"
    found = [(label, value_tasks.TASKS)]
    found += [(f"{label}[{k!r}]", vars(v)) for k, v in value_tasks.TASKS.items()]
    return found


class Integrity:
    """Compares the protected objects with their snapshot; reports what changed, once."""

    PROTECTED = ("builtins", "numpy", "numpy.testing", "math", "IPython.core.interactiveshell")

    def __init__(self, shell, watch):
        import builtins  # noqa: F401
        import math  # noqa: F401

        import numpy  # noqa: F401
        import numpy.testing  # noqa: F401

        try:
            import chainrule  # noqa: F401
            import chainrule.testcells  # noqa: F401
            import chainrule.value_tasks  # noqa: F401
            import chainrule.variants  # noqa: F401
        except ImportError:
            pass
        self.shell, self.watch = shell, watch
        self.modules = {n: sys.modules[n] for n in self._names()}
        classes = [type(shell), type(shell).__mro__[1]]
        classes += [type(getattr(shell, name)) for name in _COMPONENTS if hasattr(shell, name)]
        from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult

        classes += [ExecutionResult, ExecutionInfo]
        for name in ("chainrule.testcells", "chainrule.variants"):
            module = sys.modules.get(name)
            if module is not None:
                classes += [v for v in vars(module).values() if isinstance(v, type)]
        spaces = [(m.__name__, vars(m)) for m in self.modules.values()]
        spaces += [(f"{c.__module__}.{c.__qualname__}", vars(c)) for c in classes]
        spaces += _value_tasks()
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
                self.flag(f"sys.modules[{name!r}] was replaced", cell)
        for key, what in _changes(self.snap):
            self.flag(f"{key} {what}", cell)
        hooks = _hooks(self.shell)
        for kind, value in hooks.items():
            if value != self.hooks[kind]:
                self.flag(f"an IPython {kind} was installed or changed", cell)

    def flag(self, detail, cell):
        if detail not in self.seen:
            self.seen.add(detail)
            self.watch.report("tamper", f"{detail} (cell {cell})")


def wrap_references(refs, answer_names, watch, guarded=None):
    """Wrap each reference function and each method of a reference class with a call check:
    a call straight from the answer cell of the task that asks for that name is reported, and
    from the answer cell of any task ``guarded`` ({dotted name: task ids}) lists for it (the
    value tasks' answers, ``chainrule.value_tasks.spec``)."""
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
        owners |= set((guarded or {}).get(dotted, ()))
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


def check_answers(names, before, refs, codes, user_ns, watch):
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
