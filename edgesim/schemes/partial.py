"""FedAvg with partial updates: a client that cannot finish its epochs by the deadline sends
what it did, weighted by the work it did; and the round FedProx shares with it.

FedAvg (McMahan et al. 2017) with a round deadline drops a straggler's whole update.
Li et al. (FedProx, MLSys 2020, §3 and §5.2 "systems heterogeneity") instead let each
device do a variable amount of work — a γ-inexact solution of its local problem —
and show that averaging those partial solutions beats dropping them. This variant
keeps FedAvg's objective (no proximal term) and takes the partial work:

1. The server samples ``client_fraction`` of the clients that are up and sends each
   the global weights.
2. Each client plans its work from what it knows, before it trains: as many of its
   ``local_epochs`` worth of steps as end before the deadline by its device profile's
   nominal step time (:mod:`edgesim.schemes.estimates`), leaving as long to upload as
   its download took; at least one step. It trains and sends the result.
3. The server averages what arrived, each update weighted by its samples × the share
   of its full work it did (``steps / full steps``), so a client that did a tenth of its
   epochs counts a tenth as much (FedProx itself weights by samples only:
   :mod:`edgesim.schemes.fedprox`).

Its plan can be wrong, as a real client's is: background load or a congested uplink
make it miss the deadline all the same, and it is then dropped as in FedAvg
(``deadline_misses``). Without ``round_deadline_s`` everyone does the full work and
this is FedAvg. Counters: ``partial_updates`` (clients that planned less than the full
work), ``client_updates``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy
from torch import nn

from edgesim.cluster.device import DeviceDown
from edgesim.cluster.flows import TransferAborted
from edgesim.config.scheme_settings import FedAvgPartialScheme, PartialWork
from edgesim.learning.training import PLAIN, LocalUpdate
from edgesim.learning.weights import StateDict, clone_state
from edgesim.schemes.estimates import Estimates
from edgesim.schemes.fedavg import choose_clients
from edgesim.schemes.rounds import Returned, adopt_average, run_round, until_server_up
from edgesim.schemes.runtime import Process, Runtime
from edgesim.types import DeviceId

Update = Callable[[nn.Module], LocalUpdate]


@dataclass(frozen=True)
class Partial:
    """A client's update and how much of its full work it did."""

    state: StateDict
    samples: int
    steps: int
    full_steps: int


def run(rt: Runtime, spec: FedAvgPartialScheme) -> Process:
    def by_work(update: Partial) -> float:
        return update.samples * update.steps / update.full_steps

    yield from partial_rounds(rt, spec, lambda _model: PLAIN, by_work, 0xFA9A)


def partial_rounds(
    rt: Runtime,
    spec: PartialWork,
    local_update: Update,
    weight: Callable[[Partial], float],
    stream: int,
) -> Process:
    """``spec.rounds`` synchronous rounds of partial work, each averaged by ``weight``.

    ``local_update(model)`` is the local objective a client trains its received model
    on (FedProx: the proximal term anchored there); ``stream`` names the scheme's
    random stream of client samples.
    """
    global_model = rt.new_model()
    rng = np.random.default_rng([rt.seed, stream])
    estimates = Estimates(rt)
    rt.observe("global", global_model, force=True)
    for number in range(1, spec.rounds + 1):
        state = clone_state(global_model.state_dict())
        while True:  # a round the server loses by going down is run again
            yield from until_server_up(rt, number)
            chosen = yield from choose_clients(rt, spec.client_fraction, rng, number)
            started = rt.now
            returned = yield from run_round(
                rt,
                number,
                chosen,
                functools.partial(
                    client_round,
                    rt,
                    estimates,
                    state=state,
                    spec=spec,
                    local_update=local_update,
                    number=number,
                    started=started,
                ),
                spec.round_deadline_s,
            )
            if returned is not None:
                break
        updates = [update for update in returned.values() if update is not None]
        adopt_average(rt, global_model, [(u.state, weight(u)) for u in updates])
        rt.observe("global", global_model, force=number == spec.rounds)


def client_round(
    rt: Runtime,
    estimates: Estimates,
    client: DeviceId,
    state: StateDict,
    spec: PartialWork,
    local_update: Update,
    number: int,
    started: float,
) -> Process:
    """Download, train the steps that fit before the deadline, upload what was done."""
    try:
        received = yield from rt.send_state(rt.server, client, state, f"round {number} model")
        model = rt.model_from(received)
        full = max(1, round(spec.local_epochs * rt.steps_per_epoch(client)))
        steps = full
        if spec.round_deadline_s is not None:
            steps = steps_that_fit(
                estimates.step_s(client, model), full, spec.round_deadline_s, started, rt.now
            )
        if steps < full:
            rt.recorder.count("partial_updates")
        detail = f"round {number}: {steps} of {full} local steps"
        yield from rt.train(client, model, steps, detail, local_update(model))
        update = yield from rt.send_model(client, rt.server, model, f"round {number} update")
    except (DeviceDown, TransferAborted):
        rt.recorder.count("dropped_clients")
        return None
    except simpy.Interrupt:  # the deadline passed, or the server went down
        return None
    return Returned(Partial(update, len(rt.holdings[client].train), steps, full), rt.now)


def steps_that_fit(step_s: float, full: int, deadline_s: float, started: float, now: float) -> int:
    """The steps (at least one, at most ``full``) that end before the deadline, leaving the
    upload as long as the download took (``now − started``: the client knows no better)."""
    budget = started + deadline_s - now - (now - started)
    return max(1, min(full, int(budget // step_s))) if budget > 0 else 1
