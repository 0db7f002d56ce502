"""Batched clients (torch.func over stacked weights) equal sequential training within rounding."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from torch import nn

from edgesim.config import from_model, validate_scenario
from edgesim.learning.batched import ClientBatcher, train_batched, unbatchable
from edgesim.learning.datasets import Dataset, load_dataset
from edgesim.learning.models import build_model
from edgesim.learning.training import (
    PLAIN,
    BatchStream,
    LocalUpdate,
    Optimizer,
    Proximal,
    train_steps,
)
from edgesim.runner import run_scenario
from tests.conftest import TINY

TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0).train


def shards(data: Dataset, sizes: list[int]) -> list[Dataset]:
    """Consecutive slices of ``data``: unequal sizes give unequal last batches."""
    bounds = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
    return [data.subset(range(a, b)) for a, b in zip(bounds, bounds[1:], strict=False)]


def streams(parts: list[Dataset], batch_size: int) -> list[BatchStream]:
    return [
        BatchStream(part, batch_size, torch.Generator().manual_seed(index))
        for index, part in enumerate(parts)
    ]


def assert_same_weights(a: nn.Module, b: nn.Module) -> None:
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, **TOLERANCE, msg=name)


MOMENTUM = Optimizer(0.05, momentum=0.9, weight_decay=1e-3)


@pytest.mark.parametrize(
    ("name", "optimizer"),
    [("mlp", Optimizer(0.05)), ("mlp", MOMENTUM), ("cnn-small", MOMENTUM), ("lenet5", Optimizer())],
)
def test_batched_equals_sequential(digits, name, optimizer):
    # 70 and 45 samples in batches of 16 end epochs on short batches; steps differ per client
    parts = shards(digits, [70, 45, 64])
    steps = [7, 3, 5]
    initial = build_model(name, digits.input_shape, digits.num_classes, seed=1)
    sequential = [copy.deepcopy(initial) for _ in parts]
    batched = [copy.deepcopy(initial) for _ in parts]
    updates = [PLAIN, Proximal(initial, 0.5), PLAIN]
    expected = [
        train_steps(m, s, n, optimizer, update=u)
        for m, s, n, u in zip(sequential, streams(parts, 16), steps, updates, strict=True)
    ]
    losses = train_batched(batched, streams(parts, 16), steps, optimizer, updates=updates)
    assert losses == pytest.approx(expected, rel=1e-4)
    for a, b in zip(sequential, batched, strict=True):
        assert_same_weights(a, b)
        assert b.training


def test_the_streams_end_where_sequential_training_leaves_them(digits):
    parts = shards(digits, [40, 50])
    models = [build_model("mlp", digits.input_shape, digits.num_classes, seed=0) for _ in parts]
    ours, theirs = streams(parts, 16), streams(parts, 16)
    train_batched(models, ours, [6, 2], Optimizer())
    for stream, count in zip(theirs, [6, 2], strict=True):
        for _ in range(count):
            stream.next_batch()
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a.next_batch()[1], b.next_batch()[1])
        assert torch.equal(a.next_batch()[1], b.next_batch()[1])  # into a new epoch


def test_fork_draws_the_next_batches_and_leaves_the_stream_alone(digits):
    stream = streams(shards(digits, [40]), 16)[0]
    forked = stream.fork()
    ahead = [forked.next_batch()[1] for _ in range(5)]  # crosses an epoch: a new permutation
    assert all(torch.equal(a, stream.next_batch()[1]) for a in ahead)


class Clipped(LocalUpdate):
    def before_step(self, model: nn.Module) -> None:
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)


@pytest.mark.parametrize(
    ("model", "update", "why"),
    [
        (nn.Sequential(nn.Flatten(), nn.Linear(64, 10), nn.BatchNorm1d(10)), PLAIN, "BatchNorm"),
        (
            nn.Sequential(
                nn.Flatten(), nn.Linear(64, 10), nn.BatchNorm1d(10, track_running_stats=False)
            ),
            PLAIN,
            "BatchNorm",
        ),
        (nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(64, 10)), PLAIN, "dropout"),
        (nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), Clipped(), "Clipped"),
    ],
)
def test_what_cannot_be_batched_says_why_and_trains_sequentially(digits, model, update, why):
    assert why in unbatchable(model, update, Optimizer())
    parts = shards(digits, [40, 40])
    sequential = [copy.deepcopy(model) for _ in parts]
    batched = [copy.deepcopy(model) for _ in parts]
    torch.manual_seed(0)  # dropout draws from the global generator, in the same order
    for m, s in zip(sequential, streams(parts, 16), strict=True):
        train_steps(m, s, 3, Optimizer(), update=update)
    torch.manual_seed(0)
    train_batched(batched, streams(parts, 16), [3, 3], Optimizer(), updates=[update, update])
    for a, b in zip(sequential, batched, strict=True):
        assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_a_batcher_applies_each_result_when_its_client_ends(digits):
    parts = shards(digits, [60, 50, 40])
    initial = build_model("cnn-small", digits.input_shape, digits.num_classes, seed=2)
    sequential = [copy.deepcopy(initial) for _ in parts]
    deferred = [copy.deepcopy(initial) for _ in parts]
    expected = [
        train_steps(m, s, 4, Optimizer())
        for m, s in zip(sequential, streams(parts, 16), strict=True)
    ]
    batcher = ClientBatcher(Optimizer())
    ours = streams(parts, 16)
    jobs = [batcher.begin(m, s, 4) for m, s in zip(deferred, ours, strict=True)]
    untouched = [p.clone() for p in deferred[2].parameters()]
    first = batcher.finish(jobs[0])  # the first result needed trains all three together
    assert first == pytest.approx(expected[0], rel=1e-4)
    assert all(torch.equal(p, q) for p, q in zip(deferred[2].parameters(), untouched, strict=True))
    assert [batcher.finish(job) for job in jobs[1:]] == pytest.approx(expected[1:], rel=1e-4)
    for a, b in zip(sequential, deferred, strict=True):
        assert_same_weights(a, b)
    assert batcher.counts == {"groups": 1, "batched": 3, "sequential": 0, "dropped": 0}


def test_a_batcher_falls_back_when_weights_or_batches_changed_meanwhile(digits):
    parts = shards(digits, [60, 50, 40])
    initial = build_model("mlp", digits.input_shape, digits.num_classes, seed=2)
    models = [copy.deepcopy(initial) for _ in parts]
    ours = streams(parts, 16)
    batcher = ClientBatcher(Optimizer())
    jobs = [batcher.begin(m, s, 3) for m, s in zip(models, ours, strict=True)]
    batcher.finish(jobs[0])
    with torch.no_grad():  # someone loads other weights into client 1 while it computes
        next(models[1].parameters()).add_(1.0)
    ours[2].next_batch()  # and someone else trains on client 2's data first
    expected_models = [copy.deepcopy(m) for m in models[1:]]
    expected_streams = streams(parts, 16)[1:]
    expected_streams[1].next_batch()
    expected = [
        train_steps(m, s, 3, Optimizer())
        for m, s in zip(expected_models, expected_streams, strict=True)
    ]
    assert [batcher.finish(job) for job in jobs[1:]] == expected  # sequential: bit for bit
    for a, b in zip(expected_models, models[1:], strict=True):
        assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert batcher.counts == {"groups": 1, "batched": 1, "sequential": 2, "dropped": 0}


def test_a_dropped_job_leaves_model_and_stream_as_they_were(digits):
    parts = shards(digits, [60, 50])
    models = [build_model("mlp", digits.input_shape, digits.num_classes, seed=2) for _ in parts]
    before = [p.clone() for p in models[1].parameters()]
    ours = streams(parts, 16)
    batcher = ClientBatcher(Optimizer())
    jobs = [batcher.begin(m, s, 3) for m, s in zip(models, ours, strict=True)]
    batcher.finish(jobs[0])
    batcher.drop(jobs[1])
    assert all(torch.equal(p, q) for p, q in zip(models[1].parameters(), before, strict=True))
    assert torch.equal(ours[1].next_batch()[1], streams(parts, 16)[1].next_batch()[1])
    assert batcher.begin(models[0], ours[0], 0) is None  # nothing to train


def test_a_run_with_batched_clients_has_the_same_timeline_and_says_so():
    schemes = [
        {"scheme": "fedavg", "rounds": 3, "round_deadline_s": 1.0},
        {"scheme": "fedasync", "updates": 8, "alpha": 0.6, "rho": 0.01},
    ]
    data = {**copy.deepcopy(TINY), "schemes": schemes}
    runs = [
        run_scenario(
            from_model(validate_scenario(data, "<test>", Path.cwd()), "<test>", Path.cwd()),
            batch_clients=batch,
        )
        for batch in (False, True)
    ]
    for plain, batched in zip(*(r["runs"] for r in runs), strict=True):
        for key in ("sim_time_s", "timeline", "bytes", "devices", "counters"):
            assert batched[key] == plain[key], key
        assert batched["final_accuracy"] == pytest.approx(plain["final_accuracy"], abs=0.02)
    assert runs[0]["meta"]["accuracy_notes"] == []
    assert runs[1]["meta"]["accuracy_notes"][0].startswith("batch_clients:")
