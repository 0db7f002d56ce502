"""Flow-level network model: max-min fair bandwidth sharing over the whole network.

This is SimGrid's flow model (Velho et al., "On the validity of flow-level TCP
network models", TOMACS 2013): a transfer first pays its route's latency, then
its bytes flow at a rate found by *progressive filling* — all unfinished flows
grow their rate together until some link saturates; the flows crossing that
link are frozen at that rate, and filling goes on with the rest. Rates are
re-solved only when a flow starts or ends, and the clock jumps to the next
completion. Queuing transfers one at a time per link, or fixing a rate when a
flow starts, gets contention wrong; this does not.

:class:`FlowSolver` is the SimPy engine used by :class:`edgesim.cluster.network.Network`;
:func:`simulate_flows` drives it directly (links, flows → completion times) for
tests and for checks against other simulators.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import simpy

Resource = Hashable
"""One direction of one link (or any other shared capacity), in bytes per second."""

_DONE_BYTES = 1e-6


def max_min_rates(
    capacity: Mapping[Resource, float], routes: Mapping[Hashable, Sequence[Resource]]
) -> dict[Hashable, float]:
    """Max-min fair rate of every flow, by progressive filling.

    A flow with an empty route is not limited by the network (rate ``inf``).
    """
    rates: dict[Hashable, float] = {f: float("inf") for f, r in routes.items() if not r}
    unfrozen = {f for f, r in routes.items() if r}
    remaining = dict(capacity)
    while unfrozen:
        crossing: dict[Resource, list[Hashable]] = {}
        for flow in unfrozen:
            for res in routes[flow]:
                crossing.setdefault(res, []).append(flow)
        bottleneck = min(crossing, key=lambda res: (remaining[res] / len(crossing[res]), str(res)))
        share = max(remaining[bottleneck], 0.0) / len(crossing[bottleneck])
        for flow in crossing[bottleneck]:
            rates[flow] = share
            unfrozen.discard(flow)
            for res in routes[flow]:
                remaining[res] -= share
    return rates


class TransferAborted(Exception):
    """A transfer stopped before its last byte: an endpoint or a link on its route went down."""


@dataclass(eq=False)
class Flow:
    route: tuple[Resource, ...]
    size: float
    done: simpy.Event
    remaining: float = field(init=False)
    rate: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.remaining = float(self.size)


class FlowSolver:
    """Active flows on a SimPy clock; re-solves rates whenever the set of flows changes."""

    def __init__(self, env: simpy.Environment, capacity: Mapping[Resource, float]):
        self.env = env
        self.capacity = dict(capacity)
        self.active: list[Flow] = []
        self._last_update = env.now
        self._generation = 0

    def start(self, route: Sequence[Resource], size: float, latency: float = 0.0) -> Flow:
        """A flow of ``size`` bytes that joins the solver after ``latency`` seconds."""
        flow = Flow(tuple(route), size, self.env.event())
        if latency > 0:
            self.env.timeout(latency).callbacks.append(lambda _ev: self._join(flow))
        else:
            self._join(flow)
        return flow

    def abort(self, flow: Flow, reason: str) -> None:
        """Stop ``flow``; whoever waits on ``flow.done`` gets :class:`TransferAborted`."""
        if flow.done.triggered:
            return
        if flow in self.active:
            self._advance()
            self.active.remove(flow)
            self._resolve()
        flow.done.fail(TransferAborted(reason))
        flow.done.defused = True  # the sender may have stopped listening (interrupted)

    def _join(self, flow: Flow) -> None:
        if flow.done.triggered:
            return
        self._advance()
        self.active.append(flow)
        self._resolve()

    def settle(self) -> None:
        """Bring every active flow's ``remaining`` bytes up to the current time."""
        self._advance()

    def _advance(self) -> None:
        elapsed = self.env.now - self._last_update
        if elapsed > 0:
            for flow in self.active:
                flow.remaining -= flow.rate * elapsed
        self._last_update = self.env.now

    def _resolve(self) -> None:
        """Finish flows with no bytes left, re-solve rates, schedule the next completion."""
        finished = [
            f for f in self.active if f.remaining <= _DONE_BYTES + 1e-12 * f.size or self._due(f)
        ]
        for flow in finished:
            self.active.remove(flow)
            flow.done.succeed(self.env.now)
        rates = max_min_rates(self.capacity, {f: f.route for f in self.active})
        for flow in self.active:
            flow.rate = rates[flow]
        self._generation += 1
        waits = [f.remaining / f.rate for f in self.active if f.rate > 0]
        if waits:
            generation = self._generation
            self.env.timeout(max(min(waits), 0.0)).callbacks.append(
                lambda _ev: self._wake(generation)
            )

    def _due(self, flow: Flow) -> bool:
        """Its last bytes take less time than the clock can add to ``now`` (also: rate ``inf``).

        Rounding of ``now + wait`` can leave a few bytes that a timeout cannot drain
        without this: the clock would stop and the solver wake forever at one instant.
        """
        return flow.rate > 0 and self.env.now + flow.remaining / flow.rate <= self.env.now

    def _wake(self, generation: int) -> None:
        if generation == self._generation:
            self._advance()
            self._resolve()


@dataclass(frozen=True)
class FlowRequest:
    """For :func:`simulate_flows`: ``size`` bytes over ``route`` starting at ``start`` s."""

    route: tuple[Resource, ...]
    size: float
    start: float = 0.0
    latency: float = 0.0


def simulate_flows(capacity: Mapping[Resource, float], flows: Sequence[FlowRequest]) -> list[float]:
    """Completion time of each flow under max-min fair sharing (the engine, driven directly)."""
    env = simpy.Environment()
    solver = FlowSolver(env, capacity)
    finish: list[float] = [float("nan")] * len(flows)

    def run(index: int, request: FlowRequest):
        yield env.timeout(request.start)
        flow = solver.start(request.route, request.size, request.latency)
        finish[index] = yield flow.done

    for i, request in enumerate(flows):
        env.process(run(i, request))
    env.run()
    return finish
