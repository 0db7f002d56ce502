"""Candidate step-time models, fitted to measured steps and compared on held-out ones.

The simulated clock charges a device for each training step and each
evaluation batch. Five ways to predict those seconds from counted work:

* :data:`FORMULA` — a fixed overhead plus the larger of FLOPs over sustained
  FLOP/s and bytes over memory bandwidth, for the whole step (the cost model
  before the work-fill law). Paleo (Qi et al., ICLR 2017) is this kind of
  analytical FLOP model.
* :data:`BATCH_EFFICIENCY` — the formula with a sustained FLOP/s that grows with
  the batch, ``F · b / (b + b½)``: small batches leave vector units under-used.
* :data:`WORK_FILL` — the formula with a FLOP/s reached only by steps of at
  least ``S`` FLOPs, ``F · min(1, √(flops / S))``: a big GPU is occupied only by
  big steps, which is how the published gaps (a Jetson Nano ≈10× an RTX 2080 Ti
  on small CNNs, yet the 2080 Ti's ResNet-50 rate) can both hold. This is the
  cost model's law (:func:`filled_compute_time`), and
  what ``edgesim calibrate`` writes; on a CPU it fits a small ``S`` and is the
  formula.
* :data:`LAYER_ROOFLINE` — each layer on its own roofline (Williams et al.,
  CACM 2009), ``max(flops / F, bytes / B)``, plus a dispatch cost per layer,
  summed: Paleo's layer-wise sum, and Habitat's (Yu et al., USENIX ATC 2021)
  per-operation view. Memory-bound layers (normalisation, activations, pooling)
  then cost their traffic, and a model of many small layers pays for each.
* :data:`CLASS_ROOFLINE` — the layer roofline with a FLOP/s and a dispatch cost
  per operator class (convolution, matrix product, other), as Habitat predicts
  each kind of kernel its own way: a convolution's kernels (im2col, oneDNN or
  cuDNN set-up, three of them per step) cost far more to start than a ReLU's.
  ``edgesim calibrate`` writes it into a profile (``layer_costs``) where it predicts
  the device's held-out workloads clearly better than the whole-step law.

Each model has a few non-linear parameters (rates), found by a log-spaced grid
search refined around its best point, and non-negative linear ones (overheads),
solved exactly at each grid point. The loss is the squared *relative* error:
step times span four orders of magnitude, and a simulation is wrong by a ratio,
not by milliseconds. Pure Python: fitting needs no numerical library.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["train", "eval"]


def filled_compute_time(flops: float, sustained: float, saturation_flops: float) -> float:
    """Seconds for ``flops`` at ``sustained`` FLOP/s, reached only from ``saturation_flops`` on.

    Below it the rate is ``sustained × √(flops / saturation_flops)``, so the time
    is ``√(flops × saturation_flops) / sustained``: it grows with the square root
    of the work, between a launch-bound step's flat cost and a full device's
    linear one, and is continuous at ``saturation_flops``.
    """
    if flops < saturation_flops:
        return math.sqrt(flops * saturation_flops) / sustained
    return flops / sustained


OP_CLASSES = ("conv", "linear", "other")


@dataclass(frozen=True)
class StepSample:
    """One timed unit — a training step, or one evaluation batch — its counted work and its time.

    ``layers`` holds each layer's ``(op class, flops, bytes)`` for this unit (see
    :mod:`edgesim.learning.layers`); ``seconds`` is the measured time (0 when only
    a prediction is wanted).
    """

    label: str
    kind: Kind
    batch_size: int
    flops: float
    bytes: float
    layers: tuple[tuple[str, float, float], ...]
    seconds: float = 0.0


Rates = dict[str, float]


@dataclass(frozen=True)
class StepModel:
    """A family of predictors: time = ``roofs(sample, rates)`` + Σ overhead × ``counts(sample)``."""

    name: str
    description: str
    rates: dict[str, tuple[float, float]]
    """Each non-linear parameter's search range (searched on a log scale)."""
    overheads: tuple[str, ...]
    roofs: Callable[[StepSample, Rates], float]
    counts: Callable[[StepSample], list[float]]
    """How many times each overhead is paid (independent of the rates, so solved linearly)."""

    def fit(self, samples: Sequence[StepSample], **given: float) -> FittedModel:
        """The parameters minimising the squared relative error (``given`` rates are kept)."""
        if not samples or any(s.seconds <= 0 for s in samples):
            raise ValueError("fitting needs samples with measured seconds > 0")
        searched = {k: v for k, v in self.rates.items() if k not in given}
        return FittedModel(self, _grid_search(self, samples, searched, given))


