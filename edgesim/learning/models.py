"""Model factories: a small/large CNN pair of one family, an MLP, and the seeds' model families.

Seeds 003 and 004 pair a 12-layer "global" CNN with a 6-layer "small" CNN of
the same family; the distillation and gear schemes need both to accept the
same inputs and emit the same classes, so one builder makes both depths and
adapts to any input shape (8×8 digits, 28×28 MNIST, 32×32 CIFAR/LFW). The
architectures the seeds' papers train — LeNet-5, CIFAR ResNets and a small
MobileNetV2 — adapt to the same shapes, so any of them can stand in as the
global or the small model.

The ResNets and the MobileNet have GroupNorm where their papers have
BatchNorm (:func:`_norm` says why); it has the same parameters, so their
parameter counts stay the papers'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from edgesim import plugins
from edgesim.errors import EdgesimError, did_you_mean
from edgesim.learning.resnet import resnet50
from edgesim.plugins import PluginError

InputShape = tuple[int, int, int]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    description: str
    build: Callable[[InputShape, int], nn.Module]


def _norm(channels: int) -> nn.GroupNorm:
    """GroupNorm (Wu & He, ECCV 2018) in place of the papers' BatchNorm.

    BatchNorm's running mean and variance are state that edgesim's schemes
    combine like weights, and the asynchronous ones add clients' deltas to it
    (``edgesim.learning.deltas``, FedBuff's buffered step): deltas from stale
    bases drive a running variance below zero, and the model then evaluates at
    chance. Averaged running statistics also suffer most across non-IID clients,
    where GroupNorm holds up (Hsieh et al., "The Non-IID Data Quagmire", ICML
    2020). GroupNorm keeps no statistics, so a model's state is its weights.
    """
    return nn.GroupNorm(min(8, channels // 4), channels)


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
                _norm(out_ch),
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


def _downsamples(height: int, width: int) -> bool:
    """Halve a feature map only while its shorter side is at least 4 pixels.

    Inputs of 8×8 or more go through the ResNets as the paper has them (16×16 or
    more for the MobileNet); smaller ones (8×8 digits in the MobileNet,
    ``data.image_size`` down to 4) keep maps of at least 2×2, where a 3×3
    convolution still sees neighbours.
    """
    return min(height, width) >= 4


def _halved(size: int) -> int:
    """Side of a map after a stride-2 3×3 convolution with padding 1."""
    return (size - 1) // 2 + 1


def _he_init(model: nn.Module) -> nn.Module:
    """He et al.'s normal initialisation of every convolution (ResNet paper §3.4)."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    return model


LENET_FIELD = 32
"""LeNet-5's input field: LeCun et al. (1998) §II-B centre the 28×28 characters in 32×32."""


def _lenet5(input_shape: InputShape, num_classes: int) -> nn.Module:
    """LeNet-5 (LeCun et al., Proc. IEEE 1998, §II-B): C1 6@5×5, S2, C3 16@5×5, S4, C5, F6.

    C5 (120 units on S4's 5×5 maps) and F6 (84) are fully connected layers; C3
    sees all of S2's maps (the paper's Table I connects only some), and ReLU and
    max-pooling replace tanh and trainable subsampling, as federated-learning
    papers use LeNet-5. A smaller image is centred in the 32×32 field with
    zeros, as the paper does for MNIST; a larger one keeps its size and S4's
    maps are average-pooled to the 5×5 that C5 expects (the identity at 32×32),
    so 8×8 digits, 28×28 MNIST and 32×32 CIFAR all get the paper's layers and
    parameter count.
    """
    channels, height, width = input_shape
    pad_h, pad_w = max(LENET_FIELD - height, 0), max(LENET_FIELD - width, 0)
    return nn.Sequential(
        nn.ZeroPad2d((pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2)),
        nn.Conv2d(channels, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(5),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, num_classes),
    )


class _PadShortcut(nn.Module):
    """ResNet's option-A shortcut (He et al. 2016, §3.3): subsample, zero-pad new channels.

    Parameter-free, as the paper's CIFAR networks use (§4.2), so their parameter
    counts (0.27 M for ResNet-20) hold.
    """

    def __init__(self, extra_channels: int, stride: int):
        super().__init__()
        self.extra_channels = extra_channels
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return nn.functional.pad(x, (0, 0, 0, 0, 0, self.extra_channels))


class _BasicBlock(nn.Module):
    """Two 3×3 conv-norm layers and an identity shortcut, ReLU after the sum (§3.2, Fig. 2)."""

    def __init__(self, in_ch: int, out_ch: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False),
            _norm(out_ch),
            nn.ReLU(),
            nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False),
            _norm(out_ch),
        )
        changes = stride != 1 or in_ch != out_ch
        self.shortcut = _PadShortcut(out_ch - in_ch, stride) if changes else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.relu(self.body(x) + self.shortcut(x))


