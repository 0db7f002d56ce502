"""FedAvg (McMahan et al., AISTATS 2017): synchronous rounds of local training and averaging.

Each round the server samples a fraction of the clients that are up, sends
them the global weights, each trains ``local_epochs`` on its own data and
returns its weights, and the server averages what came back weighted by
sample count. The round ends when every chosen client has returned or the
round deadline passes; clients that are down, fail, or miss the deadline are
dropped from that round (their work is recorded as lost or abandoned). Fast
clients wait for the round to end, and that waiting is recorded. A round
waits for the server, and a round the server loses by going down is run
again (:mod:`edgesim.schemes.rounds`): ``rounds`` rounds always complete.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import simpy

from edgesim.cluster.device import DeviceDown
from edgesim.cluster.flows import TransferAborted
from edgesim.config.scheme_settings import FedAvgScheme
from edgesim.learning.weights import StateDict, clone_state, weighted_average
from edgesim.schemes.rounds import Returned, run_round, until_server_up
from edgesim.schemes.runtime import Process, Runtime
from edgesim.types import DeviceId


def run(rt: Runtime, spec: FedAvgScheme) -> Process:
    global_model = rt.new_model()
    rng = np.random.default_rng([rt.seed, 0xFEDA])
    rt.observe("global", global_model, force=True)
    for round_number in range(1, spec.rounds + 1):
        averaged = yield from fl_round(rt, global_model.state_dict(), spec, rng, round_number)
        if averaged is not None:
            global_model.load_state_dict(averaged)
        rt.observe("global", global_model, force=round_number == spec.rounds)


class RoundSettings(Protocol):
    """What one synchronous round needs from a scheme's settings."""

    local_epochs: float
    client_fraction: float
    round_deadline_s: float | None


def fl_round(
    rt: Runtime,
    global_state: StateDict,
    spec: RoundSettings,
    rng: np.random.Generator,
    round_number: int,
    kind: str = "main",
    clients: list[DeviceId] | None = None,
) -> Process:
    """One round of FedAvg on a ``kind`` model; the sample-weighted average, or ``None``.

    ``clients`` restricts who may be chosen (default: every client). A round
    the server loses (it went down) is run again once it is back
    (:mod:`edgesim.schemes.rounds`); ``None`` means no client update arrived.
    """
    state = clone_state(global_state)
    while True:
        yield from until_server_up(rt, round_number)
        chosen = yield from choose_clients(rt, spec.client_fraction, rng, round_number, clients)
        if not rt.devices[rt.server].up:
            continue
        returned = yield from run_round(
            rt,
            round_number,
            chosen,
            lambda client: client_round(rt, client, state, spec.local_epochs, round_number, kind),
            spec.round_deadline_s,
        )
        if returned is not None:
            break
    updates = [update for update in returned.values() if update is not None]
    rt.recorder.count("client_updates", len(updates))
    if not updates:
        return None
    return weighted_average([u[0] for u in updates], [u[1] for u in updates])


def choose_clients(
    rt: Runtime,
    fraction: float,
    rng: np.random.Generator,
    round_number: int,
    clients: list[DeviceId] | None = None,
) -> Process:
    """Sample ``fraction`` of the clients that are up (waiting if none is)."""
    clients = rt.clients if clients is None else clients
    while True:
        available = [c for c in clients if rt.devices[c].up]
        if available:
            count = max(1, math.ceil(fraction * len(available)))
            picked = rng.choice(len(available), size=count, replace=False)
            return [available[i] for i in sorted(picked)]
        any_back = rt.env.any_of([rt.devices[c].came_up for c in clients])
        yield from rt.wait(rt.server, any_back, f"round {round_number}: no client is up")


def client_round(
    rt: Runtime,
    client: DeviceId,
    global_state: StateDict,
    local_epochs: float,
    round_number: int,
    kind: str = "main",
) -> Process:
    """Download, train, upload; ``None`` if the client fails or is cut off by the deadline."""
    model_name = "model" if kind == "main" else f"{kind} model"
    try:
        received = yield from rt.send_state(
            rt.server, client, global_state, f"round {round_number} {model_name}"
        )
        model = rt.model_from(received, kind)
        steps = max(1, round(local_epochs * rt.steps_per_epoch(client)))
        yield from rt.train(client, model, steps, f"round {round_number}: {steps} local steps")
        update = yield from rt.send_model(client, rt.server, model, f"round {round_number} update")
    except (DeviceDown, TransferAborted):
        rt.recorder.count("dropped_clients")
        return None
    except simpy.Interrupt:
        return None
    return Returned((update, len(rt.holdings[client].train)), rt.now)
