# ttm:python-info
# Prints one JSON object describing this Python (run with -I -B -c by ttm doctor).
# It never parses sys.version: conda-forge and Anaconda builds tag it
# ("3.10.15 | packaged by conda-forge | ..."), and the platform module's
# python_version raises "failed to parse CPython sys.version" where
# platform.py is not patched for the tag (python/cpython#102396).
import json, os, platform, sys

v = sys.version_info
info = {
    "ok": True,
    "version": "%d.%d.%d" % (v[0], v[1], v[2]),
    "implementation": sys.implementation.name,
    "machine": platform.machine(),
    "executable": sys.executable,
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "conda": os.path.exists(os.path.join(sys.prefix, "conda-meta")),
}
print(json.dumps(info))
