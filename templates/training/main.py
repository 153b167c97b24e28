"""{{ title | python_text }}: a training loop with checkpoints.

Data:   data/{{ name }}/train.csv (made on the first run if missing)
Models: models/{{ name }}/checkpoint.pt (saved every epoch; a new run resumes)

    python notebooks/{{ name }}/main.py
"""

import csv
import random
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

# notebooks/{{ name }}/main.py: the workspace is two folders up.
WORKSPACE = Path(__file__).resolve().parents[2]
DATA = WORKSPACE / "data" / "{{ name }}"
MODELS = WORKSPACE / "models" / "{{ name }}"

DEVICE = {{ device | python }}  # auto: mps, then cuda, then cpu
EPOCHS = {{ epochs }}
BATCH_SIZE = {{ batch_size }}
LEARNING_RATE = {{ learning_rate }}


def pick_device(preference=DEVICE):
    """The first available of mps, cuda and cpu, or the one asked for."""
    if preference == "auto":
        if torch.backends.mps.is_available():
            return torch.device("mps")
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("cpu")
    return torch.device(preference)


def make_example_data(path, per_class=200, seed=0):
    """Two noisy clusters in the plane, labelled 0 and 1."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["x1", "x2", "label"])
        for label, (cx, cy) in enumerate([(-1.0, -1.0), (1.0, 1.0)]):
            for _ in range(per_class):
                writer.writerow([f"{rng.gauss(cx, 0.7):.5f}", f"{rng.gauss(cy, 0.7):.5f}", label])
    print(f"data: wrote example data to {path.relative_to(WORKSPACE)}")


class PointsDataset(Dataset):
    """Rows of a CSV file: feature columns, then an integer `label` column."""

    def __init__(self, path):
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows:
            raise SystemExit(f"{path} has no rows")
        features = [name for name in rows[0] if name != "label"]
        self.features = torch.tensor([[float(r[n]) for n in features] for r in rows], dtype=torch.float32)
        self.labels = torch.tensor([int(r["label"]) for r in rows], dtype=torch.long)
        self.num_features = len(features)
        self.num_classes = max(int(r["label"]) for r in rows) + 1
        print(f"data: read {len(rows)} rows from {path.relative_to(WORKSPACE)}")

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.features[i], self.labels[i]


def make_model(num_features, num_classes, hidden=32):
    return nn.Sequential(
        nn.Linear(num_features, hidden),
        nn.ReLU(),
        nn.Linear(hidden, num_classes),
    )


def train(model, loader, device, epochs, checkpoint):
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.CrossEntropyLoss()
    start = 0
    if checkpoint.exists():
        state = torch.load(checkpoint, map_location=device)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        start = state["epoch"]
        print(f"resuming after epoch {start} from {checkpoint.relative_to(WORKSPACE)}")
    for epoch in range(start + 1, epochs + 1):
        model.train()
        total, correct, loss_sum = 0, 0, 0.0
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            opt.zero_grad()
            logits = model(x)
            loss = loss_fn(logits, y)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(y)
            correct += (logits.argmax(dim=1) == y).sum().item()
            total += len(y)
        print(f"epoch {epoch}/{epochs}: loss {loss_sum / total:.4f}, accuracy {correct / total:.1%}")
        torch.save(
            {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch},
            checkpoint,
        )


def main():
    device = pick_device()
    print(f"device: {device}")
    data_file = DATA / "train.csv"
    if not data_file.exists():
        make_example_data(data_file)
    dataset = PointsDataset(data_file)
    loader = DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True)
    torch.manual_seed(0)
    model = make_model(dataset.num_features, dataset.num_classes).to(device)
    MODELS.mkdir(parents=True, exist_ok=True)
    checkpoint = MODELS / "checkpoint.pt"
    train(model, loader, device, EPOCHS, checkpoint)
    print(f"model: saved to {checkpoint.relative_to(WORKSPACE)}")


if __name__ == "__main__":
    main()
