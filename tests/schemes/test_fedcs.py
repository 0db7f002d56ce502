"""FedCS (Nishio & Yonetani 2019): the greedy deadline-fitting selection, alone and in a run."""

from __future__ import annotations

import pytest

from edgesim.config import load_scenario
from edgesim.runner import run_scenario
from edgesim.schemes.fedcs import RoundEstimate, greedy_selection
from tests.schemes.fleet import FAST, SLOW, fleet, participants

ESTIMATES = {
    "a": RoundEstimate(download_s=1, update_s=2, upload_s=1),
    "b": RoundEstimate(download_s=1, update_s=6, upload_s=2),
    "c": RoundEstimate(download_s=3, update_s=1, upload_s=1),
    "d": RoundEstimate(download_s=1, update_s=9, upload_s=3),
}


@pytest.mark.parametrize(
    ("budget", "chosen"),
    [
        # a adds 1+1+2 = 4 (T_d 1, Θ 3); then c adds 2+1+0 = 3 (T_d 3, Θ 4: 7); then b would
        # end at T_d 3 + Θ 4+2+2 = 11, d at 3 + 4+3+5 = 15
        (10, ["a", "c"]),
        (12, ["a", "c", "b"]),  # b fits now (11); d would end at 3 + 8+3+1 = 15
        (16, ["a", "c", "b", "d"]),
        (4, []),  # a alone ends at 4: not before the deadline
        (4.5, ["a"]),
    ],
)
def test_greedy_selection_takes_the_client_that_adds_least_while_the_round_fits(budget, chosen):
    assert greedy_selection(ESTIMATES, budget) == chosen


def test_ties_go_to_the_earlier_candidate():
    same = RoundEstimate(1, 1, 1)
    assert greedy_selection({"y": same, "x": same}, 100) == ["y", "x"]


def _run(write_scenario, **settings):
    spec = {"scheme": "fedcs", "rounds": 2, **settings}
    return run_scenario(load_scenario(write_scenario(fleet(spec))))["runs"][0]


def test_a_tight_deadline_selects_exactly_the_fast_clients(write_scenario):
    """The Pis' replies arrive at 83 ms and leave 67 ms of a 150 ms round: by their profiles
    the two Xaviers fit (56 ms, then 6 ms more), a Pi (157 ms) does not."""
    run = _run(write_scenario, round_deadline_s=0.15)
    assert participants(run) == {1: FAST, 2: FAST}
    assert run["counters"]["selected_clients"] == 4
    assert run["counters"]["client_updates"] == 4
    assert "deadline_misses" not in run["counters"]
    requests = [s for s in run["timeline"] if s[0] == "server" and "resource request" in s[4]]
    assert len(requests) == 2 * 4 + 2  # a request to each of 4 clients, 2 rounds; 2 waits


def test_a_loose_deadline_selects_every_client(write_scenario):
    run = _run(write_scenario, round_deadline_s=1.0)
    assert participants(run) == {1: sorted(FAST + SLOW), 2: sorted(FAST + SLOW)}


def test_a_deadline_nobody_fits_selects_nobody_and_keeps_the_model(write_scenario):
    run = _run(write_scenario, round_deadline_s=0.1)
    assert participants(run) == {}
    assert run["counters"]["rounds_without_clients"] == 2
    assert run["counters"]["rounds"] == 2


def test_the_estimate_knows_no_background_load_so_the_schedule_can_fail(write_scenario):
    """A control loop takes 80 % of xavier-0: its profile still says 56 ms, so it is
    selected, trains five times slower and is cut off by the deadline every round."""
    data = fleet({"scheme": "fedcs", "rounds": 2, "round_deadline_s": 0.15})
    data["background"] = [
        {
            "device": "xavier-0",
            "period_s": 0.01,
            "compute_s": 0.008,
            "deadline_s": 0.01,
            "policy": "priority",
        }
    ]
    run = run_scenario(load_scenario(write_scenario(data)))["runs"][0]
    assert participants(run) == {1: FAST, 2: FAST}
    assert run["counters"]["deadline_misses"] == 2
    assert run["counters"]["client_updates"] == 2
