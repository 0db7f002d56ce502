"""Local training only: every client trains alone on its own data, nothing is sent.

The baseline every collaborative scheme must beat: no traffic, no waiting,
but each model sees only its owner's (possibly skewed) data. The curve of each
device's own model is recorded; a device that goes down loses the epoch in
progress and resumes when it is back.
"""

from __future__ import annotations

from edgesim.config.scheme_settings import LocalScheme
from edgesim.schemes.runtime import Process, Runtime
from edgesim.types import DeviceId


def run(rt: Runtime, spec: LocalScheme) -> Process:
    yield rt.env.all_of([rt.env.process(train_alone(rt, c, spec.epochs)) for c in rt.clients])


def planned_steps(rt: Runtime, spec: LocalScheme) -> int:
    """Every client's epochs over its own data: the steps of a run without failures."""
    return spec.epochs * sum(rt.steps_per_epoch(client) for client in rt.clients)


def train_alone(rt: Runtime, client: DeviceId, epochs: int) -> Process:
    model = rt.new_model()
    curve = f"device:{client}"
    rt.observe(curve, model, force=True)
    for epoch in range(1, epochs + 1):
        yield from rt.train_epoch(client, model, f"epoch {epoch}")
        rt.observe(curve, model, force=epoch == epochs)
