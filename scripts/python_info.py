# ttm:python-info
# Prints one JSON object describing this Python (run with -I -B -c by ttm doctor).
import json, os, platform, sys

info = {
    "ok": True,
    "version": platform.python_version(),
    "machine": platform.machine(),
    "executable": sys.executable,
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "platform": platform.platform(),
    "conda": os.path.exists(os.path.join(sys.prefix, "conda-meta")),
}
print(json.dumps(info))
