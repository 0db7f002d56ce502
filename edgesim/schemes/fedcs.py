"""FedCS (Nishio & Yonetani, "Client Selection for Federated Learning with Heterogeneous
Resources in Mobile Edge", ICC 2019): fit as many clients as a deadline allows.

Each round follows their Protocol 2 (§III-B):

1. *Resource Request*: the server asks a random share ``candidate_fraction`` (C) of the
   clients that are up for their resource information; each candidate replies with a
   small message (``resource_info_bytes`` each way, charged on the network). A candidate
   that fails meanwhile is not considered.
2. *Client Selection*: from that information the server estimates each candidate's
   download, update (``local_epochs`` of training) and upload times and greedily selects
   clients (§IV, Algorithm 2, :func:`greedy_selection`): the candidate that lengthens
   the round least is taken next, and kept if the round still ends before the deadline
   ``T_round`` (``round_deadline_s``, which the resource request has already eaten into).
3. *Distribution*, *Scheduled Update and Upload*, *Aggregation*: a FedAvg round of the
   selected clients, cut off at the deadline, averaged by sample count.

The estimate is what the clients can report: their device profile's nominal step time
and their route's nominal bandwidth and latency (:mod:`edgesim.schemes.estimates`), never
the simulator's oracle. Where it departs from the paper, and why the schedule can fail:

* The paper schedules uploads one after another, each at the full bandwidth of the
  channel, and distributes the model by one broadcast (the time of the slowest
  recipient); its estimate (``T_d^S`` and ``Θ``) models exactly that. Here the
  distribution is a unicast per client and the uploads go when the clients are done,
  sharing the links by the flow model, and background load slows training: the estimate
  is then wrong and a client cut off at the deadline is dropped (``deadline_misses``),
  as a real deployment would find.
* The paper leaves the resource request's duration ``T_cs`` to the operator; here the
  server waits for every reply, or ``request_timeout_s`` at most (a slow candidate's
  request alone can otherwise eat the round: an LTE phone's round trip).
* ``T_agg`` (the aggregation time) is taken as zero: averaging is not charged here.
* If no candidate fits, the round selects nobody (as Algorithm 2 returns the empty set)
  and the model stays as it was (``rounds_without_clients``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import simpy
from torch import nn

from edgesim.cluster.device import DeviceDown
from edgesim.cluster.flows import TransferAborted
from edgesim.config.scheme_settings import FedCSScheme
from edgesim.learning.weights import StateDict, clone_state, state_nbytes, weighted_average
from edgesim.schemes.estimates import Estimates
from edgesim.schemes.fedavg import choose_clients, client_round
from edgesim.schemes.rounds import run_round, until_server_up
from edgesim.schemes.runtime import Process, Runtime
from edgesim.types import DeviceId


@dataclass(frozen=True)
class RoundEstimate:
    """The server's estimate of one client's part of a round (their t^DL, t^UD, t^UL)."""

    download_s: float
    update_s: float
    upload_s: float


def greedy_selection(estimates: dict[DeviceId, RoundEstimate], budget_s: float) -> list[DeviceId]:
    """Algorithm 2 of FedCS: the clients, in upload order, whose schedule ends within budget.

    ``T_d^S`` (distribution to the selected set S) is its slowest download; ``Θ`` is the
    time from the end of distribution to the end of the last upload, uploads one at a
    time: the next client uploads once it has updated and the previous upload is done,
    ``Θ' = Θ + t^UL + max(0, t^UD − Θ)``. Each step takes the candidate that adds least
    time (ties by the candidates' order) and keeps it if ``T_d^S + Θ < budget_s``.
    """
    remaining = dict(estimates)
    selected: list[DeviceId] = []
    distribution = theta = 0.0

    def added(client: DeviceId) -> float:
        e = remaining[client]
        return (
            max(distribution, e.download_s)
            - distribution
            + e.upload_s
            + max(0.0, e.update_s - theta)
        )

    while remaining:
        client = min(remaining, key=added)  # argmax of 1 / added time
        e = remaining.pop(client)
        new_distribution = max(distribution, e.download_s)
        new_theta = theta + e.upload_s + max(0.0, e.update_s - theta)
        if new_distribution + new_theta < budget_s:
            selected.append(client)
            distribution, theta = new_distribution, new_theta
    return selected


def run(rt: Runtime, spec: FedCSScheme) -> Process:
    global_model = rt.new_model()
    rng = np.random.default_rng([rt.seed, 0xFC5])
    estimates = Estimates(rt)
    model_bytes = state_nbytes(global_model.state_dict())
    rt.observe("global", global_model, force=True)
    for number in range(1, spec.rounds + 1):
        state = clone_state(global_model.state_dict())
        while True:  # a round the server loses by going down is run again
            yield from until_server_up(rt, number)
            started = rt.now
            candidates = yield from choose_clients(rt, spec.candidate_fraction, rng, number)
            informed = yield from resource_request(rt, candidates, spec, number)
            if not rt.devices[rt.server].up:  # the server went down asking: the round is lost
                rt.recorder.count("lost_rounds")
                continue
            known = {
                c: estimate(rt, estimates, c, global_model, model_bytes, spec.local_epochs)
                for c in informed
            }
            budget = spec.round_deadline_s - (rt.now - started)
            selected = greedy_selection(known, budget)
            rt.recorder.count("selected_clients", len(selected))
            if not selected:
                rt.recorder.count("rounds_without_clients")
            returned = yield from run_round(
                rt,
                number,
                selected,
                functools.partial(
                    client_round,
                    rt,
                    global_state=state,
                    local_epochs=spec.local_epochs,
                    round_number=number,
                ),
                max(budget, 0.0),
            )
            if returned is not None:
                break
        updates = [update for update in returned.values() if update is not None]
        rt.recorder.count("client_updates", len(updates))
        if updates:
            global_model.load_state_dict(average(updates))
        rt.observe("global", global_model, force=number == spec.rounds)


def average(updates: list[tuple[StateDict, int]]) -> StateDict:
    return weighted_average([u[0] for u in updates], [u[1] for u in updates])


def resource_request(
    rt: Runtime, candidates: list[DeviceId], spec: FedCSScheme, number: int
) -> Process:
    """Protocol 2's step 1: each candidate gets a request and replies; those that did in time."""
    nbytes = spec.resource_info_bytes

    def ask(client: DeviceId) -> Process:
        try:
            yield from rt.send(rt.server, client, nbytes, f"round {number} resource request")
            yield from rt.send(client, rt.server, nbytes, f"round {number} resource info")
        except (DeviceDown, TransferAborted):
            rt.recorder.count("dropped_clients")
            return False
        except simpy.Interrupt:  # too late to be considered
            rt.recorder.count("late_resource_replies")
            return False
        return True

    asked = [rt.env.process(ask(c)) for c in candidates]
    waiting = [rt.env.all_of(asked)]
    if spec.request_timeout_s is not None:
        waiting.append(rt.env.timeout(spec.request_timeout_s))
    yield from rt.wait(rt.server, rt.env.any_of(waiting), f"round {number}: resource requests")
    for reply in asked:
        if reply.is_alive:
            reply.interrupt("the server stopped waiting for resource information")
    yield rt.env.all_of(asked)  # the interrupted ones end at once
    return [c for c, reply in zip(candidates, asked, strict=True) if reply.value]


def estimate(
    rt: Runtime,
    estimates: Estimates,
    client: DeviceId,
    model: nn.Module,
    model_bytes: int,
    local_epochs: float,
) -> RoundEstimate:
    """What the server infers from a client's reported resources (nominal, no contention)."""
    steps = max(1, round(local_epochs * rt.steps_per_epoch(client)))
    return RoundEstimate(
        estimates.transfer_s(rt.server, client, model_bytes),
        estimates.training_s(client, model, steps),
        estimates.transfer_s(client, rt.server, model_bytes),
    )
