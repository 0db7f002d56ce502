"""The compute cost model: simulated seconds for work on a device profile.

``time = overhead + max(flops / (peak × efficiency), bytes / memory_bandwidth)``.
The fixed per-step overhead (kernel launches, framework, data loading) is
why seed 000 measured a Jetson Nano only 10–20× slower than an RTX 2080 Ti on
a small CNN although their peak FLOP/s differ ≈57×: small models are
overhead-bound, large ones compute- or memory-bound.
"""

from __future__ import annotations

from edgesim.config.profiles import DeviceProfile


def step_time(profile: DeviceProfile, flops: float, bytes_moved: float) -> float:
    """Seconds for one training step of ``flops`` arithmetic moving ``bytes_moved`` of memory."""
    compute = flops / (profile.peak_flops * profile.efficiency)
    memory = bytes_moved / profile.memory_bandwidth
    return profile.step_overhead_s + max(compute, memory)


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

    ``bytes_per_batch`` is memory traffic paid once per batch (reading the weights).
    """
    batches = -(-samples // batch_size)
    compute = samples * flops_per_sample / (profile.peak_flops * profile.efficiency)
    memory = (samples * bytes_per_sample + batches * bytes_per_batch) / profile.memory_bandwidth
    return batches * profile.eval_overhead_s + max(compute, memory)
