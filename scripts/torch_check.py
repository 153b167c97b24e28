# The book's check (chapter 3.5), run by `ttm setup` through the environment's
# python: fit y = 3x + 2 with a Linear(1, 1), 200 steps of SGD, on the best
# device PyTorch offers (mps, cuda, else cpu). Prints one JSON object; an
# expected failure (no torch) is JSON too, with exit code 0.
import json
import math
import sys


def main():
    try:
        import torch
    except Exception as e:  # ImportError, or a broken wheel (dlopen errors)
        return {"ok": False, "error": "import torch failed: %s" % (e,)}
    out = {"ok": False, "torch": getattr(torch, "__version__", None)}
    try:
        mps = getattr(torch.backends, "mps", None)
        out["mps_built"] = bool(mps and mps.is_built())
        out["mps_available"] = bool(mps and mps.is_available())
        out["cuda_available"] = bool(torch.cuda.is_available())
        if out["mps_available"]:
            device = "mps"
        elif out["cuda_available"]:
            device = "cuda"
        else:
            device = "cpu"
        out["device"] = device
        torch.manual_seed(0)
        x = torch.rand(100, 1, device=device)
        y = 3 * x + 2 + 0.1 * torch.randn(100, 1, device=device)
        model = torch.nn.Linear(1, 1).to(device)
        loss_fn = torch.nn.MSELoss()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        first = None
        for _ in range(200):
            opt.zero_grad()
            pred = model(x)
            loss = loss_fn(pred, y)
            loss.backward()
            opt.step()
            if first is None:
                first = loss.item()
        out["weight"] = model.weight.item()
        out["bias"] = model.bias.item()
        out["first_loss"] = first
        out["final_loss"] = loss.item()
    except Exception as e:
        out["error"] = "%s: %s" % (type(e).__name__, e)
        return out
    values = [out["weight"], out["bias"], out["first_loss"], out["final_loss"]]
    if not all(math.isfinite(v) for v in values):
        out["error"] = "the fit produced NaN or infinity"
    elif not out["final_loss"] < out["first_loss"]:
        out["error"] = "the loss did not fall"
    elif abs(out["weight"] - 3) > 1 or abs(out["bias"] - 2) > 1:
        out["error"] = "the fit is far from y = 3x + 2"
    else:
        out["ok"] = True
    return out


print(json.dumps(main()))
sys.stdout.flush()
