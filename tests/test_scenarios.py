"""Every scenario shipped in scenarios/ validates and runs, on a shortened horizon."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edgesim.config import from_model, load_scenario
from edgesim.learning.datasets import FASHION_MNIST_DIR
from edgesim.runner import check_names, run_scenario
from edgesim.sweep import load_sweep

SCENARIOS = sorted(Path(__file__).resolve().parents[1].glob("scenarios/**/*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_validates(path):
    if "base" in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}):
        load_sweep(path)  # a sweep file: checks every grid point as a scenario
    else:
        check_names(load_scenario(path))


@pytest.fixture(scope="module")
def heterogeneous():
    """The README's scenario, stopped at 1.5 simulated seconds (after nano-1's outage)."""
    loaded = load_scenario(Path(__file__).resolve().parents[1] / "scenarios/heterogeneous.yaml")
    shortened = loaded.scenario.model_copy(update={"horizon_s": 1.5})
    results = run_scenario(from_model(shortened, loaded.source, loaded.base_dir))
    return {run["scheme"]: run for run in results["runs"]}


def test_heterogeneous_fast_devices_wait_under_fedavg(heterogeneous):
    devices = heterogeneous["fedavg"]["devices"]
    # The Xavier NX and the server are faster than the Raspberry Pis on Wi-Fi.
    assert devices["xavier"]["wait_s"] > 0
    assert devices["server"]["wait_s"] > 0


def test_heterogeneous_raw_data_leaves_devices_only_when_centralized(heterogeneous):
    for scheme, run in heterogeneous.items():
        assert (run["bytes"]["raw_data"] > 0) == (scheme == "centralized"), scheme


def test_heterogeneous_dropped_device_is_down_and_runs_complete(heterogeneous):
    for scheme, run in heterogeneous.items():
        down = run["devices"]["nano-1"]["down_s"]
        assert down == pytest.approx(min(1.3, run["sim_time_s"]) - 0.3), scheme
        assert run["final_accuracy"] is not None


@pytest.mark.slow
def test_fashion_mnist_runs_and_federated_beats_local():
    """scenarios/fashion-mnist.yaml for its first simulated minute (a minute and a half of CPU).

    Its full run is documented in docs/fashion-mnist.md; this checks it still runs
    every scheme, and that the non-IID split makes lone devices worse than FedAvg.
    """
    loaded = load_scenario(Path(__file__).resolve().parents[1] / "scenarios/fashion-mnist.yaml")
    shortened = loaded.scenario.model_copy(update={"horizon_s": 60.0})
    results = run_scenario(from_model(shortened, loaded.source, loaded.base_dir))
    runs = {run["scheme"]: run for run in results["runs"]}
    assert set(runs) == {"local", "centralized", "fedavg", "fedasync", "fedbuff"}
    for scheme, run in runs.items():
        assert (run["bytes"]["raw_data"] > 0) == (scheme == "centralized"), scheme
        assert 0.1 < run["final_accuracy"] <= 1 and run["sim_time_s"] <= 60.0, scheme
    assert runs["fedavg"]["final_accuracy"] > runs["local"]["final_accuracy"] + 0.1


def test_schedulers_all_run_to_the_common_horizon_and_selection_shows():
    """scenarios/schedulers.yaml for its first 8 simulated seconds (digits without Fashion-MNIST).

    Its full run is in docs/schedulers.md. Every scheduler must stop at the same
    simulated time; FedCS never selects a phone (its LTE round trip outlasts the 0.3 s
    resource request), so its rounds are shorter and it completes more of them than
    FedAvg's random selection; the asynchronous schemes apply more updates than FedAvg
    in the same time, since none of them waits for a straggler.
    """
    loaded = load_scenario(Path(__file__).resolve().parents[1] / "scenarios/schedulers.yaml")
    update: dict = {"horizon_s": 8.0}
    if not FASHION_MNIST_DIR.is_dir():
        update["data"] = loaded.scenario.data.model_copy(update={"dataset": "digits"})
    shortened = loaded.scenario.model_copy(update=update)
    results = run_scenario(from_model(shortened, loaded.source, loaded.base_dir))
    runs = {run["label"]: run for run in results["runs"]}
    assert set(runs) == {
        "fedavg",
        "fedavg-wait",
        "fedcs",
        "oort",
        "tifl",
        "fedprox",
        "fedasync",
        "fedbuff",
    }
    for label, run in runs.items():
        assert run["sim_time_s"] == 8.0 and run["stalled"] is None, label
        assert 0.1 < run["final_accuracy"] <= 1, label
    rounds = {label: run["counters"].get("rounds", 0) for label, run in runs.items()}
    assert rounds["fedcs"] > rounds["fedavg"]
    fedcs_phones = [
        device
        for device, kind, *_ in runs["fedcs"]["timeline"]
        if kind == "compute" and device.startswith("phone-")
    ]
    assert fedcs_phones == []
    updates = {label: run["counters"].get("client_updates", 0) for label, run in runs.items()}
    assert min(updates["fedasync"], updates["fedbuff"]) > updates["fedavg"]
