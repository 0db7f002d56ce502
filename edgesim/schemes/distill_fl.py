"""Synchronous FL with distillation (seed 003's conventional scheme [1], seed 004's "12-6").

The server holds the large global model (``training.model``) and data used
only for distillation (``data.partition.server_share``); clients train a small
model (``training.small_model``). Each round:

(a) *forward distillation*: the server distils the global model into the
    small model on its data (``forward_distillation: false`` skips it: the
    small model carries over from the previous round's average);
(b) clients train the small model on their data and return it — a FedAvg
    round, with its deadline and failure handling (:func:`fedavg.fl_round`);
(c) the server averages the small models;
(d) *reverse distillation*: the averaged small model teaches the global model
    on the server's data.

It is synchronous: the server waits while clients train (recorded by the
FedAvg round) and the clients wait while the server distils (recorded here,
as "waiting for the server's distillation"). Curves: ``global`` (the large
model, primary) and ``small``.

Choices where the seeds are silent: forward distillation continues from the
current small model rather than a fresh one; each distillation job is
``distill_epochs`` epochs over the server's data with Hinton et al.'s KD loss
(temperature ``temperature``, no hard labels unless ``hard_label_weight`` > 0
— the server's data is "distillation only"); the same SGD settings as
training; observing both curves after each round.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from edgesim.config.scheme_settings import AsyncDistillFLScheme, DistillFLScheme, GearScheme
from edgesim.errors import EdgesimError
from edgesim.schemes.fedavg import fl_round
from edgesim.schemes.runtime import Process, Runtime
from edgesim.types import DeviceId, SimTime

DistillationSettings = DistillFLScheme | GearScheme


def run(rt: Runtime, spec: DistillFLScheme) -> Process:
    require_server_data(rt, spec.scheme)
    large, small = rt.new_model("main"), rt.new_model("small")
    rng = np.random.default_rng([rt.seed, 0xD157])
    rt.observe("global", large, force=True)
    rt.observe("small", small, force=True)
    clients_idle_since = 0.0
    for round_number in range(1, spec.rounds + 1):
        clients_idle_since = yield from small_model_round(
            rt, large, small, spec, rng, round_number, clients_idle_since
        )
        last = round_number == spec.rounds
        rt.observe("small", small, force=last)
        rt.observe("global", large, force=last)


def small_model_round(
    rt: Runtime,
    large: nn.Module,
    small: nn.Module,
    spec: DistillationSettings,
    rng: np.random.Generator,
    round_number: int,
    clients_idle_since: SimTime,
) -> Process:
    """Steps (a)–(d) of one round; returns when the clients start waiting for the next one."""
    if spec.forward_distillation:
        yield from distil(rt, small, large, spec, f"round {round_number}: forward distillation")
    clients_waited(rt, clients_idle_since, round_number)
    averaged = yield from fl_round(rt, small.state_dict(), spec, rng, round_number, kind="small")
    if averaged is not None:
        small.load_state_dict(averaged)
    clients_idle_since = rt.now
    yield from distil(rt, large, small, spec, f"round {round_number}: reverse distillation")
    return clients_idle_since


def clients_waited(rt: Runtime, since: SimTime, round_number: int) -> None:
    """The clients were blocked on the server's distillation since ``since`` (while up)."""
    for client in rt.clients:
        rt.waited(client, since, f"round {round_number}: waiting for the server's distillation")


def distil(
    rt: Runtime,
    student: nn.Module,
    teacher: nn.Module,
    spec: DistillationSettings | AsyncDistillFLScheme,
    detail: str,
    steps: int | None = None,
    device: DeviceId | None = None,
) -> Process:
    """One distillation job on the server's data, retried if the device fails meanwhile.

    ``steps`` defaults to ``distill_epochs`` over the server's data; ``device``
    (default the server) does the work.
    """
    device = device or rt.server
    steps = steps or distill_steps_per_job(rt, spec.distill_epochs)
    return (
        yield from rt.persist(
            [device],
            rt.distill,
            device,
            student,
            teacher,
            steps,
            f"{detail}, {steps} steps",
            spec.temperature,
            spec.hard_label_weight,
            rt.server,
        )
    )


def distill_steps_per_job(rt: Runtime, epochs: float) -> int:
    return max(1, round(epochs * rt.steps_per_epoch(rt.server)))


def require_server_data(rt: Runtime, scheme: str) -> None:
    if rt.server not in rt.holdings or not len(rt.holdings[rt.server].train):
        raise EdgesimError(
            f"{scheme} distils on the server's data: set data.partition.server_share > 0"
        )
