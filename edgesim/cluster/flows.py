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

Why it is built this way: a fleet has thousands of flows in flight, and every start
or end re-solves them all, so per-flow Python work on each re-solve is what a run
costs. SimGrid's ``network/optim:Full`` re-solves the whole system each time and
its ``Lazy`` mode (``selective_update``, an action heap) brings an action's remaining
work up to date only when its rate changes. Here the rates are re-solved in full —
exactly, as ``Full`` does (``Lazy`` mis-solves simultaneous joins in 3.32) — but with
numpy, on arrays kept up to date as flows join and leave (a leaving flow's row is
filled by the last one: removal is O(route length)). Progressive filling freezes, in
one vectorised step, every flow on a link whose level no flow crossing it can undercut
(elsewhere or by its bound), so steps are few: the depth of the bottleneck chain, not
the number of links. Bytes are accounted lazily, as in ``Lazy``: a flow's remaining
bytes and completion time change only when its rate does; the earliest completion
time is the next wake-up, and that one wake-up serves every flow ending then.

:class:`FlowSolver` is the SimPy engine used by :class:`edgesim.cluster.network.Network`;
:func:`simulate_flows` drives it directly (links, flows → completion times) for
tests and for checks against SimGrid (``benchmarks/simgrid_check.py``); :func:`fill`
is the solver itself, on indices.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import simpy

from edgesim.cluster.clock import HousekeepingTimeout

Resource = Hashable
"""One direction of one link (or any other shared capacity), in bytes per second."""

ModelName = Literal["lv08", "cm02", "max-min"]

_DONE_BYTES = 1e-6


