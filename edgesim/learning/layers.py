"""Work of each layer of a model: the per-operator counts a layer-wise step model sums.

:mod:`edgesim.learning.flops` counts a whole step, which is all the whole-step
laws need. A layer-wise model — Paleo (Qi et al., ICLR 2017) times each
layer from its FLOPs and the bytes it moves, Habitat (Yu et al., USENIX ATC
2021) each operation — needs the counts per layer: a GroupNorm or a ReLU does
almost no arithmetic, yet reads and writes its whole activation, and a tiny
layer costs a dispatch however little it computes. A run counts them only for
a device profile that charges layer by layer (``layer_costs``).

Each leaf module is counted alone, on the input it received in a real forward
pass, with :class:`~torch.utils.flop_counter.FlopCounterMode` and edgesim's count of a
grouped convolution's backward pass (:mod:`edgesim.learning.flops`), so the
layers' FLOPs add up to the step's.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from edgesim.learning.flops import _conv_backward_flops
from edgesim.learning.models import InputShape, build_model


@dataclass(frozen=True)
class LayerWork:
    """One leaf module's work in a training step at the counted batch, and in evaluation."""

    name: str
    op: str
    """``conv``, ``linear`` or ``other`` (normalisation, activation, pooling: memory-bound)."""
    train_flops: int
    train_bytes: int
    eval_flops: int
    """FLOPs of the forward pass at the counted batch."""
    eval_bytes: int
    """Bytes of the forward pass at the counted batch: input, output and weights."""
    parameter_bytes: int


def op_class(module: nn.Module) -> str:
    """The kind of kernel a layer runs: on CPUs and GPUs alike these sustain different FLOP/s."""
    if isinstance(module, nn.modules.conv._ConvNd):
        return "conv"
    return "linear" if isinstance(module, nn.Linear) else "other"


def _flops(layer: nn.Module, x: torch.Tensor, backward: bool) -> int:
    counter = FlopCounterMode(
        display=False,
        custom_mapping={torch.ops.aten.convolution_backward: _conv_backward_flops},
    )
    with counter:
        out = layer(x)
        if backward and out.requires_grad:
            out.backward(torch.ones_like(out))
    return int(counter.get_total_flops())


def layer_work(model: nn.Module, input_shape: InputShape, batch_size: int) -> list[LayerWork]:
    """Each leaf module's FLOPs and bytes, in the order the forward pass runs them.

    Bytes, as for the whole step in :func:`edgesim.learning.flops.measure_workload`:
    the forward pass reads the input and the weights and writes the output; the
    backward pass reads the output's gradient, writes the input's gradient when
    one is needed (not for the first layer), and reads the input and writes the
    weights' gradient when the layer has weights; SGD then reads the weights and
    their gradient and writes the weights (3×).
    """
    model = copy.deepcopy(model).cpu()
    seen: list[tuple[str, nn.Module, torch.Tensor]] = []

    def hook(name: str):
        def record(module: nn.Module, inputs: tuple[torch.Tensor, ...], _out: object) -> None:
            seen.append((name, module, inputs[0].detach().requires_grad_(inputs[0].requires_grad)))

        return record

    leaves = [(n, m) for n, m in model.named_modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook(n)) for n, m in leaves]
    model(torch.zeros((batch_size, *input_shape)))
    for handle in handles:
        handle.remove()
    layers = []
    for name, module, x in seen:
        weights = sum(p.numel() * p.element_size() for p in module.parameters())
        with torch.no_grad():
            out_bytes = module(x).numel() * x.element_size()
        in_bytes = x.numel() * x.element_size()
        backward = out_bytes + (in_bytes if x.requires_grad else 0)
        if weights:
            backward += in_bytes + weights
        layers.append(
            LayerWork(
                name=name,
                op=op_class(module),
                train_flops=_flops(module, x.clone().requires_grad_(x.requires_grad), True),
                train_bytes=in_bytes + weights + out_bytes + backward + 3 * weights,
                eval_flops=_flops(module, x, False),
                eval_bytes=in_bytes + weights + out_bytes,
                parameter_bytes=weights,
            )
        )
    return layers


@cache
def layer_work_of(
    model_name: str, input_shape: InputShape, num_classes: int, batch_size: int
) -> tuple[LayerWork, ...]:
    """Cached :func:`layer_work` for a registered model (the weights do not change the counts)."""
    model = build_model(model_name, input_shape, num_classes, seed=0)
    return tuple(layer_work(model, input_shape, batch_size))


def layers_at(
    layers: Sequence[LayerWork], kind: str, batch: int, counted: int
) -> tuple[tuple[str, float, float], ...]:
    """Each layer's ``(op class, FLOPs, bytes)`` in a step (or eval batch) of ``batch`` samples.

    From counts at ``counted`` samples: FLOPs and activations scale with the
    batch; a layer's weights are read once a pass whatever the batch — five
    times in a training step (forward, the weight gradient, SGD's 3×), once in
    evaluation.
    """
    scale = batch / counted
    train = kind == "train"
    rows = []
    for layer in layers:
        fixed = (5 if train else 1) * layer.parameter_bytes
        flops, nbytes = (
            (layer.train_flops, layer.train_bytes)
            if train
            else (layer.eval_flops, layer.eval_bytes)
        )
        rows.append((layer.op, flops * scale, fixed + (nbytes - fixed) * scale))
    return tuple(rows)
