"""The seeds' model families: shapes, the papers' parameter counts, FLOPs, seeds, training."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from edgesim.learning.datasets import Dataset
from edgesim.learning.flops import measure_workload, workload_of
from edgesim.learning.models import build_model
from edgesim.learning.training import BatchStream, Optimizer, train_steps
from edgesim.learning.weights import TENSOR_HEADER_BYTES

FAMILIES = ("lenet5", "resnet8", "resnet20", "mobilenetv2-small")


def _parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _cifar_resnet_parameters(n: int, channels: int = 3, classes: int = 10) -> int:
    """He et al. 2016, §4.2, option-A shortcuts: bias-free 3×3 convs, norms' scale and shift."""
    total = channels * 16 * 9 + 2 * 16
    in_ch = 16
    for out_ch in (16, 32, 64):
        for _ in range(n):
            total += in_ch * out_ch * 9 + out_ch * out_ch * 9 + 4 * out_ch
            in_ch = out_ch
    return total + 64 * classes + classes


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32), (3, 64, 48)])
def test_families_adapt_to_the_input_shape(name, shape):
    model = build_model(name, shape, 10, seed=0)
    assert model(torch.zeros(2, *shape)).shape == (2, 10)


@pytest.mark.parametrize("name", FAMILIES)
def test_a_one_sample_batch_of_tiny_images_trains(name):
    """An epoch's last batch may hold one sample, of the smallest image size allowed."""
    model = build_model(name, (3, 4, 4), 10, seed=0).train()
    model(torch.zeros(1, 3, 4, 4)).sum().backward()


def test_parameter_counts_are_the_papers():
    lenet = _parameters(build_model("lenet5", (1, 32, 32), 10, seed=0))
    # C1 156, C3 2,416, C5 48,120, F6 10,164, output 850.
    assert lenet == 6 * 25 + 6 + 16 * 6 * 25 + 16 + 400 * 120 + 120 + 120 * 84 + 84 + 84 * 10 + 10
    assert lenet == pytest.approx(61_700, rel=0.01)
    assert _parameters(build_model("lenet5", (1, 28, 28), 10, seed=0)) == lenet  # padded to 32
    resnet20 = _parameters(build_model("resnet20", (3, 32, 32), 10, seed=0))
    assert resnet20 == _cifar_resnet_parameters(3) == 269_722
    assert resnet20 == pytest.approx(0.27e6, rel=0.01)  # He et al. 2016, Table 6
    resnet8 = _parameters(build_model("resnet8", (3, 32, 32), 10, seed=0))
    assert resnet8 == _cifar_resnet_parameters(1) == 75_290
    # 0.078 M, often quoted, has projection shortcuts (option B) at the two stage changes.
    assert resnet8 + (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64) == pytest.approx(78_000, rel=0.001)


def test_lenet5_flops_are_the_closed_form():
    """2·Cout·Cin·k²·Hout·Wout per convolution, 2·in·out per fully connected layer."""
    conv = 2 * 6 * 3 * 25 * 28 * 28 + 2 * 16 * 6 * 25 * 10 * 10
    dense = 2 * (400 * 120 + 120 * 84 + 84 * 10)
    assert workload_of("lenet5", (3, 32, 32), 10, 32).eval_sample_flops == conv + dense


def test_grouped_convolution_flops_are_the_closed_form():
    """A grouped conv is 2·Cout·(Cin/groups)·k²·Hout·Wout; each gradient costs as much again.

    The first convolution's input needs no gradient: its backward pass is the
    weight gradient alone.
    """
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(4, 8, 1),
        nn.Conv2d(8, 8, 3, padding=1, groups=8),  # depthwise
        nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=4),
        nn.Flatten(),
        nn.Linear(16 * 3 * 3, 10),
    )
    first = 2 * 8 * 4 * 1 * 6 * 6
    depthwise = 2 * 8 * (8 // 8) * 9 * 6 * 6
    grouped = 2 * 16 * (8 // 4) * 9 * 3 * 3
    dense = 2 * 16 * 3 * 3 * 10
    work = measure_workload(model, (4, 6, 6), batch_size=5)
    assert work.eval_sample_flops == first + depthwise + grouped + dense
    assert work.train_step_flops == 5 * (2 * first + 3 * (depthwise + grouped + dense))


def test_mobilenet_backward_costs_about_twice_its_forward_pass():
    work = workload_of("mobilenetv2-small", (3, 32, 32), 10, 32)
    assert 2.5 < work.train_step_flops / (32 * work.eval_sample_flops) < 3.0


@pytest.mark.parametrize("name", FAMILIES)
def test_same_seed_same_state_other_seed_other_weights(name):
    a, b = (build_model(name, (3, 32, 32), 10, seed=5).state_dict() for _ in range(2))
    other = build_model(name, (3, 32, 32), 10, seed=6).state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], other[k]) for k in a)


@pytest.mark.parametrize("name", FAMILIES)
def test_one_training_step_lowers_the_loss_on_its_batch(name):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(8, 3, 32, 32, generator=generator)
    y = torch.arange(8) % 4
    batch = Dataset("tiny", x, y, num_classes=4, raw_bytes_per_sample=3 * 32 * 32)
    model = build_model(name, (3, 32, 32), 4, seed=0)

    def loss() -> float:
        with torch.no_grad():
            return float(nn.functional.cross_entropy(model(x), y))

    before = loss()
    train_steps(model, BatchStream(batch, 8, generator), 1, Optimizer(lr=0.01))
    assert loss() < before


@pytest.mark.parametrize("name", FAMILIES)
def test_a_models_state_is_its_weights(name):
    """No running statistics: averages and deltas of a state change weights only."""
    model = build_model(name, (1, 8, 8), 10, seed=0)
    assert list(model.state_dict()) == [key for key, _ in model.named_parameters()]
    work = workload_of(name, (1, 8, 8), 10, 32)
    assert work.update_bytes == work.parameter_bytes + TENSOR_HEADER_BYTES * len(model.state_dict())
