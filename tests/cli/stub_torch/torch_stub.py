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


def _filled(shape, value):
    if not shape:
        return value
    return [_filled(shape[1:], value) for _ in range(shape[0])]


def _shape(data):
    shape = []
    while isinstance(data, list):
        shape.append(len(data))
        data = data[0] if data else None
    return tuple(shape)


class Tensor:
    """Keeps its data's nesting (for shape and tolist); the arithmetic keeps
    the left operand's data: chapter 4's main.py needs the calls to exist,
    not the numbers."""

    dtype = float32

    def __init__(self, data, device="cpu", requires_grad=False):
        self.data = data
        self.device = str(device)
        self.grad = Tensor(data, device) if requires_grad else None

    def to(self, device):
        return Tensor(self.data, device)

    def cpu(self):
        return Tensor(self.data, "cpu")

    def detach(self):
        return Tensor(self.data, self.device)

    @property
    def shape(self):
        return _shape(self.data)

    @property
    def T(self):
        return self

    def tolist(self):
        return self.data

    def reshape(self, *shape):
        return Tensor(_filled(shape, 0.0), self.device)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        if isinstance(i, tuple):
            return Tensor([row[i[1]] for row in self.data], self.device)
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

    def mean(self):
        values = list(_flat(self.data))
        return Tensor(sum(values) / max(len(values), 1), self.device)

    def _same(self, other):
        return Tensor(self.data, self.device)

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same
    __matmul__ = __pow__ = __truediv__ = _same

    def __isub__(self, other):
        return self

    def zero_(self):
        return self

    def backward(self):
        pass


def tensor(data, dtype=None, device="cpu", requires_grad=False):
    return Tensor(data, device, requires_grad)


def zeros(*shape, device="cpu", requires_grad=False):
    return Tensor(_filled(shape, 0.0), device, requires_grad)


def rand(*shape, device="cpu"):
    return Tensor(_filled(shape, 0.5), device)


randn = rand


def arange(n, device="cpu"):
    return Tensor([float(i) for i in range(n)], device)


class no_grad:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def manual_seed(seed):
    pass


def save(obj, path):
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def load(path, map_location=None):
    with open(path, "rb") as f:
        return pickle.load(f)
