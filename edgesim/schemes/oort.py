"""Oort (Lai et al., "Oort: Efficient Federated Learning via Guided Participant Selection",
OSDI 2021): pick the clients whose data helps most and who answer soon.

Each round the server selects ``participants`` (K) of the clients that are up by
Algorithm 1 (§4.2–4.3, :class:`OortSelector`), runs a FedAvg round with them and
takes their feedback:

* **Statistical utility** (§4.2, eq. 2): ``U_i = |B_i| · sqrt(mean of Loss(k)² over B_i)``,
  from the training loss a client reports with its update.
* **Temporal uncertainty** (§4.3): an explored client's utility gains
  ``sqrt(0.1 · log R / L_i)``, R the round now and L_i the round it last took part in.
* **System utility** (§4.2, eq. 3): utility × ``(T / t_i)^α`` when its last duration t_i
  (the server's send of the model to the update's arrival) exceeds the preferred round
  duration T (``preferred_round_s``, α ``penalty``).
* **Exploitation** (§4.3): ``(1 − ε)·K`` explored clients, sampled by utility among
  those above the cut-off ``c ×`` the ``(1 − ε)K``-th largest utility (c ``cutoff``).
* **Exploration**: ``ε·K`` clients never heard from, sampled by speed — the inverse of
  their nominal round time (:mod:`edgesim.schemes.estimates`); ε starts at
  ``exploration`` and decays by ``exploration_decay`` each round to ``exploration_min``.
  Too few on one side are made up from the other.
* **Pacer** (§4.3): every W rounds (``pacer_window``), if the statistical utility the
  last W rounds collected is below that of the W before, T grows by Δ (``pacer_step_s``).

Where it departs from the paper:

* A client reports only its mean training loss over its steps (what
  :meth:`Runtime.train` returns), not each sample's; ``sqrt(mean Loss²)`` is taken as
  that mean (a lower bound, by Jensen) and ``|B_i|`` as its number of samples.
* The outlier clipping of utilities and the blacklist of over-selected clients (§4.4)
  and over-commitment (selecting 1.3 K, keeping the first K to return, §7.1) are not
  implemented; ``round_deadline_s`` cuts stragglers off as in FedAvg instead.
* A client cut off by the deadline is known to need at least the time it had: its
  duration becomes that if longer. One cut off before it ever reported becomes explored
  with that duration and no statistical utility (it reported no loss): left unexplored,
  a client that can never meet the deadline would be explored again every round, and
  every round would wait the deadline out for it. One that failed keeps its record; one
  that failed before it ever reported stays unexplored.

Refused in timing-only runs: the selection follows the losses clients report.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import simpy

from edgesim.cluster.device import DeviceDown
from edgesim.cluster.flows import TransferAborted
from edgesim.config.scheme_settings import OortScheme
from edgesim.learning.weights import StateDict, clone_state, state_nbytes
from edgesim.schemes.estimates import Estimates
from edgesim.schemes.fedavg import choose_clients
from edgesim.schemes.rounds import Returned, adopt_average, run_round, until_server_up
from edgesim.schemes.runtime import Process, Runtime
from edgesim.types import DeviceId


@dataclass
class Record:
    """What the server knows of an explored client."""

    utility: float
    """Its statistical utility, as last reported."""
    duration_s: float
    """t_i: how long its last participation took."""
    last_round: int
    """L_i: the round it last took part in."""


@dataclass(frozen=True)
class Report:
    """A participant's update and the feedback Oort reads from it."""

    state: StateDict
    samples: int
    loss: float
    duration_s: float


