"""TiFL (Chai et al., "TiFL: A Tier-based Federated Learning System", HPDC 2020): group the
clients into tiers of like speed and train one tier per round.

1. **Profiling and tiering** (§4.2): the first ``profile_rounds`` rounds are FedAvg
   rounds of every client that is up; the server times each client's response (the
   model's send to the update's arrival) and sorts the clients by their mean latency
   into ``tiers`` (m) groups of equal size (:func:`form_tiers`). A client that never
   answered within ``round_deadline_s`` (the paper's T_max) goes last.
2. **Tier selection** (§4.4, Algorithm 2, :class:`TierSelector`): each round one tier is
   drawn by its probability, among the tiers with credits left (each starts with
   ``credits``), and ``clients_per_round`` (|C|) of its clients that are up are chosen
   at random. Probabilities start equal; every ``interval`` (I) rounds, if the accuracy
   of the tier last chosen has not risen over the last I rounds, they are set again from
   the tiers' accuracies (:func:`change_probs`): the least accurate tier gets the most.
3. A FedAvg round of the chosen clients, averaged by sample count.

**Tier accuracy**: the paper evaluates the global model on each tier's test data. Here
every participant validates the model it has just received on its own validation data
before training (charged: :meth:`Runtime.validate`) and sends the accuracy with its
update; a tier's accuracy is the mean over its clients from the last round any of them
reported. This costs no extra transfer but is as old as the tier's last round. It needs
local validation data (``data.validation_fraction`` > 0), which the pre-flight checks:
without, every tier would read 0 and TiFL's choice would be meaningless.

Where else it departs: tiers are equal-sized groups of the latency order rather than
the paper's histogram bins, and are not re-profiled; the profiling rounds also train
(their updates are averaged); if every tier with a client up has spent its credits, the
credits are given again (the paper sets them to cover the run). Counters:
``profiled_clients``, ``tier_rounds``.

Refused in timing-only runs: the tier chosen follows the tiers' accuracy.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import simpy

from edgesim.cluster.device import DeviceDown
from edgesim.cluster.flows import TransferAborted
from edgesim.config.scheme_settings import TiFLScheme
from edgesim.errors import EdgesimError
from edgesim.learning.weights import StateDict, clone_state
from edgesim.schemes.fedavg import choose_clients
from edgesim.schemes.rounds import Returned, adopt_average, run_round, until_server_up
from edgesim.schemes.runtime import Process, Runtime
from edgesim.types import DeviceId


@dataclass(frozen=True)
class Report:
    """A participant's update, its validation of the model it got, and its latency."""

    state: StateDict
    samples: int
    accuracy: float
    latency_s: float


def form_tiers(
    clients: list[DeviceId], latencies: dict[DeviceId, list[float]], count: int
) -> list[list[DeviceId]]:
    """Clients sorted by mean latency (unmeasured last, ties in their order), split in ``count``."""
    position = {c: i for i, c in enumerate(clients)}

    def mean_latency(client: DeviceId) -> float:
        measured = latencies.get(client)
        return sum(measured) / len(measured) if measured else math.inf

    ordered = sorted(clients, key=lambda c: (mean_latency(c), position[c]))
    groups = np.array_split(np.arange(len(ordered)), min(count, len(ordered)))
    return [[ordered[i] for i in group] for group in groups]


def change_probs(accuracies: list[float]) -> list[float]:
    """Algorithm 2's ChangeProbs: rank tiers by accuracy, lowest first; rank i gets ∝ m − i."""
    m = len(accuracies)
    order = sorted(range(m), key=lambda t: (accuracies[t], t))
    probs = [0.0] * m
    for rank, tier in enumerate(order):
        probs[tier] = (m - rank) / (m * (m + 1) / 2)
    return probs


