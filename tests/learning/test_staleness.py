"""Staleness functions and asynchronous server updates, with exact values."""

from __future__ import annotations

import math

import pytest
import torch

from edgesim.learning.staleness import (
    buffered_step,
    constant,
    fedbuff_weight,
    hinge,
    mix,
    polynomial,
    staleness_weight,
)


def test_constant_ignores_staleness():
    assert [constant(t) for t in (0, 1, 50)] == [1.0, 1.0, 1.0]


def test_polynomial_values():
    assert polynomial(0, 0.5) == 1.0
    assert polynomial(3, 0.5) == 0.5  # 4 ** -0.5
    assert polynomial(1, 1.0) == 0.5
    assert polynomial(7, 1 / 3) == pytest.approx(0.5)  # 8 ** -1/3


def test_hinge_is_flat_up_to_b_then_decays():
    assert [hinge(t, 10.0, 4.0) for t in (0, 3, 4)] == [1.0, 1.0, 1.0]
    assert hinge(5, 10.0, 4.0) == 1 / 11
    assert hinge(6, 0.5, 4.0) == 0.5


def test_fedbuff_weight_values():
    assert fedbuff_weight(0) == 1.0
    assert fedbuff_weight(3) == 0.5
    assert fedbuff_weight(8) == pytest.approx(1 / 3)


def test_staleness_weight_dispatches_and_rejects_unknown_kinds():
    assert staleness_weight("constant", 9) == 1.0
    assert staleness_weight("polynomial", 3, a=0.5) == 0.5
    assert staleness_weight("hinge", 6, a=0.5, b=4) == 0.5
    with pytest.raises(ValueError, match="polynomial"):
        staleness_weight("linear", 1)
    with pytest.raises(ValueError, match="tau"):
        polynomial(-1, 0.5)


def test_mix_is_a_convex_combination_and_keeps_counters():
    old = {"w": torch.tensor([0.0, 4.0]), "n": torch.tensor(7)}
    client = {"w": torch.tensor([8.0, 0.0]), "n": torch.tensor(99)}
    mixed = mix(old, client, 0.25)
    assert torch.equal(mixed["w"], torch.tensor([2.0, 3.0]))
    assert mixed["n"].item() == 7
    assert torch.equal(mix(old, client, 0.0)["w"], old["w"])
    assert torch.equal(mix(old, client, 1.0)["w"], client["w"])
    with pytest.raises(ValueError, match="alpha_t"):
        mix(old, client, 1.5)


def test_buffered_step_applies_the_staleness_weighted_mean_times_server_lr():
    server = {"w": torch.tensor([1.0, 1.0]), "n": torch.tensor(5)}
    deltas = [{"w": torch.tensor([2.0, 0.0])}, {"w": torch.tensor([0.0, 4.0])}]
    # tau = 0 weighs 1, tau = 3 weighs 0.5; mean over K = 2, server_lr = 0.5.
    stepped = buffered_step(server, deltas, [0, 3], server_lr=0.5)
    expected = [1.0 + 0.5 * (2.0 * 1.0) / 2, 1.0 + 0.5 * (4.0 * 0.5) / 2]
    assert stepped["w"].tolist() == expected
    assert stepped["n"].item() == 5
    assert server["w"].tolist() == [1.0, 1.0]  # the input is not modified


def test_buffered_step_with_fresh_updates_and_unit_lr_is_the_plain_mean():
    server = {"w": torch.zeros(3)}
    deltas = [{"w": torch.tensor([1.0, 2.0, 3.0])}, {"w": torch.tensor([3.0, 2.0, 1.0])}]
    assert buffered_step(server, deltas, [0, 0], 1.0)["w"].tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(ValueError):
        buffered_step(server, deltas, [0], 1.0)
    assert math.isclose(fedbuff_weight(1), 1 / math.sqrt(2))
