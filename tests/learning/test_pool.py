"""The model pool: a module is lent again only once nothing refers to it, reset as a fresh copy."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from edgesim.learning.models import build_model
from edgesim.learning.pool import ModelPool


def initial() -> nn.Module:
    return build_model("cnn-small", (1, 8, 8), 10, seed=0)


def scribble(model: nn.Module) -> None:
    """Change everything a borrower may change: weights, gradients, flags."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(1.0)
            parameter.grad = torch.ones_like(parameter)
    model.eval()
    next(model.parameters()).requires_grad_(False)


def assert_fresh(model: nn.Module, like: nn.Module) -> None:
    for got, want in zip(model.modules(), like.modules(), strict=True):
        assert got.training == want.training
    for got, want in zip(model.parameters(), like.parameters(), strict=True):
        assert torch.equal(got, want)
        assert got.grad is None and got.requires_grad == want.requires_grad


def test_a_module_nothing_refers_to_is_lent_again_as_a_fresh_copy():
    start = initial()
    pool = ModelPool(start)
    first = pool.take()
    scribble(first)
    lent = id(first)
    del first
    again = pool.take()
    assert id(again) == lent and len(pool) == 1
    assert_fresh(again, start)


@pytest.mark.parametrize("holding", ["module", "state_dict", "parameter"])
def test_a_module_still_held_is_not_lent(holding):
    pool = ModelPool(initial())
    model = pool.take()
    held = {"module": model, "state_dict": model.state_dict(), "parameter": model[0].weight}
    keep = held[holding]  # e.g. weights being sent, whose storage a new borrower would overwrite
    del model, held
    other = pool.take()
    assert other is not keep and len(pool) == 2
    del keep, other
    pool.take()
    assert len(pool) == 2


def test_the_pool_grows_to_the_most_in_use_at_once_not_the_models_asked_for():
    pool = ModelPool(initial())
    for _ in range(50):
        in_use = [pool.take() for _ in range(3)]
        del in_use
    assert len(pool) == 3


def test_take_with_a_state_loads_it_as_load_state_dict_does():
    start = initial()
    trained = copy.deepcopy(start)
    scribble(trained)
    pool = ModelPool(start)
    got = pool.take(trained.state_dict())
    want = copy.deepcopy(start)
    want.load_state_dict(trained.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(got.parameters(), want.parameters(), strict=True))


def test_a_state_that_does_not_fit_fails_as_load_state_dict_does():
    pool = ModelPool(initial())
    state = pool.take().state_dict()
    state.pop("0.weight")
    with pytest.raises(RuntimeError, match='Missing key.*"0.weight"'):
        pool.take(state)
    state = ModelPool(initial()).take().state_dict()
    state["0.bias"] = torch.zeros(3)
    with pytest.raises(RuntimeError, match="size mismatch for 0.bias"):
        pool.take(state)


def test_a_model_with_its_own_loading_is_loaded_by_load_state_dict():
    """BatchNorm overrides ``_load_from_state_dict``: its buffers load the torch way."""
    start = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))
    trained = copy.deepcopy(start)
    trained(torch.randn(2, 1, 5, 5))  # running statistics move
    pool = ModelPool(start)
    got = pool.take(trained.state_dict())
    for a, b in zip(got.state_dict().values(), trained.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    del got
    for buffer, at_start in zip(pool.take().buffers(), start.buffers(), strict=True):
        assert torch.equal(buffer, at_start)
