"""A hand-built fleet for the selection rules' run tests: two fast clients, two slow ones.

Two Jetson Xavier NX on Gigabit Ethernet answer a round in about 56 ms; two
Raspberry Pi 4 behind a Wi-Fi access point need about 157 ms (latency-bound).
"""

from __future__ import annotations

import copy
from typing import Any

FAST = ["xavier-0", "xavier-1"]
SLOW = ["pi-0", "pi-1"]

FLEET: dict[str, Any] = {
    "name": "fleet",
    "seed": 5,
    "devices": [
        {"id": "server", "profile": "rtx-2080ti", "role": "server"},
        {"id": "xavier", "profile": "jetson-xavier-nx", "count": 2},
        {"id": "pi", "profile": "raspberry-pi-4", "count": 2},
    ],
    "network": {
        "nodes": ["switch", "ap"],
        "links": [
            {"between": ["server", "switch"], "profile": "ethernet-1g"},
            {"between": ["xavier", "switch"], "profile": "ethernet-1g"},
            {"between": ["pi", "ap"], "profile": "wifi-5"},
            {"between": ["ap", "switch"], "profile": "ethernet-1g"},
        ],
    },
    "data": {"dataset": "digits", "partition": {"kind": "iid"}},
    "training": {"model": "mlp", "batch_size": 32, "lr": 0.1},
    "schemes": [],
}


def fleet(*schemes: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(FLEET)
    data["schemes"] = list(schemes)
    return data


def participants(run: dict[str, Any]) -> dict[int, list[str]]:
    """Round number → the clients the server sent that round's model to, sorted."""
    chosen: dict[int, set[str]] = {}
    for device, kind, _, _, detail in run["timeline"]:
        if kind == "recv" and device != "server" and " model server→" in detail:
            chosen.setdefault(int(detail.split()[1]), set()).add(device)
    return {number: sorted(clients) for number, clients in sorted(chosen.items())}
