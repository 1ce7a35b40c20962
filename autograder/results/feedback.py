"""``backprop-kit feedback``: one HTML page per student and notebook, safe to hand back.

For every grading record (``results.load_results``) and each of its notebooks, writes
``<course>/feedback/<student>/<assignment>/<notebook>.html``: a header with the score, the status,
the reason and a table of the tasks (points, score, status, the test's message, hints), then the
autograded notebook as nbconvert renders it (``lab`` template).

The autograded notebook should already be safe to show; the page is cleaned again anyway:

- code between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` is dropped from every cell;
- a test cell's error (nbgrader ``grade`` and not ``solution``) shows ``ename: evalue`` only, never
  its traceback;
- ``scrub`` replaces the absolute paths of the course, the Python installation, the repository
  and the sandbox's mount points with ``<course>``, ``<python>``, ``<library>``, ``<home>`` in
  every source, output and error text, and once more in the finished page.

A record whose notebook was never autograded (a file that is not a notebook, say), or whose
autograded notebook cannot be read, still gets a small page with its score and reason, and a
printed note says so.
"""

import copy
import functools
import html
import os
import re
import sys
from pathlib import Path

from autograder.course.layout import REPO_ROOT, CourseError
from autograder.results.records import NotebookResult
from autograder.results.report import graded_submissions

__all__ = ["HIDDEN_BEGIN", "HIDDEN_END", "scrub", "clean_notebook", "write_feedback"]

HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"
HIDDEN_END = "END HIDDEN TESTS"
SANDBOX_MOUNTS = {"/home/student": "<home>", "/opt/backprop-kit": "<library>"}
_ANSI = re.compile(r"(\x1b\[[0-9;?]*[A-Za-z])")
_BINARY_MIME = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")
_TEMPLATE = "lab"
_NOTHING_GRADED = NotebookResult(
    "submission", 0.0, 0.0, "zero", "no notebook of this submission was graded"
)

_STYLE = """<style>
.bk-feedback { font-family: system-ui, sans-serif; margin: 1em 0 2em; max-width: 72em; }
.bk-feedback table { border-collapse: collapse; margin-top: .5em; }
.bk-feedback th, .bk-feedback td { border: 1px solid #bbb; padding: .3em .6em;
  text-align: left; vertical-align: top; }
.bk-feedback .text { white-space: pre-wrap; }
.bk-feedback .pass { color: #1a7f37; } .bk-feedback .fail { color: #b3261e; }
</style>"""


def scrub(text, course, escape=False):
    """``text`` with server paths replaced by placeholders (``<course>``, ``<python>``, ...).

    Replaced: ``course.root``, ``sys.prefix`` and ``sys.base_prefix`` (and the exec prefixes),
    ``autograder.course.REPO_ROOT``, the sandbox's ``/home/student`` and ``/opt/backprop-kit``,
    the grader's home folder, each also as ``~/...`` and as its real path. A path counts only as a
    whole name (``/opt/backprop-kit-old`` is left alone). ANSI colour codes are kept. With
    ``escape`` the placeholders are HTML-escaped, for text that is already HTML.
    """
    pattern, names = _paths(str(course.root))
    if escape:
        names = {k: html.escape(v) for k, v in names.items()}
    parts = _ANSI.split(text)
    for i in range(0, len(parts), 2):  # even items are text, odd ones colour codes
        parts[i] = pattern.sub(lambda m: names[m.group(0)], parts[i])
    return "".join(parts)


