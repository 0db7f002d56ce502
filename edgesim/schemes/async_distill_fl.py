"""Asynchronous FL with distillation (seed 003's proposed scheme).

Two server roles:

* the *averaging server* (the ``role: server`` device) runs plain FedAvg of
  the small model (``training.small_model``) with the clients — the rounds,
  deadlines and failure handling of :func:`fedavg.fl_round` — and never
  waits for distillation. After each round it hands the averaged small model
  to the distillation server and starts the next round at once;
* the *distillation server* reverse-distils the averaged small model into the
  large global model (``training.model``) on the distillation data (the
  server's share, ``data.partition.server_share``). There is no forward
  distillation.

``distillation_server`` names the device of the second role. By default it is
the server itself, "both servers on one PC" as in the paper: the two roles
are then separate SimPy processes on one device and compete for its single
compute queue (averaging itself is free in edgesim's cost model, as in
fedavg, so only distillation jobs occupy it) and the hand-over costs no
bytes. When it is another device, that device leaves the FL clients, the
averaged model crosses the network as real bytes, and it is assumed to hold
a copy of the server's distillation data, placed there before training like
every partition.

``mode``:

* ``per-round`` — one reverse-distillation job (``distill_epochs`` over the
  distillation data) per averaging round, in round order; if distillation is
  slower than a round, the jobs queue.
* ``continuous`` — keep reverse-distilling in chunks of ``chunk_steps``,
  each chunk from the latest averaged small model that has arrived, without
  waiting for the next round; when the last round's model arrives, finish
  with one ``distill_epochs`` job from it (choice: the paper does not say
  how the continuous variant ends). A teacher that has already given a full
  job's worth of chunks is not distilled further until a newer model
  arrives (choice: distilling a stale model without end adds nothing, and a
  run whose clients have all left must still finish).

Curves: ``global`` (the large model, primary) and ``small``. Clients only
ever wait for the round's stragglers.
"""

from __future__ import annotations

import numpy as np
import simpy

from edgesim.config.scheme_settings import AsyncDistillFLScheme
from edgesim.errors import EdgesimError, did_you_mean
from edgesim.learning.weights import StateDict, clone_state
from edgesim.schemes.distill_fl import distil, distill_steps_per_job, require_server_data
from edgesim.schemes.fedavg import fl_round
from edgesim.schemes.runtime import Process, Runtime
from edgesim.types import DeviceId


def run(rt: Runtime, spec: AsyncDistillFLScheme) -> Process:
    require_server_data(rt, spec.scheme)
    distiller = spec.distillation_server or rt.server
    if distiller not in rt.devices:
        raise EdgesimError(
            f"{spec.scheme}: distillation_server: unknown device '{distiller}'"
            f"{did_you_mean(distiller, rt.devices)}"
        )
    clients = [c for c in rt.clients if c != distiller]
    if not clients:
        raise EdgesimError(f"{spec.scheme}: no FL client is left besides the distillation server")
    mailbox = simpy.Store(rt.env)
    yield rt.env.all_of(
        [
            rt.env.process(averaging_server(rt, spec, distiller, clients, mailbox)),
            rt.env.process(distillation_server(rt, spec, distiller, mailbox)),
        ]
    )


def averaging_server(
    rt: Runtime,
    spec: AsyncDistillFLScheme,
    distiller: DeviceId,
    clients: list[DeviceId],
    mailbox: simpy.Store,
) -> Process:
    """Plain FedAvg of the small model; each round's average is handed over, never waited on."""
    small = rt.new_model("small")
    rng = np.random.default_rng([rt.seed, 0xA5D1])
    rt.observe("small", small, force=True)
    for round_number in range(1, spec.rounds + 1):
        averaged = yield from fl_round(
            rt, small.state_dict(), spec, rng, round_number, kind="small", clients=clients
        )
        if averaged is not None:
            small.load_state_dict(averaged)
        rt.observe("small", small, force=round_number == spec.rounds)
        rt.env.process(
            hand_over(rt, distiller, clone_state(small.state_dict()), round_number, mailbox)
        )


def hand_over(
    rt: Runtime, distiller: DeviceId, state: StateDict, round_number: int, mailbox: simpy.Store
) -> Process:
    """Deliver a round's averaged small model to the distillation server (bytes if remote)."""
    if distiller != rt.server:
        state = yield from rt.persist(
            [distiller, rt.server],
            rt.send_state,
            rt.server,
            distiller,
            state,
            f"round {round_number} small model to the distillation server",
        )
    yield mailbox.put((round_number, state))


def distillation_server(
    rt: Runtime, spec: AsyncDistillFLScheme, distiller: DeviceId, mailbox: simpy.Store
) -> Process:
    """Reverse-distil the arriving small models into the global large model."""
    large = rt.new_model("main")
    rt.observe("global", large, force=True)
    if spec.mode == "per-round":
        for expected in range(1, spec.rounds + 1):
            round_number, state = yield from rt.wait(
                distiller, mailbox.get(), f"waiting for round {expected}'s small model"
            )
            teacher = rt.model_from(state, "small")
            yield from distil(
                rt, large, teacher, spec, f"round {round_number}'s small model", device=distiller
            )
            rt.observe("global", large, force=expected == spec.rounds)
        return
    round_number, state = yield from rt.wait(
        distiller, mailbox.get(), "waiting for the first averaged small model"
    )
    received = 1
    full_job = distill_steps_per_job(rt, spec.distill_epochs)
    spent_on_teacher = 0
    while received < spec.rounds:
        if spent_on_teacher >= full_job:
            round_number, state = yield from rt.wait(
                distiller, mailbox.get(), "distilled a full job from the latest model; waiting"
            )
            received += 1
            spent_on_teacher = 0
            continue
        teacher = rt.model_from(state, "small")
        yield from distil(
            rt,
            large,
            teacher,
            spec,
            f"round {round_number}'s small model (continuous)",
            steps=spec.chunk_steps,
            device=distiller,
        )
        rt.observe("global", large)
        spent_on_teacher += spec.chunk_steps
        while mailbox.items:
            round_number, state = yield mailbox.get()
            received += 1
            spent_on_teacher = 0
    teacher = rt.model_from(state, "small")
    yield from distil(
        rt, large, teacher, spec, f"round {round_number}'s small model (final)", device=distiller
    )
    rt.observe("global", large, force=True)
