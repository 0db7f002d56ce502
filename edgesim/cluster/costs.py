"""The compute cost model: simulated seconds for work on a device profile.

``time = overhead + max(flops / rate(flops), bytes / memory_bandwidth)``, where
``rate(flops) = peak × efficiency × min(1, √(flops / saturation_flops))``.

Two effects make a small model's step cheap on a big GPU but not cheap in
proportion to its FLOPs, which is why seed 000 measured a Jetson Nano only
≈10–12× slower than an RTX 2080 Ti on a small CNN although their peak FLOP/s
differ ≈57×, while the same 2080 Ti trains ResNet-50 at ≈53 % of its peak:

* a fixed per-step overhead (kernel launches, framework, data loading);
* occupancy: a GPU reaches its sustained rate only once a step holds enough
  work to fill its cores (``saturation_flops``, about 20 ms of peak-rate work
  on the shipped GPU profiles); below that the rate falls as the square root
  of the work — the work-fill law of :mod:`edgesim.cluster.step_models`, which
  ``edgesim calibrate`` fits. A profile without it (a CPU) is saturated by any
  step.

A profile ``edgesim calibrate`` wrote may instead carry ``layer_costs``, where the
per-operator-class layer roofline predicted the measured device better
(:func:`layered_time`): each layer is then charged on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from edgesim.cluster.step_models import (
    CLASS_ROOFLINE,
    FittedModel,
    Kind,
    StepSample,
    filled_compute_time,
)

if TYPE_CHECKING:
    from edgesim.config.profiles import DeviceProfile


def compute_time(profile: DeviceProfile, flops: float) -> float:
    """Seconds of arithmetic for one step (or one eval batch) of ``flops``."""
    sustained = profile.peak_flops * profile.efficiency
    return filled_compute_time(flops, sustained, profile.saturation_flops)


def step_time(profile: DeviceProfile, flops: float, bytes_moved: float) -> float:
    """Seconds for one training step of ``flops`` arithmetic moving ``bytes_moved`` of memory."""
    memory = bytes_moved / profile.memory_bandwidth
    return profile.step_overhead_s + max(compute_time(profile, flops), memory)


def train_time(profile: DeviceProfile, steps: int, flops: float, bytes_moved: float) -> float:
    return steps * step_time(profile, flops, bytes_moved)


def eval_time(
    profile: DeviceProfile,
    samples: int,
    batch_size: int,
    flops_per_sample: float,
    bytes_per_sample: float,
    bytes_per_batch: float = 0.0,
) -> float:
    """Seconds to evaluate ``samples`` inputs in batches of ``batch_size`` (protocol evaluation).

    Each batch pays the eval overhead and its own roofline: the last, partial
    batch holds less work, so on a GPU it runs at a lower rate.
    ``bytes_per_batch`` is memory traffic paid once per batch (reading the weights).
    """
    full, rest = divmod(samples, batch_size)
    work = (flops_per_sample, bytes_per_sample, bytes_per_batch)
    seconds = full * _eval_batch(profile, batch_size, *work)
    if rest:
        seconds += _eval_batch(profile, rest, *work)
    return seconds


def _eval_batch(
    profile: DeviceProfile, size: int, flops: float, bytes_moved: float, bytes_per_batch: float
) -> float:
    memory = (size * bytes_moved + bytes_per_batch) / profile.memory_bandwidth
    return profile.eval_overhead_s + max(compute_time(profile, size * flops), memory)


def layered_time(
    profile: DeviceProfile, kind: Kind, layers: Sequence[tuple[str, float, float]]
) -> float:
    """Seconds of a training step or an eval batch of ``(op class, flops, bytes)`` layers.

    The per-operator-class layer roofline (:data:`~edgesim.cluster.step_models.CLASS_ROOFLINE`)
    with the profile's ``layer_costs``, which ``edgesim calibrate`` writes when it
    predicts the measured device better than the whole-step law.
    """
    sample = StepSample("", kind, 0, 0.0, 0.0, tuple(layers))
    return FittedModel(CLASS_ROOFLINE, profile.layer_costs.model_dump()).predict(sample)
