#!/usr/bin/env bash
# One check of the kit's GPU path, for a machine lent with a CUDA GPU (tracker issue 18):
#
#   bench/gpu_check.sh OUT_DIR        writes OUT_DIR/gpu_check.txt (the summary) and one log a step
#
# 0. probe: chainrule.backend.gpu_available() must find the GPU through CuPy (its CuPy branch);
#    the device's name, CUDA, CuPy, NumPy, Python and PyTorch versions go into the summary.
#    Without one (a CPU machine, no CuPy) it stops at once: one line on stderr, exit status 3.
# 1. tests/chainrule/test_backend_parity.py: every layer and the two-layer net on CuPy against
#    NumPy (to_device to CuPy included); every test must pass, none may skip.
# 2. notebook 8 (solutions/08-gpu/gpu.ipynb): its code cells run top to bottom as one script
#    (Parts A, B and C with their graded test cells, on the GPU), then Part C's float32 steps
#    timed in PyTorch on CUDA for the ratio.
# 3. bench/bench_gpu.py at its full size: chainrule.layers on CuPy against PyTorch on CUDA.
#
# Every step runs even if one before it failed, each under its own limit and all within
# GPU_CHECK_BUDGET seconds (default 290: under 5 minutes; expect one or two on an H100).
# Exit status: 0 all passed, 1 a step failed, 2 usage, 3 no GPU. It needs only what the lent
# machines' image has (python3 with NumPy, matplotlib, pytest, CuPy and PyTorch): the kit is not
# installed, PYTHONPATH=lib stands in. PYTHON=... picks another interpreter (default python3).
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: bench/gpu_check.sh OUT_DIR   (writes OUT_DIR/gpu_check.txt)" >&2
    exit 2
