#!/usr/bin/env bash
# The checks that need a GPU, in one command on a machine with CUDA (none has run on one yet: see the README's
# Known limits). Each step runs even when an earlier one failed; the exit status is 1 if any failed.
#   1. the CUDA unit tests: scores on cuda match the CPU's, a real out-of-memory split (a memory cap below one
#      whole-batch GraSP), and the tiny suite with its cuda rows;
#   2. a cuda slice of the suites (every proxy, cifar10), saved as a pytest-benchmark run;
#   3. the proxy benchmark on the device.
# Logs and the saved run go to OUTDIR (default gpu-check/ in the repository). The python is $PYTHON (default
# the repository's .venv/bin/python); the data root is HARNESS_DATA_DIR, as for make, ../shared/data if unset.
# Relative paths are read from the directory it is called from.
#
#   benchmarks/gpu_check.sh [OUTDIR]
set -uo pipefail
repo=$(realpath "$(dirname "$0")/..")
out=$(realpath -m "${1:-$repo/gpu-check}")
py=${PYTHON:-$repo/.venv/bin/python}
[[ $py == */* ]] && py=$(realpath -ms "$py")  # -s: a venv's python is a symlink
export HARNESS_DATA_DIR=$(realpath -m "${HARNESS_DATA_DIR:-$repo/../shared/data}")
cd "$repo"
mkdir -p "$out"
# without CUDA or the data, the CUDA and data tests would skip and the step would pass having tested nothing
"$py" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else
          f"no CUDA device: torch {torch.__version__} (CUDA {torch.version.cuda}) sees none")' || exit 2
"$py" -c 'import sys; from harness.config import data_dir
try: data_dir()
except OSError as exc: sys.exit(str(exc))' || exit 2
"$py" -c 'import torch; print(torch.__version__, torch.cuda.get_device_name())' | tee "$out/device.txt"

failed=()
step() {  # step NAME COMMAND...: run, log to OUTDIR/NAME.log, remember a failure
    local name=$1; shift
    echo "== $name: $*"
    "$@" 2>&1 | tee "$out/$name.log" || failed+=("$name")
}
step tests "$py" -m pytest tests/test_scoring.py tests/test_plugin.py -q -rs -p no:cacheprovider \
    -k "cuda or tiny_suite"
step suites "$py" -m pytest suites -q -rs -p no:cacheprovider --devices cuda --datasets cifar10 --archs 30 \
    --searchers random --runs 2 --benchmark-storage="file://$out/benchmarks" --benchmark-save=cuda
step bench_proxies "$py" benchmarks/bench_proxies.py --device cuda --archs 20

if ((${#failed[@]})); then
    echo "gpu_check: FAILED: ${failed[*]} (logs in $out)"
    exit 1
fi
echo "gpu_check: all passed (logs in $out)"
