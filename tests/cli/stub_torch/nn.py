"""torch.nn of the stub: modules that keep shapes, losses that are zero."""

from torch import Tensor


class Module:
    def to(self, device):
        return self

    def train(self, mode=True):
        return self

    def parameters(self):
        return []

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass

    def __call__(self, x):
        return self.forward(x)


class Linear(Module):
    def __init__(self, inputs, outputs):
        self.outputs = outputs
        self.weight = Tensor([[0.5] * inputs for _ in range(outputs)])
        self.bias = Tensor([0.0] * outputs)

    def parameters(self):
        return [self.weight, self.bias]

    def state_dict(self):
        return {"weight": self.weight.data, "bias": self.bias.data}

    def forward(self, x):
        return Tensor([[0.0] * self.outputs for _ in x.data], x.device)


class ReLU(Module):
    def forward(self, x):
        return x


class Sequential(Module):
    def __init__(self, *layers):
        self.layers = layers

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def state_dict(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.state_dict().items()}

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class MSELoss:
    def __call__(self, prediction, target):
        return Tensor(0.0, prediction.device)


class CrossEntropyLoss(MSELoss):
    pass
