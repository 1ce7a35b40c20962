"""The Python half of bench/gpu_check.sh: probe the device, run notebook 8, read the results.

Not a benchmark of its own (``make bench`` runs only ``bench_*.py``). It needs only what a lent
GPU machine's image has: NumPy, matplotlib, pytest, CuPy and PyTorch, with ``PYTHONPATH=lib``;
no nbformat, nbclient or nbgrader (notebook 8 is read as JSON and its code cells run here, in
one namespace, top to bottom, as a kernel would run them).

    python3 bench/_gpu_check.py probe --summary S [--cupy-config FILE]   exit 3 without a GPU
    python3 bench/_gpu_check.py parity JUNIT_XML --summary S
    python3 bench/_gpu_check.py notebook NOTEBOOK --summary S [--small] [--allow-no-torch]
    python3 bench/_gpu_check.py bench LOG --summary S [--allow-no-torch]

Each appends its lines to the summary file ``S`` and exits 0 when its step passed, 1 when not.
``--small`` and ``--allow-no-torch`` are for rehearsing the check on a CPU with a stand-in
``cupy`` module (tests/test_gpu_check.py does): smaller GPU sizes in notebook 8, no PyTorch peer.
"""

import argparse
import contextlib
import io
import json
import platform
import re
import subprocess
import sys
import time
import traceback
import xml.etree.ElementTree as ET

NO_GPU = 3  # exit status of ``probe`` where there is no usable GPU
BAR = 1.2  # chainrule's step may take at most this many times PyTorch's (docs/benchmarks.md)


