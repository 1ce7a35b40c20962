"""Sample submissions of notebook 1 (``01-graphs``): honest students and hostile ones.

Each ``Sample`` is built from the released notebook and the solution, so the samples follow
the course as it changes: a perfect student, a partial one, a blank one, a buggy one, and a
corpus of submissions that attack the grader, each with the outcome the grader must reach
(``status``, ``score``, and words its reason must contain). ``backprop-kit demo`` collects a
few of them; ``tests/autograder/test_hostile.py`` grades them all.
"""

import copy
import json
import re
from dataclasses import dataclass

import nbformat

__all__ = ["ASSIGNMENT", "NOTEBOOK", "Sample", "SAMPLES", "DEMO", "solved", "build"]

ASSIGNMENT = "01-graphs"
NOTEBOOK = "graphs.ipynb"
FULL = 10.0
_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


@dataclass(frozen=True)
class Sample:
    """A student: how their files are made, and what grading must say about them."""

    student: str
    about: str
    make: object  # (release, source) -> {file name: bytes}
    status: str
    score: float
    reason: str = ""


def solved(release, source):
    """The released notebook with every answer cell written as in the solution."""
    nb = copy.deepcopy(release)
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution"):
            lines = answers[gid].splitlines()
            cell.source = "\n".join(line for line in lines if not _MARKER.match(line))
    return nb


def _cell(nb, grade_id):
    for i, c in enumerate(nb.cells):
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return i, c
    raise KeyError(grade_id)


def _answer(nb, task, code):
    _cell(nb, f"{task}-code")[1].source = code
    return nb


def _add_after(nb, grade_id, code):
    i, _ = _cell(nb, grade_id)
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(code))
    return nb


def _file(nb, name=NOTEBOOK):
    return {name: nbformat.writes(nb).encode()}


def _perfect(release, source):
    return _file(solved(release, source))


def _partial(release, source):
    nb = solved(release, source)
    for task in ("add-gate", "mul-gate", "graph"):
        _cell(nb, f"{task}-code")[1].source = _cell(release, f"{task}-code")[1].source
    return _file(nb)


def _blank(release, source):
    return _file(release)


def _buggy(release, source):
    nb = solved(release, source)
    cell = _cell(nb, "mul-gate-code")[1]
    cell.source = cell.source.replace("return (y * dz, x * dz)", "return (x * dz, y * dz)")
    return _file(nb)


def _with_answer(task, code, base="solved"):
    def make(release, source):
        nb = solved(release, source) if base == "solved" else copy.deepcopy(release)
        return _file(_answer(nb, task, code))

    return make


def _with_cell(after, code, base="release"):
    def make(release, source):
        nb = solved(release, source) if base == "solved" else copy.deepcopy(release)
        return _file(_add_after(nb, after, code))

    return make


def _typed_in(numbers_of, id_line=None):
    """The solution with each value task's answers typed in as literals worked on the numbers
    of ``numbers_of`` ("" for the slide's), and ``STUDENT_ID = id_line`` when given."""
    from chainrule.value_tasks import spec, task_ids
    from chainrule.variants import variant

    def make(release, source):
        nb = solved(release, source)
        for task_id in task_ids():
            try:
                cell = _cell(nb, f"{task_id}-code")[1]
            except KeyError:
                continue
            answers = spec(task_id).answers(variant(numbers_of, task_id))
            cell.source = "\n".join(f"{k} = {float(v)!r}" for k, v in answers.items())
        if id_line is not None:
            for cell in nb.cells:
                cell.source = cell.source.replace('STUDENT_ID = ""', f"STUDENT_ID = {id_line!r}")
        return _file(nb)

    return make


def _leak_inputs(release, source):
    nb = solved(release, source)
    cell = _cell(nb, "numerical-grad-code")[1]
    head, _, body = cell.source.partition('    """')
    doc, _, rest = body.partition('"""\n')
    cell.source = head + '    """' + doc + '"""\n    print("leaked:", list(x))\n' + rest
    return _file(nb)


def _deleted_test(release, source):
    nb = solved(release, source)
    i, _ = _cell(nb, "mul-gate")
    del nb.cells[i]
    return _file(nb)


