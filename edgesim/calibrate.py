"""Measure this machine, write a device profile: profile a real Jetson once, simulate a thousand.

A profile's numbers decide every simulated second, so they should come from
the device itself. :func:`measure` times real training steps and evaluation
batches — edgesim's own :func:`~edgesim.learning.training.train_steps` and
:func:`~edgesim.learning.training.evaluate` on the built-in models (or a user's),
at several input shapes and batch sizes, on one torch thread as a run uses —
and pairs each time with the FLOPs and bytes :mod:`edgesim.learning.flops` counts
for it. :func:`fit_profile` fits the cost model's terms (per-step and per-batch
overhead, sustained FLOP/s, the work per step that reaches it: the work-fill law
of :mod:`edgesim.cluster.step_models`) to those times by least squares on the
relative error, adds per-layer costs where the layer roofline predicts held-out
workloads clearly better (:func:`choose_cost_model`), takes the memory bandwidth
from a STREAM-style copy (McCalpin, 1995), and records how it was all measured.

Timing is robust to a busy host: each workload is warmed up, then timed in
blocks long enough for the clock's resolution; workloads are interleaved in
rounds, each round keeps the median of its blocks, and the fastest round is
kept, since other work on the machine only ever adds time.
"""

from __future__ import annotations

import datetime
import math
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import yaml

import edgesim
from edgesim.cluster.costs import eval_time, layered_time, step_time
from edgesim.cluster.step_models import (
    CLASS_ROOFLINE,
    FORMULA,
    WORK_FILL,
    FittedModel,
    StepSample,
    fit_all,
)
from edgesim.cluster.step_models import relative_errors as _errors
from edgesim.config.profiles import (
    CalibratedWorkload,
    Calibration,
    DeviceProfile,
    LayerCosts,
    StepModelFit,
)
from edgesim.errors import EdgesimError
from edgesim.io import write_text_atomic
from edgesim.learning.datasets import Dataset
from edgesim.learning.flops import measure_workload
from edgesim.learning.layers import layer_work
from edgesim.learning.models import InputShape, build_model
from edgesim.learning.training import BatchStream, Optimizer, evaluate, train_steps

NUM_CLASSES = 10


@dataclass(frozen=True)
class Case:
    """One workload to time: a model at an input shape and batch size, training or evaluating."""

    model: str
    input_shape: InputShape
    batch_size: int
    kind: str = "train"

    @property
    def label(self) -> str:
        c, h, w = self.input_shape
        return f"{self.model} {c}x{h}x{w} b{self.batch_size} {self.kind}"


def _cases(kind: str, spec: Sequence[tuple[str, InputShape, Sequence[int]]]) -> list[Case]:
    return [Case(m, shape, b, kind) for m, shape, batches in spec for b in batches]


DIGITS, MNIST, CIFAR = (1, 8, 8), (1, 28, 28), (3, 32, 32)

SUITE: list[Case] = [
    *_cases(
        "train",
        [
            ("mlp", DIGITS, (8, 32, 128)),
            ("mlp", CIFAR, (32, 128)),
            ("cnn-small", DIGITS, (8, 32)),
            ("cnn-small", MNIST, (8, 32)),
            ("lenet5", MNIST, (8, 32, 128)),
            ("resnet8", CIFAR, (8, 32)),
            ("mobilenetv2-small", CIFAR, (8, 32)),
        ],
    ),
    *_cases(
        "eval",
        [
            ("mlp", MNIST, (32, 256)),
            ("cnn-small", MNIST, (64,)),
            ("lenet5", MNIST, (256,)),
            ("resnet8", CIFAR, (64,)),
        ],
    ),
]
"""The default workloads: overhead-bound (an MLP on 8×8 digits) to compute-bound (ResNet-8 on
CIFAR shapes), few layers to many (MobileNetV2), small batches to large, and evaluation."""

QUICK_SUITE: list[Case] = [
    *_cases(
        "train",
        [
            ("mlp", DIGITS, (8, 128)),
            ("cnn-small", DIGITS, (8, 32)),
            ("lenet5", MNIST, (32,)),
            ("resnet8", CIFAR, (8,)),
        ],
    ),
    *_cases("eval", [("mlp", MNIST, (32, 256)), ("lenet5", MNIST, (256,))]),
]

DEFAULT_SHAPES = (MNIST, CIFAR)
DEFAULT_BATCHES = (8, 32, 128)
EVAL_BATCH = 256


