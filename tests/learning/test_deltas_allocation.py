"""Weight differences (parameter-server updates) and the apportionment of steps."""

import pytest
import torch

from edgesim.learning.allocation import apportion
from edgesim.learning.deltas import apply_delta, delta


def test_delta_then_apply_restores_the_trained_weights():
    base = {"w": torch.tensor([1.0, 2.0]), "n": torch.tensor(3)}
    trained = {"w": torch.tensor([1.5, 1.0]), "n": torch.tensor(4)}
    update = delta(trained, base)
    assert torch.equal(update["w"], torch.tensor([0.5, -1.0]))
    restored = apply_delta(base, update)
    assert torch.equal(restored["w"], trained["w"]) and restored["n"] == 4


def test_a_stale_delta_lands_on_the_current_weights_scaled():
    current = {"w": torch.tensor([10.0, 10.0])}
    update = {"w": torch.tensor([2.0, -4.0])}
    assert apply_delta(current, update, scale=0.5)["w"].tolist() == [11.0, 8.0]
    with pytest.raises(ValueError, match="keys"):
        apply_delta(current, {"v": torch.tensor(1.0)})


def test_apportion_is_proportional_whole_and_exhaustive():
    shares = apportion(10, {"fast": 3.0, "mid": 1.5, "slow": 0.5})
    assert shares == {"fast": 6, "mid": 3, "slow": 1}
    # Largest remainders get the steps left over: quotas 3.33, 3.33, 3.33.
    assert apportion(10, {"a": 1.0, "b": 1.0, "c": 1.0}) == {"a": 4, "b": 3, "c": 3}
    with pytest.raises(ValueError):
        apportion(5, {"a": 0.0})
