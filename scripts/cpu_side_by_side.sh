#!/usr/bin/env bash
# The CPU rows of `ttm bench` beside numpy and PyTorch, in one run (see
# docs/cpu-blas.md). A benchmark, not a test. Needs a ttm built with the BLAS
# path (`cargo build --release --features openblas`) and a python with numpy
# and torch (PY, default python3).
#
#   PY=venv/bin/python scripts/cpu_side_by_side.sh target/release/ttm 2
#
# Every round runs, for 1024, 2048 and 5000: `ttm bench --device cpu` with
# NdArray (as the environment is, then with OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE unset), Candle, PyTorch (through `--torch`) and numpy (with
# both variables unset, as numpy is benchmarked on machines that set them).
# Prints one line per measurement: what, size, GFLOP/s (matmul) or ms (train).
set -u
TTM=${1:-target/release/ttm}
ROUNDS=${2:-2}
PY=${PY:-python3}
WS=$(mktemp -d)
trap 'rm -rf "$WS"' EXIT
# kind = "none": the python given is the project's (its PyTorch runs --torch).
printf 'schema = 1\nttm_version = "0.1.0"\n\n[environment]\nkind = "none"\nname = "system"\npython = "3"\n' > "$WS/ttm.toml"
PYDIR=$(dirname "$(command -v "$PY")")
UNSET="env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"

rows() { # label, then the bench JSON on stdin
    "$PY" -c '
import json, sys
label = sys.argv[1]
for r in json.load(sys.stdin)["results"]:
    rate = r["gflops"] if r["workload"] == "matmul" else r["median_s"] * 1000
    unit = "GFLOP/s" if r["workload"] == "matmul" else "ms"
    who = label if r["backend"] != "torch" else "pytorch"
    workload, size = r["workload"], r["size"]
    print(f"{who:<22} {workload:<10} {size:>5} {rate:9.1f} {unit}")
' "$1"
}

bench() { # label, env prefix, backend, size
    local label=$1 pre=$2 backend=$3 size=$4 torch=${5:-}
    PATH="$PYDIR:$PATH" $pre "$TTM" --workspace "$WS" bench --device cpu --backend "$backend" \
        --size "$size" --runs 7 $torch --json 2>/dev/null | rows "$label"
}

uptime
for round in $(seq "$ROUNDS"); do
    echo "-- round $round"
    for size in 1024 2048 5000; do
        bench ndarray-as-set "" ndarray "$size" --torch
        bench ndarray-unset "$UNSET" ndarray "$size"
        bench candle "" candle "$size"
        $UNSET "$PY" "$(dirname "$0")/cpu_peers.py" --numpy-only "$size" 2>/dev/null | "$PY" -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("target") == "numpy" and m.get("workload") == "matmul":
        size, rate = m["size"], m["gflops"]
        print(f"numpy-unset            matmul     {size:>5} {rate:9.1f} GFLOP/s")
'
    done
done
uptime
