# The CPU peers of `ttm bench`'s Burn rows, for the issue-13 table: numpy's
# and PyTorch's f32 matmul at the given sizes and PyTorch's train step (the
# bench's MLP, batch 512), medians, one JSON line per measurement, in the
# format of examples/burn_timings.rs. A benchmark, not a test.
#
#   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 scripts/cpu_peers.py 1024 2048 5000
#   cargo run --release --features openblas --example burn_timings -- 1024 2048 5000
#
# Run both in one go, on a quiet machine: the two-core dev machines share
# their cores with builds, which moves medians by 2× (see docs/cpu-blas.md).
import json
import statistics
import sys
import time


def median_of(call, runs):
    call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def emit(**fields):
    print(json.dumps(fields), flush=True)


def numpy_rows(sizes, runs):
    try:
        import numpy as np
    except ImportError as e:
        emit(target="numpy", error=str(e))
        return
    core = None
    try:
        from threadpoolctl import threadpool_info

        core = [i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"]
    except ImportError:
        pass
    rng = np.random.default_rng(0x5EED)
    for n in sizes:
        a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        m = median_of(lambda: a @ b, runs)
        emit(target="numpy", workload="matmul", size=n, median_s=m, gflops=2 * n**3 / m / 1e9, openblas_core=core)


def torch_rows(sizes, runs):
    try:
        import torch
    except ImportError as e:
        emit(target="torch cpu", error=str(e))
        return
    gen = torch.Generator().manual_seed(0x5EED)
    with torch.no_grad():
        for n in sizes:
            a = torch.rand((n, n), generator=gen) * 2 - 1
            b = torch.rand((n, n), generator=gen) * 2 - 1
            m = median_of(lambda: a @ b, runs)
            emit(target="torch cpu", workload="matmul", size=n, median_s=m, gflops=2 * n**3 / m / 1e9)
    torch.manual_seed(0x7EA1)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 1024), torch.nn.ReLU(),
        torch.nn.Linear(1024, 1024), torch.nn.ReLU(),
        torch.nn.Linear(1024, 10),
    )
    x = torch.rand((512, 784))
    y = torch.randint(0, 10, (512,))
    loss_fn = torch.nn.CrossEntropyLoss()
    optim = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        optim.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optim.step()

    emit(target="torch cpu", workload="train_step", size=512, median_s=median_of(step, 20),
         threads=torch.get_num_threads(), version=torch.__version__)


if __name__ == "__main__":
    args = sys.argv[1:]
    numpy_only = "--numpy-only" in args
    sizes = [int(a) for a in args if a != "--numpy-only"] or [2048]
    numpy_rows(sizes, 7)
    if not numpy_only:
        torch_rows(sizes, 7)
