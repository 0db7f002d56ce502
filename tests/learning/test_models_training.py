"""Models, real training steps, averaging and the FLOP counts the cost model uses."""

from __future__ import annotations

import pytest
import torch

from edgesim.errors import EdgesimError
from edgesim.learning.datasets import load_dataset
from edgesim.learning.flops import workload_of
from edgesim.learning.models import MODELS, build_model
from edgesim.learning.training import BatchStream, Optimizer, evaluate, train_steps
from edgesim.learning.weights import state_nbytes, weighted_average


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32)])
def test_every_model_adapts_to_the_input_shape(name, shape):
    model = build_model(name, shape, 7, seed=0)
    assert model(torch.zeros(2, *shape)).shape == (2, 7)


def test_the_large_cnn_is_twice_as_deep_as_the_small_one():
    def depth(name):
        model = build_model(name, (3, 32, 32), 10, seed=0)
        return sum(isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) for m in model.modules())

    assert depth("cnn-small") == 6
    assert depth("cnn-large") == 12


def test_same_seed_same_weights_and_unknown_model_is_an_error():
    a = build_model("cnn-small", (1, 8, 8), 10, seed=1).state_dict()
    b = build_model("cnn-small", (1, 8, 8), 10, seed=1).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(EdgesimError, match="did you mean 'cnn-small'"):
        build_model("cnn-smal", (1, 8, 8), 10, seed=1)


def test_training_learns_digits_deterministically(digits):
    def trained():
        model = build_model("cnn-small", digits.train.input_shape, 10, seed=0)
        stream = BatchStream(digits.train, 32, torch.Generator().manual_seed(0))
        loss = train_steps(model, stream, 120, Optimizer(lr=0.05))
        return model, loss

    first, loss = trained()
    second, _ = trained()
    assert evaluate(first, digits.test) > 0.85
    assert loss == loss  # finite
    assert all(torch.equal(v, second.state_dict()[k]) for k, v in first.state_dict().items())


def test_batch_stream_covers_every_sample_each_epoch(digits):
    data = digits.test.subset(range(70))
    stream = BatchStream(data, 32, torch.Generator().manual_seed(0))
    seen = torch.cat([stream.next_batch()[1] for _ in range(stream.steps_per_epoch)])
    assert len(seen) == 70
    assert sorted(seen.tolist()) == sorted(data.y.tolist())


def test_weighted_average_weights_by_sample_count():
    a = {"w": torch.tensor([0.0, 4.0]), "steps": torch.tensor(3)}
    b = {"w": torch.tensor([4.0, 0.0]), "steps": torch.tensor(5)}
    averaged = weighted_average([a, b], [3, 1])
    assert torch.allclose(averaged["w"], torch.tensor([1.0, 3.0]))
    assert averaged["steps"] == 3  # integer buffers are not averaged
    with pytest.raises(ValueError):
        weighted_average([a], [0])


def test_state_bytes_are_real_tensor_bytes():
    model = build_model("mlp", (1, 8, 8), 10, seed=0)
    params = sum(p.numel() for p in model.parameters())
    assert state_nbytes(model.state_dict()) == params * 4 + 64 * len(model.state_dict())


def test_workload_counts_forward_and_backward_flops():
    work = workload_of("mlp", (1, 8, 8), 10, 32)
    # Linear layers: 2·in·out FLOPs per sample forward; backward computes weight
    # gradients everywhere and input gradients for all but the first layer.
    forward = 2 * 32 * (64 * 128 + 128 * 10)
    assert work.eval_sample_flops == forward // 32
    assert 2 * forward < work.train_step_flops < 3 * forward
    assert workload_of("mlp", (1, 8, 8), 10, 32) is work  # cached


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_short_batch_costs_what_measuring_it_gives(name):
    """The last, partial batch of an epoch is charged for its own size, not a full batch."""
    full, short = workload_of(name, (1, 8, 8), 10, 32), workload_of(name, (1, 8, 8), 10, 5)
    flops, nbytes = full.train_step_at(5)
    assert flops == pytest.approx(short.train_step_flops, rel=1e-12)
    assert nbytes == pytest.approx(short.train_step_bytes, rel=1e-12)
    assert full.train_step_at(32) == (full.train_step_flops, full.train_step_bytes)


def test_upcoming_batch_sizes_are_those_drawn(digits):
    data = digits.train.subset(torch.arange(70))
    stream = BatchStream(data, 32, torch.Generator().manual_seed(0))
    stream.next_batch()
    predicted = stream.upcoming_sizes(6)
    assert predicted == [32, 6, 32, 32, 6, 32]
    assert [len(stream.next_batch()[1]) for _ in range(6)] == predicted
