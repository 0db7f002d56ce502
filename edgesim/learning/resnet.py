"""ResNet-50 for 224×224 ImageNet inputs (He et al., CVPR 2016, Table 1), in plain torch.

The published training throughputs that the shipped device profiles should
reproduce (``edgesim/device_profiles/README.md``: an RTX 2080 Ti trains ≈294
img/s, a V100 ≈367–405) are ResNet-50's, so edgesim needs the network itself to
count its work; no torchvision here. The layout is torchvision's (stride 2 in the 3×3
convolution of a bottleneck, "ResNet v1.5", and a 1×1 projection shortcut where
the shape changes), so its parameter count is torchvision's 25 557 032 and its
forward pass at 224×224 is 4.1 G multiply-adds (8.2 GFLOP as
``edgesim.learning.flops`` counts, 2 FLOP per multiply-add). The norm layers are
GroupNorm, as in the other built-in models (``models._norm`` says why): the
same parameters as BatchNorm, and neither counted as FLOPs.
"""

from __future__ import annotations

import torch
from torch import nn

STAGES = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))
"""(bottleneck width, blocks, stride of the first block) per stage: Table 1's 50-layer column."""

EXPANSION = 4
"""A bottleneck's output has 4 × its width in channels (§4.1, Fig. 5)."""


def _norm(channels: int) -> nn.GroupNorm:
    """32 groups, the GroupNorm paper's ResNet-50 setting (Wu & He 2018, §4.1)."""
    return nn.GroupNorm(min(32, channels // 4), channels)


class _Bottleneck(nn.Module):
    """1×1 reduce, 3×3, 1×1 expand, each followed by a norm, ReLU after the sum (Fig. 5 right)."""

    def __init__(self, in_ch: int, width: int, stride: int):
        super().__init__()
        out_ch = width * EXPANSION
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, width, 1, bias=False),
            _norm(width),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, stride, 1, bias=False),
            _norm(width),
            nn.ReLU(),
            nn.Conv2d(width, out_ch, 1, bias=False),
            _norm(out_ch),
        )
        changes = stride != 1 or in_ch != out_ch
        self.shortcut: nn.Module = (
            nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), _norm(out_ch))
            if changes
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.relu(self.body(x) + self.shortcut(x))


def resnet50(input_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    """ResNet-50: a 7×7/2 stem and 3×3/2 max-pool, four bottleneck stages, pooling, one fc layer."""
    in_ch = 64
    layers: list[nn.Module] = [
        nn.Conv2d(input_shape[0], in_ch, 7, 2, 3, bias=False),
        _norm(in_ch),
        nn.ReLU(),
        nn.MaxPool2d(3, 2, 1),
    ]
    for width, blocks, stride in STAGES:
        for index in range(blocks):
            layers.append(_Bottleneck(in_ch, width, stride if index == 0 else 1))
            in_ch = width * EXPANSION
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_ch, num_classes)]
    model = nn.Sequential(*layers)
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    return model
