# ttm:torch-probe
# Prints one JSON object: what PyTorch in this Python can do. No torch is an
# answer too (ok: false), never a traceback; "installed" tells a torch that
# is absent from one that is there but does not import.
import json

out = {"ok": False}
try:
    import importlib.util
    out["installed"] = importlib.util.find_spec("torch") is not None
    import importlib.metadata
    out["numpy"] = importlib.metadata.version("numpy")
except Exception:
    pass
try:
    import torch
except BaseException as e:  # ImportError, or a broken install (dlopen errors)
    lines = [l for l in str(e).splitlines() if l.strip()]
    out["error"] = "%s: %s" % (type(e).__name__, lines[0] if lines else "")
else:
    out["ok"] = True
    out["version"] = torch.__version__
    mps = getattr(torch.backends, "mps", None)
    try:
        out["mps_built"] = bool(mps.is_built()) if mps else False
        out["mps_available"] = bool(mps.is_available()) if mps else False
    except Exception as e:
        out["mps_error"] = str(e)
    try:
        out["cuda_built"] = torch.backends.cuda.is_built()
        out["cuda_available"] = torch.cuda.is_available()
        out["cuda_version"] = torch.version.cuda
        if out["cuda_available"]:
            out["device_name"] = torch.cuda.get_device_name(0)
    except Exception as e:
        out["cuda_error"] = str(e)
print(json.dumps(out))
