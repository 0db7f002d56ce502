"""Shared fixtures: a tiny scenario that every scheme can run in about a second."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

TINY: dict[str, Any] = {
    "name": "tiny",
    "seed": 3,
    "devices": [
        {"id": "server", "profile": "rtx-2080ti", "role": "server"},
        {"id": "nano", "profile": "jetson-nano", "count": 2},
        {"id": "pi", "profile": "raspberry-pi-4"},
    ],
    "network": {
        "nodes": ["switch"],
        "links": [
            {"between": ["server", "switch"], "profile": "ethernet-1g"},
            {"between": ["nano", "switch"], "profile": "ethernet-1g"},
            {"between": ["pi", "switch"], "profile": "wifi-5"},
        ],
    },
    "failures": {"scheduled": [{"target": "nano-1", "at_s": 0.05, "duration_s": 0.1}]},
    "data": {"dataset": "digits", "partition": {"kind": "iid", "server_share": 0.2}},
    "training": {"model": "mlp", "batch_size": 32, "lr": 0.1},
    "targets": [0.5, 0.9],
    "schemes": [
        {"scheme": "local", "epochs": 3},
        {"scheme": "centralized", "epochs": 3},
        {"scheme": "fedavg", "rounds": 4, "round_deadline_s": 1.0},
        {"scheme": "handoff", "device_epochs": 2, "server_epochs": 2, "after_return_epochs": 1},
        {"scheme": "distill-fl", "rounds": 4, "round_deadline_s": 1.0},
        {"scheme": "async-distill-fl", "rounds": 4, "mode": "continuous", "chunk_steps": 4},
        {"scheme": "gear", "rounds": 6, "switch": "auto", "auto_window": 1, "auto_min_gain": 0.05},
        {"scheme": "fedasync", "updates": 12, "alpha": 0.6, "staleness": "polynomial"},
        {"scheme": "fedbuff", "server_steps": 4, "buffer_size": 3},
        {"scheme": "ecavg", "pretrain_epochs": 2, "server_epochs": 2, "finetune_epochs": 1},
        {"scheme": "deep-edge", "epochs": 3, "chunk_steps": 5, "profile_steps": 3},
        {"scheme": "fedcs", "rounds": 4, "round_deadline_s": 1.0},
        {"scheme": "oort", "rounds": 4, "participants": 3, "preferred_round_s": 0.1},
        {"scheme": "tifl", "rounds": 4, "tiers": 2, "clients_per_round": 2, "interval": 1},
        {"scheme": "fedprox", "rounds": 4, "mu": 0.01, "round_deadline_s": 1.0},
        {"scheme": "fedavg-partial", "rounds": 4, "round_deadline_s": 1.0},
    ],
}


@pytest.fixture
def tiny_scenario() -> dict[str, Any]:
    """A fresh, mutable copy of the tiny scenario as a plain dict."""
    return copy.deepcopy(TINY)


@pytest.fixture
def write_scenario(tmp_path: Path):
    """Write a scenario dict to a YAML file in tmp_path and return the path."""

    def write(data: dict[str, Any], name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def layer_costs() -> dict[str, float]:
    """A CPU-like profile's ``layer_costs``: convolutions slow and dear to start, products fast."""
    return {
        "conv_flop_rate": 3e9,
        "linear_flop_rate": 2e10,
        "bandwidth": 5e9,
        "step_overhead_s": 2e-4,
        "eval_overhead_s": 5e-5,
        "conv_overhead_s": 4e-4,
        "linear_overhead_s": 1e-5,
        "other_overhead_s": 5e-5,
    }
