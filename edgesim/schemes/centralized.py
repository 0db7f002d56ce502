"""Centralised training: clients upload their raw data, the server trains on all of it.

The privacy-exposing reference point of seed 000 ("uploading the raw images
instead would be 28 MB / 112 MB"): every byte of the clients' samples, in
their source encoding, leaves the device and is counted as raw data. The
server trains once the uploads are in (or the upload deadline passes; late
clients' data is left out), on its own share plus everything received.
"""

from __future__ import annotations

import simpy

from edgesim.config.scheme_settings import CentralizedScheme
from edgesim.learning.datasets import concat
from edgesim.learning.training import BatchStream
from edgesim.schemes.runtime import Process, Runtime
from edgesim.types import DeviceId


def run(rt: Runtime, spec: CentralizedScheme) -> Process:
    server = rt.server
    uploads = {c: rt.env.process(upload_data(rt, c)) for c in rt.clients}
    waiting = [rt.env.all_of(list(uploads.values()))]
    if spec.upload_deadline_s is not None:
        waiting.append(rt.env.timeout(spec.upload_deadline_s))
    yield from rt.wait(server, rt.env.any_of(waiting), "waiting for raw data uploads")
    for upload in uploads.values():
        if upload.is_alive:
            upload.interrupt("upload deadline")
            rt.recorder.count("late_uploads")

    received = [upload.value for upload in uploads.values() if upload.triggered and upload.value]
    own = rt.holdings[server].train if server in rt.holdings else None
    pooled = concat([d for d in [own, *received] if d is not None and len(d)])
    batches = BatchStream(pooled, rt.batch_size, rt.generator_for(server, "centralized"))
    model = rt.new_model()
    rt.observe("global", model, force=True)
    for epoch in range(1, spec.epochs + 1):
        yield from rt.persist(
            [server], rt.train_on, server, model, batches, batches.steps_per_epoch, f"epoch {epoch}"
        )
        rt.observe("global", model, force=epoch == spec.epochs)


def planned_steps(rt: Runtime, spec: CentralizedScheme) -> int:
    """The server's epochs over every holder's training data, all of it uploaded in time."""
    pooled = sum(len(holding.train) for holding in rt.holdings.values())
    return spec.epochs * max(1, -(-pooled // rt.batch_size))


def upload_data(rt: Runtime, client: DeviceId) -> Process:
    """Send a client's training samples to the server, retrying on failure.

    Its local validation samples stay on the device, as in every other
    scheme, so the server trains on exactly the data the others train on.
    """
    data = rt.holdings[client].train
    try:
        yield from rt.persist(
            [client, rt.server],
            rt.send,
            client,
            rt.server,
            data.raw_bytes(),
            "raw data",
            True,
        )
    except simpy.Interrupt:
        return None
    return data
