"""Intervals over seeds stay within what is possible, and say how they were made."""

from __future__ import annotations

import numpy as np
import pytest

from edgesim.report import aggregate
from edgesim.report.summary import spread_text


def test_three_seeds_give_lowest_to_highest_never_a_negative_time():
    # Student-t on these gives "0.543 s [-0.457 s, 1.54 s]"
    spread = aggregate.interval([0.043, 0.543, 1.043], aggregate.NON_NEGATIVE)
    assert (spread.mean, spread.low, spread.high) == pytest.approx((0.543, 0.043, 1.043))
    assert spread.method == "lowest to highest value"


def test_ten_seeds_give_a_bootstrap_interval_inside_the_data_and_the_bounds():
    values = [0.95, 0.97, 0.99, 1.0, 1.0, 0.98, 0.96, 1.0, 0.99, 0.97]
    spread = aggregate.interval(values, aggregate.FRACTION)
    assert spread.method.startswith("95 % bootstrap")
    assert min(values) <= spread.low <= spread.mean <= spread.high <= 1.0
    assert spread.high - spread.low < max(values) - min(values)
    assert aggregate.interval(values, aggregate.FRACTION) == spread  # seeded: byte-stable


def test_an_interval_is_clipped_to_the_bounds():
    spread = aggregate.interval(list(np.linspace(-0.2, 0.4, 12)), aggregate.NON_NEGATIVE)
    assert spread.low == 0.0 and spread.mean == pytest.approx(0.1)


def test_seeds_that_never_reached_a_target_are_counted_not_dropped():
    spread = aggregate.interval([1.5, 2.5], aggregate.NON_NEGATIVE, of=3)
    assert spread_text(spread, "s", can_miss=True) == "2 s [1.5 s, 2.5 s] (2 of 3 reached)"
    nobody = aggregate.interval([], aggregate.NON_NEGATIVE, of=3)
    assert spread_text(nobody, "s", can_miss=True) == "— (0 of 3 reached)"


def test_a_multi_seed_report_has_one_row_per_scheme(results):
    runs = []
    for seed in (1, 2, 3):
        for run in results["runs"]:
            origin = {"scenario": "hetero", "seed": seed, "label": run["label"]}
            runs.append({**run, "origin": origin})
    assert aggregate.seeds_of_one_scenario(results["scenario"], runs)
    summaries = aggregate.by_scheme(results["scenario"], runs)
    assert [(s.name, s.runs) for s in summaries] == [("FedAvg & friends", 3), ("Local only", 3)]


def test_a_schemes_mean_candidate_reached_only_the_targets_every_seed_reached():
    spreads = {
        "final_accuracy": aggregate.interval([0.86, 0.87], aggregate.FRACTION),
        "time_to_0.8": aggregate.interval([8.0, 10.0], aggregate.NON_NEGATIVE, of=2),
        "time_to_0.85": aggregate.interval([47.0], aggregate.NON_NEGATIVE, of=2),
    }
    candidate = aggregate.SchemeSummary("fedcs", 2, 0, spreads).candidate()
    assert candidate.reached == ((0.8, 9.0),)