def clean_notebook(nb, course):
    """A copy of ``nb`` with hidden tests, test-cell tracebacks and server paths taken out."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("backprop_kit", None)
    for cell in nb.cells:
        source = _drop_hidden(cell.source) if _is_test_cell(cell) else cell.source
        cell.source = scrub(source, course)
        test_cell = _is_test_cell(cell)
        for out in cell.get("outputs", []):
            _clean_output(out, course, test_cell)
    return nb


def write_feedback(course, assignment=None, students=None):
    """Write the feedback pages of ``course`` (one assignment, some students if given).

    Returns the paths written, one per student and notebook, in record order.
    """
    results = _selected(graded_submissions(course, assignment), students)
    exporter = _exporter()
    written = []
    for record in results:
        names = (record.student_id, record.assignment, *(n.notebook for n in record.notebooks))
        bad = [n for n in names if not _plain_name(n)]
        if bad:
            print(f"note: skipped a record with {bad[0]!r}: not a plain file name")
            continue
        for result in record.notebooks or [_NOTHING_GRADED]:
            written.append(_write_page(course, record, result, exporter))
    return written


@functools.lru_cache(maxsize=8)
def _paths(root):
    """The regex of server paths for a course root, and the placeholder of each path."""
    order = [(root, "<course>")]
    order += [
        (p, "<python>")
        for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)
    ]
    order += [(str(REPO_ROOT), "<library>"), *SANDBOX_MOUNTS.items()]
    order.append((os.path.expanduser("~"), "<home>"))
    names = {}
    for path, name in order:
        for variant in _variants(path):
            names.setdefault(variant, name)
    alternatives = "|".join(re.escape(p) for p in sorted(names, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.~-])(?:{alternatives})(?![\w-]|\.\w)")
    return pattern, names


def _variants(path):
    """``path`` as given, as its real path, and each as ``~/...`` when under the home folder."""
    found = []
    home = os.path.expanduser("~")  # "~" itself when there is no home folder
    for p in (path.rstrip("/"), os.path.realpath(path).rstrip("/")):
        if len(p) > 1 and p not in found:
            found.append(p)
        if len(home) > 1 and p.startswith(home + "/"):
            found.append("~" + p[len(home) :])
    return found


def _drop_hidden(source):
    """``source`` without the lines from a hidden-tests begin marker to its end marker."""
    if HIDDEN_BEGIN not in source:
        return source
    kept, hidden = [], False
    for line in source.splitlines(keepends=True):
        if HIDDEN_BEGIN in line:
            hidden = True
        elif HIDDEN_END in line and hidden:
            hidden = False
        elif not hidden:
            kept.append(line)
    return "".join(kept)


def _is_test_cell(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if not isinstance(meta, dict):
        return False
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _clean_output(out, course, test_cell):
    kind = out.get("output_type")
    if kind == "stream":
        out["text"] = scrub(_text(out.get("text", "")), course)
    elif kind == "error":
        out["ename"] = scrub(out.get("ename", ""), course)
        out["evalue"] = scrub(out.get("evalue", ""), course)
        if test_cell:
            out["traceback"] = [f"{out['ename']}: {out['evalue']}"]
        else:
            out["traceback"] = [scrub(line, course) for line in out.get("traceback", [])]
    elif kind in ("execute_result", "display_data"):
        data = out.get("data", {})
        for mime, value in data.items():
            if mime not in _BINARY_MIME and isinstance(value, str | list):
                data[mime] = scrub(_text(value), course)


def _text(value):
    return "".join(value) if isinstance(value, list) else value


def _selected(results, students):
    if not students:
        return results
    known = {r.student_id for r in results}
    unknown = [s for s in students if s not in known]
    if unknown:
        raise CourseError(
            f"no graded submission from {', '.join(map(repr, unknown))}; expected one of: "
            f"{', '.join(sorted(known))}"
        )
    return [r for r in results if r.student_id in set(students)]


def _plain_name(name):
    return bool(name) and name not in (".", "..") and not re.search(r"[/\\\x00]", name)


def _exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name=_TEMPLATE)


def _write_page(course, record, result, exporter):
    """Write one page: the header and, when it can be read, the rendered autograded notebook."""
    where = Path(record.student_id, record.assignment, f"{result.notebook}.ipynb")
    target = (course.root / "feedback" / where).with_suffix(".html")
    header = _header(course, record, result)
    nb, problem = _read(course.root / "autograded" / where)
    if nb is None:
        shown = target.relative_to(course.root).as_posix()
        print(f"note: {problem} at autograded/{where.as_posix()}; {shown} shows the score only")
        page = _plain_page(f"{result.notebook} ({record.assignment})", header)
    else:
        body, _ = exporter.from_notebook_node(
            clean_notebook(nb, course), resources={"metadata": {"name": result.notebook}}
        )
        page = _insert_header(body, header)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(scrub(page, course, escape=True), encoding="utf-8")
    return target


def _read(path):
    """``(notebook, None)``, or ``(None, what is wrong)`` when there is no readable notebook."""
    import nbformat

    if not path.is_file():
        return None, "no autograded notebook"
    try:
        return nbformat.read(path, as_version=4), None
    except Exception as err:  # nbformat raises several kinds for a broken file
        return None, f"an unreadable notebook ({type(err).__name__})"


def _insert_header(body, header):
    """Put ``header`` first inside the page's ``<main>`` (lab) or ``<body>`` (other templates)."""
    for opening in (r"<main[^>]*>", r"<body[^>]*>"):
        m = re.search(opening, body)
        if m:
            return body[: m.end()] + header + body[m.end() :]
    return header + body


def _plain_page(title, header):
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n{header}\n</body>\n</html>\n"
    )


def _header(course, record, result):
    """The score, status, reason, flags and per-task table of one notebook, as HTML."""
    e = html.escape

    def text(value):
        return e(scrub(str(value), course))

    lines = [
        _STYLE,
        '<section class="bk-feedback">',
        f"<h1>{text(result.notebook)} &mdash; {text(record.assignment)}</h1>",
        f"<p><b>Student:</b> {text(record.student_id)} &middot; "
        f"<b>Score:</b> {result.score:g} / {result.max_score:g} &middot; "
        f"<b>Status:</b> {e(result.status)}"
        + (f" &middot; <b>Submitted:</b> {text(record.timestamp)}" if record.timestamp else "")
        + "</p>",
    ]
    if result.reason:
        lines.append(f'<p><b>Reason:</b> <span class="text">{text(result.reason)}</span></p>')
    if result.flags:
        items = "".join(f"<li>{text(f)}</li>" for f in result.flags)
        lines.append(f"<p><b>Flags:</b></p><ul>{items}</ul>")
    if result.tasks:
        lines.append(_task_table(result.tasks, text))
    lines.append("</section>")
    return "\n".join(lines)


def _task_table(tasks, text):
    head = "".join(
        f"<th>{h}</th>" for h in ("Task", "Points", "Score", "Status", "Message", "Hints")
    )
    rows = []
    for t in tasks:
        hints = "".join(f"<li>{text(h)}</li>" for h in t.hints if h)
        css = "pass" if t.status == "pass" else "fail"
        rows.append(
            f"<tr><td>{text(t.id)}</td><td>{t.points:g}</td><td>{t.score:g}</td>"
            f'<td class="{css}">{text(t.status)}</td>'
            f'<td class="text">{text(t.message)}</td>'
            f"<td>{f'<ul>{hints}</ul>' if hints else ''}</td></tr>"
        )
    return f"<table><tr>{head}</tr>\n" + "\n".join(rows) + "\n</table>"