class TierSelector:
    """Algorithm 2's state: the tiers, their probabilities, credits and accuracy history."""

    def __init__(
        self,
        tiers: list[list[DeviceId]],
        credits: int | None,
        interval: int,
        rng: np.random.Generator,
    ):
        self.tiers = tiers
        self.initial_credits = credits
        self.credits = [credits for _ in tiers]
        self.interval = interval
        self.rng = rng
        self.probs = [1 / len(tiers)] * len(tiers)
        self.validations: list[tuple[int, dict[DeviceId, float]]] = []
        self.chosen_rounds = 0
        self.last_tier: int | None = None

    def record(self, round_number: int, accuracies: dict[DeviceId, float]) -> None:
        if accuracies:
            self.validations.append((round_number, accuracies))

    def accuracy(self, tier: int, round_number: int) -> float:
        """Its clients' mean accuracy in the last round ≤ this one they reported (0: none)."""
        members = set(self.tiers[tier])
        for number, accuracies in reversed(self.validations):
            if number <= round_number:
                seen = [a for c, a in accuracies.items() if c in members]
                if seen:
                    return sum(seen) / len(seen)
        return 0.0

    def choose(self, round_number: int, eligible: list[int]) -> int:
        """The tier of this round, among ``eligible`` (tiers with a client up)."""
        if self.chosen_rounds and self.chosen_rounds % self.interval == 0:
            last, then = round_number - 1, round_number - 1 - self.interval
            if self.accuracy(self.last_tier, last) <= self.accuracy(self.last_tier, then):
                self.probs = change_probs([self.accuracy(t, last) for t in range(len(self.tiers))])
        with_credits = [t for t in eligible if self.credits[t] is None or self.credits[t] > 0]
        if not with_credits:  # every credit spent: given again
            self.credits = [self.initial_credits for _ in self.tiers]
            with_credits = eligible
        weights = np.array([self.probs[t] for t in with_credits])
        tier = with_credits[int(self.rng.choice(len(with_credits), p=weights / weights.sum()))]
        if self.credits[tier] is not None:
            self.credits[tier] -= 1
        self.chosen_rounds += 1
        self.last_tier = tier
        return tier

    def clients_of(self, tier: int, up: list[DeviceId], count: int) -> list[DeviceId]:
        """``count`` of the tier's clients that are up, at random, in the tier's order."""
        members = [c for c in self.tiers[tier] if c in up]
        if count >= len(members):
            return members
        picked = set(self.rng.choice(len(members), size=count, replace=False).tolist())
        return [c for i, c in enumerate(members) if i in picked]


def run(rt: Runtime, spec: TiFLScheme) -> Process:
    if not any(len(rt.holdings[client].validation) for client in rt.clients):
        raise EdgesimError(
            "tifl validates on the clients' own data: set data.validation_fraction > 0 (e.g. 0.1)"
        )
    global_model = rt.new_model()
    rng = np.random.default_rng([rt.seed, 0x71F1])
    latencies: dict[DeviceId, list[float]] = {}
    validations: list[tuple[int, dict[DeviceId, float]]] = []
    selector: TierSelector | None = None
    rt.observe("global", global_model, force=True)
    for number in range(1, spec.rounds + 1):
        state = clone_state(global_model.state_dict())
        while True:  # a round the server loses by going down is run again
            yield from until_server_up(rt, number)
            up = yield from choose_clients(rt, 1.0, rng, number)  # all that are up
            if selector is None:
                chosen = up  # profiling: every client, timed
            else:
                eligible = [t for t, tier in enumerate(selector.tiers) if set(tier) & set(up)]
                tier = selector.choose(number, eligible)
                chosen = selector.clients_of(tier, up, spec.clients_per_round)
                rt.recorder.count("tier_rounds")
            returned = yield from run_round(
                rt,
                number,
                chosen,
                functools.partial(
                    client_round, rt, state=state, local_epochs=spec.local_epochs, number=number
                ),
                spec.round_deadline_s,
            )
            if returned is not None:
                break
        reports = {c: r for c, r in returned.items() if r is not None}
        accuracies = {c: r.accuracy for c, r in reports.items()}
        if selector is None:
            validations.append((number, accuracies))
            for client, report in reports.items():
                latencies.setdefault(client, []).append(report.latency_s)
            if number == spec.profile_rounds:
                rt.recorder.count("profiled_clients", len(latencies))
                tiers = form_tiers(rt.clients, latencies, spec.tiers)
                selector = TierSelector(tiers, spec.credits, spec.interval, rng)
                for profiled, seen in validations:
                    selector.record(profiled, seen)
        else:
            selector.record(number, accuracies)
        adopt_average(rt, global_model, [(r.state, r.samples) for r in reports.values()])
        rt.observe("global", global_model, force=number == spec.rounds)


def client_round(
    rt: Runtime, client: DeviceId, state: StateDict, local_epochs: float, number: int
) -> Process:
    """Download, validate what arrived (charged), train, upload the update and the accuracy."""
    started = rt.now
    try:
        received = yield from rt.send_state(rt.server, client, state, f"round {number} model")
        model = rt.model_from(received)
        accuracy = yield from rt.validate(client, model, f"round {number}: validate")
        steps = max(1, round(local_epochs * rt.steps_per_epoch(client)))
        yield from rt.train(client, model, steps, f"round {number}: {steps} local steps")
        update = yield from rt.send_model(client, rt.server, model, f"round {number} update")
    except (DeviceDown, TransferAborted):
        rt.recorder.count("dropped_clients")
        return None
    except simpy.Interrupt:
        return None
    samples = len(rt.holdings[client].train)
    return Returned(Report(update, samples, accuracy, rt.now - started), rt.now)
