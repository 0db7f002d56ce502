"""Every registered scheme on a tiny cluster with a device failing mid-run."""

from __future__ import annotations

import math

import pytest

from edgesim.config import load_scenario
from edgesim.runner import run_scenario
from edgesim.schemes import SCHEMES


def _run(write_scenario, data, schemes=None):
    return run_scenario(load_scenario(write_scenario(data)), schemes=schemes)


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory):
    import yaml

    from tests.conftest import TINY

    path = tmp_path_factory.mktemp("tiny") / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY), encoding="utf-8")
    return run_scenario(load_scenario(path))


def _by_scheme(results):
    return {run["scheme"]: run for run in results["runs"]}


def test_the_tiny_scenario_covers_every_registered_scheme(tiny_results):
    assert set(_by_scheme(tiny_results)) == set(SCHEMES)


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_scheme_finishes_with_monotone_clock_and_documented_shape(tiny_results, scheme):
    run = _by_scheme(tiny_results)[scheme]
    assert run["sim_time_s"] > 0
    assert set(run) >= {
        "scheme",
        "label",
        "sim_time_s",
        "final_accuracy",
        "time_to_accuracy_s",
        "bytes",
        "devices",
        "curves",
        "timeline",
        "counters",
        "primary_curve",
    }
    assert set(run["bytes"]) == {"total", "up", "down", "raw_data"}
    assert run["bytes"]["total"] == run["bytes"]["up"] + run["bytes"]["down"]
    for curve in run["curves"]:
        times = [t for t, _ in curve["points"]]
        assert times == sorted(times), curve["model"]
        assert all(0.0 <= acc <= 1.0 and math.isfinite(acc) for _, acc in curve["points"])
        assert all(t <= run["sim_time_s"] for t in times)
    starts = [event[2] for event in run["timeline"]]
    assert starts == sorted(starts)
    assert all(start <= end <= run["sim_time_s"] for _, _, start, end, _ in run["timeline"])
    primary = next(c for c in run["curves"] if c["model"] == run["primary_curve"])
    assert run["final_accuracy"] == primary["points"][-1][1]
    assert run["final_accuracy"] > 0.3  # it learned something real on real digits


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_failed_device_is_down_for_exactly_its_outage(tiny_results, scheme):
    run = _by_scheme(tiny_results)[scheme]
    devices = run["devices"]
    # Down from 0.05 s to 0.15 s, or to the end of a run that finished earlier.
    assert devices["nano-1"]["down_s"] == pytest.approx(min(0.15, run["sim_time_s"]) - 0.05)
    assert all(d["down_s"] == 0 for name, d in devices.items() if name != "nano-1")


def test_only_centralized_moves_raw_data(tiny_results):
    runs = _by_scheme(tiny_results)
    assert runs["centralized"]["bytes"]["raw_data"] > 0
    # Each client's samples in their source encoding: 64 pixels + 1 label byte each.
    assert runs["centralized"]["bytes"]["raw_data"] % 65 == 0
    for name in set(runs) - {"centralized"}:
        assert runs[name]["bytes"]["raw_data"] == 0, name


def test_local_sends_nothing(tiny_results):
    assert _by_scheme(tiny_results)["local"]["bytes"]["total"] == 0


def test_fedavg_fast_clients_wait_for_the_slow_one(tiny_results):
    devices = _by_scheme(tiny_results)["fedavg"]["devices"]
    # A small MLP is overhead-bound: the Pi (6 ms/step) computes faster than the Nanos
    # (8.5 ms/step), but under LV08 each of its Wi-Fi transfers first pays a latency
    # phase of 13.01 × 3.2 ms: it is the straggler, and the Nanos wait for it.
    assert devices["pi"]["compute_s"] < devices["nano-0"]["compute_s"]
    assert devices["pi"]["wait_s"] == 0  # the straggler never waits
    assert devices["nano-0"]["wait_s"] > 0
    assert devices["server"]["wait_s"] > 0


def test_work_in_progress_on_the_failed_device_is_lost(tiny_results):
    runs = _by_scheme(tiny_results)
    assert runs["local"]["devices"]["nano-1"]["lost_work_s"] > 0
    assert runs["local"]["counters"]["lost_work_s"] > 0


def test_handoff_device_keeps_training_while_the_server_does(tiny_results):
    run = _by_scheme(tiny_results)["handoff"]
    server_training = [e for e in run["timeline"] if e[0] == "server" and e[1] == "compute"]
    device_training = [e for e in run["timeline"] if e[0] == "nano-0" and e[1] == "compute"]
    overlapping = [
        d for d in device_training for s in server_training if d[2] < s[3] and s[2] < d[3]
    ]
    assert server_training and overlapping


def test_same_scenario_gives_identical_results(write_scenario, tiny_scenario):
    first = _run(write_scenario, tiny_scenario, ["fedavg", "handoff"])
    second = _run(write_scenario, tiny_scenario, ["fedavg", "handoff"])
    first.pop("meta")
    second.pop("meta")
    assert first == second


def test_fedavg_round_deadline_drops_stragglers(write_scenario, tiny_scenario):
    tiny_scenario["schemes"] = [{"scheme": "fedavg", "rounds": 2, "round_deadline_s": 0.02}]
    run = _run(write_scenario, tiny_scenario)["runs"][0]
    assert run["counters"]["deadline_misses"] > 0
    # Each round ends exactly at its deadline when someone misses it.
    rounds_end = [e[3] for e in run["timeline"] if e[0] == "server" and e[1] == "wait"]
    assert rounds_end[0] == pytest.approx(0.02)
    # A Nano's 11 local steps take ≈ 94 ms: abandoned mid-training. The Pi's download
    # is still in its LV08 latency phase (≈ 42 ms) at the deadline: abandoned on the way.
    assert run["devices"]["nano-0"]["lost_work_s"] > 0
    assert run["devices"]["pi"]["compute_s"] == 0
    assert run["counters"]["aborted_transfers"] >= 1


def test_horizon_stops_every_scheme(write_scenario, tiny_scenario):
    tiny_scenario["horizon_s"] = 0.05
    for run in _run(write_scenario, tiny_scenario)["runs"]:
        assert run["sim_time_s"] == pytest.approx(0.05)


def test_handoff_without_server_data_is_a_clear_error(write_scenario, tiny_scenario):
    from edgesim.errors import EdgesimError

    tiny_scenario["data"]["partition"]["server_share"] = 0.0
    with pytest.raises(EdgesimError, match="server_share"):
        _run(write_scenario, tiny_scenario, ["handoff"])
