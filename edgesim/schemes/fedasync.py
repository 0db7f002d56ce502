"""FedAsync (Xie, Koyejo & Gupta, "Asynchronous Federated Optimization", 2019): nobody waits.

Every client loops on its own, never waiting for the others:

1. *pull* the server's current model (and its version, the number of
   updates the server has applied so far);
2. train it ``local_epochs`` on its own data, on the local problem
   ``f(x) + rho/2 ||x - x_pulled||²`` of Alg. 1 (``rho: 0``, the default,
   is plain SGD on ``f``);
3. *push* the trained weights back.

The server applies each arriving model at once (Xie et al., Alg. 1):
``new = (1 - alpha_t) * old + alpha_t * client`` with
``alpha_t = alpha * s(tau)``, where the staleness ``tau`` is the server's
version now minus the version the client pulled, and ``s`` is constant,
polynomial ``(tau + 1) ** -a`` or hinge (``a``, ``b``), as in their §5.

Choices where the paper is silent (or describes a real deployment):

* The scheduler triggers every client at the start and again the moment its
  update is delivered (with ``max_concurrency`` set, at most that many
  clients hold a training slot at once; a client waiting for a slot is
  recorded as waiting). The mixing itself is a few vector operations and is
  not charged to the server.
* A client that goes down loses its model in progress (pulled, training or
  being pushed); when it is back it rejoins by pulling the latest model. If
  the server or a link fails instead, the client retries the moment it can
  reach the server again (:meth:`Runtime.persist`). An update that arrives after the stop criterion
  is not applied.
* The run stops after ``updates`` server updates or at ``time_budget_s``,
  whichever comes first; clients still training then are cut off.

Counters: ``server_updates``, ``client_updates`` (equal here),
``staleness_total`` (sum of ``tau`` over the applied updates) and
``lost_updates`` (client iterations lost to failures).
FedBuff (:mod:`edgesim.schemes.fedbuff`) reuses the client side.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy
from torch import nn

from edgesim.cluster.device import DeviceDown
from edgesim.cluster.flows import TransferAborted
from edgesim.config.scheme_settings import AsyncClients, FedAsyncScheme
from edgesim.learning.staleness import mix, staleness_weight
from edgesim.learning.training import Proximal
from edgesim.learning.weights import StateDict, clone_state
from edgesim.schemes.runtime import Process, Runtime
from edgesim.types import DeviceId


class AsyncServer:
    """The server's model, its version, and the event that ends the run."""

    def __init__(self, rt: Runtime, model: nn.Module, stop_after: int):
        self.rt = rt
        self.model = model
        self.version = 0
        self.stop_after = stop_after
        self.done = rt.env.event()

    def snapshot(self) -> tuple[StateDict, int]:
        return clone_state(self.model.state_dict()), self.version

    def update_from(self, start: StateDict, trained: StateDict) -> StateDict:
        """What a client sends back after training ``start`` into ``trained``."""
        return trained

    def receive(self, client: DeviceId, update: StateDict, started_from: int) -> None:
        raise NotImplementedError

    def advance(self) -> None:
        """One more server version; observe it and end the run when the last one is reached."""
        self.version += 1
        self.rt.recorder.count("server_updates")
        last = self.version >= self.stop_after
        self.rt.observe("global", self.model, force=last)
        if last:
            self.done.succeed()


class FedAsyncServer(AsyncServer):
    def __init__(self, rt: Runtime, model: nn.Module, spec: FedAsyncScheme):
        super().__init__(rt, model, spec.updates)
        self.weight: Callable[[int], float] = lambda tau: (
            spec.alpha * staleness_weight(spec.staleness, tau, spec.a, spec.b)
        )

    def receive(self, client: DeviceId, update: StateDict, started_from: int) -> None:
        tau = self.version - started_from
        self.model.load_state_dict(mix(self.model.state_dict(), update, self.weight(tau)))
        self.rt.recorder.count("client_updates")
        self.rt.recorder.count("staleness_total", tau)
        self.advance()


def run(rt: Runtime, spec: FedAsyncScheme) -> Process:
    server = FedAsyncServer(rt, rt.new_model(), spec)
    yield from serve(rt, server, spec, rho=spec.rho)


def serve(rt: Runtime, server: AsyncServer, spec: AsyncClients, rho: float = 0.0) -> Process:
    """Start every client's loop; return when the server is done or the time budget is spent.

    ``rho`` weighs the proximal term of each client's local problem (FedAsync, Alg. 1).
    """
    rt.observe("global", server.model, force=True)
    slots = None
    if spec.max_concurrency is not None:
        slots = simpy.Resource(rt.env, capacity=spec.max_concurrency)
    for client in rt.clients:
        rt.env.process(client_loop(rt, client, server, spec.local_epochs, slots, rho))
    stop = [server.done]
    if spec.time_budget_s is not None:
        stop.append(rt.env.timeout(spec.time_budget_s))
    yield rt.env.any_of(stop)
    if not server.done.triggered:
        rt.observe("global", server.model, force=True)


def client_loop(
    rt: Runtime,
    client: DeviceId,
    server: AsyncServer,
    local_epochs: float,
    slots: simpy.Resource | None,
    rho: float = 0.0,
) -> Process:
    """Pull → train → push, again and again, until the server is done."""
    steps = max(1, round(local_epochs * rt.steps_per_epoch(client)))
    while not server.done.triggered:
        yield from rt.persist(
            [client, rt.server], one_update, rt, client, server, steps, slots, rho
        )


def one_update(
    rt: Runtime,
    client: DeviceId,
    server: AsyncServer,
    steps: int,
    slots: simpy.Resource | None,
    rho: float = 0.0,
) -> Process:
    """One pull → train → push; the local problem is ``f(x) + rho/2 ||x - x_pulled||²``."""
    request = slots.request() if slots is not None else None
    try:
        if request is not None:
            yield from rt.wait(client, request, "waiting for a training slot")
        state, version = server.snapshot()
        received = yield from rt.send_state(rt.server, client, state, f"model v{version}")
        model = rt.model_from(received)
        proximal = Proximal(model, rho)  # anchored at the model as pulled
        yield from rt.train(client, model, steps, f"{steps} local steps from v{version}", proximal)
        update = server.update_from(received, model.state_dict())
        sent = yield from rt.send_state(client, rt.server, update, f"update from v{version}")
    except (DeviceDown, TransferAborted):
        rt.recorder.count("lost_updates")
        raise
    finally:
        if request is not None and request.triggered:
            slots.release(request)
        elif request is not None:
            request.cancel()
    if not server.done.triggered:
        server.receive(client, sent, version)
