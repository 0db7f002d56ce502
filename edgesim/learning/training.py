"""Real torch training and evaluation, with no notion of simulated time.

Schemes charge the simulated clock separately (the cost model); these
functions only change weights and measure accuracy, deterministically: every
batch is drawn from a per-holder ``torch.Generator``.
"""

from __future__ import annotations

import copy
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

    def skip(self, steps: int) -> None:
        """Move on as ``steps`` batches would, drawing none (a timing-only run's training).

        The sizes to come then match a real run's, so batch-size-dependent costs do too.
        """
        n = len(self.data)
        for _ in range(steps):
            if self._cursor >= n:
                self._cursor = 0
            self._cursor += self.batch_size

    @property
    def position(self) -> tuple[object, int]:
        """Where the stream stands: this epoch's permutation (a new object each epoch), cursor."""
        return self._order, self._cursor

    def fork(self) -> BatchStream:
        """A copy that draws the batches this stream would draw next, leaving this one as it is.

        The copy shares the data and this epoch's order (never mutated in place)
        and has its own generator, so batched training can draw ahead and
        :meth:`catch_up` later only if its result is kept.
        """
        forked = copy.copy(self)
        forked.generator = torch.Generator().set_state(self.generator.get_state())
        return forked

    def catch_up(self, forked: BatchStream) -> None:
        """Move on to where ``forked`` (a :meth:`fork` of this stream) has drawn to."""
        self._order, self._cursor = forked._order, forked._cursor
        self.generator.set_state(forked.generator.get_state())

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


class LocalUpdate:
    """How a scheme changes a client's local training, without editing this module.

    The default trains on the data's cross-entropy alone. A scheme passes a
    subclass to :meth:`edgesim.schemes.runtime.Runtime.train` to change the
    local objective (:meth:`objective`: a proximal term, a control variate's
    inner product) or the gradient before each step (:meth:`before_step`:
    SCAFFOLD's correction, clipping). How much work a client does (FedProx's
    partial work from stragglers) is the scheme's choice of ``steps``.
    """

    def objective(self, model: nn.Module, loss: torch.Tensor) -> torch.Tensor:
        """The loss minimised, given the data loss of this batch."""
        return loss

    def before_step(self, model: nn.Module) -> None:
        """Called after ``backward`` and before the optimizer's step (gradients are set)."""


class Proximal(LocalUpdate):
    """``loss + rho/2 · ||w − w_anchor||²``: stay near the model the client started from.

    The proximal term of FedProx (Li et al., MLSys 2020, §3, eq. 2, with ``mu``)
    and of FedAsync's local problem (Xie et al. 2019, Alg. 1, with ``rho``);
    the anchor is the global model as the client received it.
    """

    def __init__(self, anchor: nn.Module, rho: float):
        self.rho = rho
        # no copy of the weights when the term is off (FedAsync's default, on every update)
        self.anchor = [p.detach().clone() for p in anchor.parameters()] if rho else []

    def objective(self, model: nn.Module, loss: torch.Tensor) -> torch.Tensor:
        if self.rho == 0:
            return loss
        pairs = zip(model.parameters(), self.anchor, strict=True)
        drift = sum(((p - a) ** 2).sum() for p, a in pairs)
        return loss + self.rho / 2 * drift


PLAIN = LocalUpdate()


def train_steps(
    model: nn.Module,
    batches: BatchStream,
    steps: int,
    optimizer: Optimizer,
    device: str = "cpu",
    update: LocalUpdate = PLAIN,
) -> float:
    """Run ``steps`` SGD steps in place; returns the mean training loss (of the data alone)."""
    model.train()
    opt = optimizer.make(model)
    loss_fn = nn.CrossEntropyLoss()
    total = 0.0
    for _ in range(steps):
        x, y = batches.next_batch()
        x, y = x.to(device), y.to(device)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        update.objective(model, loss).backward()
        update.before_step(model)
        opt.step()
        total += loss.item()
    opt.zero_grad(set_to_none=True)  # a model waiting to upload need not hold its gradients
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
