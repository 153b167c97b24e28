# ttm:torch-probe
# Prints one JSON object: what PyTorch in this Python can do. No torch is an
# answer too (ok: false), never a traceback.
import json

out = {"ok": False}
try:
    import torch
except Exception as e:  # ImportError, or a broken install (dlopen errors)
    out["error"] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
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
