"""The runner's data placement extras: a server copy of a device's data, observed test subsets."""

from __future__ import annotations

import pytest
import torch

from edgesim.config import load_scenario
from edgesim.errors import ConfigError, EdgesimError
from edgesim.runner import prepare, run_scenario


def _one_device(tiny_scenario):
    tiny_scenario["devices"] = [
        {"id": "server", "profile": "rtx-2080ti", "role": "server"},
        {"id": "nano", "profile": "jetson-nano"},
    ]
    tiny_scenario["network"] = {
        "links": [{"between": ["nano", "server"], "profile": "ethernet-1g"}]
    }
    tiny_scenario["failures"] = {}
    return tiny_scenario


def test_server_copies_gives_the_server_the_devices_exact_holding(write_scenario, tiny_scenario):
    data = _one_device(tiny_scenario)
    data["data"]["partition"] = {"kind": "iid", "server_copies": "nano"}
    prepared = prepare(load_scenario(write_scenario(data)))
    server, nano = prepared.holdings["server"], prepared.holdings["nano"]
    assert torch.equal(server.train.y, nano.train.y) and torch.equal(server.train.x, nano.train.x)
    assert torch.equal(server.validation.x, nano.validation.x) and len(nano.validation) > 0


def test_server_copies_must_name_a_client(write_scenario, tiny_scenario):
    tiny_scenario["data"]["partition"] = {"kind": "iid", "server_copies": "nano-7"}
    with pytest.raises(ConfigError, match="server_copies: 'nano-7' is not a client"):
        load_scenario(write_scenario(tiny_scenario))


def test_subsets_are_observed_beside_every_curve_and_kept_out_of_the_mean(
    write_scenario, tiny_scenario
):
    data = _one_device(tiny_scenario)
    data["data"]["partition"] = {"kind": "iid", "server_share": 0.5, "personal_class": ["nano", 9]}
    data["observe"] = {"subsets": {"personal": {"labels": [9]}}}
    data["schemes"] = [{"scheme": "handoff", "device_epochs": 2, "server_epochs": 2}]
    (run,) = run_scenario(load_scenario(write_scenario(data)))["runs"]
    curves = {c["model"]: c["points"] for c in run["curves"]}
    assert {"device:nano@personal", "server:nano@personal"} <= set(curves)
    assert [t for t, _ in curves["device:nano@personal"]] == [t for t, _ in curves["device:nano"]]
    # The server never saw class 9, so its copy cannot classify it; the device can.
    assert curves["server:nano@personal"][-1][1] == 0.0
    assert max(a for _, a in curves["device:nano@personal"]) > 0.5
    assert curves["devices-mean"] == curves["device:nano"]


def test_a_subset_without_test_samples_is_a_clear_error(write_scenario, tiny_scenario):
    tiny_scenario["observe"] = {"subsets": {"nothing": {"labels": [42]}}}
    with pytest.raises(EdgesimError, match="observe.subsets.nothing.labels"):
        prepare(load_scenario(write_scenario(tiny_scenario)))
