"""How long does each solution notebook take to run top to bottom in a fresh kernel?

Runs every notebook in solutions/ the way nbgrader's autograde does (nbclient, new kernel, from
the top) and, interleaved with them in the same run, a one-cell notebook that only imports the
kit: the cost of starting a kernel and importing NumPy and matplotlib. Prints the best wall time
of each over ``--repeat`` rounds and its ratio to that baseline. The course promises <= 15 s per
notebook on 2 CPU cores.

    python bench/bench_notebooks.py [--repeat 3]
"""

import argparse
import time
from pathlib import Path

import _common  # noqa: F401 - single-threaded BLAS before NumPy loads
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "import numpy, matplotlib.pyplot, chainrule"


def run(nb, cwd):
    t = time.perf_counter()
    client = NotebookClient(
        nb,
        timeout=60,
        kernel_name="python3",
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    paths = sorted((ROOT / "solutions").glob("*/*.ipynb"))
    contenders = {
        "(kernel + imports only)": (
            ROOT,
            nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(BASELINE)]),
        )
    }
    for p in paths:
        contenders[str(p.relative_to(ROOT))] = (p.parent, nbformat.read(p, as_version=4))
    best = {name: float("inf") for name in contenders}
    for _ in range(args.repeat):
        for name, (cwd, nb) in contenders.items():
            best[name] = min(best[name], run(nbformat.from_dict(nb), cwd))
    base = best["(kernel + imports only)"]
    width = max(map(len, best))
    print(f"best of {args.repeat}, fresh kernel each run; ratio to kernel + imports only")
    for name, seconds in best.items():
        print(f"  {name:{width}}  {seconds:6.2f} s  {seconds / base:5.2f}x")


if __name__ == "__main__":
    main()
