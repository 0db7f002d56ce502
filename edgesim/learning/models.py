"""Model factories: a small/large CNN pair of one family, and an MLP.

Seeds 003 and 004 pair a 12-layer "global" CNN with a 6-layer "small" CNN of
the same family; the distillation and gear schemes need both to accept the
same inputs and emit the same classes, so one builder makes both depths and
adapts to any input shape (8×8 digits, 28×28 MNIST, 32×32 CIFAR/LFW).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from edgesim.errors import EdgesimError, did_you_mean

InputShape = tuple[int, int, int]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    description: str
    build: Callable[[InputShape, int], nn.Module]


def _conv_net(conv_layers: int, width: int, input_shape: InputShape, num_classes: int) -> nn.Module:
    """``conv_layers`` 3×3 convolutions in three stages, then two fully connected layers.

    Each stage ends with a 2×2 max-pool while the feature map is at least 4×4, so
    the network fits 8×8 inputs as well as 32×32 ones. GroupNorm rather than
    BatchNorm after each convolution: it trains deep plain CNNs quickly and,
    unlike BatchNorm's running statistics, survives averaging across non-IID
    clients (Hsieh et al., "The Non-IID Data Quagmire", ICML 2020).
    """
    channels, height, width_px = input_shape
    stages = [conv_layers // 3 + (1 if i < conv_layers % 3 else 0) for i in range(3)]
    layers: list[nn.Module] = []
    in_ch = channels
    for stage, count in enumerate(stages):
        out_ch = width * 2**stage
        for _ in range(count):
            layers += [
                nn.Conv2d(in_ch, out_ch, 3, padding=1),
                nn.GroupNorm(min(8, out_ch // 4), out_ch),
                nn.ReLU(),
            ]
            in_ch = out_ch
        if min(height, width_px) >= 4:
            layers.append(nn.MaxPool2d(2))
            height, width_px = height // 2, width_px // 2
    hidden = 4 * width
    layers += [
        nn.Flatten(),
        nn.Linear(in_ch * height * width_px, hidden),
        nn.ReLU(),
        nn.Linear(hidden, num_classes),
    ]
    return nn.Sequential(*layers)


def _mlp(input_shape: InputShape, num_classes: int) -> nn.Module:
    features = input_shape[0] * input_shape[1] * input_shape[2]
    return nn.Sequential(
        nn.Flatten(), nn.Linear(features, 128), nn.ReLU(), nn.Linear(128, num_classes)
    )


MODELS: dict[str, ModelInfo] = {
    info.name: info
    for info in (
        ModelInfo(
            "cnn-small",
            "6-layer CNN (4 conv + 2 fc), the seeds' small/distilled model",
            lambda shape, classes: _conv_net(4, 16, shape, classes),
        ),
        ModelInfo(
            "cnn-large",
            "12-layer CNN (10 conv + 2 fc), the seeds' large/global model",
            lambda shape, classes: _conv_net(10, 32, shape, classes),
        ),
        ModelInfo("mlp", "one hidden layer of 128 units", _mlp),
    )
}


def build_model(name: str, input_shape: InputShape, num_classes: int, seed: int) -> nn.Module:
    """A freshly initialised model; the same ``seed`` gives the same initial weights."""
    if name not in MODELS:
        raise EdgesimError(f"unknown model '{name}'{did_you_mean(name, MODELS)}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MODELS[name].build(input_shape, num_classes)
