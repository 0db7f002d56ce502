"""Flow-level network model: SimGrid's LV08 and CM02 bandwidth sharing, or plain max-min.

A transfer first pays a latency phase, then its bytes flow at a rate given by
*weighted max-min fairness* over the links it crosses, re-solved whenever a
flow starts or ends. The models and their constants are SimGrid 3.32's
(``src/surf/network_cm02.cpp``, ``src/kernel/lmm/maxmin.cpp``):

* a flow over links with bandwidths ``B_l`` (bytes/s) and route latency ``L``
  (the sum of the links' latencies) shares with *penalty*
  ``p = L + sum_l weight_S / B_l`` (``p = 1`` if ``L == 0``, or under ``max-min``):
  progressive filling raises a level ``λ`` on every link, each unfrozen flow
  getting ``λ / p``, until a link saturates, its flows freeze, and filling goes on;
* a flow's rate is at most ``gamma / (2 L)`` (TCP's window, ``network/TCP-gamma``);
* the rate obtained is multiplied by the bandwidth factor ``k_B`` (links carry at
  most ``k_B × B_l`` of payload), and the latency phase lasts ``k_L × L``.

LV08 (Velho et al., "On the validity of flow-level TCP network models for grid and
cloud simulations", ACM TOMACS 23(4), 2013) is SimGrid's default: ``k_B = 0.97``,
``k_L = 13.01``, ``weight_S = 20537``. CM02 (Casanova & Marchal, LIP RR-2002-40) has
``k_B = k_L = 1``, ``weight_S = 0``: shares proportional to ``1 / L``. ``max-min``
gives every flow the same share and no window bound. SimGrid's cross-traffic term
(5 % of a flow charged to the reverse route, ``network/crosstraffic``) is not modelled.

Rates are solved exactly with a heap of per-link levels (each flow frozen once);
remaining bytes are brought up to date only when a flow's rate changes, and a heap
of completion times gives the next event, as SimGrid's lazy updates do.

:class:`FlowSolver` is the SimPy engine used by :class:`edgesim.cluster.network.Network`;
:func:`simulate_flows` drives it directly (links, flows → completion times) for
tests and for checks against SimGrid (``benchmarks/simgrid_check.py``).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import simpy

from edgesim.cluster.clock import HousekeepingTimeout

Resource = Hashable
"""One direction of one link (or any other shared capacity), in bytes per second."""

ModelName = Literal["lv08", "cm02", "max-min"]

_DONE_BYTES = 1e-6


@dataclass(frozen=True)
class FlowModel:
    """Constants of one sharing model (SimGrid's names in brackets)."""

    bandwidth_factor: float  # [network/bandwidth-factor]
    latency_factor: float  # [network/latency-factor]
    weight_s: float  # [network/weight-S], bytes
    tcp_gamma: float  # [network/TCP-gamma], bytes; inf: no window bound
    latency_weighted: bool  # share ∝ 1 / penalty; False: equal shares


MODELS: dict[str, FlowModel] = {
    "lv08": FlowModel(0.97, 13.01, 20537.0, 4194304.0, True),
    "cm02": FlowModel(1.0, 1.0, 0.0, 4194304.0, True),
    "max-min": FlowModel(1.0, 1.0, 0.0, math.inf, False),
}


def fill(
    capacity: Sequence[float],
    routes: Sequence[Sequence[int]],
    weights: Sequence[float],
    bounds: Sequence[float],
) -> list[float]:
    """Weighted max-min rates by progressive filling; resources and flows are indices.

    Flow ``i`` gets ``λ × weights[i]`` where ``λ`` is the level at which its first
    link saturates, or ``bounds[i]`` if that is reached first. A link's level only
    rises as flows freeze, so a stale heap key is a lower bound: re-pushed, never missed.
    An empty route is not limited by the network (rate ``min(inf, bound)``).
    """
    crossing: dict[int, list[int]] = {}
    wsum = [0.0] * len(capacity)
    for i, route in enumerate(routes):
        w = weights[i]
        for res in route:
            wsum[res] += w
            if res in crossing:
                crossing[res].append(i)
            else:
                crossing[res] = [i]
    left = [max(c, 0.0) for c in capacity]
    unfrozen = [0] * len(capacity)
    bounds = list(bounds)
    levels = []
    for res, flows in crossing.items():
        unfrozen[res] = len(flows)
        if len(flows) == 1:  # a link of its own (an access link) is just a bound
            bounds[flows[0]] = min(bounds[flows[0]], left[res])
        else:
            levels.append((left[res] / wsum[res], res))
    heapq.heapify(levels)
    capped = sorted([(b / weights[i], i) for i, b in enumerate(bounds) if b < math.inf])
    capped.append((math.inf, -1))
    rates = [-1.0] * len(routes)  # -1: not frozen yet
    next_cap = 0
    while levels:
        level, res = levels[0]
        if not unfrozen[res]:
            heapq.heappop(levels)
            continue
        actual = max(left[res], 0.0) / wsum[res]
        if actual > level:
            heapq.heapreplace(levels, (actual, res))
            continue
        while capped[next_cap][1] >= 0 and rates[capped[next_cap][1]] >= 0:
            next_cap += 1
        if capped[next_cap][0] < level:
            frozen = [capped[next_cap][1]]
            rates[frozen[0]] = bounds[frozen[0]]
        else:
            heapq.heappop(levels)
            frozen = [i for i in crossing[res] if rates[i] < 0]
            for i in frozen:
                rates[i] = level * weights[i]
        for i in frozen:  # what the frozen flows take is no longer shared out
            rate, w = rates[i], weights[i]
            for r in routes[i]:
                left[r] -= rate
                wsum[r] -= w
                unfrozen[r] -= 1
    while capped[next_cap][1] >= 0:  # flows limited only by their own links or bounds
        i = capped[next_cap][1]
        if rates[i] < 0:
            rates[i] = bounds[i]
        next_cap += 1
    for i, route in enumerate(routes):
        if not route:
            rates[i] = bounds[i]
    return rates


def max_min_rates(
    capacity: Mapping[Resource, float],
    routes: Mapping[Hashable, Sequence[Resource]],
    weights: Mapping[Hashable, float] | None = None,
    bounds: Mapping[Hashable, float] | None = None,
) -> dict[Hashable, float]:
    """(Weighted) max-min fair rate of every flow; equal weights and no bounds by default.

    A flow with an empty route is not limited by the network (rate ``inf``).
    """
    index = {res: k for k, res in enumerate(capacity)}
    flows = list(routes)
    rates = fill(
        list(capacity.values()),
        [[index[res] for res in routes[f]] for f in flows],
        [weights[f] if weights else 1.0 for f in flows],
        [bounds[f] if bounds else math.inf for f in flows],
    )
    return dict(zip(flows, rates, strict=True))


class TransferAborted(Exception):
    """A transfer stopped before its last byte: an endpoint or a link on its route went down."""


class Flow:
    """One transfer: ``done`` fires with the completion time (or fails, aborted)."""

    __slots__ = ("route", "size", "done", "rate", "_env", "_left", "_since", "_stamp", "_res")

    def __init__(self, env: simpy.Environment, route: tuple[Resource, ...], size: float):
        self.route = route
        self.size = size
        self.done = env.event()
        self.rate = 0.0
        self._env = env
        self._left = float(size)
        self._since = env.now
        self._stamp = 0
        self._res: tuple[int, ...] = ()

    @property
    def remaining(self) -> float:
        """Bytes not yet sent, now."""
        return self._left - self.rate * (self._env.now - self._since)

    def _set_rate(self, rate: float) -> None:
        self._left = self.remaining
        self._since = self._env.now
        self.rate = rate


class FlowSolver:
    """Active flows on a SimPy clock; re-solves rates whenever the set of flows changes.

    ``capacity`` is each resource's bandwidth in bytes/s; ``model`` one of :data:`MODELS`.
    """

    def __init__(
        self,
        env: simpy.Environment,
        capacity: Mapping[Resource, float],
        model: ModelName = "lv08",
    ):
        self.env = env
        self.model = MODELS[model]
        self.capacity = dict(capacity)
        self._index = {res: k for k, res in enumerate(self.capacity)}
        self._payload = [bw * self.model.bandwidth_factor for bw in self.capacity.values()]
        self._flows: dict[Flow, tuple[float, float]] = {}  # active flow → (weight, bound)
        self._ends: list[tuple[float, int, int, Flow]] = []  # (time, seq, stamp, flow)
        self._seq = 0
        self._generation = 0
        self._resolve_pending = False

    @property
    def active(self) -> list[Flow]:
        """Flows past their latency phase and not finished, in the order they joined."""
        return list(self._flows)

    def start(self, route: Sequence[Resource], size: float, latency: float = 0.0) -> Flow:
        """A flow of ``size`` bytes over ``route``, whose links' latencies sum to ``latency``.

        It joins the sharing after its latency phase (``latency_factor × latency`` s).
        """
        flow = Flow(self.env, tuple(route), size)
        flow._res = tuple(self._index[res] for res in flow.route)
        model = self.model
        weight, bound = 1.0, math.inf
        if latency > 0 and model.latency_weighted:
            penalty = latency + sum(model.weight_s / self.capacity[res] for res in flow.route)
            weight = 1.0 / penalty
            bound = model.bandwidth_factor * model.tcp_gamma / (2 * latency)
        phase = latency * model.latency_factor
        if phase > 0:
            joins = HousekeepingTimeout(self.env, phase)
            joins.callbacks.append(lambda _ev: self._join(flow, weight, bound))
        else:
            self._join(flow, weight, bound)
        return flow

    def abort(self, flow: Flow, reason: str) -> None:
        """Stop ``flow``; whoever waits on ``flow.done`` gets :class:`TransferAborted`."""
        if flow.done.triggered:
            return
        if flow in self._flows:
            self._remove(flow)
            self._changed()
        flow.done.fail(TransferAborted(reason))
        flow.done.defused = True  # the sender may have stopped listening (interrupted)

    def _join(self, flow: Flow, weight: float, bound: float) -> None:
        if flow.done.triggered:
            return
        if not flow.route or flow._left <= self._done_bytes(flow):
            flow.done.succeed(self.env.now)  # no link limits it, or nothing to send
            return
        self._flows[flow] = (weight, bound)
        self._changed()

    def _remove(self, flow: Flow) -> None:
        del self._flows[flow]
        flow._set_rate(0.0)
        flow._stamp += 1

    def _changed(self) -> None:
        """Re-solve once at this instant, after every start, end and abort due now."""
        if not self._resolve_pending:
            self._resolve_pending = True
            HousekeepingTimeout(self.env, 0).callbacks.append(self._resolve)

    def _resolve(self, _event: simpy.Event) -> None:
        """Re-solve rates, update the flows whose rate changed, schedule the next completion."""
        self._resolve_pending = False
        flows = list(self._flows)
        rates = fill(
            self._payload,
            [f._res for f in flows],
            [w for w, _ in self._flows.values()],
            [b for _, b in self._flows.values()],
        )
        now = self.env.now
        for flow, rate in zip(flows, rates, strict=True):
            if rate != flow.rate:
                flow._left -= flow.rate * (now - flow._since)
                flow._since = now
                flow.rate = rate
                flow._stamp += 1
                if rate > 0:
                    self._seq += 1
                    end = (now + flow._left / rate, self._seq, flow._stamp, flow)
                    heapq.heappush(self._ends, end)
        if len(self._ends) > 2 * len(self._flows) + 64:
            self._ends = [e for e in self._ends if e[2] == e[3]._stamp]
            heapq.heapify(self._ends)
        self._schedule()

    def _schedule(self) -> None:
        while self._ends and self._ends[0][2] != self._ends[0][3]._stamp:
            heapq.heappop(self._ends)
        if self._ends:
            self._generation += 1
            generation = self._generation
            wait = max(self._ends[0][0] - self.env.now, 0.0)
            wake = HousekeepingTimeout(self.env, wait)
            wake.callbacks.append(lambda _ev: self._wake(generation))

    def _wake(self, generation: int) -> None:
        if generation != self._generation:
            return
        finished = []
        while self._ends:
            end, _, stamp, flow = self._ends[0]
            if stamp != flow._stamp:
                heapq.heappop(self._ends)
            elif end <= self.env.now or self._due(flow):
                heapq.heappop(self._ends)
                self._remove(flow)
                finished.append(flow)
            else:
                break
        for flow in finished:
            flow.done.succeed(self.env.now)
        if finished:
            self._changed()
        else:
            self._schedule()

    @staticmethod
    def _done_bytes(flow: Flow) -> float:
        return _DONE_BYTES + 1e-12 * flow.size

    def _due(self, flow: Flow) -> bool:
        """No bytes left, or its last bytes take less time than the clock can add to ``now``.

        Rounding of ``now + wait`` can leave a few bytes that a timeout cannot drain
        without this: the clock would stop and the solver wake forever at one instant.
        """
        now, left = self.env.now, flow.remaining
        return left <= self._done_bytes(flow) or now + left / flow.rate <= now


@dataclass(frozen=True)
class FlowRequest:
    """For :func:`simulate_flows`: ``size`` bytes over ``route`` starting at ``start`` s.

    ``latency`` is the route's one-way latency (the sum of its links' latencies).
    """

    route: tuple[Resource, ...]
    size: float
    start: float = 0.0
    latency: float = 0.0


def simulate_flows(
    capacity: Mapping[Resource, float],
    flows: Sequence[FlowRequest],
    model: ModelName = "lv08",
) -> list[float]:
    """Completion time of each flow under ``model`` (the engine, driven directly)."""
    env = simpy.Environment()
    solver = FlowSolver(env, capacity, model)
    finish: list[float] = [float("nan")] * len(flows)

    def run(index: int, request: FlowRequest):
        yield env.timeout(request.start)
        flow = solver.start(request.route, request.size, request.latency)
        finish[index] = yield flow.done

    for i, request in enumerate(flows):
        env.process(run(i, request))
    env.run()
    return finish
