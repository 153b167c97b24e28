#!/usr/bin/env python3
"""Each host's doctor verdict in one table, from the reports the ttm role
gathered (REPORT_DIR/<host>/doctor.json), then `ttm bench compare` over the
hosts' bench results where there are any (needs ttm on the controller:
--ttm PATH, else ttm on PATH).

    python3 summary.py reports/ [--ttm PATH]

Exit 0 when every host is ready, 1 when one is not or has no report.
"""

import json
import os
import shutil
import subprocess
import sys

MAX_REPORT = 4 << 20  # a doctor report is a few kB; refuse anything huge


def load(path):
    with open(path, "rb") as f:
        data = f.read(MAX_REPORT + 1)
    if len(data) > MAX_REPORT:
        raise ValueError("larger than %d bytes" % MAX_REPORT)
    return json.loads(data)


def verdict(doc):
    checks = doc.get("checks", [])
    failed = [c["id"] for c in checks if c.get("status") == "fail"]
    warned = [c["id"] for c in checks if c.get("status") == "warn"]
    return ("ready" if doc.get("ready") else "NOT ready"), failed, warned


def main(argv):
    args = list(argv)
    ttm = None
    if "--ttm" in args:
        i = args.index("--ttm")
        ttm = args[i + 1]
        del args[i:i + 2]
    if len(args) != 1 or not os.path.isdir(args[0]):
        print("usage: summary.py REPORT_DIR [--ttm PATH]", file=sys.stderr)
        return 2
    root = args[0]
    rows, benches, all_ready = [], [], True
    for host in sorted(os.listdir(root)):
        folder = os.path.join(root, host)
        if not os.path.isdir(folder):
            continue
        doctor = os.path.join(folder, "doctor.json")
        try:
            state, failed, warned = verdict(load(doctor))
        except (OSError, ValueError) as e:
            state, failed, warned = "no report", [str(e).splitlines()[0]], []
        all_ready &= state == "ready"
        rows.append((host, state, ", ".join(failed) or "-", ", ".join(warned) or "-"))
        if os.path.isfile(os.path.join(folder, "bench.json")):
            benches.append(os.path.join(folder, "bench.json"))
    head = ("host", "verdict", "failed", "warnings")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(4)]
    for r in [head] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    ready = sum(1 for r in rows if r[1] == "ready")
    print("%d of %d hosts ready" % (ready, len(rows)))
    ttm = ttm or shutil.which("ttm")
    if benches and ttm:
        print()
        sys.stdout.flush()
        subprocess.run([ttm, "bench", "compare"] + benches, check=False)
    elif benches:
        print("(bench results gathered; put ttm on PATH for `ttm bench compare`)")
    return 0 if all_ready and rows else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
