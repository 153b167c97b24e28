#!/bin/sh
# Benchmark (run by hand, not a test): the wall time of `ttm doctor --json`,
# with its kept torch answer and without one (a fresh HOME each run), side by
# side with doctor's slowest probe run alone (the torch probe,
# scripts/torch_probe.py, as doctor runs it: `PYTHON -I -B -c SCRIPT`), a bare
# `import torch`, and `python -m torch.utils.collect_env`. The five run in
# turn, RUNS rounds (default 5), so a slow moment of the machine falls on all
# of them; it prints the medians and what doctor adds to its slowest probe.
# Usage: scripts/time_doctor.sh [PYTHON] [TTM] [WORKSPACE]
#   PYTHON     a python with torch (default: python3)
#   TTM        the ttm binary (default: target/release/ttm, else target/debug/ttm)
#   WORKSPACE  passed to doctor as --workspace (default: doctor's own choice);
#              its ttm.toml must name PYTHON's env for the rows to compare
set -eu
PYTHON=${1:-python3}
TTM=${2:-}
WORKSPACE=${3:-}
if [ -z "$TTM" ]; then
  if [ -x target/release/ttm ]; then TTM=target/release/ttm; else TTM=target/debug/ttm; fi
fi
exec python3 - "$PYTHON" "$TTM" "${RUNS:-5}" "$WORKSPACE" <<'PY'
import os, platform, shutil, statistics, subprocess, sys, tempfile, time

python, ttm, runs, workspace = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
probe = open("scripts/torch_probe.py").read()
doctor = [ttm] + (["--workspace", workspace] if workspace else []) + ["doctor", "--json"]
scratch = tempfile.mkdtemp(prefix="ttm-time-doctor-")
kept_home = tempfile.mkdtemp(dir=scratch)

def fresh_home():
    return {"HOME": tempfile.mkdtemp(dir=scratch)}

rows = [
    ("ttm doctor --json, answer kept", doctor, lambda: {"HOME": kept_home}),
    ("ttm doctor --json, nothing kept", doctor, fresh_home),
    ("torch probe alone (slowest probe)", [python, "-I", "-B", "-c", probe], dict),
    ("python -c 'import torch'", [python, "-c", "import torch"], dict),
    ("python -m torch.utils.collect_env", [python, "-m", "torch.utils.collect_env"], dict),
]
# One doctor run first, so the kept row has its answer.
subprocess.run(doctor, env={**os.environ, "HOME": kept_home},
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
times = {label: [] for label, _, _ in rows}
codes = {}
for _ in range(runs):
    for label, cmd, env in rows:
        t0 = time.perf_counter()
        codes[label] = subprocess.run(cmd, env={**os.environ, **env()},
                                      stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL).returncode
        times[label].append(time.perf_counter() - t0)

print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs")
med = {}
for label, _, _ in rows:
    med[label] = statistics.median(times[label])
    spread = f"{min(times[label]):.3f}-{max(times[label]):.3f}"
    print(f"{label:36} median of {runs}: {med[label]:7.3f} s ({spread}; exit {codes[label]})")
cold, kept = med[rows[1][0]], med[rows[0][0]]
print(f"doctor, nothing kept, over its slowest probe: {1000 * (cold - med[rows[2][0]]):+.0f} ms")
print(f"doctor, answer kept, / collect_env: {kept / med[rows[4][0]]:.3f}x")
shutil.rmtree(scratch, ignore_errors=True)
PY
