"""distill-fl, async-distill-fl and gear (seeds 003/004) on the tiny cluster."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from edgesim import runner
from edgesim.cluster.costs import eval_time, step_time
from edgesim.config import load_scenario
from edgesim.config.profiles import builtin_device_profiles
from edgesim.errors import EdgesimError
from edgesim.learning.flops import workload_of
from edgesim.learning.models import build_model
from edgesim.learning.weights import state_nbytes


def _run(write_scenario, data, *schemes):
    data["schemes"] = list(schemes)
    return {r["label"]: r for r in runner.run_scenario(load_scenario(write_scenario(data)))["runs"]}


@pytest.fixture
def steady(tiny_scenario):
    """The tiny scenario without its failure, so bytes and times are exact."""
    tiny_scenario["failures"] = {}
    return tiny_scenario


def _spans(run, device, kind, text=""):
    return [e for e in run["timeline"] if e[0] == device and e[1] == kind and text in e[4]]


def test_distill_fl_charges_forward_distillation_only_when_asked(write_scenario, steady):
    runs = _run(
        write_scenario,
        steady,
        {"scheme": "distill-fl", "label": "with", "rounds": 2},
        {"scheme": "distill-fl", "label": "without", "rounds": 2, "forward_distillation": False},
    )
    assert len(_spans(runs["with"], "server", "compute", "forward distillation")) == 2
    assert _spans(runs["without"], "server", "compute", "forward distillation") == []
    assert len(_spans(runs["without"], "server", "compute", "reverse distillation")) == 2
    # One distillation step = a student train step + the teacher's forward pass on the same
    # batch; the first job starts the server's first epoch, whose last batch is short.
    shape, batch = (1, 8, 8), 32
    small, large = workload_of("cnn-small", shape, 10, batch), workload_of("mlp", shape, 10, batch)
    server = builtin_device_profiles()["rtx-2080ti"]
    steps = int(runs["with"]["counters"]["distill_steps"] / 4)
    loaded = load_scenario(write_scenario(steady))
    samples = len(runner.prepare(loaded).holdings["server"].train)
    sizes = [min(batch, samples - i * batch) for i in range(steps)]
    assert steps == -(-samples // batch) and sizes[-1] < batch  # the case being tested

    def step_cost(size):
        flops, nbytes = small.train_step_at(size)
        return step_time(server, flops, nbytes) + eval_time(
            server,
            size,
            size,
            large.eval_sample_flops,
            large.eval_sample_bytes,
            large.parameter_bytes,
        )

    forward = sum(step_cost(size) for size in sizes)
    first = _spans(runs["with"], "server", "compute", "round 1: forward distillation")[0]
    assert first[2] == 0.0
    assert first[3] == pytest.approx(round(forward, 6))
    # Synchronous: the clients wait while the server distils, the server while they train.
    for run in runs.values():
        assert _spans(run, "nano-0", "wait", "waiting for the server's distillation")
        assert _spans(run, "server", "wait", "clients training")
    assert runs["with"]["sim_time_s"] > runs["without"]["sim_time_s"]
    assert {c["model"] for c in runs["with"]["curves"]} == {"global", "small"}


def test_async_clients_never_wait_for_distillation(write_scenario, steady):
    runs = _run(
        write_scenario,
        steady,
        {"scheme": "async-distill-fl", "label": "per-round", "rounds": 3, "distill_epochs": 3},
        {"scheme": "async-distill-fl", "label": "continuous", "rounds": 3, "mode": "continuous"},
    )
    for run in runs.values():
        for client in ("nano-0", "nano-1", "pi"):
            waits = _spans(run, client, "wait")
            assert all("waiting for others" in w[4] for w in waits), waits
        # The distillation server works while the clients train.
        distilling = _spans(run, "server", "compute", "small model")
        training = _spans(run, "nano-0", "compute", "local steps")
        assert any(d[2] < t[3] and t[2] < d[3] for d in distilling for t in training)
    per_round = _spans(runs["per-round"], "server", "compute", "small model")
    assert [s[4].split("'")[0] for s in per_round] == ["round 1", "round 2", "round 3"]
    # Continuous keeps distilling during the rounds: more steps than one job per round.
    (final,) = _spans(runs["continuous"], "server", "compute", "(final)")
    job_steps = int(final[4].split(", ")[-1].split()[0])
    assert runs["continuous"]["counters"]["distill_steps"] > 3 * job_steps
    # A sync round ends only after the reverse distillation; async rounds do not wait for it.
    sync = _run(write_scenario, steady, {"scheme": "distill-fl", "rounds": 3, "distill_epochs": 3})
    last_upload = max(e[3] for e in _spans(runs["per-round"], "server", "recv"))
    assert last_upload < max(e[3] for e in _spans(sync["distill-fl"], "server", "recv"))


def test_async_remote_distillation_server_gets_real_bytes_and_leaves_the_clients(
    write_scenario, steady
):
    run = _run(
        write_scenario,
        steady,
        {"scheme": "async-distill-fl", "rounds": 2, "distillation_server": "pi"},
    )["async-distill-fl"]
    assert _spans(run, "pi", "compute", "local steps") == []
    assert len(_spans(run, "pi", "compute", "small model")) == 2
    small = state_nbytes(build_model("cnn-small", (1, 8, 8), 10, seed=0).state_dict())
    hand_overs = _spans(run, "pi", "recv", "to the distillation server")
    assert len(hand_overs) == 2
    # Two clients, two rounds, down and up, plus two hand-overs: all small models.
    assert run["bytes"]["total"] == (2 * 2 * 2 + 2) * small
    with pytest.raises(EdgesimError, match="distillation_server: unknown device 'pie'"):
        _run(write_scenario, steady, {"scheme": "async-distill-fl", "distillation_server": "pie"})


def test_gear_bytes_per_round_jump_exactly_at_the_switch(write_scenario, steady):
    steady["training"]["small_model"] = "mlp"
    steady["training"]["model"] = "cnn-small"
    run = _run(write_scenario, steady, {"scheme": "gear", "rounds": 4, "switch": {"round": 2}})[
        "gear"
    ]
    small = state_nbytes(build_model("mlp", (1, 8, 8), 10, seed=0).state_dict())
    large = state_nbytes(build_model("cnn-small", (1, 8, 8), 10, seed=0).state_dict())
    counters = run["counters"]
    assert counters["switch_round"] == 2
    assert counters["small_rounds"] == counters["large_rounds"] == 2
    assert counters["small_round_bytes"] == 2 * 6 * small  # 3 clients, down and up
    assert counters["large_round_bytes"] == 2 * 6 * large
    sends = [e for e in run["timeline"] if e[0] == "server" and e[1] == "send"]
    assert {e[4].split(" server")[0] for e in sends} == {
        "round 1 small model",
        "round 2 small model",
        "round 3 model",
        "round 4 model",
    }
    # No distillation after the switch.
    distilled = _spans(run, "server", "compute", "distillation")
    assert max(e[3] for e in distilled) <= counters["switch_time_s"]


def test_gear_auto_switch_uses_server_validation_never_the_test_set(
    write_scenario, steady, monkeypatch
):
    scheme = {"scheme": "gear", "rounds": 6, "auto_window": 1, "auto_min_gain": 0.05}
    first = _run(write_scenario, steady, dict(scheme))["gear"]
    assert first["counters"]["switch_round"] < 6
    checks = _spans(first, "server", "compute", "switch signal")
    assert len(checks) == first["counters"]["switch_round"]  # charged to the server

    prepare = runner.prepare

    def scrambled_test_set(loaded, splits=None):
        prepared = prepare(loaded, splits)
        test = prepared.test
        other = dataclasses.replace(test, y=torch.roll(test.y, 7), x=torch.flip(test.x, [0]))
        return dataclasses.replace(prepared, test=other)

    monkeypatch.setattr(runner, "prepare", scrambled_test_set)
    second = _run(write_scenario, steady, dict(scheme))["gear"]
    assert second["counters"]["switch_round"] == first["counters"]["switch_round"]
    assert second["curves"] != first["curves"]  # the test set did change what is observed


def test_distillation_schemes_need_server_data(write_scenario, steady):
    steady["data"]["partition"]["server_share"] = 0.0
    for name in ("distill-fl", "async-distill-fl", "gear"):
        with pytest.raises(EdgesimError, match="server_share"):
            _run(write_scenario, steady, {"scheme": name})


def test_gear_switch_round_beyond_rounds_is_a_config_error(write_scenario, steady):
    with pytest.raises(EdgesimError, match="switch.round"):
        _run(write_scenario, steady, {"scheme": "gear", "rounds": 3, "switch": {"round": 4}})
