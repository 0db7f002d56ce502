"""Oort (Lai et al. 2021): Algorithm 1's utilities, cut-off, exploration and pacer, exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgesim.config import load_scenario
from edgesim.config.scheme_settings import OortScheme
from edgesim.runner import run_scenario
from edgesim.schemes.oort import OortSelector, Record, Report
from tests.schemes.fleet import FAST, fleet, participants


def selector(**settings) -> OortSelector:
    spec = OortScheme(scheme="oort", **settings)
    return OortSelector(spec, np.random.default_rng(0))


def test_utility_is_statistical_plus_uncertainty_penalised_beyond_the_preferred_duration():
    oort = selector(preferred_round_s=2.0, penalty=2.0)
    oort.records["slow"] = Record(utility=10.0, duration_s=4.0, last_round=2)
    oort.records["fast"] = Record(utility=10.0, duration_s=1.0, last_round=2)
    bonus = math.sqrt(0.1 * math.log(3) / 2)
    assert oort.utility("slow", 3) == pytest.approx((10 + bonus) * (2 / 4) ** 2)
    assert oort.utility("fast", 3) == pytest.approx(10 + bonus)


def test_exploitation_keeps_only_clients_above_the_cut_off_and_penalises_stragglers():
    """K = 2, no exploration: d has the most statistical utility but is 4× too slow
    (200 / 16 = 12.5); the cut-off 0.95 × 90 admits a and b only, so both are taken."""
    oort = selector(preferred_round_s=1.0, exploration=0.0, exploration_min=0.0)
    for client, utility, duration in [("a", 100, 1), ("b", 90, 1), ("c", 10, 1), ("d", 200, 4)]:
        oort.records[client] = Record(float(utility), float(duration), last_round=1)
    assert oort.select(["a", "b", "c", "d"], 2, 1, speed={}) == ["a", "b"]


def test_exploration_takes_unexplored_clients_and_too_few_are_made_up_by_exploitation():
    oort = selector(exploration=0.5, exploration_min=0.0)
    oort.records["a"] = Record(50.0, 1.0, 1)
    oort.records["b"] = Record(5.0, 1.0, 1)
    speed = {"new-0": 1.0, "new-1": 2.0}
    # K = 4, ε = 0.5: two by utility (a, b: all explored ones), two unexplored (both)
    assert oort.select(["a", "new-0", "b", "new-1"], 4, 2, speed) == ["a", "new-0", "b", "new-1"]
    # K = 3 with one unexplored: the unexplored one, and two exploited for the missing share
    assert oort.select(["a", "b", "new-0"], 3, 2, {"new-0": 1.0}) == ["a", "b", "new-0"]
    # the first round knows nobody: every pick is an exploration
    assert selector().select(["x", "y"], 2, 1, {"x": 1.0, "y": 1.0}) == ["x", "y"]


def test_exploration_prefers_the_faster_unexplored_client():
    """Sampled by speed: one client 1 000× faster than the other is picked nearly always."""
    oort = selector()
    picks = [oort.select(["slow", "fast"], 1, 1, {"slow": 1e-3, "fast": 1.0}) for _ in range(50)]
    assert picks.count(["fast"]) >= 48


def test_feedback_records_utility_decays_epsilon_and_the_pacer_relaxes_t():
    oort = selector(
        preferred_round_s=1.0,
        pacer_window=1,
        pacer_step_s=0.5,
        exploration=0.9,
        exploration_decay=0.5,
        exploration_min=0.2,
    )
    oort.feedback(1, {"a": Report({}, samples=100, loss=0.8, duration_s=2.0)}, cut={})
    assert oort.records["a"] == Record(utility=80.0, duration_s=2.0, last_round=1)
    assert oort.epsilon == pytest.approx(0.45)
    assert oort.preferred_s == 1.0  # one window seen: nothing to compare yet
    oort.feedback(2, {"a": Report({}, samples=100, loss=0.5, duration_s=2.0)}, cut={})
    assert oort.preferred_s == 1.5  # 50 < 80: the utility fell, T grows by Δ
    assert oort.epsilon == pytest.approx(0.225)
    oort.feedback(3, {}, cut={"a": 3.0})  # cut off after 3 s: it needs at least that
    assert oort.records["a"] == Record(utility=50.0, duration_s=3.0, last_round=2)
    assert oort.epsilon == 0.2
    assert oort.preferred_s == 2.0  # 0 < 50


def test_a_client_cut_off_before_it_ever_reported_is_explored_with_no_utility():
    """Else exploration would draw a client that can never meet the deadline every round."""
    oort = selector(preferred_round_s=1.0, exploration=0.5, exploration_min=0.5)
    oort.feedback(1, {"fast": Report({}, samples=10, loss=1.0, duration_s=0.5)}, cut={"lte": 2.0})
    assert oort.records["lte"] == Record(utility=0.0, duration_s=2.0, last_round=1)
    bonus = math.sqrt(0.1 * math.log(2) / 1)
    assert oort.utility("lte", 2) == pytest.approx(bonus * (1.0 / 2.0) ** 2)
    # K = 2, ε = 0.5: one exploited, one explored among the never-seen (only "new" is left)
    assert oort.select(["fast", "lte", "new"], 2, 2, {"new": 1.0}) == ["fast", "new"]


def test_oort_explores_everyone_then_keeps_the_fast_clients(write_scenario):
    """K = 2 of 4, T = 60 ms, ε = 0.5 halving each round. Round 1 explores two clients
    drawn by speed (the seeded draw: pi-0, xavier-0); round 2 exploits one (xavier-0: pi-0's
    157 ms costs it (60/157)² of its utility) and explores one (xavier-1); round 3 exploits
    xavier-0 and explores the last unexplored, pi-1; from round 4 ε < 0.5 and both picks
    are exploited: the Xaviers, the Pis falling below the cut-off."""
    spec = {
        "scheme": "oort",
        "rounds": 6,
        "participants": 2,
        "preferred_round_s": 0.06,
        "exploration": 0.5,
        "exploration_decay": 0.5,
        "exploration_min": 0.0,
    }
    run = run_scenario(load_scenario(write_scenario(fleet(spec))))["runs"][0]
    assert participants(run) == {
        1: ["pi-0", "xavier-0"],
        2: FAST,
        3: ["pi-1", "xavier-0"],
        4: FAST,
        5: FAST,
        6: FAST,
    }
