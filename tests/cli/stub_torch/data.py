"""torch.utils.data of the stub: a Dataset base and a DataLoader that batches."""

from torch import Tensor


class Dataset:
    pass


class DataLoader:
    def __init__(self, dataset, batch_size=1, shuffle=False):
        self.dataset = dataset
        self.batch_size = batch_size

    def __iter__(self):
        n = len(self.dataset)
        for start in range(0, n, self.batch_size):
            items = [self.dataset[i] for i in range(start, min(n, start + self.batch_size))]
            yield Tensor([x.data for x, _ in items]), Tensor([y.data for _, y in items])
