"""Work of one training step and one evaluation sample, counted once and cached.

The cost model (``edgesim.cluster.costs``) turns these counts into simulated
seconds on a device profile; counting with ``FlopCounterMode`` on the real
module means a new model needs no hand-written FLOP formula. One formula is
ours: torch's count of a convolution's weight gradient ignores ``groups``, so a
depthwise convolution's backward pass (MobileNetV2) would read ``groups`` times
too dear; :func:`_conv_backward_flops` replaces it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from math import prod
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from edgesim.learning.models import InputShape, build_model
from edgesim.learning.weights import state_nbytes

if TYPE_CHECKING:
    from edgesim.learning.layers import LayerWork


@dataclass(frozen=True)
class Workload:
    """What one step moves through a device: arithmetic and memory traffic.

    The ``train_step_*`` figures are at the training batch ``batch_size``;
    :meth:`train_step_at` scales them to a smaller batch (an epoch's last,
    partial one). Counted FLOPs (convolutions, matrix products) are linear in
    the batch; the weights are read and written once per step whatever the
    batch, activations scale with it.
    """

    train_step_flops: int
    train_step_bytes: int
    eval_sample_flops: int
    eval_sample_bytes: int
    """Activation bytes one evaluated sample writes (weights are read once per batch)."""
    parameter_bytes: int
    batch_size: int
    update_bytes: int
    """Bytes of the model's state dict on the wire: what a scheme sends for one update."""
    layers: tuple[LayerWork, ...] = ()
    """Each layer's work at ``batch_size``, counted only for a run on a device profile that
    charges layer by layer (``DeviceProfile.layer_costs``; :mod:`edgesim.learning.layers`)."""

    def train_step_at(self, batch: int) -> tuple[float, float]:
        """FLOPs and bytes of one training step on ``batch`` samples."""
        if batch == self.batch_size:
            return self.train_step_flops, self.train_step_bytes
        weights = 3 * self.parameter_bytes
        activations = (self.train_step_bytes - weights) / self.batch_size
        return self.train_step_flops * batch / self.batch_size, weights + activations * batch


def _conv_backward_flops(
    grad_out_shape: list[int],
    x_shape: list[int],
    w_shape: list[int],
    _bias: object,
    _stride: object,
    _padding: object,
    _dilation: object,
    transposed: bool,
    _output_padding: object,
    _groups: int,
    output_mask: list[bool],
    **_kwargs: object,
) -> int:
    """FLOPs of ``aten.convolution_backward``: each gradient costs the forward pass.

    Each product ``weight × input`` of the forward pass is taken once more for
    the input gradient and once more for the weight gradient. The forward pass
    of a convolution with ``groups`` is ``2·N·Cout·(Cin/groups)·k²·Hout·Wout``
    (``w_shape`` is ``Cout × Cin/groups × k × k``); a transposed one runs over
    the input's positions instead of the output's.
    """
    positions = prod((x_shape if transposed else grad_out_shape)[2:])
    forward = 2 * x_shape[0] * positions * prod(w_shape)
    return forward * (int(output_mask[0]) + int(output_mask[1]))


def _count(model: nn.Module, x: torch.Tensor, y: torch.Tensor, backward: bool) -> int:
    counter = FlopCounterMode(
        display=False,
        custom_mapping={torch.ops.aten.convolution_backward: _conv_backward_flops},
    )
    with counter:
        out = model(x)
        if backward:
            nn.functional.cross_entropy(out, y).backward()
    return int(counter.get_total_flops())


def _activation_bytes(model: nn.Module, x: torch.Tensor) -> int:
    total = 0

    def hook(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        nonlocal total
        total += output.numel() * output.element_size()

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    with torch.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    return total


def measure_workload(model: nn.Module, input_shape: InputShape, batch_size: int) -> Workload:
    """Count FLOPs and bytes of a train step at ``batch_size`` and of one evaluated sample."""
    model = copy.deepcopy(model).cpu()
    x = torch.zeros((batch_size, *input_shape))
    y = torch.zeros(batch_size, dtype=torch.long)
    param_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    act = _activation_bytes(model, x)
    train_flops = _count(model, x, y, backward=True)
    eval_flops = _count(model, x[:1], y[:1], backward=False)
    # A step reads weights, writes gradients and updates weights (3×), and writes
    # then re-reads activations for the backward pass (2×); evaluation writes
    # activations once and reads the weights once per batch.
    return Workload(
        train_step_flops=train_flops,
        train_step_bytes=3 * param_bytes + 2 * act,
        eval_sample_flops=eval_flops,
        eval_sample_bytes=act // batch_size,
        parameter_bytes=param_bytes,
        batch_size=batch_size,
        update_bytes=state_nbytes(model.state_dict()),
    )


@cache
def workload_of(
    model_name: str, input_shape: InputShape, num_classes: int, batch_size: int
) -> Workload:
    """Cached :func:`measure_workload` for a registered model."""
    model = build_model(model_name, input_shape, num_classes, seed=0)
    return measure_workload(model, input_shape, batch_size)
