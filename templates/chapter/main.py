{% if topic == "tensors" -%}
"""{{ title | python_text }}: tensors, on this machine's best device.

The book's chapter 4 starts here: making tensors, their shape, dtype and
device, computing with them (element-wise, broadcasting, a matrix product,
reductions), reshaping and indexing, and autograd. The tensors are saved to
data/{{ name }}/tensors.pt and read back; a fit done by hand with raw tensors
goes to models/{{ name }}/weights.pt. Run it from any folder:

    python notebooks/{{ name }}/main.py
"""
{%- else -%}
"""{{ title | python_text }}: the book's first model, fitted on this machine's best device.

Fits y = 3x + 2 + noise with Linear(1, 1), as in section 3.5: the starting
point of a chapter. The data lives in data/{{ name }}/points.csv (made on the
first run, read afterwards) and the trained weights go to
models/{{ name }}/linear.pt. Run it from any folder:

    python notebooks/{{ name }}/main.py
"""
{%- endif %}
{% if topic != "tensors" %}
import csv
import random
{%- endif %}
from pathlib import Path

import torch

# notebooks/{{ name }}/main.py: the workspace is two folders up.
WORKSPACE = Path(__file__).resolve().parents[2]
DATA = WORKSPACE / "data" / "{{ name }}"
MODELS = WORKSPACE / "models" / "{{ name }}"

# auto: mps, then cuda, then cpu. Or one of them by name.
DEVICE = {{ device | python }}


def pick_device(preference=DEVICE):
    """The first available of mps, cuda and cpu, or the one asked for."""
    if preference == "auto":
        if torch.backends.mps.is_available():
            return torch.device("mps")
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("cpu")
    available = {
        "mps": torch.backends.mps.is_available,
        "cuda": torch.cuda.is_available,
        "cpu": lambda: True,
    }
    if preference not in available:
        raise SystemExit(f"unknown device {preference!r}: use auto, mps, cuda or cpu")
    if not available[preference]():
        raise SystemExit(f"{preference} is not available here: set DEVICE = \"auto\"")
    return torch.device(preference)
{% if topic == "tensors" %}

def describe(name, t):
    """One line on a tensor: its shape, element type and device."""
    print(f"{name}: shape {tuple(t.shape)}, dtype {t.dtype}, device {t.device}")


def main():
    device = pick_device()
    print(f"device: {device}")
    torch.manual_seed(0)

    # Making tensors: from Python lists, filled, random, a range.
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    zeros = torch.zeros(2, 3, device=device)
    noise = torch.rand(2, 3, device=device)
    steps = torch.arange(6, device=device)
    for name, t in [("a", a), ("zeros", zeros), ("noise", noise), ("steps", steps)]:
        describe(name, t)

    # Computing: element-wise, broadcasting a row over each row, a matrix
    # product, reductions to one number.
    print("a * 10 =", (a * 10).tolist())
    print("a + [100, 200] =", (a + torch.tensor([100.0, 200.0], device=device)).tolist())
    print("a @ a =", (a @ a).tolist())
    print(f"a.sum() = {a.sum().item()}, a.mean() = {a.mean().item()}")

    # Shape: the same six numbers as 2 rows of 3, transposed, indexed, sliced.
    grid = steps.reshape(2, 3)
    print("grid =", grid.tolist(), "and transposed", grid.T.tolist())
    print("grid[1] =", grid[1].tolist(), "grid[:, 0] =", grid[:, 0].tolist())

    # Autograd: the gradient of sum(x²) is 2x.
    x = torch.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    (x ** 2).sum().backward()
    print("the gradient of sum(x²) at", x.tolist(), "is", x.grad.tolist())

    # Tensors on disk, in data/{{ name }}/: saved from the CPU, read back.
    DATA.mkdir(parents=True, exist_ok=True)
    saved = DATA / "tensors.pt"
    torch.save({"a": a.cpu(), "grid": grid.cpu()}, saved)
    back = torch.load(saved)
    print(f"data: saved {', '.join(back)} to {saved.relative_to(WORKSPACE)} and read them back")

    # Section 3.5's fit of y = 3x + 2 again, by hand: raw tensors, autograd
    # for the gradients, and the update written out instead of nn and optim.
    xs = torch.rand(100, 1, device=device)
    ys = 3 * xs + 2 + 0.1 * torch.randn(100, 1, device=device)
    w = torch.zeros(1, device=device, requires_grad=True)
    b = torch.zeros(1, device=device, requires_grad=True)
    for _ in range(500):
        loss = ((xs * w + b - ys) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= 0.5 * w.grad
            b -= 0.5 * b.grad
            w.grad.zero_()
            b.grad.zero_()
    print(f"fit by hand: weight {w.item():.3f}, bias {b.item():.3f} (the data: 3 and 2)")

    MODELS.mkdir(parents=True, exist_ok=True)
    out = MODELS / "weights.pt"
    torch.save({"weight": w.detach().cpu(), "bias": b.detach().cpu()}, out)
    print(f"model: saved to {out.relative_to(WORKSPACE)}")
{% else %}

def load_points(path, count=100, seed=0):
    """Read (x, y) pairs from a CSV file, making it first if it is missing."""
    if not path.exists():
        rng = random.Random(seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["x", "y"])
            for _ in range(count):
                x = rng.random()
                writer.writerow([f"{x:.6f}", f"{3 * x + 2 + 0.1 * rng.gauss(0, 1):.6f}"])
        print(f"data: wrote {count} points to {path.relative_to(WORKSPACE)}")
    with open(path, newline="") as f:
        rows = [(float(r["x"]), float(r["y"])) for r in csv.DictReader(f)]
    print(f"data: read {len(rows)} points from {path.relative_to(WORKSPACE)}")
    return rows


def main():
    device = pick_device()
    print(f"device: {device}")
    rows = load_points(DATA / "points.csv")
    x = torch.tensor([[x] for x, _ in rows], dtype=torch.float32, device=device)
    y = torch.tensor([[y] for _, y in rows], dtype=torch.float32, device=device)

    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1).to(device)
    loss_fn = torch.nn.MSELoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(200):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    print(f"weight {model.weight.item():.3f}, bias {model.bias.item():.3f} (the data: 3 and 2)")

    MODELS.mkdir(parents=True, exist_ok=True)
    out = MODELS / "linear.pt"
    torch.save(model.state_dict(), out)
    print(f"model: saved to {out.relative_to(WORKSPACE)}")
{% endif %}

if __name__ == "__main__":
    main()