def _slack(size: float) -> float:
    """Bytes left that count as none for a flow of ``size`` bytes (rounding of its accounting)."""
    return _DONE_BYTES + 1e-12 * size


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
    link saturates, or ``bounds[i]`` if that is reached first. An empty route is not
    limited by the network (rate ``min(inf, bound)``).
    """
    pad = len(capacity)
    hops = np.full((max(map(len, routes), default=0) or 1, len(routes)), pad, np.intp)
    for i, route in enumerate(routes):
        hops[: len(route), i] = route
    rates = _fill(
        np.append(np.asarray(capacity, float), math.inf),
        hops,
        np.asarray(weights, float),
        np.asarray(bounds, float),
    )
    return rates.tolist()


def _fill(
    capacity: np.ndarray, hops: np.ndarray, weight: np.ndarray, bound: np.ndarray
) -> np.ndarray:
    """:func:`fill` on arrays: ``hops[k, i]`` is flow ``i``'s ``k``-th link, or the padding.

    The padding is the last resource, of capacity inf. Each step freezes the flows whose
    bound is below every level on their route, and the flows on each link whose level
    no flow crossing it undercuts (by a lower level elsewhere or by its bound): levels
    only rise as flows freeze below them, so nothing can saturate such a link sooner.
    """
    size = len(capacity)
    left = np.maximum(capacity, 0.0)
    rates = np.empty(len(weight))
    todo = np.arange(len(weight))
    while True:
        flat = hops.ravel()
        wsum = np.bincount(flat, _per_hop(weight, hops), minlength=size)
        with np.errstate(divide="ignore", invalid="ignore"):  # links no flow left crosses
            level = np.maximum(left, 0.0) / wsum
        on_route = level.take(hops)
        own = on_route.min(axis=0)
        cap = bound / weight
        capped = (cap < own) | (own == np.inf)
        undercut = np.bincount(hops[np.minimum(own, cap) < on_route], minlength=size)
        frozen = capped | (undercut == 0).take(hops).any(axis=0)
        rate = np.where(capped, bound, own * weight)
        rates[todo] = rate  # final for the frozen; the others are solved again
        if frozen.all():
            return rates
        done = frozen.nonzero()[0]
        route, rate = hops.take(done, axis=1), rate[done]
        taken = np.bincount(route.ravel(), _per_hop(rate, route), minlength=size)
        left[:-1] -= taken[:-1]  # the padding keeps its inf
        keep = (~frozen).nonzero()[0]
        todo, hops, weight, bound = todo[keep], hops.take(keep, axis=1), weight[keep], bound[keep]


def _per_hop(values: np.ndarray, hops: np.ndarray) -> np.ndarray:
    """``values`` (one per flow) for every entry of ``hops.ravel()``."""
    return values[np.newaxis].repeat(len(hops), axis=0).ravel()


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

    __slots__ = ("route", "size", "done", "_table", "_row", "_left")

    def __init__(self, table: _FlowTable, route: tuple[Resource, ...], size: float):
        self.route = route
        self.size = size
        self.done = table.env.event()
        self._table = table
        self._row = -1  # its row in the table while it shares links
        self._left = float(size)  # bytes not sent, while it has no row

    @property
    def rate(self) -> float:
        """Bytes per second now (0 before it joins the sharing and after it leaves)."""
        return float(self._table.rate[self._row]) if self._row >= 0 else 0.0

    @property
    def remaining(self) -> float:
        """Bytes not yet sent, now."""
        return self._table.remaining(self._row) if self._row >= 0 else self._left


class _FlowTable:
    """The flows sharing links, one row each in arrays (rows ``0 … n-1``, in no order).

    A leaving flow's row is filled by the last row, so that the first ``n`` rows are
    the solver's input as they stand. Flows ending at one instant finish in the order
    ``end``, ``stamp``, ``joined``: that of a heap of completions fed in join order at
    each re-solve.
    """

    hops: np.ndarray  # hops[k, row]: the row's k-th link, or the padding
    weight: np.ndarray  # share weight: 1 / penalty
    bound: np.ndarray  # bytes/s: the TCP window's bound
    slack: np.ndarray  # bytes that count as none left
    left: np.ndarray  # bytes left at time ``since``
    since: np.ndarray
    rate: np.ndarray  # bytes/s since ``since``
    end: np.ndarray  # when the flow ends at ``rate``; inf at rate 0
    stamp: np.ndarray  # the re-solve that set ``end``
    joined: np.ndarray  # join order

    _FIELDS = ("weight", "bound", "slack", "left", "since", "rate", "end", "stamp", "joined")

    def __init__(self, env: simpy.Environment, pad: int):
        self.env = env
        self.pad = pad
        self.n = 0
        self.flows: list[Flow | None] = []
        self.hops = np.full((1, 0), pad, np.intp)
        for name in self._FIELDS:
            setattr(self, name, np.zeros(0, np.int64 if name in ("stamp", "joined") else float))

    def add(
        self, flow: Flow, links: Sequence[int], weight: float, bound: float, joined: int
    ) -> None:
        """``flow`` joins at rate 0 (until the next re-solve) in row ``n``."""
        if self.n == len(self.flows) or len(links) > len(self.hops):
            self._grow(max(16, 2 * self.n, len(self.flows)), len(links))
        row = self.n
        self.flows[row], flow._row = flow, row
        self.hops[: len(links), row] = links
        self.weight[row], self.bound[row] = weight, bound
        self.slack[row] = _slack(flow.size)
        self.left[row], self.since[row], self.rate[row] = flow._left, self.env.now, 0.0
        self.end[row], self.stamp[row], self.joined[row] = math.inf, 0, joined
        self.n += 1

    def remove(self, flow: Flow) -> None:
        """Take ``flow`` out, its bytes left kept on it; the last row fills its row."""
        row, last = flow._row, self.n - 1
        flow._left, flow._row = self.remaining(row), -1
        moved = self.flows[last]
        self.flows[row], moved._row = moved, row
        self.hops[:, row] = self.hops[:, last]
        self.hops[:, last] = self.pad
        for name in self._FIELDS:
            array = getattr(self, name)
            array[row] = array[last]
        self.n = last

    def remaining(self, row: int) -> float:
        return float(self.left[row] - self.rate[row] * (self.env.now - self.since[row]))

    def _grow(self, rows: int, hops: int) -> None:
        routes = np.full((max(hops, len(self.hops)), rows), self.pad, np.intp)
        routes[: len(self.hops), : self.n] = self.hops[:, : self.n]
        self.hops = routes
        for name in self._FIELDS:
            array = getattr(self, name)
            grown = np.zeros(rows, array.dtype)
            grown[: self.n] = array[: self.n]
            setattr(self, name, grown)
        self.flows.extend([None] * (rows - len(self.flows)))


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
        payload = [bw * self.model.bandwidth_factor for bw in self.capacity.values()]
        self._payload = np.array([*payload, math.inf])  # the last: padding of short routes
        self._table = _FlowTable(env, len(payload))
        self._flows: dict[Flow, None] = {}  # in the order they joined
        self._joined = 0
        self._solves = 0
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
        flow = Flow(self._table, tuple(route), size)
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
        if not flow.route or flow._left <= _slack(flow.size):
            flow.done.succeed(self.env.now)  # no link limits it, or nothing to send
            return
        self._joined += 1
        links = [self._index[res] for res in flow.route]
        self._table.add(flow, links, weight, bound, self._joined)
        self._flows[flow] = None
        self._changed()

    def _remove(self, flow: Flow) -> None:
        del self._flows[flow]
        self._table.remove(flow)

    def _changed(self) -> None:
        """Re-solve once at this instant, after every start, end and abort due now."""
        if not self._resolve_pending:
            self._resolve_pending = True
            HousekeepingTimeout(self.env, 0).callbacks.append(self._resolve)

    def _resolve(self, _event: simpy.Event) -> None:
        """Re-solve rates; bring the flows whose rate changed up to date; wake at the next end."""
        self._resolve_pending = False
        t, n, now = self._table, self._table.n, self.env.now
        rate, left = t.rate[:n], t.left[:n]
        new = _fill(self._payload, t.hops[:, :n], t.weight[:n], t.bound[:n])
        changed = new != rate
        np.subtract(left, rate * (now - t.since[:n]), out=left, where=changed)
        end = now + np.divide(left, new, out=np.full(n, math.inf), where=new > 0)  # 0: never
        self._solves += 1
        for array, value in ((t.end, end), (t.since, now), (t.rate, new), (t.stamp, self._solves)):
            np.copyto(array[:n], value, where=changed)
        self._schedule()

    def _schedule(self) -> None:
        t = self._table
        end = float(t.end[: t.n].min()) if t.n else math.inf
        if end < math.inf:
            self._generation += 1
            generation = self._generation
            wake = HousekeepingTimeout(self.env, max(end - self.env.now, 0.0))
            wake.callbacks.append(lambda _ev: self._wake(generation))

    def _wake(self, generation: int) -> None:
        if generation != self._generation:
            return
        t, now = self._table, self.env.now
        rows = self._due()
        order = np.lexsort((t.joined[rows], t.stamp[rows], t.end[rows]))
        finished = [t.flows[row] for row in rows[order]]
        for flow in finished:
            self._remove(flow)
        for flow in finished:
            flow.done.succeed(now)
        if finished:
            self._changed()
        else:
            self._schedule()

    def _due(self) -> np.ndarray:
        """Rows of the flows ending now, before the first flow that is not due yet.

        A flow is due when its end has come, or its last bytes take less time than
        the clock can add to ``now``: rounding of ``now + wait`` can leave a few bytes
        that a timeout cannot drain, and the clock would stop, the solver waking for
        ever at one instant.
        """
        t, n, now = self._table, self._table.n, self.env.now
        end, rate = t.end[:n], t.rate[:n]
        left = t.left[:n] - rate * (now - t.since[:n])
        with np.errstate(divide="ignore", invalid="ignore"):
            due = (end <= now) | (left <= t.slack[:n]) | (now + left / rate <= now)
        due &= end < math.inf
        first_not_due = end[~due].min(initial=math.inf)
        return (due & (end < first_not_due)).nonzero()[0]


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
