"""Local-update hooks: a proximal term as FedProx and FedAsync write it, against plain torch."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from edgesim.learning.datasets import load_dataset
from edgesim.learning.models import build_model
from edgesim.learning.training import (
    BatchStream,
    LocalUpdate,
    Optimizer,
    Proximal,
    train_steps,
)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def _plain_torch_fedprox(model: nn.Module, digits, steps: int, lr: float, mu: float) -> nn.Module:
    """Li et al. 2020, eq. 2 by hand: min F_k(w) + mu/2 ||w - w_t||², plain SGD, same batches."""
    anchor = [p.detach().clone() for p in model.parameters()]
    generator = torch.Generator().manual_seed(7)
    order = torch.randperm(len(digits.train), generator=generator)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    for step in range(steps):
        picked = order[step * 32 : (step + 1) * 32]
        x, y = digits.train.x[picked], digits.train.y[picked]
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        prox = sum(((p - a) ** 2).sum() for p, a in zip(model.parameters(), anchor, strict=True))
        (loss + mu / 2 * prox).backward()
        opt.step()
    return model


@pytest.mark.parametrize("mu", [0.0, 0.1, 10.0])
def test_the_proximal_term_matches_a_plain_torch_fedprox_loop(digits, mu):
    start = build_model("mlp", digits.train.input_shape, 10, seed=1)
    ours, reference = copy.deepcopy(start), copy.deepcopy(start)
    stream = BatchStream(digits.train, 32, torch.Generator().manual_seed(7))
    train_steps(ours, stream, 20, Optimizer(lr=0.1), update=Proximal(start, mu))
    _plain_torch_fedprox(reference, digits, 20, lr=0.1, mu=mu)
    for mine, theirs in zip(ours.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=1e-6)


def test_a_larger_proximal_term_keeps_the_model_nearer_its_anchor(digits):
    start = build_model("mlp", digits.train.input_shape, 10, seed=1)

    def drift(mu: float) -> float:
        model = copy.deepcopy(start)
        stream = BatchStream(digits.train, 32, torch.Generator().manual_seed(3))
        train_steps(model, stream, 30, Optimizer(lr=0.1), update=Proximal(start, mu))
        pairs = zip(model.parameters(), start.parameters(), strict=True)
        return float(sum(((p.detach() - a.detach()) ** 2).sum() for p, a in pairs))

    assert drift(0.0) > drift(1.0) > drift(10.0) > 0


def test_before_step_sees_the_gradients(digits):
    class ZeroGradients(LocalUpdate):
        def before_step(self, model: nn.Module) -> None:
            for p in model.parameters():
                assert p.grad is not None
                p.grad.zero_()

    model = build_model("mlp", digits.train.input_shape, 10, seed=1)
    start = copy.deepcopy(model)
    stream = BatchStream(digits.train, 32, torch.Generator().manual_seed(3))
    train_steps(model, stream, 5, Optimizer(lr=0.1), update=ZeroGradients())
    for p, a in zip(model.parameters(), start.parameters(), strict=True):
        assert torch.equal(p, a)  # no gradient left, no step taken