def _cifar_resnet(blocks: int, input_shape: InputShape, num_classes: int) -> nn.Module:
    """The CIFAR ResNet of He et al. 2016, §4.2: 6n+2 layers, ``blocks`` = n per stage.

    A 3×3 conv of 16 filters, then three stages of n basic blocks on 16, 32 and
    64 filters, each later stage halving the map, then global average pooling
    and a fully connected layer; :func:`_norm` after each convolution.
    """
    channels, height, width = input_shape
    layers: list[nn.Module] = [
        nn.Conv2d(channels, 16, 3, 1, 1, bias=False),
        _norm(16),
        nn.ReLU(),
    ]
    in_ch = 16
    for stage, out_ch in enumerate((16, 32, 64)):
        for index in range(blocks):
            stride = 2 if stage and not index and _downsamples(height, width) else 1
            layers.append(_BasicBlock(in_ch, out_ch, stride))
            if stride == 2:
                height, width = _halved(height), _halved(width)
            in_ch = out_ch
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_ch, num_classes)]
    return _he_init(nn.Sequential(*layers))


class _InvertedResidual(nn.Module):
    """MobileNetV2's bottleneck (Sandler et al. 2018, §3.3, Table 1).

    1×1 expansion by ``expansion`` with ReLU6, a depthwise 3×3 with ReLU6, and a
    linear 1×1 projection (no ReLU: the linear bottleneck of §3.2); the input is
    added back when the shapes match.
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int, expansion: int):
        super().__init__()
        hidden = in_ch * expansion
        layers: list[nn.Module] = []
        if expansion != 1:
            layers += [nn.Conv2d(in_ch, hidden, 1, bias=False), _norm(hidden), nn.ReLU6()]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            _norm(hidden),
            nn.ReLU6(),
            nn.Conv2d(hidden, out_ch, 1, bias=False),
            _norm(out_ch),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) if self.residual else self.body(x)


MOBILENET_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 2, 2), (6, 64, 2, 2), (6, 96, 1, 1))
"""(expansion t, channels c, blocks n, stride s) of each stage, before the width multiplier.

