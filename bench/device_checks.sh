#!/usr/bin/env bash
# The checks that need a GPU, as one command for a lent CUDA machine (nothing here runs
# in CI): the CUDA probe tests, the probe's cost on CUDA, and what a forked child per
# model file costs when each child opens its own CUDA context.
#
#     bash bench/device_checks.sh            # logs under $OUT (or /tmp/gradlint-device)
#
# gradlint is installed into a scratch folder, without dependencies or network, with the
# machine's own torch; the tests run from outside the checkout so that they import it.
set -u
py=${PYTHON:-python3}
out=${OUT:-/tmp/gradlint-device}
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
"$py" -m pip install -q --no-deps --no-build-isolation --no-index --no-compile --target /tmp/gradlint-site "$repo" \
    >"$out/install.log" 2>&1 || { tail -20 "$out/install.log"; exit 1; }
export PYTHONPATH=/tmp/gradlint-site
"$py" -c "import sys, torch, gradlint; print(sys.version.split()[0], 'torch', torch.__version__, torch.cuda.get_device_name() if torch.cuda.is_available() else 'no CUDA', 'gradlint', gradlint.__version__)" \
    2>&1 | tee "$out/versions.log"
status=0
run() {  # name, seconds, command...: one check, its log under $out, its time on stdout
    local name=$1 limit=$2; shift 2
    echo "== $name"
    local start=$SECONDS
    (cd /tmp && timeout "$limit" "$@") >"$out/$name.log" 2>&1
    local rc=$?
    tail -12 "$out/$name.log"
    echo "-- $name: rc $rc, $((SECONDS - start)) s"
    [ $rc -eq 0 ] || status=1
}
run gpu_tests 150 "$py" -m pytest "$repo/tests/test_probe_gpu.py" -q -p no:cacheprovider --rootdir "$repo"
run probe_cost 150 "$py" "$repo/bench/probe_cost.py" --device cuda
run fork_cost_cuda 150 "$py" "$repo/bench/fork_cost.py" --files 24 --runs 3 --device auto
run fork_cost_cpu 100 "$py" "$repo/bench/fork_cost.py" --files 24 --runs 3 --device cpu
exit $status