fi
mkdir -p "$1"
out=$(cd "$1" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

PY=${PYTHON:-python3}
BUDGET=${GPU_CHECK_BUDGET:-290}
# Rehearsal on a CPU (tests/test_gpu_check.py): a stand-in cupy on PYTHONPATH, small sizes,
# no PyTorch peer required. Never set on a lent device.
SIMULATE=${GPU_CHECK_SIMULATE:-0}
export PYTHONPATH="$root/lib${PYTHONPATH:+:$PYTHONPATH}"
export MPLBACKEND=Agg
export PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 # pytest's own plugins only, whatever else is installed
export PYTHONDONTWRITEBYTECODE=1

summary="$out/gpu_check.txt"
{
    echo "backprop-kit GPU check (bench/gpu_check.sh), $(date -u +%Y-%m-%dT%H:%M:%SZ)," \
        "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$summary"
say() { printf '%s\n' "$*" | tee -a "$summary"; }
stop() { # stop STATUS LINE: the one-line reason, on stderr and in the summary
    printf '%s\n' "$2" >>"$summary"
    printf '%s\n' "$2" >&2
    exit "$1"
}

command -v "$PY" >/dev/null || stop 3 "gpu_check: no $PY on PATH, stopping"
if command -v timeout >/dev/null; then
    limit() { timeout --kill-after=5 "$@"; }
else
    limit() { shift; "$@"; }
fi

# -- 0. probe: one line and exit 3 where there is no GPU -----------------------------------------
rc=0
probe=$(limit 45 "$PY" bench/_gpu_check.py probe --summary "$summary" \
    --cupy-config "$out/gpu_check.cupy_config.txt" 2>&1) || rc=$?
if [ "$rc" -ne 0 ]; then
    line=$(printf '%s\n' "$probe" | grep -m1 '^gpu_check:' || true)
    [ -n "$line" ] || line="gpu_check: the probe failed (exit $rc): $(printf '%s\n' "$probe" | tail -n1)"
    printf '%s\n' "$line" >&2
    grep -qxF -- "$line" "$summary" || printf '%s\n' "$line" >>"$summary"
    [ "$rc" -eq 3 ] && exit 3
    exit 1
fi
printf '%s\n' "$probe"

failed=()
STEP_RC=0
step() { # step SECONDS LOG CMD...: CMD under min(SECONDS, what is left), output to LOG
    local seconds=$1 log=$2 t0=$SECONDS left
    shift 2
    left=$((BUDGET - SECONDS))
    [ "$left" -lt "$seconds" ] && seconds=$left
    STEP_RC=0
    if [ "$seconds" -lt 5 ]; then
        say "  NOT RUN: the ${BUDGET} s budget is spent"
        STEP_RC=124
        return
    fi
    limit "$seconds" "$@" >"$log" 2>&1 || STEP_RC=$?
    if [ "$STEP_RC" -eq 124 ] || [ "$STEP_RC" -eq 137 ]; then
        say "  TIMED OUT after ${seconds} s; the log's last lines ($(basename "$log")):"
        tail -n 15 "$log" | sed 's/^/    | /' | tee -a "$summary"
    elif [ "$STEP_RC" -ne 0 ]; then
        say "  exit status $STEP_RC after $((SECONDS - t0)) s; the log's last lines ($(basename "$log")):"
        tail -n 15 "$log" | sed 's/^/    | /' | tee -a "$summary"
    else
        say "  ran in $((SECONDS - t0)) s (log: $(basename "$log"))"
    fi
}
verdict() { # verdict NAME RC...: PASS if every RC is 0
    local name=$1 rc
    shift
    for rc in "$@"; do
        if [ "$rc" -ne 0 ]; then
            say "  => FAIL"
            failed+=("$name")
            return
        fi
    done
    say "  => PASS"
}

# -- 1. the CuPy parity tests: all must pass, none may skip --------------------------------------
# The repository's pytest settings are overridden on purpose: its filterwarnings names
# sqlalchemy.exc.SAWarning (nbgrader's), which the image lacks, and tests/conftest.py serves the
# gradebook tests; these tests need neither.
say ""
say "[1/3] CuPy parity tests: tests/chainrule/test_backend_parity.py"
junit="$out/gpu_check.parity.xml"
rm -f "$junit"
step 75 "$out/gpu_check.parity.log" \
    "$PY" -m pytest tests/chainrule/test_backend_parity.py -p no:cacheprovider --noconftest \
    -o addopts= -o 'filterwarnings=error::DeprecationWarning:chainrule.*' -o required_plugins= \
    -rA --strict-markers -q --junitxml="$junit"
pytest_rc=$STEP_RC
read_rc=1
if [ -s "$junit" ]; then
    "$PY" bench/_gpu_check.py parity "$junit" --summary "$summary" >/dev/null && read_rc=0
else
    say "  no JUnit XML from pytest"
fi
verdict parity "$pytest_rc" "$read_rc"

# -- 2. notebook 8, its code cells as one script -------------------------------------------------
notebook=${GPU_CHECK_NOTEBOOK:-solutions/08-gpu/gpu.ipynb}
extra=()
[ "$SIMULATE" = 1 ] && extra=(--small --allow-no-torch)
say ""
say "[2/3] notebook 8: $notebook, its code cells run as one script"
step 100 "$out/gpu_check.notebook8.log" \
    "$PY" bench/_gpu_check.py notebook "$notebook" --summary "$summary" ${extra[@]+"${extra[@]}"}
verdict notebook "$STEP_RC"

# -- 3. bench/bench_gpu.py -----------------------------------------------------------------------
bench_args=()
bench_extra=()
if [ "$SIMULATE" = 1 ]; then
    bench_args=(--size 256 512 512 10 --repeat 2)
    bench_extra=(--allow-no-torch)
fi
say ""
say "[3/3] bench/bench_gpu.py ${bench_args[*]:-at N, D_in, H, D_out = 8192, 4096, 4096, 10}"
step 75 "$out/gpu_check.bench_gpu.log" "$PY" bench/bench_gpu.py ${bench_args[@]+"${bench_args[@]}"}
bench_rc=$STEP_RC
read_rc=1
"$PY" bench/_gpu_check.py bench "$out/gpu_check.bench_gpu.log" --summary "$summary" \
    ${bench_extra[@]+"${bench_extra[@]}"} >/dev/null && read_rc=0
verdict bench "$bench_rc" "$read_rc"

say ""
if [ ${#failed[@]} -eq 0 ]; then
    say "gpu_check: PASS, 3 of 3 steps, in ${SECONDS} s"
    exit 0
fi
say "gpu_check: FAIL (${failed[*]}), $((3 - ${#failed[@]})) of 3 steps passed, in ${SECONDS} s"
exit 1
