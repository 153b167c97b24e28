#!/usr/bin/env bash
# First calls on a GPU, measured side by side on the device machine (see
# docs/bench.md, "First calls on a GPU"). Needs gzipped stripped ttm binaries
# in .devbin/ (built elsewhere: the device has no Rust) and the image's own
# python3 with PyTorch. Usage: scripts/gpu_first_calls.sh selftest|bench|fusion|fusion-bench
# Writes logs and JSON under $OUT (default /tmp/out); prints a table last.
# Binaries: ttm-base (the build before), ttm-new (this one), ttm-fusion (this
# one with `fusion` added to burn's features in Cargo.toml, by hand: ttm keeps
# no feature for it since it measured slower, see docs/bench.md).
set -u
mode=${1:-selftest}
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
B=/tmp/ttm-bins
mkdir -p "$B"
for gz in .devbin/*.gz; do
    name=$(basename "$gz" .gz)
    [ -x "$B/$name" ] || { gunzip -c "$gz" > "$B/$name" && chmod +x "$B/$name"; }
done
WS=/tmp/ws-none
mkdir -p "$WS"
# kind = "none": the python3 on PATH (the image's, with PyTorch) is the project's.
printf 'schema = 1\nttm_version = "0.1.0"\n\n[environment]\nkind = "none"\nname = "system"\npython = "3"\n' > "$WS/ttm.toml"
export CI=true NO_COLOR=1
TIMES="$OUT/times-$mode.txt"
: > "$TIMES"

# timed LABEL HOME-NAME BINARY ARGS...: wall seconds of one run, output kept.
timed() {
    local label=$1 home=/tmp/home-$2 bin=$B/$3
    shift 3
    mkdir -p "$home"
    local t0 t1 rc
    t0=$(date +%s.%N)
    HOME=$home timeout 290 "$bin" --workspace "$WS" "$@" > "$OUT/$label.out" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    printf '%-34s %7.2f s  rc=%s\n' "$label" "$(awk "BEGIN{print $t1 - $t0}")" "$rc" | tee -a "$TIMES"
}

case $mode in
selftest)
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > "$OUT/gpu.txt"
    python3 -c 'import torch; print(torch.__version__, torch.version.cuda)' >> "$OUT/gpu.txt" 2>&1
    cat "$OUT/gpu.txt"
    timed base-cuda-cold base ttm-base selftest --device cuda --json
    timed base-cuda-warm base ttm-base selftest --device cuda --json
    TTM_AUTOTUNE=balanced timed bal-cuda-cold bal ttm-new selftest --device cuda --json
    TTM_AUTOTUNE=balanced timed bal-cuda-warm bal ttm-new selftest --device cuda --json
    timed min-cuda-cold min ttm-new selftest --device cuda --json
    timed min-cuda-warm min ttm-new selftest --device cuda --json
    timed min-cuda-warm2 min ttm-new selftest --device cuda --json
    timed base-vulkan-cold base ttm-base selftest --device vulkan --json
    timed base-vulkan-warm base ttm-base selftest --device vulkan --json
    timed min-vulkan-cold min ttm-new selftest --device vulkan --json
    timed min-vulkan-warm min ttm-new selftest --device vulkan --json
    # doctor: cold (no cache), then warm, against collect_env and import torch.
    timed doctor-cold doc ttm-new doctor --json
    timed doctor-warm doc ttm-new doctor --json
    timed doctor-warm2 doc ttm-new doctor --json
    t0=$(date +%s.%N); python3 -m torch.utils.collect_env > "$OUT/collect_env.out" 2>&1
    printf '%-34s %7.2f s\n' collect_env "$(awk "BEGIN{print $(date +%s.%N) - $t0}")" | tee -a "$TIMES"
    t0=$(date +%s.%N); python3 -c 'import torch' > /dev/null 2>&1
    printf '%-34s %7.2f s\n' import-torch "$(awk "BEGIN{print $(date +%s.%N) - $t0}")" | tee -a "$TIMES"
    du -sh /tmp/home-*/.cache/ttm/cubecl 2>/dev/null | tee -a "$TIMES"
    find /tmp/home-min/.cache/ttm/cubecl -type f | head -50 > "$OUT/cache-files.txt"
    ;;
bench)
    # Cold (a fresh HOME: nothing tuned or compiled), then warm (the same HOME).
    timed bench-cuda-cold bench ttm-new bench --device cuda --torch --json \
        --save "$OUT/bench-cuda-cold.json"
    timed bench-cuda-warm bench ttm-new bench --device cuda --torch --json \
        --save "$OUT/bench-cuda-warm.json"
    # Where a warm self-test's time goes: one training step and a small matmul.
    timed selftest-warm-small bench ttm-new selftest --device cuda --steps 1 --size 256 --json
    timed selftest-warm bench ttm-new selftest --device cuda --json
    # Fusion: the train step with Burn's fusion, tuned from the same start.
    timed bench-cuda-fusion-cold bench-fus ttm-fusion bench --device cuda --json \
        --save "$OUT/bench-cuda-fusion-cold.json"
    ;;
fusion)
    timed fusion-cuda-cold fus ttm-fusion selftest --device cuda --json
    timed fusion-cuda-warm fus ttm-fusion selftest --device cuda --json
    timed fusion-vulkan-cold fus ttm-fusion selftest --device vulkan --json
    timed fusion-vulkan-warm fus ttm-fusion selftest --device vulkan --json
    ;;
fusion-bench)
    timed bench-cuda-fusion bench-fus ttm-fusion bench --device cuda --torch --json \
        --save "$OUT/bench-cuda-fusion.json"
    ;;
esac
echo "== $mode"
cat "$TIMES"