def _append(summary, lines):
    with open(summary, "a", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")


def _torch_cuda():
    """``torch`` if it imports and sees a CUDA device, else None; and a line saying which."""
    try:
        import torch
    except Exception as exc:  # noqa: BLE001 - any failure means: no peer
        return None, f"PyTorch: not importable ({type(exc).__name__}: {exc})"
    try:
        if torch.cuda.is_available():
            return torch, (
                f"PyTorch: {torch.__version__}, built for CUDA {torch.version.cuda}, "
                f"device {torch.cuda.get_device_name(0)}"
            )
        return (
            None,
            f"PyTorch: {torch.__version__}, no CUDA device (built for {torch.version.cuda})",
        )
    except Exception as exc:  # noqa: BLE001
        return None, f"PyTorch: {torch.__version__}, CUDA failed: {type(exc).__name__}: {exc}"


# -- probe ----------------------------------------------------------------------------------------


def _cuda_version(v):
    return f"{v // 1000}.{v % 1000 // 10}"


def _nvidia_smi():
    try:
        head = subprocess.run(["nvidia-smi"], capture_output=True, text=True, timeout=20).stdout
        rows = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"nvidia-smi: not run ({type(exc).__name__}: {exc})"
    cuda = re.search(r"CUDA Version:\s*([\d.]+)", head)
    return f"nvidia-smi: {rows or '?'}; driver's CUDA {cuda.group(1) if cuda else '?'}"


def probe(args):
    """Exit ``NO_GPU`` with one line where chainrule sees no GPU; else the device's versions."""
    try:
        from chainrule.backend import gpu_available

        status = gpu_available()
    except Exception as exc:  # noqa: BLE001 - say it in one line, whatever it is
        line = f"gpu_check: cannot import chainrule ({type(exc).__name__}: {exc}); no GPU check"
        print(line)
        _append(args.summary, [line])
        return 1
    if not status:
        line = f"gpu_check: no GPU here, stopping: {status.reason}"
        print(line)
        _append(args.summary, [line])
        return NO_GPU
    import cupy
    import numpy

    rt = cupy.cuda.runtime
    lines = [f"device: {status.reason}"]
    try:
        lines.append(
            f"CUDA: runtime {_cuda_version(rt.runtimeGetVersion())} (CuPy's), "
            f"driver {_cuda_version(rt.driverGetVersion())}"
        )
    except Exception as exc:  # noqa: BLE001
        lines.append(f"CUDA: versions not read ({type(exc).__name__}: {exc})")
    lines.append(_nvidia_smi())
    lines.append(
        f"CuPy {cupy.__version__}, NumPy {numpy.__version__}, Python {platform.python_version()}"
    )
    lines.append(_torch_cuda()[1])
    print("\n".join(lines))
    _append(args.summary, lines)
    if args.cupy_config:
        with open(args.cupy_config, "w", encoding="utf-8") as f:
            with contextlib.redirect_stdout(f):
                try:
                    cupy.show_config()
                except Exception as exc:  # noqa: BLE001 - a report, not a check
                    print(f"cupy.show_config() failed: {type(exc).__name__}: {exc}")
    return 0


# -- the parity tests' JUnit XML ------------------------------------------------------------------


def parity(args):
    """Pass only if every test ran and passed, none skipped, and the GPU cases were among them."""
    root = ET.parse(args.junit).getroot()
    cases = list(root.iter("testcase"))
    outcome = {}
    for case in cases:
        name = case.get("name", "?")
        kinds = [c.tag for c in case if c.tag in ("failure", "error", "skipped")]
        outcome[name] = kinds[0] if kinds else "passed"
    count = {k: sum(v == k for v in outcome.values()) for k in ("passed", "failure", "error")}
    skipped = [n for n, v in outcome.items() if v == "skipped"]
    gpu = [n for n, v in outcome.items() if re.search(r"\[(.*-)?gpu(-.*)?\]", n)]
    gpu_passed = [n for n in gpu if outcome[n] == "passed"]
    ok = cases and not skipped and count["failure"] == count["error"] == 0 and gpu_passed
    lines = [
        f"  {len(cases)} tests: {count['passed']} passed, {count['failure']} failed, "
        f"{count['error']} errors, {len(skipped)} skipped (none may skip); "
        f"GPU cases: {len(gpu_passed)} of {len(gpu)} passed"
    ]
    for case in cases:
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                msg = (child.get("message") or "").splitlines()[:1]
                lines.append(f"  {child.tag.upper()}: {case.get('name')}: {''.join(msg)[:300]}")
    if not gpu:
        lines.append("  no test case ran on the GPU (no [gpu] parameter in the names)")
    print("\n".join(lines))
    _append(args.summary, lines)
    return 0 if ok else 1


# -- notebook 8 -----------------------------------------------------------------------------------

SMALL_GPU_SIZES = "GPU_SIZES = (64, 128, 256, 512)"


class _Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = streams

    def write(self, s):
        for stream in self.streams:
            stream.write(s)
        return len(s)

    def flush(self):
        for stream in self.streams:
            stream.flush()


def _code_cells(path, small):
    nb = json.loads(open(path, encoding="utf-8").read())
    cells, small_sizes = [], 0
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        magic = [ln for ln in src.splitlines() if ln.lstrip().startswith(("%", "!"))]
        if magic:
            raise SystemExit(f"{path} cell {index}: IPython syntax, not Python: {magic[0]!r}")
        if small:  # rehearsal on a CPU: the GPU sizes of a laptop, not of a GPU
            src, n = re.subn(
                r"^(.*\bGPU_SIZES\b[^=\n]*=[^\n]*)$", r"\1\n" + SMALL_GPU_SIZES, src, flags=re.M
            )
            small_sizes += n
        nbgrader = cell.get("metadata", {}).get("nbgrader", {})
        graded = nbgrader.get("grade_id") if nbgrader.get("grade") else None
        cells.append((index, src, graded))
    if small and not small_sizes:
        raise SystemExit(f"{path}: --small found no GPU_SIZES assignment to shrink")
    return cells


def _torch_step_seconds(torch, best_seconds, n, classes=10, dev="cuda"):
    """notebook 8's train_step at N = D = H = n, float32, in torch autograd on CUDA (no dX)."""
    import numpy as np

    rng = np.random.default_rng(n)

    def t(a, grad=False):
        return torch.tensor(a, dtype=torch.float32, device=dev, requires_grad=grad)

    X = t(rng.standard_normal((n, n)))
    W1 = t(np.sqrt(2.0 / n) * rng.standard_normal((n, n)), True)
    W2 = t(np.sqrt(2.0 / n) * rng.standard_normal((n, classes)), True)
    b1, b2 = t(np.zeros(n), True), t(np.zeros(classes), True)
    y = torch.tensor(rng.integers(0, classes, n), device=dev)
    params = (W1, b1, W2, b2)

    def step():
        for p in params:
            p.grad = None
        scores = torch.relu(X @ W1 + b1) @ W2 + b2
        torch.nn.functional.cross_entropy(scores, y).backward()

    return best_seconds(step, sync=torch.cuda.synchronize if dev == "cuda" else lambda: None)


def notebook(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = _code_cells(args.notebook, args.small)
    ns = {"__name__": "__main__"}
    buffer = io.StringIO()
    tasks, ran, failed_at, started = [], 0, None, time.perf_counter()
    for index, src, graded in cells:
        print(f"--- cell {index}", flush=True)
        try:
            with contextlib.redirect_stdout(_Tee(sys.stdout, buffer)):
                exec(compile(src, f"{args.notebook} [cell {index}]", "exec"), ns)
        except BaseException as exc:  # noqa: BLE001 - a cell's failure is the result
            traceback.print_exc()
            failed_at = (index, graded, f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
            break
        ran += 1
        if graded:
            tasks.append(graded)
        plt.close("all")
    seconds = time.perf_counter() - started
    graded_total = [g for _, _, g in cells if g]
    printed = [ln for ln in buffer.getvalue().splitlines() if ln.strip()]
    lines = [
        f"  {ran} of {len(cells)} code cells ran without error; graded tasks passed: "
        f"{len(tasks)} of {len(graded_total)} ({', '.join(tasks) or 'none'}); {seconds:.1f} s"
    ]
    problems = []
    if failed_at:
        index, graded, err = failed_at
        problems.append(f"cell {index}{f' (task {graded})' if graded else ''} raised {err}")
    gpu = ns.get("gpu")
    if not gpu and "gpu" in ns:
        problems.append(f"the notebook saw no GPU: {getattr(gpu, 'reason', gpu)}")
    skipped = [ln.strip() for ln in printed if "skipped" in ln.lower()]
    if gpu and skipped:
        problems.append(f"GPU parts skipped: {skipped[0]}")
    gap = ns.get("loss_gap")
    if gpu and not failed_at and (gap is None or not gap < 1e-6):
        problems.append(f"Part B: the GPU losses differ from NumPy's by {gap} (want < 1e-6)")
    gpu_times, sizes = ns.get("gpu_times") or {}, ns.get("GPU_SIZES") or ()
    if gpu and not failed_at and sorted(gpu_times) != sorted(sizes):
        problems.append(f"Part C: GPU timings for {sorted(gpu_times)}, expected {list(sizes)}")
    if printed:
        lines.append("  what the notebook printed:")
        lines += [f"    {ln}" for ln in printed]
    if gpu_times and "best_seconds" in ns:
        torch, why = _torch_cuda()
        if torch is None:
            lines.append(f"  no PyTorch comparison of Part C: {why}")
            if not args.allow_no_torch:
                problems.append(f"no PyTorch on CUDA to compare with: {why}")
        else:
            lines.append(
                "  Part C's float32 step against the same step in PyTorch autograd on CUDA "
                "(best of 3, the notebook's timing):"
            )
            for n in sorted(gpu_times):
                try:
                    t = _torch_step_seconds(torch, ns["best_seconds"], n)
                except Exception as exc:  # noqa: BLE001
                    problems.append(f"torch step at n = {n}: {type(exc).__name__}: {exc}")
                    break
                lines.append(
                    f"    N = D = H = {n:5d}: CuPy {1e3 * gpu_times[n]:9.3f} ms, torch "
                    f"{1e3 * t:9.3f} ms, ratio to torch {gpu_times[n] / t:6.2f}x"
                )
    lines += [f"  PROBLEM: {p}" for p in problems]
    _append(args.summary, lines)  # the log has the cells' output and tracebacks already
    return 1 if problems else 0


# -- bench/bench_gpu.py's output ------------------------------------------------------------------

TIMING = re.compile(r"^\s+(\S.*?)\s+([\d.]+) ms\s+([\d.]+)x\s+([\d.]+) TFLOP/s\s*$")


def bench(args):
    """Pass if bench_gpu.py ran on the GPU and timed chainrule (and torch on CUDA)."""
    try:
        text = open(args.log, encoding="utf-8", errors="replace").read()
    except OSError as exc:
        _append(args.summary, [f"  PROBLEM: no output from bench_gpu.py to read: {exc}"])
        return 1
    rows = {m.group(1): m for m in map(TIMING.match, text.splitlines()) if m}
    header = [ln for ln in text.splitlines() if ln.startswith("2-layer net SGD step")]
    problems = []
    if "skipped" in text:
        problems.append(next(ln for ln in text.splitlines() if "skipped" in ln))
    if "on GPU:" not in "".join(header):
        problems.append("bench_gpu.py did not run on the GPU")
    ours = rows.get("chainrule.layers")
    peer = next((m for name, m in rows.items() if name.startswith("torch autograd (cuda")), None)
    lines = [f"  {ln}" for ln in header]
    for m in rows.values():
        name, ms, ratio, tflops = m.group(1), float(m.group(2)), m.group(3), m.group(4)
        to = f"{ratio}x torch" if peer is not None else "(no torch)"
        lines.append(f"  {name:<28} {ms:10.3f} ms   {to:<12} {tflops} TFLOP/s")
    if ours is None:
        problems.append("no chainrule.layers timing in bench_gpu.py's output")
    if peer is None:
        why = "no 'torch autograd (cuda)' timing: no ratio to PyTorch"
        lines.append(f"  {why}")
        if not args.allow_no_torch:
            problems.append(why)
    elif ours is not None:
        ratio = float(ours.group(2)) / float(peer.group(2))
        verdict = "within" if ratio <= BAR else "OVER"
        lines.append(f"  chainrule / torch = {ratio:.2f}x: {verdict} the {BAR}x bar")
    lines += [f"  PROBLEM: {p}" for p in problems]
    print("\n".join(lines))
    _append(args.summary, lines)
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("probe")
    p.add_argument("--cupy-config")
    p.set_defaults(fn=probe)
    p = sub.add_parser("parity")
    p.add_argument("junit")
    p.set_defaults(fn=parity)
    p = sub.add_parser("notebook")
    p.add_argument("notebook")
    p.add_argument("--small", action="store_true")
    p.add_argument("--allow-no-torch", action="store_true")
    p.set_defaults(fn=notebook)
    p = sub.add_parser("bench")
    p.add_argument("log")
    p.add_argument("--allow-no-torch", action="store_true")
    p.set_defaults(fn=bench)
    for p in sub.choices.values():
        p.add_argument("--summary", required=True)
    args = ap.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
