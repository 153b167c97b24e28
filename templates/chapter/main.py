"""{{ title | python_text }}: the book's first model, fitted on this machine's best device.

Fits y = 3x + 2 + noise with Linear(1, 1), as in section 3.5. The data lives in
data/{{ name }}/points.csv (made on the first run, read afterwards) and the
trained weights go to models/{{ name }}/linear.pt. Run it from any folder:

    python notebooks/{{ name }}/main.py
"""

import csv
import random
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


if __name__ == "__main__":
    main()