def user_suite(
    models: Sequence[str], shapes: Sequence[InputShape], batches: Sequence[int]
) -> list[Case]:
    """Training at every shape × batch, and evaluation at every shape, of each named model."""
    shapes, batches = shapes or DEFAULT_SHAPES, batches or DEFAULT_BATCHES
    train = [Case(m, s, b) for m in models for s in shapes for b in batches]
    return train + [Case(m, s, EVAL_BATCH, "eval") for m in models for s in shapes]


@dataclass(frozen=True)
class Statistic:
    """How each workload is timed (see the module docstring)."""

    rounds: int = 3
    repeats: int = 5
    block_s: float = 0.05
    """Shortest timed block: enough steps that timer resolution and jitter are small."""
    max_units: int = 64

    def describe(self) -> str:
        return (
            f"warm-up, then blocks of >= {self.block_s * 1000:g} ms; fastest of {self.rounds} "
            f"interleaved rounds of the median of {self.repeats} blocks"
        )


FULL = Statistic()
QUICK = Statistic(rounds=2, repeats=3, block_s=0.02)


@dataclass
class Probe:
    """A workload ready to run: ``run(units)`` does ``units`` training steps or eval batches."""

    case: Case
    sample: StepSample
    run: Callable[[int], None]
    max_units: int


Timer = Callable[[Probe, int], float]
"""``timer(probe, units)``: seconds per unit of ``probe.run(units)``; tests inject a fake one."""


def wall_timer(device: str) -> Timer:
    """The host's monotonic clock around ``probe.run`` (CUDA work is waited for)."""
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def timer(probe: Probe, units: int) -> float:
        sync()
        start = time.perf_counter()
        probe.run(units)
        sync()
        return (time.perf_counter() - start) / units

    return timer


def _random_data(shape: InputShape, samples: int, seed: int) -> Dataset:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn((samples, *shape), generator=generator)
    y = torch.randint(0, NUM_CLASSES, (samples,), generator=generator)
    return Dataset("calibration", x, y, NUM_CLASSES, x[0].numel() * x.element_size())


EVAL_POOL_BYTES = 64 * 2**20
"""Most input data one timed evaluation holds (its batches are drawn from it)."""


