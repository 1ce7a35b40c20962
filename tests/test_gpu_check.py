"""bench/gpu_check.sh, the one check prepared for a lent GPU machine: does it hold on a CPU?

Here there is no GPU, so the script must stop at once with one line saying why. Its GPU path is
rehearsed with a stand-in ``cupy`` (a second copy of ``chainrule.simdevice`` with a fake
``cupy.cuda``) while the modules the lent machines' image lacks are refused, so what it runs
there needs only NumPy, matplotlib, pytest (and CuPy, PyTorch). Its readers of pytest's and
bench_gpu.py's output are checked on made-up output, failures and skips included.
"""

import os
import re
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path

import pytest

from chainrule.backend import gpu_available

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "gpu_check.sh"
HELPER = ROOT / "bench" / "_gpu_check.py"
NO_GPU = 3

# The image of a lent machine has Python with NumPy, matplotlib, pytest, CuPy and PyTorch only.
NOT_ON_THE_IMAGE = textwrap.dedent(
    """
    import sys
    BLOCKED = {
        "sqlalchemy", "nbgrader", "nbformat", "nbclient", "ipywidgets", "jupyterlab",
        "jupyter_server", "jupyter_client", "IPython", "ipykernel", "traitlets", "hypothesis",
        "xdist", "autograd", "yaml", "selenium", "psycopg2", "micrograd", "autograder",
    }

    class NotOnTheImage:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r} (not on the image)", name=name)

    sys.meta_path.insert(0, NotOnTheImage())
    """
)

FAKE_CUPY = textwrap.dedent(
    """
    import pathlib
    import types

    import chainrule

    _src = pathlib.Path(chainrule.__file__).with_name("simdevice.py")
    exec(compile(_src.read_text(), str(_src), "exec"), globals())  # its own array type
    __version__ = "0+stand-in"


    class _Device:
        id = 0

        def __init__(self, *args):
            pass

        def synchronize(self):
            pass


    runtime = types.SimpleNamespace(
        getDeviceCount=lambda: DEVICES,
        getDeviceProperties=lambda i: {"name": b"Stand-in GPU"},
        runtimeGetVersion=lambda: 13000,
        driverGetVersion=lambda: 13000,
    )
    cuda = types.SimpleNamespace(Device=_Device, runtime=runtime)


    def show_config():
        print("stand-in")
    """
)