class OortSelector:
    """Algorithm 1's state and steps: utilities, ε, the preferred duration T and the pacer."""

    def __init__(self, spec: OortScheme, rng: np.random.Generator):
        self.spec = spec
        self.rng = rng
        self.records: dict[DeviceId, Record] = {}
        self.epsilon = spec.exploration
        self.preferred_s = spec.preferred_round_s
        self.collected: list[float] = []
        """The statistical utility each round collected, for the pacer."""

    def utility(self, client: DeviceId, round_number: int) -> float:
        """An explored client's utility for round R: statistical + uncertainty, × penalty."""
        record = self.records[client]
        value = record.utility + math.sqrt(0.1 * math.log(round_number) / record.last_round)
        if record.duration_s > self.preferred_s:
            value *= (self.preferred_s / record.duration_s) ** self.spec.penalty
        return value

    def select(
        self,
        available: list[DeviceId],
        count: int,
        round_number: int,
        speed: dict[DeviceId, float],
    ) -> list[DeviceId]:
        """K of ``available`` (in their order): exploited by utility, explored by ``speed``."""
        explored = [c for c in available if c in self.records]
        unexplored = [c for c in available if c not in self.records]
        count = min(count, len(available))
        exploit = min(math.floor((1 - self.epsilon) * count + 1e-9), len(explored))
        explore = min(count - exploit, len(unexplored))
        exploit = min(count - explore, len(explored))
        chosen = set(self._exploit(explored, exploit, round_number))
        chosen |= set(self._sample(unexplored, explore, [speed[c] for c in unexplored]))
        return [c for c in available if c in chosen]

    def _exploit(self, explored: list[DeviceId], count: int, round_number: int) -> list[DeviceId]:
        if count == 0:
            return []
        utilities = {c: self.utility(c, round_number) for c in explored}
        threshold = self.spec.cutoff * sorted(utilities.values(), reverse=True)[count - 1]
        admitted = [c for c in explored if utilities[c] >= threshold]
        return self._sample(admitted, count, [utilities[c] for c in admitted])

    def _sample(self, pool: list[DeviceId], count: int, weights: list[float]) -> list[DeviceId]:
        """``count`` of ``pool`` without replacement, with probability ∝ weight."""
        if count >= len(pool):
            return list(pool)
        total = sum(weights)
        p = [w / total for w in weights] if total > 0 else None
        return [pool[i] for i in self.rng.choice(len(pool), size=count, replace=False, p=p)]

    def feedback(
        self, round_number: int, reports: dict[DeviceId, Report], cut: dict[DeviceId, float]
    ) -> None:
        """Take the round's feedback; decay ε; let the pacer relax T."""
        for client, report in reports.items():
            utility = report.samples * abs(report.loss)
            self.records[client] = Record(utility, report.duration_s, round_number)
        for client, at_least in cut.items():
            if client in reports:
                continue
            record = self.records.get(client)
            if record is None:  # never heard from: explored now, with nothing to its credit
                self.records[client] = Record(0.0, at_least, round_number)
            else:
                record.duration_s = max(record.duration_s, at_least)
        self.collected.append(sum(r.samples * abs(r.loss) for r in reports.values()))
        self.epsilon = max(self.spec.exploration_min, self.epsilon * self.spec.exploration_decay)
        window, done = self.spec.pacer_window, len(self.collected)
        due = done >= 2 * window and done % window == 0
        if due and sum(self.collected[-window:]) < sum(self.collected[-2 * window : -window]):
            self.preferred_s += self.spec.pacer_step_s


def run(rt: Runtime, spec: OortScheme) -> Process:
    global_model = rt.new_model()
    rng = np.random.default_rng([rt.seed, 0x0027])
    selector = OortSelector(spec, rng)
    estimates = Estimates(rt)
    model_bytes = state_nbytes(global_model.state_dict())

    def speed(client: DeviceId) -> float:
        """The inverse of a client's nominal round time: how Oort prefers whom to explore."""
        steps = max(1, round(spec.local_epochs * rt.steps_per_epoch(client)))
        seconds = (
            estimates.transfer_s(rt.server, client, model_bytes)
            + estimates.training_s(client, global_model, steps)
            + estimates.transfer_s(client, rt.server, model_bytes)
        )
        return 1 / seconds

    rt.observe("global", global_model, force=True)
    for number in range(1, spec.rounds + 1):
        state = clone_state(global_model.state_dict())
        while True:  # a round the server loses by going down is run again
            yield from until_server_up(rt, number)
            available = yield from choose_clients(rt, 1.0, rng, number)  # all that are up
            unexplored = {c: speed(c) for c in available if c not in selector.records}
            chosen = selector.select(available, spec.participants, number, unexplored)
            cut: dict[DeviceId, float] = {}
            returned = yield from run_round(
                rt,
                number,
                chosen,
                functools.partial(
                    client_round,
                    rt,
                    state=state,
                    local_epochs=spec.local_epochs,
                    number=number,
                    cut=cut,
                ),
                spec.round_deadline_s,
            )
            if returned is not None:
                break
        reports = {c: r for c, r in returned.items() if r is not None}
        selector.feedback(number, reports, cut)
        adopt_average(rt, global_model, [(r.state, r.samples) for r in reports.values()])
        rt.observe("global", global_model, force=number == spec.rounds)


def client_round(
    rt: Runtime,
    client: DeviceId,
    state: StateDict,
    local_epochs: float,
    number: int,
    cut: dict[DeviceId, float],
) -> Process:
    """Download, train, upload with the loss; a client cut off notes how long it had."""
    started = rt.now
    try:
        received = yield from rt.send_state(rt.server, client, state, f"round {number} model")
        model = rt.model_from(received)
        steps = max(1, round(local_epochs * rt.steps_per_epoch(client)))
        loss = yield from rt.train(client, model, steps, f"round {number}: {steps} local steps")
        update = yield from rt.send_model(client, rt.server, model, f"round {number} update")
    except (DeviceDown, TransferAborted):
        rt.recorder.count("dropped_clients")
        return None
    except simpy.Interrupt:
        cut[client] = rt.now - started
        return None
    samples = len(rt.holdings[client].train)
    return Returned(Report(update, samples, loss, rt.now - started), rt.now)
