"""Checkpoint hand-off (seed 000): the device trains, the server continues, the device picks.

1. The device trains on its own data for ``device_epochs``.
2. It sends a checkpoint (weights only, never raw data) to the edge server.
3. The server continues training it on the server's own data for
   ``server_epochs`` and sends it back.
4. Meanwhile the device keeps training its local model (it does not idle).
5. On receipt it evaluates both models on its *local validation* data and
   uses the more accurate one; as it keeps training, it switches back to the
   local model once that one is more accurate (seed 000, Fig. 2).

The curve that matters is the model *in use* on each device
(``device:<id>``). The device notices a returned checkpoint between epochs;
protocol evaluations are charged to the device. With ``handoffs > 1`` the
cycle repeats with the model in use. The server serves checkpoints one at a
time (one accelerator); failures are retried once the devices are back.
While the server is down the device trains no further "while the server
trains" epochs (the epoch in progress completes): it waits for the server or
its checkpoint, so a server that never returns stalls the run instead of
running it for ever.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from edgesim.config.scheme_settings import HandoffScheme
from edgesim.errors import EdgesimError
from edgesim.learning.weights import StateDict, clone_state
from edgesim.schemes.runtime import Process, Runtime
from edgesim.types import DeviceId


def run(rt: Runtime, spec: HandoffScheme) -> Process:
    if rt.server not in rt.holdings or not len(rt.holdings[rt.server].train):
        raise EdgesimError("handoff needs data on the server: set data.partition.server_share > 0")
    devices = spec.devices or rt.clients
    yield rt.env.all_of([rt.env.process(device_side(rt, d, spec)) for d in devices])


@dataclass
class InUse:
    """The device's choice between its own model and the returned checkpoint."""

    returned: nn.Module | None = None
    returned_accuracy: float = -1.0
    using_returned: bool = False


def device_side(rt: Runtime, device: DeviceId, spec: HandoffScheme) -> Process:
    local = rt.new_model()
    choice = InUse()
    curve = f"device:{device}"
    rt.observe(curve, local, force=True)

    def local_epoch(detail: str) -> Process:
        yield from rt.train_epoch(device, local, detail)
        if choice.returned is not None:
            accuracy = yield from validate(rt, device, local)
            choice.using_returned = choice.returned_accuracy > accuracy
        rt.observe(curve, choice.returned if choice.using_returned else local)

    for handoff in range(1, spec.handoffs + 1):
        for epoch in range(1, spec.device_epochs + 1):
            yield from local_epoch(f"hand-off {handoff}: local epoch {epoch}")
        in_use = choice.returned if choice.using_returned else local
        checkpoint = clone_state(in_use.state_dict())  # a retry resends this, not newer weights
        returned = rt.env.process(server_side(rt, device, checkpoint, spec, handoff))
        server = rt.devices[rt.server]
        while not returned.triggered:
            if server.up:
                yield from local_epoch(f"hand-off {handoff}: training while the server trains")
            else:  # nothing of the checkpoint progresses: wait for the server or the return
                yield from rt.wait(
                    device, returned | server.came_up, f"hand-off {handoff}: the server is down"
                )
        choice.returned = rt.model_from(returned.value)
        choice.returned_accuracy = yield from validate(rt, device, choice.returned)
        local_accuracy = yield from validate(rt, device, local)
        choice.using_returned = choice.returned_accuracy >= local_accuracy
        rt.observe(curve, choice.returned if choice.using_returned else local)
    for epoch in range(1, spec.after_return_epochs + 1):
        yield from local_epoch(f"after return: local epoch {epoch}")
    rt.observe(curve, choice.returned if choice.using_returned else local, force=True)


def validate(rt: Runtime, device: DeviceId, model: nn.Module) -> Process:
    return (yield from rt.persist([device], rt.validate, device, model))


def server_side(
    rt: Runtime, device: DeviceId, checkpoint: StateDict, spec: HandoffScheme, handoff: int
) -> Process:
    """Receive the checkpoint, continue training on server data, send it back."""
    server = rt.server
    received = yield from rt.persist(
        [device, server], rt.send_state, device, server, checkpoint, "checkpoint"
    )
    model = rt.model_from(received)
    for epoch in range(1, spec.server_epochs + 1):
        yield from rt.train_epoch(server, model, f"{device}'s checkpoint, epoch {epoch}")
        rt.observe(f"server:{device}", model)
    return (
        yield from rt.persist(
            [server, device],
            rt.send_state,
            server,
            device,
            model.state_dict(),
            "checkpoint back",
        )
    )
