"""ECAvg (seed 001): the protocol's order, raw-data accounting, before/after local accuracy."""

from __future__ import annotations

import pytest

from edgesim.config import load_scenario
from edgesim.errors import EdgesimError
from edgesim.runner import prepare, run_scenario

EDGES = ("nano-0", "nano-1", "pi")
ECAVG = {"scheme": "ecavg", "pretrain_epochs": 2, "server_epochs": 2, "finetune_epochs": 1}


@pytest.fixture(scope="module")
def ecavg_runs(tmp_path_factory):
    import yaml

    from tests.conftest import TINY

    data = dict(TINY)
    data["schemes"] = [
        {**ECAVG, "label": "own", "server_data": "own"},
        {**ECAVG, "label": "uploaded", "server_data": "uploaded"},
    ]
    path = tmp_path_factory.mktemp("ecavg") / "ecavg.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    loaded = load_scenario(path)
    runs = {run["label"]: run for run in run_scenario(loaded)["runs"]}
    return runs, prepare(loaded)


def test_uploaded_mode_counts_the_edges_training_samples_as_raw_data(ecavg_runs):
    runs, prepared = ecavg_runs
    expected = sum(prepared.holdings[e].train.raw_bytes() for e in EDGES)
    assert runs["uploaded"]["bytes"]["raw_data"] == expected > 0
    assert runs["own"]["bytes"]["raw_data"] == 0


def test_only_weights_move_in_own_mode_one_model_each_way_per_edge(ecavg_runs):
    run = ecavg_runs[0]["own"]
    model_bytes = run["bytes"]["up"] // len(EDGES)
    assert run["bytes"]["up"] == run["bytes"]["down"] == model_bytes * len(EDGES)


def test_before_received_and_after_local_accuracy_recorded_per_edge(ecavg_runs):
    for run in ecavg_runs[0].values():
        counters = run["counters"]
        for edge in EDGES:
            for when in ("before", "received", "after"):
                assert 0.0 <= counters[f"local_accuracy_{when}:{edge}"] <= 1.0
        # The server's model is not any edge's pre-trained one.
        assert any(
            counters[f"local_accuracy_received:{e}"] != counters[f"local_accuracy_before:{e}"]
            for e in EDGES
        )


def test_the_protocol_runs_in_the_papers_order(ecavg_runs):
    run = ecavg_runs[0]["own"]
    timeline = run["timeline"]
    weights_in = max(e[3] for e in timeline if e[1] == "recv" and "round 1 weights" in e[4])
    server_tuning = [e for e in timeline if e[0] == "server" and e[1] == "compute"]
    assert server_tuning and min(e[2] for e in server_tuning) >= weights_in
    model_out = min(e[2] for e in timeline if e[1] == "send" and "round 1 model" in e[4])
    assert model_out >= max(e[3] for e in server_tuning)
    for edge in EDGES:
        fine_tune = [e for e in timeline if e[0] == edge and "fine-tune" in e[4]]
        assert fine_tune and min(e[2] for e in fine_tune) >= model_out
    assert run["devices"]["server"]["wait_s"] > 0  # waiting for the slowest edge
    assert run["primary_curve"] == "devices-mean"


def test_two_rounds_repeat_the_protocol(write_scenario, tiny_scenario):
    tiny_scenario["schemes"] = [{**ECAVG, "rounds": 2, "pretrain_epochs": 1}]
    (run,) = run_scenario(load_scenario(write_scenario(tiny_scenario)))["runs"]
    assert run["counters"]["rounds"] == 2
    assert len([e for e in run["timeline"] if e[1] == "recv" and "weights" in e[4]]) == 6


def test_own_mode_without_server_data_is_a_clear_error(write_scenario, tiny_scenario):
    tiny_scenario["data"]["partition"]["server_share"] = 0.0
    tiny_scenario["schemes"] = [ECAVG]
    with pytest.raises(EdgesimError, match="server_data"):
        load_scenario(write_scenario(tiny_scenario))
