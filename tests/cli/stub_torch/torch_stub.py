"""A stand-in for PyTorch with exactly what the scaffold templates' main.py
files use, so the tests can run them without installing torch. Numbers are
not computed; the point is that main.py runs, picks the device it should and
writes where it should. STUB_TORCH_MPS=1 / STUB_TORCH_CUDA=1 make a device
available."""

import os
import pickle

float32 = "float32"
long = "long"


class device:
    def __init__(self, kind):
        self.type = str(kind)

    def __str__(self):
        return self.type

    def __repr__(self):
        return f"device(type={self.type!r})"


class _Flag:
    def __init__(self, var):
        self.var = var

    def is_available(self):
        return os.environ.get(self.var) == "1"


class backends:
    mps = _Flag("STUB_TORCH_MPS")


cuda = _Flag("STUB_TORCH_CUDA")


def _flat(data):
    if isinstance(data, (list, tuple)):
        for d in data:
            yield from _flat(d)
    else:
        yield data


class Tensor:
    def __init__(self, data, device="cpu"):
        self.data = data
        self.device = str(device)

    def to(self, device):
        return Tensor(self.data, device)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        return Tensor(self.data[i], self.device)

    def item(self):
        return float(next(_flat(self.data), 0.0))

    def argmax(self, dim=None):
        return Tensor([max(range(len(r)), key=r.__getitem__) for r in self.data], self.device)

    def __eq__(self, other):
        return Tensor([a == b for a, b in zip(self.data, other.data)], self.device)

    __hash__ = None

    def sum(self):
        return Tensor(sum(_flat(self.data)), self.device)

    def backward(self):
        pass


def tensor(data, dtype=None, device="cpu"):
    return Tensor(data, device)


def manual_seed(seed):
    pass


def save(obj, path):
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def load(path, map_location=None):
    with open(path, "rb") as f:
        return pickle.load(f)
