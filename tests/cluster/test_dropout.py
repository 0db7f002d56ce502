"""Dropout models of what-if studies: departures for good, churn, correlated outages."""

from __future__ import annotations

import math

import pytest

from edgesim.cluster.faults import churn, correlated, departures
from edgesim.config import from_model
from edgesim.config.loading import validate
from edgesim.config.scenario import Scenario
from edgesim.errors import ConfigError
from edgesim.runner import outages_of, run_scenario
from edgesim.schemes import SCHEMES

MEMBERS = [f"nano-{i}" for i in range(8)]


def test_departures_pick_the_rounded_share_for_good_within_the_window():
    outages = departures(MEMBERS, 0.3, at_s=2.0, spread_s=1.0, seed=5, index=0)
    assert len(outages) == 2  # round(0.3 × 8) = 2.4 → 2
    assert len({o.target for o in outages}) == 2
    assert all(2.0 <= o.start <= 3.0 and math.isinf(o.end) for o in outages)
    assert outages == departures(MEMBERS, 0.3, at_s=2.0, spread_s=1.0, seed=5, index=0)
    assert outages != departures(MEMBERS, 0.3, at_s=2.0, spread_s=1.0, seed=6, index=0)
    assert departures(MEMBERS, 0.0, 0, 0, 5, 0) == []
    assert {o.target for o in departures(MEMBERS, 1.0, 0, 0, 5, 0)} == set(MEMBERS)


def test_churn_keeps_the_long_run_availability():
    horizon = 20_000.0
    outages = churn(["pi"], availability=0.8, mean_down_s=5.0, horizon_s=horizon, seed=1, index=0)
    down = sum(o.end - o.start for o in outages)
    assert 1 - down / horizon == pytest.approx(0.8, abs=0.02)
    assert all(o.start < horizon for o in outages)


def test_churn_starts_some_targets_absent():
    targets = [f"d{i}" for i in range(200)]
    outages = churn(targets, availability=0.5, mean_down_s=1.0, horizon_s=10.0, seed=2, index=0)
    absent_at_start = {o.target for o in outages if o.start == 0.0}
    assert 70 < len(absent_at_start) < 130  # about half, as in the stationary state


def test_correlated_outages_take_everything_down_at_once():
    outages = correlated(
        {"ap": ["pi-0--ap", "pi-1--ap"]}, mtbf_s=10, mttr_s=2, horizon_s=200, seed=3, index=0
    )
    first = [(o.start, o.end) for o in outages if o.target == "pi-0--ap"]
    second = [(o.start, o.end) for o in outages if o.target == "pi-1--ap"]
    assert first == second and len(first) > 3


def _scenario(tiny, failures):
    data = {**tiny, "failures": failures}
    return from_model(validate(Scenario, data, "tiny"), "tiny", ".")


def test_correlated_outage_of_an_access_point_is_its_links(tiny_scenario):
    failures = {"correlated": [{"targets": ["switch"], "mtbf_s": 1, "mttr_s": 0.1, "horizon_s": 3}]}
    targets = {o.target for o in outages_of(_scenario(tiny_scenario, failures))}
    assert targets == {"server--switch", "nano-0--switch", "nano-1--switch", "pi--switch"}


def test_unknown_dropout_targets_are_named(tiny_scenario):
    failures = {
        "departures": [{"targets": ["nanos"], "fraction": 0.5}],
        "correlated": [{"targets": ["swich"], "mtbf_s": 1, "mttr_s": 1, "horizon_s": 1}],
    }
    with pytest.raises(ConfigError) as error:
        _scenario(tiny_scenario, failures)
    problems = "\n".join(error.value.problems)
    assert "failures.departures[0].targets[0]: unknown device or group 'nanos'" in problems
    assert "(did you mean 'nano'?)" in problems
    assert "failures.correlated[0].targets[0]: unknown network node or group 'swich'" in problems


@pytest.fixture(scope="module")
def everyone_leaves():
    """Every client leaves for good early on, with no deadline anywhere: nothing may hang."""
    from tests.conftest import TINY

    departures_ = [{"targets": ["nano", "pi"], "fraction": 1.0, "at_s": 0.01, "spread_s": 0.05}]
    data = {**TINY, "failures": {"departures": departures_}}
    data["schemes"] = [
        {k: v for k, v in s.items() if not k.endswith("deadline_s")} for s in TINY["schemes"]
    ]
    loaded = from_model(validate(Scenario, data, "tiny"), "tiny", ".")
    left_at = {o.target: o.start for o in outages_of(loaded)}
    results = run_scenario(loaded)
    return left_at, results["runs"]


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_no_scheme_hangs_when_devices_never_return(everyone_leaves, scheme):
    left_at, runs = everyone_leaves
    runs = [run for run in runs if run["scheme"] == scheme]
    assert runs, f"TINY has no {scheme} entry"
    for run in runs:
        end = run["sim_time_s"]
        assert math.isfinite(end)
        for client in ("nano-0", "nano-1", "pi"):
            # down from its departure to the end of the run, never back
            expected = max(end - left_at[client], 0.0)
            assert run["devices"][client]["down_s"] == pytest.approx(expected, abs=1e-6)
