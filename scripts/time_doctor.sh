#!/bin/sh
# Benchmark (run by hand, not a test): the wall time of `ttm doctor --json`
# against `python -m torch.utils.collect_env`, and against doctor's slowest
# probe in practice (the torch probe, scripts/torch_probe.py, in that python).
# Medians of RUNS runs each (default 5).
# Usage: scripts/time_doctor.sh [PYTHON] [TTM]
#   PYTHON  a python with torch (default: python3)
#   TTM     the ttm binary (default: target/release/ttm, else target/debug/ttm)
set -eu
PYTHON=${1:-python3}
TTM=${2:-}
if [ -z "$TTM" ]; then
  if [ -x target/release/ttm ]; then TTM=target/release/ttm; else TTM=target/debug/ttm; fi
fi
exec python3 - "$PYTHON" "$TTM" "${RUNS:-5}" <<'PY'
import platform, statistics, subprocess, sys, time

python, ttm, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
probe = open("scripts/torch_probe.py").read()

def median_s(cmd):
    times, code = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        times.append(time.perf_counter() - t0)
    return statistics.median(times), code

print(f"machine: {platform.platform()}")
for label, cmd in [
    ("ttm doctor --json", [ttm, "doctor", "--json"]),
    ("torch probe (slowest probe)", [python, "-I", "-B", "-c", probe]),
    ("python -m torch.utils.collect_env", [python, "-m", "torch.utils.collect_env"]),
]:
    s, code = median_s(cmd)
    print(f"{label:36} median of {runs}: {s:7.3f} s (exit {code})")
PY