def run(out, *, fake=None, devices=1, env=None, timeout=120):
    """Run the script with the kit's Python; ``fake``: "cupy" (stand-in) or "missing"."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("GPU_CHECK_")}
    env = {**base, "PYTHON": sys.executable, **(env or {})}
    if fake:
        site = out.parent / "site"
        (site / "cupy").mkdir(parents=True, exist_ok=True)
        (site / "sitecustomize.py").write_text(NOT_ON_THE_IMAGE)
        if fake == "missing":
            code = "raise ImportError(\"No module named 'cupy'\", name='cupy')\n"
        else:
            code = f"DEVICES = {devices}\n" + FAKE_CUPY
        (site / "cupy" / "__init__.py").write_text(code)
        env["PYTHONPATH"] = str(site)
    else:
        env.pop("PYTHONPATH", None)
    start = time.monotonic()
    proc = subprocess.run(
        ["bash", str(SCRIPT), str(out)],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc, time.monotonic() - start


def test_the_script_is_valid_bash_and_executable():
    proc = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert os.access(SCRIPT, os.X_OK), "bench/gpu_check.sh is not executable"
    assert "set -euo pipefail" in SCRIPT.read_text()


def test_without_an_argument_it_says_how_to_call_it(tmp_path):
    proc = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: bench/gpu_check.sh OUT_DIR")


def _assert_stopped_with(proc, seconds, out, reason):
    lines = proc.stderr.splitlines()
    assert proc.returncode == NO_GPU, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert lines == [f"gpu_check: no GPU here, stopping: {reason}"]
    assert seconds < 20, f"took {seconds:.1f} s to find there is no GPU"
    summary = (out / "gpu_check.txt").read_text().splitlines()
    assert summary[-1] == lines[0] and len(summary) == 2  # a header line, then the reason


def test_on_this_cpu_machine_it_stops_at_once_with_the_reason(tmp_path):
    status = gpu_available()
    if status:
        pytest.skip(f"this machine has a GPU ({status.reason}): the check would run in full")
    proc, seconds = run(tmp_path / "out")
    _assert_stopped_with(proc, seconds, tmp_path / "out", status.reason)


@pytest.mark.parametrize(
    ("fake", "devices", "reason"),
    [
        ("missing", 1, "CuPy is not installed (No module named 'cupy'); install it with pip"),
        ("cupy", 0, "CuPy is installed but sees no CUDA device"),
    ],
)
def test_it_stops_with_gpu_availables_reason(tmp_path, fake, devices, reason):
    proc, seconds = run(tmp_path / "out", fake=fake, devices=devices)
    line = proc.stderr.strip()
    assert line.startswith(f"gpu_check: no GPU here, stopping: {reason}"), proc.stderr
    _assert_stopped_with(proc, seconds, tmp_path / "out", line.split("stopping: ", 1)[1])


def test_a_rehearsal_on_a_stand_in_gpu_runs_every_step_with_only_the_images_modules(tmp_path):
    out = tmp_path / "out"
    proc, _ = run(out, fake="cupy", env={"GPU_CHECK_SIMULATE": "1"}, timeout=300)
    summary = (out / "gpu_check.txt").read_text()
    assert proc.returncode == 0, summary + proc.stderr
    assert "device: Stand-in GPU (CUDA device 0 of 1)" in summary
    assert "CUDA: runtime 13.0 (CuPy's), driver 13.0" in summary
    assert re.search(r"(\d+) tests: \1 passed, 0 failed, 0 errors, 0 skipped", summary)
    assert re.search(r"GPU cases: (\d+) of \1 passed", summary)
    assert "graded tasks passed: 2 of 2 (device-agnostic, step-flops)" in summary
    assert "GPU: loss" in summary  # Part B ran on the (stand-in) GPU
    assert re.search(r"chainrule\.layers\s+[\d.]+ ms", summary)
    assert summary.count("=> PASS") == 3
    assert summary.rstrip().splitlines()[-1].startswith("gpu_check: PASS, 3 of 3 steps")
    assert "skipped:" not in summary.lower()


def _reader(*args, tmp_path):
    summary = tmp_path / "summary.txt"
    summary.write_text("")
    proc = subprocess.run(
        [sys.executable, str(HELPER), *args, "--summary", str(summary)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, summary.read_text()


def _junit(tmp_path, cases):
    body = "".join(
        f'<testcase classname="t" name="{name}">{child}</testcase>' for name, child in cases
    )
    path = tmp_path / "junit.xml"
    path.write_text(f'<?xml version="1.0"?><testsuites><testsuite>{body}</testsuite></testsuites>')
    return str(path)


PASSING = [("test_layer[affine-sim]", ""), ("test_layer[affine-gpu]", ""), ("test_net[gpu]", "")]


def test_the_parity_reader_passes_only_when_every_gpu_case_ran_and_none_skipped(tmp_path):
    rc, text = _reader("parity", _junit(tmp_path, PASSING), tmp_path=tmp_path)
    assert rc == 0, text
    assert "3 tests: 3 passed, 0 failed, 0 errors, 0 skipped" in text
    assert "GPU cases: 2 of 2 passed" in text

    skipped = [*PASSING[:2], ("test_net[gpu]", '<skipped message="no GPU: CuPy is missing"/>')]
    rc, text = _reader("parity", _junit(tmp_path, skipped), tmp_path=tmp_path)
    assert rc == 1 and "1 skipped" in text and "SKIPPED: test_net[gpu]: no GPU" in text

    failed = [*PASSING[:2], ("test_net[gpu]", '<failure message="assert 1 == 2"/>')]
    rc, text = _reader("parity", _junit(tmp_path, failed), tmp_path=tmp_path)
    assert rc == 1 and "1 failed" in text

    rc, text = _reader("parity", _junit(tmp_path, PASSING[:1]), tmp_path=tmp_path)
    assert rc == 1 and "GPU cases: 0 of 0 passed" in text


BENCH_HEADER = (
    "2-layer net SGD step, N, D_in, H, D_out = 8192, 4096, 4096, 10 (float32) on GPU: "
    "NVIDIA H100 (CUDA device 0 of 1)\n  step FLOPs (matrix products): 551.8 GFLOP\n"
)


@pytest.mark.parametrize(
    ("output", "rc", "says"),
    [
        (
            BENCH_HEADER
            + "  chainrule.layers                 13.000 ms    1.30x     42.44 TFLOP/s\n"
            "  torch autograd (cuda)            10.000 ms    1.00x     55.18 TFLOP/s\n",
            0,
            "chainrule / torch = 1.30x: OVER the 1.2x bar",
        ),
        (
            BENCH_HEADER
            + "  chainrule.layers                 11.000 ms    1.10x     50.16 TFLOP/s\n"
            "  torch autograd (cuda)            10.000 ms    1.00x     55.18 TFLOP/s\n",
            0,
            "chainrule / torch = 1.10x: within the 1.2x bar",
        ),
        (
            BENCH_HEADER + "(torch with CUDA not installed: timing chainrule alone)\n"
            "  chainrule.layers                 11.000 ms    1.00x     50.16 TFLOP/s\n",
            1,
            "no 'torch autograd (cuda)' timing",
        ),
        ("bench_gpu: skipped, no GPU: CuPy is not installed\n", 1, "PROBLEM: bench_gpu: skipped"),
    ],
)
def test_the_bench_reader_wants_the_gpu_and_the_torch_ratio(tmp_path, output, rc, says):
    log = tmp_path / "bench.log"
    log.write_text(output)
    got, text = _reader("bench", str(log), tmp_path=tmp_path)
    assert got == rc, text
    assert says in text


def test_the_gpu_extras_name_a_cupy_wheel_for_cuda_12_and_13():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert extras["gpu"][0].startswith("cupy-cuda12x")
    assert extras["gpu-cuda13"][0].startswith("cupy-cuda13x")
    env = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s*#\s*- cupy>=", env, re.M)
    assert re.search(r"^\s*#\s*- cuda-version=1[23]\b", env, re.M)