Table 2 of Sandler et al. up to its 96-channel stage; the 160- and 320-channel
stages are left out because a 32×32 input is down to 4×4 here already.
"""

MOBILENET_WIDTH = 0.5
MOBILENET_LAST = 1280
"""The last 1×1 convolution: Sandler et al. (§4) keep 1280 for width multipliers below 1."""


def _width(channels: int) -> int:
    """``channels`` × the width multiplier, to the nearest multiple of 8 (the paper's code)."""
    return max(8, int(channels * MOBILENET_WIDTH + 4) // 8 * 8)


def _mobilenetv2_small(input_shape: InputShape, num_classes: int) -> nn.Module:
    """A small MobileNetV2 (Sandler et al., CVPR 2018) for 32×32 inputs.

    Width multiplier 0.5 and the reduced stage list :data:`MOBILENET_STAGES`;
    the stem is a stride-1 3×3 convolution of 32·0.5 filters (the paper's stem
    has stride 2 for 224×224 images), so a 32×32 input ends at 4×4 before global
    average pooling. Any input size works: pooling is adaptive and maps stop
    halving at :func:`_downsamples`'s bound.
    """
    channels, height, width = input_shape
    in_ch = _width(32)
    layers: list[nn.Module] = [
        nn.Conv2d(channels, in_ch, 3, 1, 1, bias=False),
        _norm(in_ch),
        nn.ReLU6(),
    ]
    for expansion, stage_ch, blocks, stage_stride in MOBILENET_STAGES:
        out_ch = _width(stage_ch)
        for index in range(blocks):
            stride = 2 if stage_stride == 2 and not index and _downsamples(height, width) else 1
            layers.append(_InvertedResidual(in_ch, out_ch, stride, expansion))
            if stride == 2:
                height, width = _halved(height), _halved(width)
            in_ch = out_ch
    layers += [
        nn.Conv2d(in_ch, MOBILENET_LAST, 1, bias=False),
        _norm(MOBILENET_LAST),
        nn.ReLU6(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(MOBILENET_LAST, num_classes),
    ]
    return _he_init(nn.Sequential(*layers))


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
        ModelInfo("lenet5", "LeNet-5 (LeCun et al. 1998), ReLU and max-pooling", _lenet5),
        ModelInfo(
            "resnet8",
            "ResNet-8, CIFAR-style (He et al. 2016, §4.2: n=1, 16/32/64 filters)",
            lambda shape, classes: _cifar_resnet(1, shape, classes),
        ),
        ModelInfo(
            "resnet20",
            "ResNet-20, CIFAR-style (He et al. 2016, §4.2: n=3, 16/32/64 filters)",
            lambda shape, classes: _cifar_resnet(3, shape, classes),
        ),
        ModelInfo(
            "mobilenetv2-small",
            "MobileNetV2 (Sandler et al. 2018) at width 0.5, five stages, for 32×32 inputs",
            _mobilenetv2_small,
        ),
        ModelInfo(
            "resnet50",
            "ResNet-50 (He et al. 2016, Table 1) for 224×224 images, for published throughputs",
            resnet50,
        ),
    )
}


def model_info(name: str) -> ModelInfo:
    """A built-in model, one an installed package registers, or a user's by reference.

    A user's model (``nets.py:Net``, ``package.module:make_net``, or an
    ``edgesim.models`` entry point) is a callable taking ``(input_shape,
    num_classes)`` and returning an ``nn.Module`` (a module class with that
    ``__init__`` will do), or a :class:`ModelInfo`. See :mod:`edgesim.plugins`.
    """
    if name in MODELS:
        return MODELS[name]
    found = plugins.find(name, "model")
    if found is None:
        known = [*MODELS, *plugins.registered("model")]
        raise EdgesimError(
            f"unknown model '{name}'{did_you_mean(name, known)}, or a reference such as nets.py:Net"
        )
    if isinstance(found, ModelInfo):
        return found
    if not callable(found):
        raise PluginError(f"{name}: expected a model class or function, got {type(found).__name__}")
    return ModelInfo(name, (found.__doc__ or "").strip().split("\n")[0], found)


def build_model(name: str, input_shape: InputShape, num_classes: int, seed: int) -> nn.Module:
    """A freshly initialised model; the same ``seed`` gives the same initial weights."""
    info = model_info(name)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if name in MODELS:
            return info.build(input_shape, num_classes)
        try:
            model = info.build(input_shape, num_classes)
        except Exception as exc:  # the user's code: say where, not "internal error"
            why = plugins.blame(exc) or f"{type(exc).__name__}: {exc}"
            raise PluginError(f"{name}: building the model failed: {why}") from None
    if not isinstance(model, nn.Module):
        raise PluginError(f"{name}: returned {type(model).__name__}, expected a torch nn.Module")
    return model
