"""Turning a recorder into the results entry: per-device time, energy, curves, targets."""

from __future__ import annotations

import pytest

from edgesim.config.profiles import builtin_device_profiles
from edgesim.metrics.recorder import Recorder
from edgesim.metrics.results import (
    DEVICES_MEAN,
    device_summary,
    devices_mean_curve,
    run_result,
    time_to_accuracy,
)


@pytest.fixture
def nano():
    return builtin_device_profiles()["jetson-nano"]


STATES = ("compute_s", "send_s", "recv_s", "wait_s", "idle_s", "down_s")


def test_overlapping_spans_of_one_kind_count_once_and_compute_outranks_sending(nano):
    recorder = Recorder()
    recorder.span("d", "send", 0.0, 2.0)
    recorder.span("d", "send", 1.0, 3.0)
    recorder.span("d", "compute", 2.5, 4.0)
    summary = device_summary(recorder, {"d": nano}, end=10.0)["d"]
    assert summary["send_s"] == 2.5  # [2.5, 3] is computing
    assert summary["compute_s"] == 1.5
    assert summary["idle_s"] == 6.0  # busy [0, 4]


def test_states_partition_the_run_by_precedence(nano):
    recorder = Recorder()
    recorder.span("d", "wait", 0.0, 10.0)  # blocked on others the whole run ...
    recorder.span("d", "compute", 1.0, 3.0)  # ... but a second role computes meanwhile
    recorder.span("d", "lost", 2.0, 4.0)
    recorder.span("d", "background", 3.5, 4.5)
    recorder.span("d", "recv", 4.0, 6.0)
    recorder.span("d", "send", 5.0, 7.0)
    recorder.span("d", "down", 6.5, 8.0)
    summary = device_summary(recorder, {"d": nano}, end=12.0)["d"]
    assert {k: summary[k] for k in STATES} == {
        "compute_s": 3.5,  # [1, 4.5]: training, lost work and the background job
        "send_s": 1.5,  # [5, 6.5]
        "recv_s": 0.5,  # [4.5, 5]
        "wait_s": 3.0,  # [0, 1] and [8, 10]
        "idle_s": 2.0,  # [10, 12]
        "down_s": 1.5,  # [6.5, 8]
    }
    assert sum(summary[k] for k in STATES) == 12.0
    assert summary["lost_work_s"] == 2.0
    assert summary["background_s"] == 1.0


def test_energy_counts_background_jobs_as_computing(nano):
    recorder = Recorder()
    recorder.span("d", "background", 0.0, 2.0)
    summary = device_summary(recorder, {"d": nano}, end=4.0)["d"]
    power = nano.power_w
    assert summary["energy_j"] == pytest.approx(power.idle * 4.0 + (power.compute - power.idle) * 2)


def test_energy_charges_idle_power_plus_extra_for_activity(nano):
    recorder = Recorder()
    recorder.span("d", "compute", 0.0, 2.0)
    recorder.span("d", "send", 2.0, 3.0)
    recorder.span("d", "down", 5.0, 10.0)
    summary = device_summary(recorder, {"d": nano}, end=10.0)["d"]
    power = nano.power_w
    expected = power.idle * 5.0 + (power.compute - power.idle) * 2.0 + (power.transmit - power.idle)
    assert summary["energy_j"] == pytest.approx(expected)
    assert summary["down_s"] == 5.0


def test_devices_mean_is_a_step_function_over_devices_seen_so_far():
    recorder = Recorder()
    recorder.accuracy("device:a", 0.0, 0.2)
    recorder.accuracy("device:b", 1.0, 0.4)
    recorder.accuracy("device:a", 2.0, 0.6)
    curve = devices_mean_curve(recorder)
    assert [t for t, _ in curve] == [0.0, 1.0, 2.0]
    assert [a for _, a in curve] == pytest.approx([0.2, 0.3, 0.5])


def test_time_to_accuracy_is_first_crossing_or_none():
    points = [(0.0, 0.1), (1.5, 0.85), (2.0, 0.8), (3.0, 0.95)]
    assert time_to_accuracy(points, 0.8) == 1.5
    assert time_to_accuracy(points, 0.9) == 3.0
    assert time_to_accuracy(points, 0.99) is None


def test_observations_closer_than_the_interval_are_skipped_unless_forced():
    recorder = Recorder(min_observe_interval_s=1.0)
    assert recorder.accuracy("global", 0.0, 0.1)
    assert not recorder.accuracy("global", 0.5, 0.2)
    assert recorder.accuracy("global", 0.7, 0.3, force=True)
    assert recorder.accuracy("global", 1.8, 0.4)
    assert recorder.curves["global"] == [(0.0, 0.1), (0.7, 0.3), (1.8, 0.4)]


def test_run_result_judges_targets_on_the_primary_curve(nano):
    recorder = Recorder()
    recorder.accuracy("device:a", 0.0, 0.5)
    recorder.accuracy("device:b", 1.0, 0.9)
    recorder.transfer(["l1", "l2"], 100, upward=True, raw_data=False)
    recorder.transfer(["l1"], 40, upward=False, raw_data=True)
    result = run_result(
        scheme="local",
        label="x",
        recorder=recorder,
        profiles={"a": nano, "b": nano},
        end=2.0,
        targets=[0.6, 0.95],
        primary_curve=DEVICES_MEAN,
    )
    assert result["time_to_accuracy_s"] == {"0.6": 1.0, "0.95": None}
    assert result["final_accuracy"] == 0.7
    assert result["bytes"] == {"total": 140, "up": 100, "down": 40, "raw_data": 40}
    assert result["bytes_per_link"] == {"l1": 140, "l2": 100}


def test_bytes_curve_is_cumulative_bytes_at_each_transfer_end(nano):
    recorder = Recorder()
    recorder.transfer(["l1"], 100, upward=True, raw_data=False, at=0.5)
    recorder.transfer(["l1"], 40, upward=False, raw_data=False, at=0.5)
    recorder.transfer(["l1"], 0, upward=True, raw_data=False, at=0.7)  # aborted at once
    recorder.transfer(["l1"], 60, upward=True, raw_data=False, at=1.25)
    result = run_result(
        scheme="fedavg",
        label="x",
        recorder=recorder,
        profiles={"a": nano},
        end=2.0,
        targets=[],
        primary_curve="global",
    )
    assert result["bytes_curve"] == [[0.5, 140], [1.25, 200]]
