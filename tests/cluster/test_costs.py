"""Compute cost model and the built-in device profiles, against the published numbers they fit."""

from __future__ import annotations

import pytest

from edgesim.cluster.costs import compute_time, eval_time, layered_time, step_time, train_time
from edgesim.config.profiles import PROFILE_DIR, DeviceProfile, builtin_device_profiles
from edgesim.learning.flops import workload_of


def profile(**overrides) -> DeviceProfile:
    spec = {
        "name": "toy",
        "peak_flops": 1e12,
        "efficiency": 0.5,  # 5e11 FLOP/s sustained
        "step_overhead_s": 0.01,
        "eval_overhead_s": 0.002,
        "memory_bytes": 1e9,
        "memory_bandwidth": 1e10,
        "power_w": {"compute": 10.0, "transmit": 2.0, "idle": 1.0},
    }
    return DeviceProfile(**{**spec, **overrides})


@pytest.fixture(scope="module")
def small_cnn():
    """The real counted workload of the project's small CNN on 8×8 digits, batch 32."""
    return workload_of("cnn-small", (1, 8, 8), 10, 32)


def real_step(name, workload):
    return step_time(
        builtin_device_profiles()[name], workload.train_step_flops, workload.train_step_bytes
    )


def test_step_time_compute_bound():
    # 1e9 FLOP at 5e11 FLOP/s = 2 ms > 1e7 B at 1e10 B/s = 1 ms.
    assert step_time(profile(), 1e9, 1e7) == pytest.approx(0.01 + 0.002, rel=1e-12)


def test_step_time_memory_bound():
    # 1e8 B at 1e10 B/s = 10 ms > 2 ms of arithmetic: max, not sum.
    assert step_time(profile(), 1e9, 1e8) == pytest.approx(0.01 + 0.01, rel=1e-12)


def test_step_time_of_no_work_is_the_overhead():
    assert step_time(profile(), 0, 0) == 0.01
    assert step_time(profile(step_overhead_s=0.0), 0, 0) == 0.0


def test_efficiency_scales_the_compute_term():
    fast, slow = profile(efficiency=1.0), profile(efficiency=0.25)
    assert step_time(fast, 1e10, 0) - 0.01 == pytest.approx(0.01, rel=1e-12)
    assert step_time(slow, 1e10, 0) - 0.01 == pytest.approx(0.04, rel=1e-12)


def test_train_time_is_steps_times_step_time():
    assert train_time(profile(), 7, 1e9, 1e7) == pytest.approx(7 * 0.012, rel=1e-12)
    assert train_time(profile(), 0, 1e9, 1e7) == 0


def test_eval_time_pays_overhead_per_batch_and_work_per_sample():
    # 100 samples in batches of 32 → 4 batches; 100 × 1e8 FLOP / 5e11 = 20 ms arithmetic,
    # 100 × 1e6 B / 1e10 = 10 ms memory.
    assert eval_time(profile(), 100, 32, 1e8, 1e6) == pytest.approx(4 * 0.002 + 0.02, rel=1e-12)
    assert eval_time(profile(), 96, 32, 0, 1e8) == pytest.approx(3 * 0.002 + 0.96, rel=1e-12)
    assert eval_time(profile(), 0, 32, 1e8, 1e6) == 0


def test_eval_time_reads_the_weights_once_per_batch():
    # 96 samples → 3 batches, each reading 1e9 B of weights: 3e9 B / 1e10 = 0.3 s of memory.
    assert eval_time(profile(), 96, 32, 0, 0, 1e9) == pytest.approx(3 * 0.002 + 0.3, rel=1e-12)
    assert eval_time(profile(), 96, 96, 0, 0, 1e9) == pytest.approx(0.002 + 0.1, rel=1e-12)


def test_small_cnn_workload_is_counted(small_cnn):
    assert small_cnn.train_step_flops > 0
    assert small_cnn.train_step_bytes > 3 * small_cnn.parameter_bytes
    assert small_cnn.eval_sample_flops > 0
    # A train step (fwd + bwd over 32 samples) costs far more than one evaluated sample.
    assert small_cnn.train_step_flops > 32 * small_cnn.eval_sample_flops


def test_below_saturation_the_rate_falls_as_the_square_root_of_the_work():
    gpu = profile(saturation_flops=1e10)  # 5e11 FLOP/s sustained, from 1e10 FLOPs per step on
    # 1e8 FLOPs: rate 5e11 × √(1e8 / 1e10) = 5e10 FLOP/s → 2 ms, not 0.2 ms
    assert compute_time(gpu, 1e8) == pytest.approx(2e-3, rel=1e-12)
    assert compute_time(gpu, 4e8) == pytest.approx(4e-3, rel=1e-12)  # 4× the work, 2× the time
    assert compute_time(gpu, 1e10) == pytest.approx(0.02, rel=1e-12)  # continuous at saturation
    assert compute_time(gpu, 1e11) == pytest.approx(0.2, rel=1e-12)  # linear above it
    assert compute_time(gpu, 0) == 0
    assert step_time(gpu, 1e8, 0) == pytest.approx(0.01 + 2e-3, rel=1e-12)
    assert compute_time(profile(), 1e8) == pytest.approx(2e-4, rel=1e-12)  # a CPU: any step fills


def test_an_eval_batch_fills_the_device_by_its_own_work():
    gpu = profile(saturation_flops=3.2e9)
    # 40 samples of 1e8 FLOPs in batches of 32: one full batch (3.2e9, saturated: 6.4 ms) and
    # one of 8 (8e8: √(8e8 × 3.2e9) / 5e11 = 3.2 ms, twice the linear 1.6 ms)
    assert eval_time(gpu, 40, 32, 1e8, 0) == pytest.approx(2 * 0.002 + 6.4e-3 + 3.2e-3, rel=1e-12)


