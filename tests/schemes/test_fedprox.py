"""FedProx and FedAvg with partial updates: the work a straggler plans, and what is averaged."""

from __future__ import annotations

import pytest

from edgesim.config import load_scenario
from edgesim.runner import run_scenario
from edgesim.schemes.partial import steps_that_fit
from tests.schemes.fleet import FAST, SLOW, fleet, participants


@pytest.mark.parametrize(
    ("step_s", "now", "steps"),
    [
        (0.125, 0.125, 6),  # a 1 s deadline from 0: 1 − 0.125 − 0.125 (upload as download)
        (0.0625, 0.25, 8),  # 0.5 s left
        (0.125, 0.4375, 1),  # 0.125 s left: one step
        (0.125, 0.6, 1),  # past hope: still one step (γ-inexact, not nothing)
        (0.001, 0.125, 11),  # 750 would fit, but the full work is 11
    ],
)
def test_the_steps_that_fit_leave_the_upload_as_long_as_the_download(step_s, now, steps):
    assert steps_that_fit(step_s, 11, deadline_s=1.0, started=0.0, now=now) == steps


def _runs(write_scenario, *schemes):
    results = run_scenario(load_scenario(write_scenario(fleet(*schemes))))
    return [run for run in results["runs"]]


def _steps(run, client):
    return [s[4] for s in run["timeline"] if s[0] == client and s[1] == "compute"]


def test_a_straggler_sends_the_partial_work_that_fits_the_deadline(write_scenario):
    """With 110 ms the Xaviers (44 ms of training) finish their 11 steps; a Pi has 110 −
    45 (download) − 45 (upload) = 20 ms, 3 of its 6 ms steps, and is not dropped."""
    fedprox, partial = _runs(
        write_scenario,
        {"scheme": "fedprox", "rounds": 2, "mu": 0.1, "round_deadline_s": 0.11},
        {"scheme": "fedavg-partial", "rounds": 2, "round_deadline_s": 0.11},
    )
    for run in (fedprox, partial):
        assert participants(run) == {1: sorted(FAST + SLOW), 2: sorted(FAST + SLOW)}
        assert _steps(run, "xavier-0") == [f"round {n}: 11 of 11 local steps" for n in (1, 2)]
        assert _steps(run, "pi-0") == [f"round {n}: 3 of 11 local steps" for n in (1, 2)]
        assert run["counters"]["partial_updates"] == 4
        assert run["counters"]["client_updates"] == 8
        assert "deadline_misses" not in run["counters"]


def test_without_a_deadline_both_are_fedavg(write_scenario):
    """Everyone does the full work: mu = 0 FedProx and FedAvg-partial average as FedAvg does."""
    fedavg, fedprox, partial = _runs(
        write_scenario,
        {"scheme": "fedavg", "rounds": 2},
        {"scheme": "fedprox", "rounds": 2, "mu": 0.0},
        {"scheme": "fedavg-partial", "rounds": 2},
    )
    for run in (fedprox, partial):
        assert run["curves"] == fedavg["curves"]
        assert run["sim_time_s"] == fedavg["sim_time_s"]
        assert "partial_updates" not in run["counters"]


def test_partial_updates_count_by_work_done_and_fedprox_by_samples(write_scenario):
    """The same partial work, averaged two ways: the models differ."""
    fedprox, partial = _runs(
        write_scenario,
        {"scheme": "fedprox", "rounds": 2, "mu": 0.0, "round_deadline_s": 0.11},
        {"scheme": "fedavg-partial", "rounds": 2, "round_deadline_s": 0.11},
    )
    assert fedprox["timeline"] == partial["timeline"]
    assert fedprox["curves"] != partial["curves"]
