"""TiFL (Chai et al. 2020): tiering by latency, Algorithm 2's probabilities and credits."""

from __future__ import annotations

import numpy as np
import pytest

from edgesim.config import load_scenario
from edgesim.runner import run_scenario
from edgesim.schemes.tifl import TierSelector, change_probs, form_tiers
from tests.schemes.fleet import FAST, SLOW, fleet, participants


def test_tiers_are_equal_groups_of_the_latency_order_with_the_unmeasured_last():
    latencies = {"a": [0.3, 0.5], "b": [0.1], "c": [0.2], "d": [0.9], "e": [0.15]}
    clients = ["a", "b", "c", "d", "e", "f"]  # f never answered
    assert form_tiers(clients, latencies, 3) == [["b", "e"], ["c", "a"], ["d", "f"]]
    assert form_tiers(clients, latencies, 4) == [["b", "e"], ["c", "a"], ["d"], ["f"]]
    assert form_tiers(["a", "b"], latencies, 5) == [["b"], ["a"]]  # no more tiers than clients


def test_change_probs_gives_the_least_accurate_tier_the_most():
    assert change_probs([0.8, 0.5, 0.9]) == pytest.approx([2 / 6, 3 / 6, 1 / 6])
    assert change_probs([0.7, 0.7]) == pytest.approx([2 / 3, 1 / 3])  # ties: the earlier first


def tiers(credits=None, interval=5) -> TierSelector:
    return TierSelector([["a", "b"], ["c", "d"]], credits, interval, np.random.default_rng(0))


def test_a_tier_without_credits_is_not_chosen_until_every_credit_is_spent():
    selector = tiers(credits=1)
    first = selector.choose(1, [0, 1])
    assert selector.choose(2, [0, 1]) == 1 - first
    assert selector.credits == [0, 0]
    selector.choose(3, [0, 1])  # every credit spent: given again, and one used
    assert sorted(selector.credits) == [0, 1]


def test_only_eligible_tiers_are_chosen_and_their_clients_that_are_up():
    selector = tiers()
    assert [selector.choose(n, [1]) for n in range(1, 4)] == [1, 1, 1]
    assert selector.clients_of(1, ["c", "d", "a"], 5) == ["c", "d"]
    assert selector.clients_of(1, ["a", "d"], 5) == ["d"]
    assert len(selector.clients_of(0, ["a", "b"], 1)) == 1


def test_probabilities_change_every_interval_when_the_last_tier_did_not_improve():
    selector = tiers(interval=1)
    selector.record(1, {"a": 0.6, "b": 0.8, "c": 0.5, "d": 0.5})  # tier 0: 0.7, tier 1: 0.5
    selector.choose(2, [0])  # the first choice: probabilities as they started
    assert selector.probs == [0.5, 0.5]
    selector.record(2, {"a": 0.7, "b": 0.9})  # tier 0 improved, 0.7 → 0.8
    selector.choose(3, [0])
    assert selector.probs == [0.5, 0.5]
    selector.record(3, {"a": 0.7, "b": 0.7})  # tier 0 fell, 0.8 → 0.7: re-rank
    selector.choose(4, [0])
    assert selector.probs == pytest.approx([1 / 3, 2 / 3])  # tier 1 (0.5) is the least accurate
    assert selector.accuracy(1, 4) == 0.5 and selector.accuracy(0, 1) == pytest.approx(0.7)


def test_tifl_profiles_everyone_then_trains_one_tier_a_round(write_scenario):
    """Round 1 times every client: the Xaviers answer in 56 ms, the Pis in 157 ms, so the
    tiers are the Xaviers and the Pis; each later round is one whole tier."""
    spec = {"scheme": "tifl", "rounds": 5, "tiers": 2, "clients_per_round": 2, "interval": 1}
    run = run_scenario(load_scenario(write_scenario(fleet(spec))))["runs"][0]
    # the tiers drawn, seeded: the Xaviers twice, then the Pis twice
    assert participants(run) == {1: sorted(FAST + SLOW), 2: FAST, 3: FAST, 4: SLOW, 5: SLOW}
    assert run["counters"]["tier_rounds"] == 4 and run["counters"]["profiled_clients"] == 4
    validations = [s for s in run["timeline"] if s[1] == "compute" and "validate" in s[4]]
    assert len(validations) == 4 + 2 * 4  # every participant validates what it received
