# The CPU reference for `ttm bench` where PyTorch is not installed: the same
# two workloads in numpy (OpenBLAS), timed the same way (one warm-up call
# apart, then RUNS calls; median, min, max, GFLOP/s). Not used by ttm itself.
#
#   python3 scripts/numpy_cpu_bench.py [SIZE] [RUNS]
import json
import sys
import time

import numpy as np

SIZE = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
BATCH, LAYERS = 512, [(784, 1024), (1024, 1024), (1024, 10)]


def summary(name, size, first, samples, flops):
    s = sorted(samples)
    n = len(s)
    median = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    return {"workload": name, "size": size, "runs": n, "first_s": first, "median_s": median,
            "min_s": s[0], "max_s": s[-1], "gflops": flops / median / 1e9}


def timed(call):
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


rng = np.random.default_rng(0x5EED)
a = rng.uniform(-1, 1, (SIZE, SIZE)).astype(np.float32)
b = rng.uniform(-1, 1, (SIZE, SIZE)).astype(np.float32)
first = timed(lambda: a @ b)
matmul = summary("matmul", SIZE, first, [timed(lambda: a @ b) for _ in range(RUNS)], 2.0 * SIZE**3)

x = rng.uniform(0, 1, (BATCH, 784)).astype(np.float32)
labels = rng.integers(0, 10, BATCH)
onehot = np.zeros((BATCH, 10), np.float32)
onehot[np.arange(BATCH), labels] = 1
params = []
for i, o in LAYERS:
    bound = 1 / np.sqrt(i)
    params.append([rng.uniform(-bound, bound, (i, o)).astype(np.float32),
                   rng.uniform(-bound, bound, o).astype(np.float32)])


def step(lr=np.float32(0.01)):
    (w1, b1), (w2, b2), (w3, b3) = params
    h1 = np.maximum(x @ w1 + b1, 0)
    h2 = np.maximum(h1 @ w2 + b2, 0)
    logits = h2 @ w3 + b3
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    d3 = (p - onehot) / BATCH
    d2 = (d3 @ w3.T) * (h2 > 0)
    d1 = (d2 @ w2.T) * (h1 > 0)
    for (w, bias), inp, d in zip(params, (x, h1, h2), (d1, d2, d3)):
        w -= lr * (inp.T @ d)
        bias -= lr * d.sum(axis=0)


every = sum(i * o for i, o in LAYERS)
inner = sum(i * o for i, o in LAYERS[1:])
first = timed(step)
train = summary("train_step", BATCH, first, [timed(step) for _ in range(RUNS)], 2.0 * BATCH * (2 * every + inner))
print(json.dumps({"numpy": np.__version__, "results": [matmul, train]}, indent=1))