@dataclass(frozen=True)
class FittedModel:
    model: StepModel
    params: dict[str, float]

    def predict(self, sample: StepSample) -> float:
        counts = self.model.counts(sample)
        paid = sum(self.params[n] * c for n, c in zip(self.model.overheads, counts, strict=True))
        return self.model.roofs(sample, self.params) + paid


def relative_errors(fitted: FittedModel, samples: Sequence[StepSample]) -> list[float]:
    """``|predicted − measured| / measured`` of each sample."""
    return [abs(fitted.predict(s) - s.seconds) / s.seconds for s in samples]


def _kinds(sample: StepSample) -> list[float]:
    """A training step and an eval batch each pay their own fixed overhead."""
    return [float(sample.kind == "train"), float(sample.kind == "eval")]


def _whole_step(sample: StepSample, p: Rates) -> float:
    return max(sample.flops / p["flop_rate"], sample.bytes / p["bandwidth"])


def _batch_scaled(sample: StepSample, p: Rates) -> float:
    rate = p["flop_rate"] * sample.batch_size / (sample.batch_size + p["half_batch"])
    return max(sample.flops / rate, sample.bytes / p["bandwidth"])


def _filling(sample: StepSample, p: Rates) -> float:
    compute = filled_compute_time(sample.flops, p["flop_rate"], p["saturation_flops"])
    return max(compute, sample.bytes / p["bandwidth"])


def _per_layer(sample: StepSample, p: Rates) -> float:
    return sum(max(f / p["flop_rate"], b / p["bandwidth"]) for _, f, b in sample.layers)


def _layers(sample: StepSample) -> list[float]:
    return [*_kinds(sample), float(len(sample.layers))]


def _per_class(sample: StepSample, p: Rates) -> float:
    rates = {"conv": p["conv_flop_rate"], "linear": p["linear_flop_rate"], "other": math.inf}
    return sum(max(f / rates[op], b / p["bandwidth"]) for op, f, b in sample.layers)


def _class_layers(sample: StepSample) -> list[float]:
    # an eval batch runs the forward pass only: a third of a step's kernels (backward ≈ 2×)
    share = 1.0 if sample.kind == "train" else 1 / 3
    return [
        *_kinds(sample),
        *(share * sum(op == c for op, _, _ in sample.layers) for c in OP_CLASSES),
    ]


FLOP_RATES = (1e7, 1e15)
BANDWIDTHS = (1e8, 1e14)
KIND_OVERHEADS = ("step_overhead_s", "eval_overhead_s")

FORMULA = StepModel(
    "formula",
    "overhead + max(flops / F, bytes / B) per step (the cost model before work-fill)",
    {"flop_rate": FLOP_RATES, "bandwidth": BANDWIDTHS},
    KIND_OVERHEADS,
    _whole_step,
    _kinds,
)
BATCH_EFFICIENCY = StepModel(
    "batch-efficiency",
    "overhead + max(flops / (F · b / (b + b½)), bytes / B) per step",
    {"flop_rate": FLOP_RATES, "half_batch": (0.01, 1e4), "bandwidth": BANDWIDTHS},
    KIND_OVERHEADS,
    _batch_scaled,
    _kinds,
)
WORK_FILL = StepModel(
    "work-fill",
    "overhead + max(flops / (F · min(1, √(flops / S))), bytes / B) per step (the cost model)",
    {"flop_rate": FLOP_RATES, "saturation_flops": (1e3, 1e15), "bandwidth": BANDWIDTHS},
    KIND_OVERHEADS,
    _filling,
    _kinds,
)
LAYER_ROOFLINE = StepModel(
    "layer-roofline",
    "overhead + Σ over layers of (dispatch + max(flops / F, bytes / B))",
    {"flop_rate": FLOP_RATES, "bandwidth": BANDWIDTHS},
    (*KIND_OVERHEADS, "layer_overhead_s"),
    _per_layer,
    _layers,
)
CLASS_ROOFLINE = StepModel(
    "class-roofline",
    "the layer roofline with a FLOP/s and a dispatch cost per operator class",
    {"conv_flop_rate": FLOP_RATES, "linear_flop_rate": FLOP_RATES, "bandwidth": BANDWIDTHS},
    (*KIND_OVERHEADS, *(f"{c}_overhead_s" for c in OP_CLASSES)),
    _per_class,
    _class_layers,
)
STEP_MODELS: dict[str, StepModel] = {
    m.name: m for m in (FORMULA, BATCH_EFFICIENCY, WORK_FILL, LAYER_ROOFLINE, CLASS_ROOFLINE)
}

