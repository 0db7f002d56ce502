"""ResNet-50 (edgesim.learning.resnet): torchvision's parameter count, the published FLOPs."""

from __future__ import annotations

import pytest
import torch

from edgesim.learning.flops import workload_of
from edgesim.learning.models import build_model

TORCHVISION_PARAMETERS = 25_557_032
"""torchvision.models.resnet50: 25.557 M parameters (its model card)."""

PUBLISHED_MACS = 4.1e9
"""He et al. 2016, Table 1: 3.8 × 10⁹ FLOPs (multiply-adds) without the v1.5 stride move;
torchvision's card gives 4.09 G for the layout built here."""


@pytest.fixture(scope="module")
def resnet50():
    return build_model("resnet50", (3, 224, 224), 1000, seed=0)


def test_parameter_count_is_torchvisions(resnet50):
    assert sum(p.numel() for p in resnet50.parameters()) == TORCHVISION_PARAMETERS


def test_classifies_a_224_image(resnet50):
    with torch.no_grad():
        assert resnet50(torch.zeros(2, 3, 224, 224)).shape == (2, 1000)


def test_forward_flops_are_the_published_multiply_adds_twice():
    # edgesim counts 2 FLOP per multiply-add (FlopCounterMode's convention).
    work = workload_of("resnet50", (3, 224, 224), 1000, 2)
    assert work.eval_sample_flops / 2 == pytest.approx(PUBLISHED_MACS, rel=0.01)


def test_a_training_step_costs_about_three_forward_passes():
    # Backward takes the input and the weight gradient of each layer (2 × forward),
    # less the stem's input gradient, which nothing needs.
    work = workload_of("resnet50", (3, 224, 224), 1000, 2)
    ratio = work.train_step_flops / (2 * work.eval_sample_flops)
    assert 2.9 < ratio < 3.0
