"""Real torch training and evaluation, with no notion of simulated time.

Schemes charge the simulated clock separately (the cost model); these
functions only change weights and measure accuracy, deterministically: every
batch is drawn from a per-holder ``torch.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from edgesim.learning.datasets import Dataset


@dataclass
class BatchStream:
    """Endless shuffled mini-batches over one holder's data: a new permutation each epoch."""

    data: Dataset
    batch_size: int
    generator: torch.Generator
    _order: torch.Tensor = field(init=False, repr=False)
    _cursor: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._order = torch.randperm(len(self.data), generator=self.generator)

    @property
    def steps_per_epoch(self) -> int:
        return max(1, -(-len(self.data) // self.batch_size))

    def upcoming_sizes(self, steps: int) -> list[int]:
        """The sizes of the next ``steps`` batches (an epoch's last one may be short)."""
        sizes, cursor, n = [], self._cursor, len(self.data)
        for _ in range(steps):
            if cursor >= n:
                cursor = 0
            sizes.append(min(self.batch_size, n - cursor))
            cursor += self.batch_size
        return sizes

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._cursor >= len(self._order):
            self._order = torch.randperm(len(self.data), generator=self.generator)
            self._cursor = 0
        picked = self._order[self._cursor : self._cursor + self.batch_size]
        self._cursor += self.batch_size
        return self.data.x[picked], self.data.y[picked]


@dataclass(frozen=True)
class Optimizer:
    """Plain SGD settings; a fresh optimizer per training call, as FL clients do each round."""

    lr: float = 0.05
    momentum: float = 0.0
    weight_decay: float = 0.0

    def make(self, model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.SGD(
            model.parameters(), lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay
        )


def train_steps(
    model: nn.Module, batches: BatchStream, steps: int, optimizer: Optimizer, device: str = "cpu"
) -> float:
    """Run ``steps`` SGD steps in place; returns the mean training loss."""
    model.train()
    opt = optimizer.make(model)
    loss_fn = nn.CrossEntropyLoss()
    total = 0.0
    for _ in range(steps):
        x, y = batches.next_batch()
        x, y = x.to(device), y.to(device)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        total += loss.item()
    mean = total / max(steps, 1)
    if steps and not torch.isfinite(torch.tensor(mean)):
        raise FloatingPointError(f"training diverged (mean loss {mean}); lower the learning rate")
    return mean


@torch.no_grad()
def evaluate(model: nn.Module, data: Dataset, device: str = "cpu", batch_size: int = 1024) -> float:
    """Top-1 accuracy of ``model`` on ``data`` (0.0 for an empty set)."""
    if len(data) == 0:
        return 0.0
    model.eval()
    correct = 0
    for start in range(0, len(data), batch_size):
        x = data.x[start : start + batch_size].to(device)
        y = data.y[start : start + batch_size].to(device)
        correct += int((model(x).argmax(dim=1) == y).sum())
    return correct / len(data)
