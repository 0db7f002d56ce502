"""FedAsync and FedBuff: nobody waits, staleness is right, FedBuff steps every K updates."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import simpy
import torch
import yaml
from torch import nn

from edgesim.config import load_scenario
from edgesim.config.scheme_settings import FedAsyncScheme, FedBuffScheme
from edgesim.learning.staleness import fedbuff_weight
from edgesim.metrics.recorder import Recorder
from edgesim.runner import run_scenario
from edgesim.schemes.fedasync import FedAsyncServer
from edgesim.schemes.fedbuff import FedBuffServer

CLIENTS = ("nano-0", "nano-1", "pi")


def _run(write_scenario, data, schemes):
    data["schemes"] = schemes
    return run_scenario(load_scenario(write_scenario(data)))["runs"]


@pytest.fixture(scope="module")
def async_runs(tmp_path_factory):
    import yaml

    from tests.conftest import TINY

    data = dict(TINY)
    data["schemes"] = [
        {"scheme": "fedasync", "updates": 12, "alpha": 0.6},
        {"scheme": "fedbuff", "server_steps": 4, "buffer_size": 3},
    ]
    path = tmp_path_factory.mktemp("async") / "async.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return {run["scheme"]: run for run in run_scenario(load_scenario(path))["runs"]}


def _uploads(run):
    """Delivered client updates in arrival order: (arrival time, client, version started from)."""
    arrivals = []
    for device, kind, _start, end, detail in run["timeline"]:
        match = re.match(r"update from v(\d+) (\S+)→server", detail)
        delivered = not re.search(r"\((aborted|abandoned|unfinished)\)$", detail)
        if kind == "recv" and device == "server" and match and delivered:
            arrivals.append((end, match.group(2), int(match.group(1))))
    return sorted(arrivals)


@pytest.mark.parametrize("scheme", ["fedasync", "fedbuff"])
def test_no_client_ever_waits(async_runs, scheme):
    run = async_runs[scheme]
    assert all(run["devices"][c]["wait_s"] == 0 for c in CLIENTS)
    assert not [e for e in run["timeline"] if e[1] == "wait"]
    # Each client pulls again the moment its update is delivered (the Nano that was
    # down pulls again when it is back at 0.15 s).
    for client in CLIENTS:
        pulls = [e[2] for e in run["timeline"] if e[0] == client and e[1] == "recv"]
        pushed = [t for t, c, _ in _uploads(run) if c == client]
        assert set(pushed) - {run["sim_time_s"]} <= set(pulls), client


@pytest.mark.parametrize("scheme", ["fedasync", "fedbuff"])
def test_staleness_counter_matches_the_timeline(async_runs, scheme):
    run = async_runs[scheme]
    uploads = _uploads(run)
    per_step = 1 if scheme == "fedasync" else 3
    # The server's version when the i-th update arrives is the number of steps taken.
    expected = sum(i // per_step - started for i, (_, _, started) in enumerate(uploads))
    assert len(uploads) == 12
    assert run["counters"]["staleness_total"] == expected
    assert expected > 0  # the slow Pi's updates really are stale


def test_fedbuff_steps_exactly_every_k_updates(async_runs):
    run = async_runs["fedbuff"]
    assert run["counters"]["server_updates"] == 4
    assert run["counters"]["client_updates"] == 12
    arrivals = [t for t, _, _ in _uploads(run)]
    steps = [t for t, _ in next(c for c in run["curves"] if c["model"] == "global")["points"]]
    assert steps == [0.0] + arrivals[2::3]
    assert run["sim_time_s"] == arrivals[-1]


def test_a_client_that_goes_down_loses_its_update_and_rejoins(async_runs):
    run = async_runs["fedasync"]
    assert run["counters"]["lost_updates"] >= 1
    assert run["devices"]["nano-1"]["lost_work_s"] > 0
    assert any(t > 0.15 and c == "nano-1" for t, c, _ in _uploads(run))


def test_max_concurrency_and_time_budget(write_scenario, tiny_scenario):
    tiny_scenario["failures"] = {}
    (run,) = _run(
        write_scenario,
        tiny_scenario,
        [{"scheme": "fedasync", "updates": 1000, "max_concurrency": 1, "time_budget_s": 0.3}],
    )
    assert run["sim_time_s"] == pytest.approx(0.3)
    busy = sorted(
        (e[2], e[3])
        for e in run["timeline"]
        if e[0] in CLIENTS and e[1] in ("compute", "send", "recv")
    )
    assert all(b[0] >= a[1] - 1e-9 for a, b in zip(busy, busy[1:], strict=False))
    assert sum(run["devices"][c]["wait_s"] for c in CLIENTS) > 0  # queued for the one slot


def _tiny_rt():
    env = simpy.Environment()
    return SimpleNamespace(env=env, recorder=Recorder(), observe=lambda *a, **k: None)


def _linear(value: float) -> nn.Module:
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(value)
    return model


def _w(state) -> float:
    return float(state["weight"])


def test_fedasync_mixes_with_alpha_times_staleness_weight_on_a_hand_built_timeline():
    rt = _tiny_rt()
    spec = FedAsyncScheme(scheme="fedasync", updates=3, alpha=0.5, staleness="polynomial", a=1.0)
    server = FedAsyncServer(rt, _linear(0.0), spec)
    a_state, a_version = server.snapshot()  # A and B pull version 0
    _, b_version = server.snapshot()
    server.receive("a", {"weight": torch.tensor([[4.0]])}, a_version)  # tau 0: alpha_t = 0.5
    assert _w(server.model.state_dict()) == 2.0 and server.version == 1
    _, c_version = server.snapshot()  # C pulls version 1
    server.receive("b", {"weight": torch.tensor([[8.0]])}, b_version)  # tau 1: 0.5 * 2**-1
    assert _w(server.model.state_dict()) == 0.75 * 2.0 + 0.25 * 8.0
    server.receive("c", {"weight": torch.tensor([[0.0]])}, c_version)  # tau 1 again
    assert _w(server.model.state_dict()) == 0.75 * 3.5
    assert rt.recorder.counters["staleness_total"] == 2
    assert server.done.triggered
    assert _w(a_state) == 0.0  # a snapshot is a copy, not a view of the server's model


def test_fedbuff_buffers_k_deltas_then_steps_on_a_hand_built_timeline():
    rt = _tiny_rt()
    spec = FedBuffScheme(scheme="fedbuff", server_steps=2, buffer_size=2, server_lr=0.5)
    server = FedBuffServer(rt, _linear(1.0), spec)
    start, v0 = server.snapshot()
    delta = server.update_from(start, {"weight": torch.tensor([[3.0]])})
    assert _w(delta) == 2.0
    server.receive("a", delta, v0)
    assert server.version == 0 and _w(server.model.state_dict()) == 1.0  # buffered only
    server.receive("b", {"weight": torch.tensor([[-2.0]])}, v0)
    assert server.version == 1
    assert _w(server.model.state_dict()) == 1.0 + 0.5 * (2.0 - 2.0) / 2
    server.receive("c", {"weight": torch.tensor([[4.0]])}, v0)  # tau 1
    server.receive("d", {"weight": torch.tensor([[0.0]])}, 1)  # tau 0
    expected = 1.0 + 0.5 * (4.0 * fedbuff_weight(1) + 0.0) / 2
    assert _w(server.model.state_dict()) == pytest.approx(expected, rel=1e-6)
    assert server.done.triggered and rt.recorder.counters["staleness_total"] == 1


def test_fedasync_rho_changes_the_updates_not_their_cost(tiny_scenario, tmp_path):
    """Xie et al. 2019, Alg. 1: the proximal term changes what clients send, not what it costs."""
    from edgesim.config import load_scenario
    from edgesim.runner import run_scenario

    def final(rho: float) -> float:
        data = {**tiny_scenario, "failures": {}}
        data["schemes"] = [{"scheme": "fedasync", "updates": 12, "rho": rho, "label": f"r{rho}"}]
        path = tmp_path / f"rho{rho}.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        return run_scenario(load_scenario(path))["runs"][0]

    plain, strong = final(0.0), final(5.0)  # lr · rho < 2, or the term itself diverges
    assert strong["sim_time_s"] == plain["sim_time_s"]  # the same work, charged the same
    assert strong["counters"]["train_steps"] == plain["counters"]["train_steps"]
    assert strong["final_accuracy"] != plain["final_accuracy"]  # the term changes the updates