LAYER_COSTS = {
    "conv_flop_rate": 1e10,
    "linear_flop_rate": 4e10,
    "bandwidth": 1e9,
    "step_overhead_s": 1e-3,
    "eval_overhead_s": 2e-4,
    "conv_overhead_s": 3e-4,
    "linear_overhead_s": 6e-5,
    "other_overhead_s": 3e-5,
}


def test_a_layered_profile_charges_each_layer_by_its_class():
    layered = profile(layer_costs=LAYER_COSTS)
    layers = [("conv", 2e7, 1e5), ("other", 0.0, 4e6), ("linear", 4e6, 2e6)]
    # conv: max(2 ms, 0.1 ms) + 0.3 ms; other: max(0, 4 ms) + 0.03 ms; linear: max(0.1 ms, 2 ms)
    # + 0.06 ms; plus the step's 1 ms
    step = 1e-3 + (2e-3 + 3e-4) + (4e-3 + 3e-5) + (2e-3 + 6e-5)
    assert layered_time(layered, "train", layers) == pytest.approx(step, rel=1e-12)
    # an eval batch pays its own overhead and a third of each dispatch (forward kernels only)
    batch = 2e-4 + 2e-3 + 4e-3 + 2e-3 + (3e-4 + 3e-5 + 6e-5) / 3
    assert layered_time(layered, "eval", layers) == pytest.approx(batch, rel=1e-12)


@pytest.fixture(scope="module")
def seed000_steps():
    """Seed 000's small CNN at batch 32, at MNIST shape and at a face-sized input (33 people)."""
    return {
        "mnist": workload_of("cnn-small", (1, 28, 28), 10, 32),
        "faces": workload_of("cnn-small", (3, 64, 64), 33, 32),
    }


@pytest.mark.parametrize(("shape", "low", "high"), [("mnist", 10, 14), ("faces", 8, 12)])
def test_seed_000_bands_at_the_papers_shapes(seed000_steps, shape, low, high):
    """Seed 000: a Jetson Nano trains ≈12× slower than an RTX 2080 Ti on MNIST, ≈10× on LFW."""
    step = seed000_steps[shape]
    ratio = real_step("jetson-nano", step) / real_step("rtx-2080ti", step)
    assert low <= ratio <= high


@pytest.fixture(scope="module")
def resnet50_step():
    """FLOPs and bytes of one ResNet-50 training step at 224×224, batch 64 (counted at batch 2)."""
    return workload_of("resnet50", (3, 224, 224), 1000, 2).train_step_at(64)


@pytest.mark.parametrize(("name", "published"), [("rtx-2080ti", 294), ("v100", 405), ("v100", 367)])
def test_resnet50_training_throughput_within_25_percent_of_lambdas(resnet50_step, name, published):
    images_per_s = 64 / step_time(builtin_device_profiles()[name], *resnet50_step)
    assert 0.75 * published <= images_per_s <= 1.25 * published


def test_raspberry_pi_runs_mobilenetv1_at_the_published_latency():
    # 569 M multiply-adds (Howard et al. 2017, Table 8), one image: TFLite's ≈87 ms
    seconds = eval_time(builtin_device_profiles()["raspberry-pi-4"], 1, 1, 2 * 569e6, 0)
    assert 0.75 * 0.087 <= seconds <= 1.25 * 0.087


def test_every_builtin_profile_loads_and_is_named_after_its_file():
    profiles = builtin_device_profiles()
    stems = sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))
    assert sorted(profiles) == stems
    assert len(stems) >= 10
    for name, prof in profiles.items():
        assert prof.name == name
        assert prof.sources, f"{name} cites no source"
        assert 0 < prof.efficiency <= 1
        assert prof.power_w.compute >= prof.power_w.idle


def test_every_gpu_profile_fills_at_20_ms_of_peak_rate_work():
    """One saturation rule for the shipped GPUs (device_profiles/README.md); CPUs fill at once."""
    profiles = builtin_device_profiles()
    cpus = {"raspberry-pi-4", "core-i7-8700"}
    assert all(profiles[name].saturation_flops == 0 for name in cpus)
    for name in profiles.keys() - cpus:
        profile = profiles[name]
        assert profile.saturation_flops == pytest.approx(0.02 * profile.peak_flops, rel=0.01)


def test_builtin_profiles_order_is_plausible(seed000_steps):
    profiles = builtin_device_profiles()
    t = {name: real_step(name, seed000_steps["mnist"]) for name in profiles}
    assert t["a100"] < t["jetson-nano"]
    assert t["a100"] < t["rtx-2080ti"]
    assert t["v100"] < t["rtx-2080ti"]
    assert t["jetson-agx-orin"] < t["jetson-xavier-nx"] < t["jetson-tx2"] < t["jetson-nano"]
    datacenter = ("a100", "v100", "rtx-2080ti")
    edge = ("jetson-nano", "jetson-tx2", "jetson-xavier-nx", "raspberry-pi-4", "phone")
    assert max(t[d] for d in datacenter) < min(t[e] for e in edge)
    assert t["raspberry-pi-4"] == max(t.values())
    peak = {name: p.peak_flops for name, p in profiles.items()}
    assert peak["a100"] > peak["v100"] > peak["rtx-2080ti"] > peak["jetson-agx-orin"]
    assert peak["jetson-agx-orin"] > peak["jetson-xavier-nx"] > peak["jetson-nano"]
    assert peak["jetson-nano"] > peak["raspberry-pi-4"]
    bw = {name: p.memory_bandwidth for name, p in profiles.items()}
    assert bw["a100"] > bw["v100"] > bw["rtx-2080ti"] > bw["jetson-nano"]
