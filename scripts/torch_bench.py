# ttm bench: the same two workloads as the Burn side, through PyTorch.
#
# Run by `ttm bench --torch` with the project environment's python:
#   python -I -c "<this file>" probe
#   python -I -c "<this file>" run DEVICE SIZE RUNS [PRECISION]
# DEVICE is cpu, cuda or mps. PRECISION (fp32 or tf32; fp32 when left out) is
# what the Burn rows it is paired with computed in, as Burn measured it: on
# cuda, tf32 turns on TF32 for matrix products (and cuDNN), fp32 keeps them
# strict, so that each pair of rows is compared at equal precision.
# Prints exactly one JSON object on stdout.
# A failed `import torch` is JSON too ({"ok": false, "error": ...}), exit 0.
#
# The workloads, as the Burn side defines them (src/compute/bench.rs):
# - matmul: SIZE x SIZE f32, uniform inputs, one warm-up call timed apart
#   (first_s), then RUNS calls, each followed by a device synchronisation.
# - train step: one forward, backward and SGD update (lr 0.01) of an MLP
#   784-1024-1024-10 with ReLU and cross-entropy on a batch of 512 random
#   samples, f32; one warm-up step timed apart, then RUNS synchronised steps.
import json
import sys
import time


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


try:
    import torch
except BaseException as e:  # noqa: BLE001 - any import failure is an answer
    emit({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})
    sys.exit(0)


def devices():
    found = {"cpu": None}
    try:
        if torch.cuda.is_available():
            found["cuda"] = torch.cuda.get_device_name(0)
    except Exception:
        pass
    try:
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            found["mps"] = "Apple GPU (MPS)"
    except Exception:
        pass
    return found


def synchronize(device):
    if device == "cuda":
        torch.cuda.synchronize()
    elif device == "mps":
        torch.mps.synchronize()


def set_precision(device, wanted):
    if device == "cuda":
        tf32 = wanted == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32


def precision(device):
    if device == "cuda" and torch.backends.cuda.matmul.allow_tf32:
        return "tf32"
    if device == "cpu" and torch.get_float32_matmul_precision() != "highest":
        # Only oneDNN on some CPUs honours it (bf16); say what was asked for.
        return "fp32 (matmul precision %s)" % torch.get_float32_matmul_precision()
    return "fp32"


def timed(device, call):
    synchronize(device)
    started = time.perf_counter()
    call()
    synchronize(device)
    return time.perf_counter() - started


def bench_matmul(device, n, runs):
    gen = torch.Generator(device="cpu").manual_seed(0x5EED)
    a = (torch.rand((n, n), generator=gen) * 2 - 1).to(device)
    b = (torch.rand((n, n), generator=gen) * 2 - 1).to(device)
    out = {}

    def call():
        out["c"] = a @ b

    first = timed(device, call)
    samples = [timed(device, call) for _ in range(runs)]
    return {
        "workload": "matmul",
        "size": n,
        "first_s": first,
        "samples_s": samples,
        "flops": 2.0 * n * n * n,
        "precision": precision(device),
    }


LAYERS = [(784, 1024), (1024, 1024), (1024, 10)]
BATCH = 512


def train_step_flops():
    every = sum(i * o for i, o in LAYERS)
    inner = sum(i * o for i, o in LAYERS[1:])
    return 2.0 * BATCH * (2 * every + inner)


def bench_train_step(device, runs):
    torch.manual_seed(0x7EA1)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 1024),
        torch.nn.ReLU(),
        torch.nn.Linear(1024, 1024),
        torch.nn.ReLU(),
        torch.nn.Linear(1024, 10),
    ).to(device)
    x = torch.rand((BATCH, 784)).to(device)
    y = torch.randint(0, 10, (BATCH,)).to(device)
    loss_fn = torch.nn.CrossEntropyLoss()
    optim = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        optim.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optim.step()

    first = timed(device, step)
    samples = [timed(device, step) for _ in range(runs)]
    return {
        "workload": "train_step",
        "size": BATCH,
        "first_s": first,
        "samples_s": samples,
        "flops": train_step_flops(),
        "precision": precision(device),
    }


def main(argv):
    found = devices()
    base = {"ok": True, "version": torch.__version__, "devices": found}
    if len(argv) >= 1 and argv[0] == "probe":
        emit(base)
        return
    if len(argv) not in (4, 5) or argv[0] != "run":
        emit({"ok": False, "error": "usage: probe | run DEVICE SIZE RUNS [fp32|tf32]"})
        return
    device, n, runs = argv[1], int(argv[2]), int(argv[3])
    wanted = argv[4] if len(argv) == 5 else "fp32"
    if wanted not in ("fp32", "tf32"):
        emit({"ok": False, "error": "PRECISION must be fp32 or tf32, not %r" % wanted})
        return
    if device not in found:
        emit(dict(base, ok=False, error="PyTorch has no %s device here" % device))
        return
    set_precision(device, wanted)
    with torch.no_grad():
        matmul = bench_matmul(device, n, runs)
    train = bench_train_step(device, runs)
    emit(dict(base, device=device, name=found[device], results=[matmul, train]))


try:
    main(sys.argv[1:])
except BaseException as e:  # noqa: BLE001 - report, never a traceback on stdout
    emit({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})
