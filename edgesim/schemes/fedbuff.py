"""FedBuff (Nguyen et al., "Federated Learning with Buffered Asynchronous Aggregation", 2022).

Clients loop exactly as in FedAsync (:mod:`edgesim.schemes.fedasync`): pull
the server's model and version, train ``local_epochs``, push — but what they
push is their *delta* (trained weights minus the weights they pulled). The
server does not apply each delta at once: it buffers them, and when
``buffer_size`` (K) have arrived it takes one server step (Alg. 1)

    x <- x + server_lr * (1/K) * sum_i s(tau_i) * delta_i,  s(tau) = 1 / sqrt(1 + tau)

where ``tau_i`` is the number of server steps taken since client ``i``
pulled. The run stops after ``server_steps`` steps (or ``time_budget_s``).

Choices where the paper is silent: the delta is sent in the weights' own
dtype (the same bytes as a model); deltas arriving after the last step are
discarded; the server step is not charged (a weighted sum of K vectors);
failures are handled as in FedAsync. Counters: ``server_updates`` (steps),
``client_updates`` (deltas buffered), ``staleness_total`` (sum of ``tau``
over the buffered deltas), ``lost_updates``.
"""

from __future__ import annotations

from torch import nn

from edgesim.config.scheme_settings import FedBuffScheme
from edgesim.learning.deltas import delta
from edgesim.learning.staleness import buffered_step
from edgesim.learning.weights import StateDict
from edgesim.schemes.fedasync import AsyncServer, serve
from edgesim.schemes.runtime import Process, Runtime
from edgesim.types import DeviceId


class FedBuffServer(AsyncServer):
    def __init__(self, rt: Runtime, model: nn.Module, spec: FedBuffScheme):
        super().__init__(rt, model, spec.server_steps)
        self.buffer_size = spec.buffer_size
        self.server_lr = spec.server_lr
        self.deltas: list[StateDict] = []
        self.staleness: list[int] = []

    def update_from(self, start: StateDict, trained: StateDict) -> StateDict:
        return delta(trained, start)

    def receive(self, client: DeviceId, update: StateDict, started_from: int) -> None:
        tau = self.version - started_from
        self.deltas.append(update)
        self.staleness.append(tau)
        self.rt.recorder.count("client_updates")
        self.rt.recorder.count("staleness_total", tau)
        if len(self.deltas) == self.buffer_size:
            stepped = buffered_step(
                self.model.state_dict(), self.deltas, self.staleness, self.server_lr
            )
            self.model.load_state_dict(stepped)
            self.deltas, self.staleness = [], []
            self.advance()


def run(rt: Runtime, spec: FedBuffScheme) -> Process:
    server = FedBuffServer(rt, rt.new_model(), spec)
    yield from serve(rt, server, spec)