def _edited_test(release, source):
    nb = copy.deepcopy(release)
    _cell(nb, "add-gate")[1].source = "pass  # the test, edited away"
    return _file(nb)


def _untagged_test(release, source):
    nb = copy.deepcopy(release)
    _, cell = _cell(nb, "graph")
    cell.metadata.pop("nbgrader")
    cell.source = "print('graph: passed the tests in this cell')"
    return _file(nb)


def _corrupt(release, source):
    text = nbformat.writes(solved(release, source))
    return {NOTEBOOK: text[: len(text) // 2].encode()}


def _nbformat3(release, source):
    return {NOTEBOOK: json.dumps(nbformat.convert(solved(release, source), 3)).encode()}


def _renamed(release, source):
    return _file(solved(release, source), "my graphs notebook.ipynb")


def _missing(release, source):
    return {"notes.txt": b"I could not finish, sorry\n"}


_LOOP = "while True:\n    pass"
_SIGINT_PROOF = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
_SIGNAL_PROOF = """import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGALRM, signal.SIG_IGN)
while True:
    pass"""
_CATCHING_LOOP = """while True:
    try:
        while True:
            pass
    except BaseException:
        pass"""
_FORK_BOMB = """import os, time
children = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        children += 1
except OSError as err:
    print("fork refused after", children, "children:", err)"""
_DAEMON = """import subprocess
subprocess.Popen(["sleep", "617"], start_new_session=True)
import os
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        import time
        time.sleep(619)
    os._exit(0)"""
_GRADEBOOK = """import glob, os, sqlite3
for path in ["../../../.nbgrader/gradebook.db", "/work/main/.nbgrader/gradebook.db",
             os.path.expanduser("~/../../.nbgrader/gradebook.db")]:
    try:
        open(path, "wb").write(b"not a gradebook any more")
    except OSError as err:
        print("refused:", err)
try:
    sqlite3.connect("../../gradebook.db").execute("drop table grade")
except Exception as err:
    print("refused:", err)"""
_READ_SOLUTIONS = """import json
for path in ["../../../solutions/01-graphs/graphs.ipynb", "../../source/01-graphs/graphs.ipynb"]:
    try:
        exec(json.load(open(path))["cells"][4]["source"])
    except OSError as err:
        print("refused:", err)"""

_SHADOW = """import contextlib


def task(task_id, quiet=False):
    return contextlib.suppress(Exception)"""
_FORGE = """import fcntl, json, os
line = json.dumps({"ok": True, "cell": 0, "status": "ok", "timed_out": False, "error": None,
                   "outputs": [], "events": [], "seconds": 0.1}) + "\\n"
for fd in map(int, os.listdir("/proc/self/fd")):
    try:
        pipe = os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:")
        if fd > 2 and pipe and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
            os.write(fd, line.encode() * 40)
    except OSError:
        pass"""
_GC_PATCH = """import gc
runner = next(o for o in gc.get_objects() if type(o).__name__ == "Runner")
real = runner.run


def run(request):
    reply = real(request)
    reply.update(status="ok", error=None, events=[], timed_out=False)
    return reply


runner.run = run"""
_AST_PARSE = """ip = get_ipython()
real = ip.compile.ast_parse


def parse(source, filename="<unknown>", symbol="exec"):
    return real("pass" if "with task(" in source else source, filename, symbol)


ip.compile.ast_parse = parse"""
_NUMPY_CORE = """import numpy as np
core = getattr(np, "_core", None) or np.core
core.numeric.all = lambda *a, **k: True"""
_LAUNDER = """import chainrule.gates as library


class AddGate(Gate):
    input_names = ("x", "y")
    forward = library.AddGate.forward
    backward = library.AddGate.backward"""
_LEAK_HIDDEN = """import linecache, re, sys


def numerical_gradient(f, x, h=1e-5):
    frame = sys._getframe(1)
    while frame and not frame.f_code.co_filename.startswith("<ipython-input-"):
        frame = frame.f_back
    source = "".join(linecache.getlines(frame.f_code.co_filename))
    for line in source.splitlines():
        print("[numerical-grad]", line)
    grad = np.zeros(x.shape)
    for i in range(x.size):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad"""
_MEMORY_FORK = """import os, time
children = []
for _ in range(6):
    pid = os.fork()
    if pid == 0:
        block = bytearray(400 * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(30)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)"""
_TERMINAL = """try:
    open("/\\r12345   01-graphs  graphs       10/10  graded   \\x1b[K", "w")
except OSError as err:
    print("refused:", err)"""
_HTML = (
    '<div style="position:fixed;top:0">Score: 10 / 10, graded</div>'
    '<script>document.title = "pwned"</script>'
)


_BUILTINS_DICT = """import builtins, types
import chainrule.testcells as real


class Pass:
    def __init__(self, task_id, quiet=False):
        self.task_id = task_id

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return True


fake = types.ModuleType("chainrule.testcells")
fake.__dict__.update({k: v for k, v in vars(real).items() if not k.startswith("__")})
fake.task = Pass
real_import = builtins.__import__


def fake_import(name, globals=None, locals=None, fromlist=(), level=0):
    if name == "chainrule.testcells":
        return fake
    return real_import(name, globals, locals, fromlist, level)


__builtins__ = dict(vars(builtins), __import__=fake_import)"""
_EXECUTION_RESULT = """from IPython.core.interactiveshell import ExecutionResult
ExecutionResult.error_in_exec = property(lambda self: None, lambda self, value: None)
get_ipython()._showtraceback = lambda *args: None"""
_RUNNER_SELF = """runner = get_ipython()._showtraceback.__self__
real = runner.run


def run(request):
    reply = real(request)
    reply.update(status="ok", error=None, events=[], timed_out=False)
    return reply


runner.run = run"""
_THREAD = """import threading, time
threading.Thread(target=time.sleep, args=(30,), daemon=True).start()"""
_LIAR = """import sys


class Liar:
    def __array__(self, dtype=None, copy=None):
        frame = sys._getframe(1)
        while "want" not in frame.f_locals:
            frame = frame.f_back
        return np.asarray(frame.f_locals["want"], dtype=dtype)


def numerical_gradient(f, x, h=1e-5):
    return Liar()"""
_REVERSED = """import linecache, sys
_copies = []
_solution = numerical_gradient


def numerical_gradient(f, x, h=1e-5):
    frame = sys._getframe(1)
    while frame and not frame.f_code.co_filename.startswith("<ipython-input-"):
        frame = frame.f_back
    _copies.append("".join(linecache.getlines(frame.f_code.co_filename))[::-1])
    return _solution(f, x, h)"""
_MEMORY_NO_ENV = """import subprocess, sys
hog = "b = bytearray(700 * 2**20)\\nb[::4096] = b'x' * len(b[::4096])\\nimport time; time.sleep(8)"
children = [subprocess.Popen([sys.executable, "-c", hog], env={}) for _ in range(4)]
for child in children:
    child.wait()"""
_DISPLAYS = """from IPython.display import display
for _ in range(400):
    display("x" * 20000)"""


def _reversed(release, source):
    nb = solved(release, source)
    _add_after(nb, "numerical-grad-code", _REVERSED)
    nb.cells.append(nbformat.v4.new_code_cell("print(_copies[:1])"))
    return _file(nb)


def _bad_metadata(release, source):
    nb = solved(release, source)
    given = [c for c in nb.cells if c.cell_type == "code" and not c.metadata.get("nbgrader")]
    given[0].metadata["nbgrader"] = 5
    given[1].metadata["nbgrader"] = {"grade_id": ["x"], "points": "many"}
    return _file(nb)


def _html(release, source):
    nb = solved(release, source)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(_HTML))
    return _file(nb)


SAMPLES = [
    Sample("perfect", "every answer as in the solution", _perfect, "graded", FULL),
    Sample("partial", "Parts A and B done, the gates not started", _partial, "graded", 6.0),
    Sample("blank", "the notebook as released", _blank, "graded", 0.0),
    Sample("buggy", "mul-gate's backward swaps the inputs", _buggy, "graded", 7.0),
    Sample(
        "patch-helpers",
        "replaces the test helpers with functions that never fail",
        _with_cell(
            "numerical-grad-code",
            "import chainrule.testcells as g\n"
            "g.expect_close = lambda *a, **k: None\ng.expect_gate = lambda *a, **k: None",
        ),
        "flagged",
        0.0,
        "chainrule.testcells.expect_close was replaced",
    ),
    Sample(
        "patch-numpy",
        "makes numpy's comparisons always true",
        _with_cell("numerical-grad-code", "import numpy\nnumpy.allclose = lambda *a, **k: True"),
        "flagged",
        0.0,
        "numpy.allclose was replaced",
    ),
    Sample(
        "patch-builtins",
        "swaps a builtin the tests use",
        _with_cell("numerical-grad-code", "import builtins\nbuiltins.all = lambda *a: True"),
        "flagged",
        0.0,
        "builtins.all was replaced",
    ),
    Sample(
        "patch-code",
        "swaps the code of the task context manager so failures are swallowed",
        _with_cell(
            "numerical-grad-code",
            "import chainrule.testcells as g\n"
            "def quiet(self, *exc):\n    return True\n"
            "g.task.__exit__.__code__ = quiet.__code__",
        ),
        "flagged",
        0.0,
        "had its code swapped",
    ),
    Sample(
        "input-transformer",
        "an IPython input transformer that empties every later cell",
        _with_cell(
            "numerical-grad-code",
            "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
        ),
        "flagged",
        0.0,
        "input transformer",
    ),
    Sample(
        "ast-transformer",
        "an IPython AST transformer that drops every statement",
        _with_cell(
            "numerical-grad-code",
            "import ast\nclass Drop(ast.NodeTransformer):\n"
            "    def visit_Module(self, node):\n        node.body = []\n        return node\n"
            "get_ipython().ast_transformers.append(Drop())",
        ),
        "flagged",
        0.0,
        "AST transformer",
    ),
    Sample(
        "hide-errors",
        "a post_run_cell callback that erases each cell's error",
        _with_cell(
            "numerical-grad-code",
            "get_ipython().events.register('post_run_cell', "
            "lambda result: setattr(result, 'error_in_exec', None))",
        ),
        "flagged",
        0.0,
        "event callback",
    ),
    Sample(
        "read-solutions",
        "reads the solution notebook and runs its answer",
        _with_answer("numerical-grad", _READ_SOLUTIONS, base="release"),
        "flagged",
        0.0,
        "tried to read",
    ),
    Sample(
        "reference",
        "imports the library's AddGate instead of writing one",
        _with_answer("add-gate", "from chainrule.gates import AddGate"),
        "flagged",
        0.0,
        "AddGate is the reference chainrule.gates.AddGate",
    ),
    Sample(
        "reference-call",
        "a numerical_gradient that calls the library's",
        _with_answer(
            "numerical-grad",
            "import chainrule.gradcheck\n"
            "def numerical_gradient(f, x, h=1e-5):\n"
            "    return chainrule.gradcheck.numerical_gradient(f, x, h)",
        ),
        "flagged",
        0.0,
        "called the reference chainrule.gradcheck.numerical_gradient",
    ),
    Sample(
        "gradebook",
        "tries to overwrite and drop the gradebook",
        _with_cell("numerical-grad-code", _GRADEBOOK, base="solved"),
        "flagged",
        0.0,
        "gradebook.db",
    ),
    Sample(
        "write-outside",
        "writes a file outside its folder",
        _with_cell(
            "numerical-grad-code",
            "for p in ['/etc/backprop-kit-escape', '../../escape.txt']:\n"
            "    try:\n        open(p, 'w').write('x')\n"
            "    except OSError as err:\n        print('refused:', err)",
            base="solved",
        ),
        "flagged",
        FULL,
        "outside its folder",
    ),
    Sample(
        "loop",
        "an endless loop in the cost task",
        _with_answer("cost", _LOOP),
        "graded",
        9.0,
        "was interrupted",
    ),
    Sample(
        "sigint-proof",
        "an endless loop that ignores SIGINT (the cell's alarm still stops it)",
        _with_answer("cost", _SIGINT_PROOF),
        "graded",
        9.0,
        "was interrupted",
    ),
    Sample(
        "signal-proof",
        "an endless loop that ignores SIGINT and SIGALRM",
        _with_answer("cost", _SIGNAL_PROOF),
        "zero",
        0.0,
        "did not stop when interrupted",
    ),
    Sample(
        "catching-loop",
        "an endless loop that catches KeyboardInterrupt",
        _with_answer("cost", _CATCHING_LOOP),
        "zero",
        0.0,
        "did not stop when interrupted",
    ),
    Sample(
        "sys-exit",
        "calls sys.exit in the cost task",
        _with_answer("cost", "import sys\nsys.exit(1)"),
        "graded",
        9.0,
    ),
    Sample(
        "os-exit",
        "calls os._exit in the cost task",
        _with_answer("cost", "import os\nos._exit(0)"),
        "zero",
        0.0,
        "exited with status 0",
    ),
    Sample(
        "segfault",
        "dereferences a null pointer",
        _with_answer("cost", "import ctypes\nctypes.string_at(0)"),
        "zero",
        0.0,
        "SIGSEGV",
    ),
    Sample(
        "memory-bomb",
        "asks for 64 GB in the cost task",
        _with_answer("cost", "import numpy as np\nhog = np.ones((4096, 1024, 2048))"),
        "graded",
        9.0,
    ),
    Sample(
        "fork-bomb",
        "forks until refused, in the cost task",
        _with_answer("cost", _FORK_BOMB),
        "graded",
        9.0,
    ),
    Sample(
        "daemon",
        "leaves daemons behind",
        _with_cell("numerical-grad-code", _DAEMON, base="solved"),
        "graded",
        FULL,
    ),
    Sample(
        "leak-inputs",
        "prints the inputs the hidden tests pass to its numerical_gradient",
        _leak_inputs,
        "graded",
        FULL,
    ),
    Sample(
        "huge-output",
        "prints 200 MB",
        _with_cell(
            "numerical-grad-code",
            "for _ in range(200):\n    print('x' * 1_000_000)",
            base="solved",
        ),
        "graded",
        FULL,
    ),
    Sample(
        "deleted-test",
        "deletes the mul-gate test cell",
        _deleted_test,
        "flagged",
        8.0,
        "'mul-gate' was deleted",
    ),
    Sample(
        "edited-test",
        "replaces the add-gate test with pass",
        _edited_test,
        "flagged",
        0.0,
        "'add-gate' was edited",
    ),
    Sample(
        "untagged-test",
        "strips the graph test's nbgrader tags and fakes its output",
        _untagged_test,
        "flagged",
        0.0,
        "'graph' was deleted or lost its nbgrader tags",
    ),
    Sample(
        "shadow-task",
        "defines its own task() that swallows every failure",
        _with_cell("numerical-grad-code", _SHADOW),
        "flagged",
        0.0,
        "redefines task, which the tests use",
    ),
    Sample(
        "forged-reply",
        "writes fake 'passed' replies to the grader's pipe",
        _with_cell("numerical-grad-code", _FORGE),
        "flagged",
        0.0,
        "not the runner's",
    ),
    Sample(
        "gc-patch",
        "finds the runner with gc and makes every later cell pass",
        _with_cell("numerical-grad-code", _GC_PATCH),
        "flagged",
        0.0,
        "gc.get_objects",
    ),
    Sample(
        "ast-parse",
        "patches IPython's compiler to skip the tests",
        _with_cell("numerical-grad-code", _AST_PARSE),
        "flagged",
        0.0,
        "shell component",
    ),
    Sample(
        "numpy-internals",
        "makes numpy's internal all() true, so allclose always agrees",
        _with_cell("numerical-grad-code", _NUMPY_CORE),
        "flagged",
        0.0,
        "numeric.all was replaced",
    ),
    Sample(
        "launder",
        "an AddGate whose methods are the library's",
        _with_answer("add-gate", _LAUNDER),
        "flagged",
        0.0,
        "runs the code of the reference chainrule.gates.AddGate.forward",
    ),
    Sample(
        "reference-later",
        "leaves the answer blank and imports the library's AddGate in a cell of its own",
        _with_cell("add-gate-code", "from chainrule.gates import AddGate"),
        "flagged",
        0.0,
        "AddGate is the reference chainrule.gates.AddGate",
    ),
    Sample(
        "leak-hidden",
        "prints the calling test cell's source from inside its function (none is kept)",
        _with_answer("numerical-grad", _LEAK_HIDDEN),
        "graded",
        FULL,
    ),
    Sample(
        "echo-hidden",
        "prints a line of the hidden tests it was told about",
        _with_cell(
            "numerical-grad-code",
            'print("[numerical-grad]", "rng = np.random.default_rng(101)")',
            base="solved",
        ),
        "flagged",
        0.0,
        "showed lines of the hidden tests",
    ),
    Sample(
        "memory-fork",
        "six children holding 400 MB each",
        _with_answer("cost", _MEMORY_FORK),
        "zero",
        0.0,
        "of memory in all",
    ),
    Sample(
        "terminal",
        "a file name with a carriage return and a terminal escape, to fake a table row",
        _with_cell("numerical-grad-code", _TERMINAL, base="solved"),
        "flagged",
        FULL,
        "\\x0d12345",
    ),
    Sample("html", "HTML and a script in a markdown cell", _html, "graded", FULL),
    Sample(
        "bad-metadata",
        "hand-edited nbgrader metadata of the wrong types",
        _bad_metadata,
        "graded",
        FULL,
    ),
    Sample(
        "builtins-dict",
        "a __builtins__ of its own whose __import__ hands the tests a fake helper module",
        _with_cell("numerical-grad-code", _BUILTINS_DICT),
        "flagged",
        0.0,
        "__builtins__ was replaced",
    ),
    Sample(
        "execution-result",
        "makes IPython's results forget their errors",
        _with_cell("numerical-grad-code", _EXECUTION_RESULT),
        "flagged",
        0.0,
        "ExecutionResult.error_in_exec was replaced",
    ),
    Sample(
        "runner-self",
        "reaches for the runner through the shell's hooks (it is not there)",
        _with_cell("numerical-grad-code", _RUNNER_SELF),
        "graded",
        0.0,
    ),
    Sample(
        "thread",
        "leaves a thread running between cells",
        _with_cell("numerical-grad-code", _THREAD, base="solved"),
        "flagged",
        0.0,
        "a thread started by the notebook was still running",
    ),
    Sample(
        "liar",
        "answers with an object whose __array__ returns what the check expects",
        _with_answer("numerical-grad", _LIAR),
        "graded",
        8.0,
    ),
    Sample(
        "surrogate",
        "prints a lone surrogate, which no file can hold",
        _with_cell("numerical-grad-code", 'print("\\ud800")', base="solved"),
        "graded",
        FULL,
    ),
    Sample(
        "reversed-leak",
        "copies the test cell's source, reversed, and prints it later",
        _reversed,
        "graded",
        FULL,
    ),
    Sample(
        "memory-no-env",
        "four children with an empty environment holding 700 MB each",
        _with_answer("cost", _MEMORY_NO_ENV),
        "zero",
        0.0,
        "of memory in all",
    ),
    Sample(
        "displays",
        "displays 8 MB of text",
        _with_cell("numerical-grad-code", _DISPLAYS, base="solved"),
        "graded",
        FULL,
    ),
    Sample(
        "slide-numbers",
        "typed the slide's answers into the value tasks instead of working their own numbers",
        _typed_in(""),
        "flagged",
        6.0,
        "task forward-values: answers match the slide's example",
    ),
    Sample(
        "copied",
        "handed in a classmate's notebook, id line and answers (worked for 'perfect')",
        _typed_in("perfect", "perfect"),
        "flagged",
        6.0,
        "answers match student perfect's variant",
    ),
    Sample("corrupt", "a notebook cut in half", _corrupt, "zero", 0.0, "not valid JSON"),
    Sample("nbformat3", "saved as nbformat 3", _nbformat3, "graded", FULL, "nbformat 3"),
    Sample("renamed", "the notebook under another name", _renamed, "graded", FULL, "renamed"),
    Sample("missing", "no notebook at all", _missing, "zero", 0.0, "missing"),
]

DEMO = [
    "perfect",
    "partial",
    "blank",
    "buggy",
    "patch-helpers",
    "input-transformer",
    "read-solutions",
    "signal-proof",
    "deleted-test",
    "slide-numbers",
    "corrupt",
]


def build(sample, release, source):
    """The files of ``sample``'s submission: ``{file name: bytes}``."""
    return sample.make(release, source)