def probe(case: Case, device: str, max_units: int = 64, seed: int = 0) -> Probe:
    """Build the model, count its work, and make the closure that runs it as a run would."""
    model = build_model(case.model, case.input_shape, NUM_CLASSES, seed=seed)
    work = measure_workload(model, case.input_shape, case.batch_size)
    layers = layer_work(model, case.input_shape, case.batch_size)
    model = model.to(device)
    b = case.batch_size
    if case.kind == "train":
        stream = BatchStream(_random_data(case.input_shape, 4 * b, seed), b, _generator(seed))
        sample = StepSample(
            case.label,
            "train",
            b,
            work.train_step_flops,
            work.train_step_bytes,
            tuple((lw.op, lw.train_flops, lw.train_bytes) for lw in layers),
        )

        def run(units: int) -> None:
            train_steps(model, stream, units, Optimizer(), device)

        return Probe(case, sample, run, max_units)
    per_sample = math.prod(case.input_shape) * 4
    pool_batches = max(1, min(max_units, EVAL_POOL_BYTES // (b * per_sample)))
    data = _random_data(case.input_shape, pool_batches * b, seed)
    sample = StepSample(
        case.label,
        "eval",
        b,
        b * work.eval_sample_flops,
        b * work.eval_sample_bytes + work.parameter_bytes,
        tuple((lw.op, lw.eval_flops, lw.eval_bytes) for lw in layers),
    )

    def run_eval(units: int) -> None:
        n = units * b
        evaluate(model, Dataset("calibration", data.x[:n], data.y[:n], NUM_CLASSES, 0), device, b)

    return Probe(case, sample, run_eval, pool_batches)


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def time_probes(
    probes: Sequence[Probe],
    timer: Timer,
    stat: Statistic = FULL,
    on_round: Callable[[int], None] | None = None,
    seed: int = 0,
) -> list[StepSample]:
    """Each probe's seconds per unit, by :class:`Statistic`, interleaved across probes."""
    units = []
    for p in probes:
        warm = timer(p, 1)  # the first call builds kernels and caches: discarded
        warm = min(warm, timer(p, 1))
        units.append(max(1, min(p.max_units, math.ceil(stat.block_s / max(warm, 1e-9)))))
    best = [math.inf] * len(probes)
    order = list(range(len(probes)))
    shuffle = random.Random(seed)
    for r in range(stat.rounds):
        shuffle.shuffle(order)
        for i in order:
            blocks = [timer(probes[i], units[i]) for _ in range(stat.repeats)]
            best[i] = min(best[i], statistics.median(blocks))
        if on_round is not None:
            on_round(r + 1)
    return [replace(p.sample, seconds=t) for p, t in zip(probes, best, strict=True)]


COPY_BYTES = 128 * 2**20


def copy_bandwidth(device: str, stat: Statistic = FULL, size: int = COPY_BYTES) -> float:
    """Bytes/s of a large tensor copy (read + write), STREAM's "copy" kernel (McCalpin, 1995)."""
    src = torch.ones(size // 4, device=device)
    dst = torch.empty_like(src)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    dst.copy_(src)
    times = []
    for _ in range(stat.rounds * stat.repeats):
        sync()
        start = time.perf_counter()
        dst.copy_(src)
        sync()
        times.append(time.perf_counter() - start)
    return 2 * src.numel() * src.element_size() / min(times)


def memory_size(device: str) -> float:
    """Bytes of memory training may use: the GPU's, or the host's RAM."""
    if device == "cuda":
        return float(torch.cuda.get_device_properties(0).total_memory)
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


@dataclass(frozen=True)
class Power:
    compute: float | None = None
    transmit: float | None = None
    idle: float | None = None


PLACEHOLDER_POWER = {"compute": 10.0, "transmit": 3.0, "idle": 2.0}
"""Watts written when none are given: placeholders, marked "not measured" in the profile."""


def fit_profile(
    samples: Sequence[StepSample],
    cases: Sequence[Case],
    *,
    name: str,
    device: str,
    bandwidth: float,
    memory_bytes: float,
    stat: Statistic,
    peak_flops: float | None = None,
    power: Power = Power(),
) -> DeviceProfile:
    """Fit the cost model to ``samples`` and write down how: a :class:`DeviceProfile`.

    Every candidate of :mod:`edgesim.cluster.step_models` is fitted too and its
    parameters and errors recorded, so the profile says which predicts this
    device best. ``peak_flops`` is the user's (a spec sheet's); without it the
    sustained FLOP/s is written as the peak with efficiency 1.0.
    """
    fits = fit_all(samples, bandwidth)
    charged = choose_cost_model(fits, samples)
    fitted = whole_step_model(fits, samples)
    sustained = _rounded(fitted.params["flop_rate"])
    if peak_flops is not None and peak_flops < sustained:
        raise EdgesimError(
            f"--peak-flops: {peak_flops:.3g} FLOP/s is below the {sustained:.3g} FLOP/s this "
            "device sustained; give the spec sheet's FP32 peak"
        )
    errors = _errors(charged, samples)
    watts = {k: getattr(power, k) for k in PLACEHOLDER_POWER}
    guessed = sorted(k for k, v in watts.items() if v is None)
    peak_note = (
        "peak_flops: given by the user (--peak-flops)"
        if peak_flops is not None
        else "peak_flops: not given, so the sustained FLOP/s measured, with efficiency 1.0"
    )
    host = platform.node()
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    sources = [
        f"measured by edgesim {edgesim.__version__} calibrate on {host} ({date}), torch "
        f"{torch.__version__}, device {device}, {torch.get_num_threads()} thread(s): "
        f"{len(samples)} workloads, fit median error {statistics.median(errors):.1%}, "
        f"worst {max(errors):.1%} (calibration.workloads)",
        peak_note,
        "memory_bandwidth: measured, a 128 MiB tensor copy (STREAM copy, read + write)",
        f"memory_bytes: {'the GPU' if device == 'cuda' else 'host RAM'}, as reported",
    ]
    if guessed:
        sources.append(f"power_w {', '.join(guessed)}: not measured (placeholder values)")
    profile = DeviceProfile(
        name=name,
        description=f"{_processor() or platform.machine()} ({device}), calibrated on {host}",
        peak_flops=peak_flops or sustained,
        efficiency=round(sustained / (peak_flops or sustained), 4),
        saturation_flops=_rounded(fitted.params["saturation_flops"]),
        step_overhead_s=_rounded(fitted.params["step_overhead_s"]),
        eval_overhead_s=_rounded(fitted.params["eval_overhead_s"]),
        layer_costs=_layer_costs(charged),
        memory_bytes=memory_bytes,
        memory_bandwidth=_rounded(bandwidth),
        power_w={k: PLACEHOLDER_POWER[k] if v is None else v for k, v in watts.items()},
        sources=sources,
        notes=_notes(fits, samples, charged),
    )
    calibration = Calibration(
        tool=f"edgesim {edgesim.__version__} calibrate",
        date=date,
        host=host,
        platform=platform.platform(),
        processor=_processor(),
        torch_version=torch.__version__,
        torch_device=device,
        threads=torch.get_num_threads(),
        statistic=stat.describe(),
        step_models={n: _fit_record(f, samples) for n, f in fits.items()},
        workloads=[_workload_record(c, s, profile) for c, s in zip(cases, samples, strict=True)],
    )
    return profile.model_copy(update={"calibration": calibration})


NOISE = 0.05
"""Relative error within which a fit is as good as the timings (run-to-run spread on a host)."""

CLEARLY_BETTER = 0.75
"""The layer roofline is charged only if its held-out median error is under this share of the
whole-step law's: it has more terms, so it must earn them on workloads it was not fitted to."""

FOLDS = 5
"""Parts the suite is split into to judge the laws on workloads left out of their fit."""


def choose_cost_model(fits: dict[str, FittedModel], samples: Sequence[StepSample]) -> FittedModel:
    """What the written profile charges: the layer roofline where it predicts better, else a
    whole-step law (:func:`whole_step_model`).

    "Better" is judged on workloads left out of the fit: the suite is split into
    :data:`FOLDS` interleaved parts, and each part is predicted by both laws fitted
    to the others (k-fold cross-validation). A whole-step law that predicts within
    the timing noise is kept.
    """
    whole = whole_step_model(fits, samples)
    if len(samples) < 2 * FOLDS:
        return whole
    bandwidth = fits[FORMULA.name].params["bandwidth"]
    held_whole, held_layers = [], []
    for fold in range(FOLDS):
        train = [s for i, s in enumerate(samples) if i % FOLDS != fold]
        test = [s for i, s in enumerate(samples) if i % FOLDS == fold]
        train_fits = {m.name: m.fit(train, bandwidth=bandwidth) for m in (FORMULA, WORK_FILL)}
        held_whole += _errors(whole_step_model(train_fits, train), test)
        held_layers += _errors(CLASS_ROOFLINE.fit(train), test)
    whole_error = statistics.median(held_whole)
    if whole_error > NOISE and statistics.median(held_layers) < CLEARLY_BETTER * whole_error:
        return fits[CLASS_ROOFLINE.name]
    return whole


def whole_step_model(fits: dict[str, FittedModel], samples: Sequence[StepSample]) -> FittedModel:
    """The work-fill fit where the data show a GPU's fill, else the formula (no saturation).

    The work-fill law has one parameter more and contains the formula (``S`` ≤
    the smallest step), so on a CPU, where every step runs at the full rate, it
    fits no better, and with few workloads a large ``S`` and a large rate can fit
    as well as the truth. It is taken only when the formula misses a workload by
    more than the timing noise (:data:`NOISE`) and the fill halves its loss.
    """
    formula, filled = fits[FORMULA.name], fits[WORK_FILL.name]
    misses = max(_errors(formula, samples)) > NOISE
    if misses and _loss(filled, samples) < 0.5 * _loss(formula, samples):
        return filled
    return FittedModel(WORK_FILL, {**formula.params, "saturation_flops": 0.0})


def _layer_costs(charged: FittedModel) -> LayerCosts | None:
    if charged.model is not CLASS_ROOFLINE:
        return None
    return LayerCosts(**{k: _rounded(v) for k, v in charged.params.items()})


def _loss(fitted: FittedModel, samples: Sequence[StepSample]) -> float:
    return sum(e * e for e in _errors(fitted, samples))


def _rounded(value: float) -> float:
    """Four significant digits: more than any measurement here supports, and readable."""
    return float(f"{value:.4g}")


def _notes(
    fits: dict[str, FittedModel], samples: Sequence[StepSample], charged: FittedModel
) -> str:
    ranked = sorted(fits, key=lambda n: statistics.median(_errors(fits[n], samples)))
    shown = "; ".join(
        f"{n} {statistics.median(_errors(fits[n], samples)):.1%} median, "
        f"{max(_errors(fits[n], samples)):.1%} worst"
        for n in ranked
    )
    return (
        "Fitted to the measured workloads (in-sample errors of each step model: "
        f"{shown}); edgesim's cost model charges "
        + (
            "each layer by layer_costs (the class roofline predicted held-out workloads best)"
            if charged.model is CLASS_ROOFLINE
            else "the whole-step terms (the work-fill law)"
        )
        + "."
    )


def _fit_record(fitted: FittedModel, samples: Sequence[StepSample]) -> StepModelFit:
    errors = _errors(fitted, samples)
    return StepModelFit(
        params={k: _rounded(v) for k, v in fitted.params.items()},
        median_error=round(statistics.median(errors), 4),
        worst_error=round(max(errors), 4),
    )


def _workload_record(case: Case, sample: StepSample, profile: DeviceProfile) -> CalibratedWorkload:
    """The workload, its measured time and what the written profile predicts for it."""
    if profile.layer_costs is not None:
        predicted = layered_time(profile, sample.kind, sample.layers)
    elif sample.kind == "train":
        predicted = step_time(profile, sample.flops, sample.bytes)
    else:  # one eval batch, its whole work as one sample's
        predicted = eval_time(profile, 1, 1, sample.flops, sample.bytes)
    return CalibratedWorkload(
        model=case.model,
        input_shape=case.input_shape,
        batch_size=case.batch_size,
        kind=case.kind,
        flops=sample.flops,
        bytes=sample.bytes,
        layers=len(sample.layers),
        measured_s=_rounded(sample.seconds),
        predicted_s=_rounded(predicted),
    )


def _processor() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), or the GPU's on CUDA."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return torch.cuda.get_device_name(0)
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def profile_yaml(profile: DeviceProfile) -> str:
    """The profile as YAML that :func:`~edgesim.config.profiles.load_device_profile` reads back."""
    data = profile.model_dump(mode="json", exclude_none=True)
    header = (
        f"# {profile.description}\n"
        "# Written by `edgesim calibrate` (docs/calibrate.md); calibration: says how.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def write_profile(profile: DeviceProfile, path: Path) -> Path:
    """Write atomically: a crash never leaves half a profile behind."""
    return write_text_atomic(path, profile_yaml(profile))


def parse_shape(text: str) -> InputShape:
    """``3x32x32`` (channels × height × width) as a shape, or a clear error."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if len(shape) != 3 or not all(1 <= s <= MAX_SIDE for s in shape):
        raise EdgesimError(
            f"--input-shape: expected CxHxW such as 3x32x32, each 1..{MAX_SIDE} (got {text!r:.60})"
        )
    return shape  # type: ignore[return-value]


MAX_SIDE = 512


def calibrate(
    out: Path,
    *,
    device: str = "cpu",
    models: Sequence[str] = (),
    shapes: Sequence[InputShape] = (),
    batches: Sequence[int] = (),
    quick: bool = False,
    peak_flops: float | None = None,
    power: Power = Power(),
    name: str | None = None,
    timer: Timer | None = None,
    bandwidth: float | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> DeviceProfile:
    """Measure this machine, fit a profile and write it to ``out`` (the ``calibrate`` command).

    ``models`` replaces the built-in suite with those models (names or references,
    at ``shapes`` × ``batches``); ``timer`` and ``bandwidth`` replace the host's
    clock and its measured bandwidth (tests).
    The output is claimed by the caller (:func:`edgesim.io.claim_outputs`).
    """
    from edgesim.runner import configure_torch

    if device == "cuda" and not torch.cuda.is_available():
        raise EdgesimError("--device cuda: torch sees no CUDA device here; use --device cpu")
    if (shapes or batches) and not models:
        raise EdgesimError("--input-shape and --batch-size choose the workloads of --model")
    stat = QUICK if quick else FULL
    cases = user_suite(models, shapes, batches) if models else (QUICK_SUITE if quick else SUITE)
    configure_torch(threads=1, device=device)
    say = on_progress or (lambda _message: None)
    say(f"counting the work of {len(cases)} workloads")
    probes = [probe(c, device, stat.max_units) for c in cases]
    say(f"timing them ({stat.describe()})")
    samples = time_probes(
        probes,
        timer or wall_timer(device),
        stat,
        on_round=lambda r: say(f"round {r} of {stat.rounds} done"),
    )
    if bandwidth is None:
        say("measuring memory bandwidth")
        bandwidth = copy_bandwidth(device, stat)
    profile = fit_profile(
        samples,
        cases,
        name=name or _profile_name(out),
        device=device,
        bandwidth=bandwidth,
        memory_bytes=memory_size(device),
        stat=stat,
        peak_flops=peak_flops,
        power=power,
    )
    write_profile(profile, out)
    return profile


def _profile_name(out: Path) -> str:
    """The file's stem, as a built-in profile's name equals its file's."""
    stem = out.name.removesuffix(".yaml").removesuffix(".yml")
    return stem[:200] or "calibrated"
