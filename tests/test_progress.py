"""Progress of a scheme's run: its own units and total, and the primary curve's accuracy."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from edgesim.config import scenario_from_yaml
from edgesim.metrics.recorder import Recorder
from edgesim.metrics.results import DEVICES_MEAN
from edgesim.progress import Tracker
from edgesim.runner import run_scenario


def _tracker(settings, primary="global", horizon_s=None):
    seen = []
    recorder = Recorder()
    tracker = Tracker("x", settings, horizon_s, primary, recorder, seen.append)
    return tracker, recorder, seen


def test_only_the_primary_curve_sets_the_accuracy_shown():
    tracker, recorder, seen = _tracker(SimpleNamespace(rounds=10))
    tracker.observed("global", 1.0, 0.5)
    tracker.observed("small", 1.5, 0.9)  # another model's curve
    tracker.observed("global@animals", 1.6, 0.8)  # a test subset
    recorder.count("rounds", 3)
    tracker.tick(2.0)
    assert (seen[-1].accuracy, seen[-1].done, seen[-1].total, seen[-1].unit) == (
        0.5,
        3,
        10,
        "rounds",
    )
    assert seen[-1].fraction == 0.3


def test_devices_mean_is_the_mean_of_each_devices_latest_accuracy():
    tracker, _, seen = _tracker(SimpleNamespace(epochs=3), primary=DEVICES_MEAN)
    tracker.observed("device:a", 1.0, 0.5)
    tracker.observed("device:b", 2.0, 0.7)
    tracker.observed("device:a", 3.0, 0.9)
    tracker.observed("device:b@personal", 3.5, 0.1)
    tracker.tick(4.0)
    assert seen[-1].accuracy == (0.9 + 0.7) / 2
    assert (seen[-1].total, seen[-1].fraction) == (None, None)  # epochs: no total known


def test_a_horizon_or_time_budget_bounds_the_run_in_simulated_seconds():
    tracker, _, seen = _tracker(SimpleNamespace(epochs=3), horizon_s=100.0)
    tracker.tick(25.0)
    assert (seen[-1].done, seen[-1].total, seen[-1].unit, seen[-1].fraction) == (
        25.0,
        100.0,
        "s",
        0.25,
    )
    tracker, recorder, seen = _tracker(SimpleNamespace(updates=50, time_budget_s=10.0))
    recorder.count("server_updates", 5)
    tracker.tick(8.0)  # 10 % of the updates, 80 % of the budget: it ends at whichever comes first
    assert (seen[-1].done, seen[-1].total, seen[-1].unit, seen[-1].fraction) == (
        5,
        50,
        "updates",
        0.8,
    )
    tracker.tick(9.0, finished=True)
    assert seen[-1].fraction == 1.0 and seen[-1].finished


def test_a_run_reports_its_rounds_and_ends_on_its_final_accuracy(tiny_scenario, tmp_path):
    tiny_scenario["schemes"] = [
        {"scheme": "fedavg", "rounds": 3},
        {"scheme": "local", "epochs": 2},
        {"scheme": "centralized", "epochs": 2},
        {"scheme": "fedasync", "updates": 6},
    ]
    loaded = scenario_from_yaml(tiny_scenario, tmp_path / "tiny.yaml")
    states = []
    results = run_scenario(loaded, on_progress=states.append)
    for run in results["runs"]:
        mine = [s for s in states if s.label == run["label"]]
        assert mine[-1].finished and mine[-1].fraction == 1.0
        # The primary curve's last point (results round to 6 decimals), not any curve's.
        assert mine[-1].accuracy == pytest.approx(run["final_accuracy"], abs=5e-7)
        fractions = [s.fraction for s in mine if s.fraction is not None]
        assert fractions == sorted(fractions)
        times = [s.sim_time_s for s in mine]
        assert times == sorted(times)
        assert times[-1] == pytest.approx(run["sim_time_s"], abs=5e-7)
    by_label = {s.label: s for s in states}
    assert (by_label["fedavg"].done, by_label["fedavg"].total) == (3, 3)
    assert (by_label["fedasync"].done, by_label["fedasync"].total) == (6, 6)
    # Epoch-based schemes plan their steps: without failures the plan is what ran.
    steps = {run["label"]: run["counters"]["train_steps"] for run in results["runs"]}
    for label in ("local", "centralized"):
        assert by_label[label].unit == "steps"
        assert by_label[label].done == by_label[label].total == steps[label]