WHOLE_STEP = (FORMULA, BATCH_EFFICIENCY, WORK_FILL)
"""Models whose bytes are a whole step's DRAM traffic: their bandwidth is the measured copy rate.
The layer-wise ones fit an effective bandwidth instead (a layer's data is often in cache)."""


def fit_all(samples: Sequence[StepSample], bandwidth: float) -> dict[str, FittedModel]:
    """Every candidate fitted to ``samples``, given the device's measured memory bandwidth."""
    return {
        name: model.fit(samples, **({"bandwidth": bandwidth} if model in WHOLE_STEP else {}))
        for name, model in STEP_MODELS.items()
    }


GRID_POINTS = 9
REFINEMENTS = 8


def _grid_search(
    model: StepModel,
    samples: Sequence[StepSample],
    ranges: dict[str, tuple[float, float]],
    given: Rates,
) -> dict[str, float]:
    """Log-spaced grid over the rates, shrunk around the best point ``REFINEMENTS`` times."""
    solver = _Overheads(model, samples)
    names = list(ranges)
    bounds = {n: (math.log(lo), math.log(hi)) for n, (lo, hi) in ranges.items()}
    best: tuple[float, dict[str, float]] = (math.inf, {})
    for _ in range(REFINEMENTS + 1):
        axes = [_axis(*bounds[n]) for n in names]
        for point in itertools.product(*axes):
            rates = {**given, **{n: math.exp(v) for n, v in zip(names, point, strict=True)}}
            loss, overheads = solver.solve([model.roofs(s, rates) for s in samples])
            if loss < best[0]:
                best = (loss, {**rates, **overheads})
        for n in names:  # two grid steps either side of the best point
            lo, hi = bounds[n]
            centre, step = math.log(best[1][n]), (hi - lo) / (GRID_POINTS - 1)
            bounds[n] = (centre - 2 * step, centre + 2 * step)
    return best[1]


def _axis(lo: float, hi: float) -> list[float]:
    return [lo + (hi - lo) * i / (GRID_POINTS - 1) for i in range(GRID_POINTS)]


class _Overheads:
    """Non-negative overheads minimising Σ ((roofs + a·counts − t) / t)², for any roofs.

    The counts do not depend on the rates, so each subset's normal equations are
    inverted once; every grid point then costs a few dot products. Trying every
    subset of overheads (a left-out one is 0) is an exact non-negative least
    squares at this size (at most five).
    """

    def __init__(self, model: StepModel, samples: Sequence[StepSample]):
        self.names = model.overheads
        self.times = [s.seconds for s in samples]
        self.rows = [[c / s.seconds for c in model.counts(s)] for s in samples]
        width = len(self.names)
        self.subsets = []
        for size in range(width + 1):
            for subset in itertools.combinations(range(width), size):
                gram = [[sum(r[i] * r[j] for r in self.rows) for j in subset] for i in subset]
                inverse = _inverse(gram)
                if inverse is not None:
                    self.subsets.append((subset, inverse))

    def solve(self, roofs: list[float]) -> tuple[float, dict[str, float]]:
        y = [(t - f) / t for t, f in zip(self.times, roofs, strict=True)]
        xty = [
            sum(r[i] * v for r, v in zip(self.rows, y, strict=True)) for i in range(len(self.names))
        ]
        yy = sum(v * v for v in y)
        best: tuple[float, dict[str, float]] = (math.inf, {})
        for subset, inverse in self.subsets:
            rhs = [xty[i] for i in subset]
            coef = [sum(a * b for a, b in zip(row, rhs, strict=True)) for row in inverse]
            if any(c < 0 for c in coef):
                continue
            loss = yy - sum(
                c * b for c, b in zip(coef, rhs, strict=True)
            )  # at the least-squares optimum
            if loss < best[0]:
                full = dict.fromkeys(self.names, 0.0)
                full.update({self.names[i]: c for i, c in zip(subset, coef, strict=True)})
                best = (loss, full)
        return best


def _inverse(matrix: list[list[float]]) -> list[list[float]] | None:
    """Gauss-Jordan inverse of a small symmetric matrix; None when it is singular."""
    n = len(matrix)
    aug = [row[:] + [float(i == j) for j in range(n)] for i, row in enumerate(matrix)]
    scale = max((abs(v) for row in matrix for v in row), default=1.0)
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(aug[r][col]))
        if abs(aug[pivot][col]) <= 1e-12 * scale:
            return None
        aug[col], aug[pivot] = aug[pivot], aug[col]
        lead = aug[col][col]
        aug[col] = [v / lead for v in aug[col]]
        for r in range(n):
            if r != col:
                factor = aug[r][col]
                aug[r] = [v - factor * w for v, w in zip(aug[r], aug[col], strict=True)]
    return [row[n:] for row in aug]
