"""ECAvg (seed 001; Mih et al., "ECAvg: An Edge-Cloud Collaborative Learning Approach using
Averaged Weights", arXiv 2310.03823): edges pre-train, the server averages and fine-tunes.

1. Each edge **pre-trains** a local model on its own data (``pretrain_epochs``).
2. It sends the weights to the server, which **averages** them (FedAvg
   weighting by sample count; every edge has the same architecture).
3. The server **fine-tunes** the average on server data (``server_epochs``).
4. It sends the result back; each edge **replaces its local model** with it
   and **fine-tunes it locally** (``finetune_epochs``).

``rounds`` repeats steps 1–4 from the models in use (the paper's case is one
shot, ``rounds: 1``); in later rounds step 1 is ``pretrain_epochs`` more of
local training.

Server data (``server_data``): ``own`` — the server's held share of the data
(``data.partition.server_share`` or ``server_copies``), privacy-preserving;
``uploaded`` — the paper's set-up, where the server trains on the edges' data:
each edge uploads its raw *training* samples (counted as ``raw_data`` bytes)
while it pre-trains, and the server fine-tunes on them plus its own share if it
has one. The edges' local validation samples never leave them, so the
before/after local accuracies below stay honest held-out measures.

Negative transfer is made visible: each edge's accuracy on its **own local
validation data** is recorded as counters ``local_accuracy_before:<id>`` (its
pre-trained model, before the first update), ``local_accuracy_received:<id>``
(the server's model as received, last round) and ``local_accuracy_after:<id>``
(after the last local fine-tuning). The protocol itself never evaluates —
nothing is decided from these numbers, unlike hand-off's choice — so they are
observations (free), not charged work. Curves: ``device:<id>`` (the model in
use on each edge), ``global`` (the server's averaged, then fine-tuned model).
The primary curve is the mean of the edges' models in use: the paper's
deliverable is the updated local models (step 4), and its claim — and its
negative-transfer finding on MNIST — is about them.

Choices where the paper is silent: a round waits for every edge (an edge that
fails loses the epoch or transfer in progress and carries on when it is back);
edges that finish early wait for the server's model, recorded as waiting.
"""

from __future__ import annotations

from torch import nn

from edgesim.config.scheme_settings import EcavgScheme
from edgesim.errors import EdgesimError
from edgesim.learning.datasets import Dataset, concat
from edgesim.learning.training import BatchStream
from edgesim.learning.weights import StateDict, clone_state, weighted_average
from edgesim.schemes.runtime import Process, Runtime
from edgesim.types import DeviceId


def run(rt: Runtime, spec: EcavgScheme) -> Process:
    server, edges = rt.server, rt.clients
    own = rt.holdings[server].train if server in rt.holdings else None
    if spec.server_data == "own" and (own is None or not len(own)):
        raise EdgesimError(
            "ecavg with server_data: own needs data on the server: set "
            "data.partition.server_share > 0 (or server_copies, or server_data: uploaded)"
        )
    uploads = {}
    if spec.server_data == "uploaded":
        uploads = {e: rt.env.process(upload_training_data(rt, e)) for e in edges}
    local = {e: rt.new_model() for e in edges}
    global_model = rt.new_model()
    rt.observe("global", global_model, force=True)
    for edge in edges:
        rt.observe(f"device:{edge}", local[edge], force=True)

    batches = None
    for round_number in range(1, spec.rounds + 1):
        # 1-2. Edges (pre-)train and send their weights; the server averages them.
        jobs = [
            rt.env.process(train_and_send(rt, e, local[e], spec.pretrain_epochs, round_number))
            for e in edges
        ]
        yield from rt.wait(server, rt.env.all_of(jobs), f"round {round_number}: edges training")
        if round_number == 1:
            for edge in edges:
                note_local_accuracy(rt, "before", edge, local[edge])
        states, sizes, sent_at = zip(*(job.value for job in jobs), strict=True)
        global_model.load_state_dict(weighted_average(states, sizes))
        rt.observe("global", global_model, force=True)

        # 3. The server fine-tunes the average on server data.
        if batches is None:
            if uploads:
                yield from rt.wait(
                    server, rt.env.all_of(list(uploads.values())), "waiting for raw data uploads"
                )
            data = [own] if own is not None and len(own) else []
            data += [upload.value for upload in uploads.values()]
            batches = BatchStream(concat(data), rt.batch_size, rt.generator_for(server, "ecavg"))
        for epoch in range(1, spec.server_epochs + 1):
            yield from rt.persist(
                [server],
                rt.train_on,
                server,
                global_model,
                batches,
                batches.steps_per_epoch,
                f"round {round_number}: fine-tune epoch {epoch}",
            )
            rt.observe("global", global_model, force=epoch == spec.server_epochs)

        # 4. Each edge takes the server's model and fine-tunes it locally.
        state = clone_state(global_model.state_dict())
        updates = [
            rt.env.process(
                update_and_finetune(rt, e, local[e], state, spec, round_number, sent_at[i])
            )
            for i, e in enumerate(edges)
        ]
        yield rt.env.all_of(updates)
        rt.recorder.count("rounds")
    for edge in edges:
        note_local_accuracy(rt, "after", edge, local[edge])
        rt.observe(f"device:{edge}", local[edge], force=True)


def train_and_send(
    rt: Runtime, edge: DeviceId, model: nn.Module, epochs: int, round_number: int
) -> Process:
    """Local training, then the weights go to the server; returns (weights, samples, sent at)."""
    for epoch in range(1, epochs + 1):
        yield from rt.train_epoch(edge, model, f"round {round_number}: local epoch {epoch}")
        rt.observe(f"device:{edge}", model)
    received = yield from rt.persist(
        [edge, rt.server], rt.send_model, edge, rt.server, model, f"round {round_number} weights"
    )
    return received, len(rt.holdings[edge].train), rt.now


def update_and_finetune(
    rt: Runtime,
    edge: DeviceId,
    model: nn.Module,
    state: StateDict,
    spec: EcavgScheme,
    round_number: int,
    waiting_since: float,
) -> Process:
    rt.waited(edge, waiting_since, "waiting for the server's model")
    received = yield from rt.persist(
        [edge, rt.server], rt.send_state, rt.server, edge, state, f"round {round_number} model"
    )
    model.load_state_dict(received)
    note_local_accuracy(rt, "received", edge, model)
    rt.observe(f"device:{edge}", model, force=True)
    for epoch in range(1, spec.finetune_epochs + 1):
        yield from rt.train_epoch(
            edge, model, f"round {round_number}: local fine-tune epoch {epoch}"
        )
        rt.observe(f"device:{edge}", model)


def note_local_accuracy(rt: Runtime, when: str, edge: DeviceId, model: nn.Module) -> None:
    """Counter ``local_accuracy_<when>:<edge>``; a timing-only run has no accuracy to note."""
    if not rt.timing_only:
        rt.recorder.counters[f"local_accuracy_{when}:{edge}"] = rt.local_accuracy(edge, model)


def upload_training_data(rt: Runtime, edge: DeviceId) -> Process:
    """Send the edge's raw training samples to the server (retrying on failure)."""
    data: Dataset = rt.holdings[edge].train
    yield from rt.persist(
        [edge, rt.server], rt.send, edge, rt.server, data.raw_bytes(), "raw training data", True
    )
    return data
