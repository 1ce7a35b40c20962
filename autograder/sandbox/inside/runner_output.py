"""The runner's capture of what a cell shows: capped streams, display and traceback hooks.

Runs inside the sandbox: the standard library and IPython only.
"""

import contextlib

__all__ = ["Capped", "Sink", "hooks_into", "no_source_kept", "alarm"]


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


def alarm(fired):
    """The handler of the cell's alarm: the cell stops with KeyboardInterrupt, as Jupyter's
    interrupt does (no thread needed, so a notebook at its process limit still stops)."""

    def handler(signum, frame):
        fired.append(True)
        raise KeyboardInterrupt

    return handler


class Sink:
    """Where the shell's display and traceback hooks put what a cell shows: all they reach."""

    def __init__(self):
        self.outputs, self.error = [], None


def hooks_into(shell, limit):
    """Install the output and traceback hooks as plain closures over a ``Sink`` (not bound
    methods, whose ``__self__`` would hand a cell the runner itself)."""
    sink = Sink()

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
def no_source_kept(shell, hide):
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
