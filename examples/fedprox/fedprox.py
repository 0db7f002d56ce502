"""FedProx (Li et al., MLSys 2020) as a user plugin: FedAvg, a proximal term, partial work.

Each round the server samples clients and sends them the global weights w_t;
client k approximately solves  min_w F_k(w) + mu/2 ||w - w_t||²  (§3, eq. 2)
and returns what it has. Unlike FedAvg a straggler is not dropped for being
slow: it does as many local steps as fit before the round deadline, at least
one ("variable amounts of work", §3 and §5.2). The server averages the
updates by sample count, as FedAvg does.

A scenario names it ``scheme: fedprox.py:SCHEME`` (relative to the scenario);
nothing in edgesim is edited. edgesim ships the same protocol built in as ``fedprox``
(edgesim/schemes/fedprox.py), so this one is named ``fedprox-example``.
"""

from __future__ import annotations

from functools import partial
from typing import Literal

import numpy as np
import simpy
from pydantic import Field

from edgesim.cluster.device import DeviceDown
from edgesim.cluster.flows import TransferAborted
from edgesim.learning.training import Proximal
from edgesim.learning.weights import clone_state, weighted_average
from edgesim.schemes import SchemeBase, SchemeInfo
from edgesim.schemes.fedavg import choose_clients
from edgesim.schemes.rounds import Returned, run_round, until_server_up
from edgesim.schemes.runtime import training_seconds, workload_of


class FedProxSettings(SchemeBase):
    scheme: Literal["fedprox-example"]
    rounds: int = Field(default=10, ge=1, le=1_000_000)
    local_epochs: int = Field(default=1, ge=1, le=10_000, description="E, for a client on time")
    mu: float = Field(default=0.01, ge=0, le=100, description="weight of the proximal term")
    client_fraction: float = Field(default=1.0, gt=0, le=1)
    round_deadline_s: float = Field(gt=0, le=1e9, description="stragglers send partial work")


def run(rt, spec: FedProxSettings):
    global_model = rt.new_model()
    rng = np.random.default_rng([rt.seed, 0xF9A0])
    rt.observe("global", global_model, force=True)
    for number in range(1, spec.rounds + 1):
        state = clone_state(global_model.state_dict())
        while True:  # a round the server loses by going down is run again
            yield from until_server_up(rt, number)
            chosen = yield from choose_clients(rt, spec.client_fraction, rng, number)
            job = partial(client_round, rt, state=state, spec=spec, number=number, started=rt.now)
            returned = yield from run_round(rt, number, chosen, job, spec.round_deadline_s)
            if returned is not None:
                break
        updates = [update for update in returned.values() if update is not None]
        rt.recorder.count("client_updates", len(updates))
        if updates:
            global_model.load_state_dict(weighted_average(*zip(*updates, strict=True)))
        rt.observe("global", global_model, force=number == spec.rounds)


def client_round(rt, client, state, spec: FedProxSettings, number: int, started: float):
    """Download w_t, train with the proximal term for as long as the deadline allows, upload."""
    try:
        received = yield from rt.send_state(rt.server, client, state, f"round {number} model")
        model = rt.model_from(received, "main")
        steps = steps_that_fit(rt, client, model, spec, started)
        detail = f"round {number}: {steps} local steps, mu={spec.mu:g}"
        yield from rt.train(client, model, steps, detail, Proximal(model, spec.mu))
        update = yield from rt.send_model(client, rt.server, model, f"round {number} update")
    except (DeviceDown, TransferAborted):
        rt.recorder.count("dropped_clients")
        return None
    except simpy.Interrupt:  # the deadline passed during the upload, or the server went down
        return None
    return Returned((update, len(rt.holdings[client].train)), rt.now)


def steps_that_fit(rt, client, model, spec: FedProxSettings, started: float) -> int:
    """E epochs of steps, or fewer: those that end before the deadline, leaving time to upload.

    The upload is assumed to take as long as the download did (the client
    knows no better); a client that misjudges it is dropped, as in FedAvg.
    """
    full = spec.local_epochs * rt.steps_per_epoch(client)
    step_s = training_seconds(rt.devices[client].profile, workload_of(model), [rt.batch_size])
    budget = started + spec.round_deadline_s - rt.now - (rt.now - started)
    steps = max(1, min(full, int(budget // step_s)))
    if steps < full:
        rt.recorder.count("partial_updates")
    return steps


SCHEME = SchemeInfo(
    FedProxSettings,
    run,
    "FedAvg with a proximal term; stragglers send the partial work they did",
    "Li et al., MLSys 2020",
)
