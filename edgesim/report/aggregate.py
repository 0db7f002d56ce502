"""Means over seeds with intervals that stay within what is physically possible.

Several results files of one scenario (seeds of one point) and a sweep's grid points
are summarised per scheme: the mean of each figure and an interval around it. With
three seeds a Student-t interval is wider than the data and crosses zero ("0.543 s
[-0.457 s, 1.54 s]"), which no time can be; so the interval here is read off the
data (:func:`interval`): the lowest and highest value below :data:`BOOTSTRAP_FROM`
seeds, a 95 % bootstrap percentile interval of the mean from there on, and either
clipped to the quantity's bounds (:class:`Bounds`: times, bytes, energy and lost work
≥ 0, accuracy in [0, 1]). The page says which method it used.

A target some seeds never reach is counted, not dropped: the mean is over the seeds
that reached it, always shown with "k of n reached".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from edgesim.report import facts
from edgesim.report.pareto import Candidate

BOOTSTRAP_FROM = 10
"""From this many values on, the interval is a bootstrap percentile interval."""
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
"""Fixed, so the same results give the same page."""


@dataclass(frozen=True)
class Bounds:
    low: float | None = 0.0
    high: float | None = None


NON_NEGATIVE = Bounds(0.0, None)
FRACTION = Bounds(0.0, 1.0)


@dataclass(frozen=True)
class Spread:
    """Mean of ``n`` values (of ``of`` runs) and its interval ``[low, high]``."""

    mean: float | None
    low: float | None
    high: float | None
    n: int
    of: int

    @property
    def method(self) -> str:
        return method_name(self.n)


def method_name(n: int) -> str:
    if n >= BOOTSTRAP_FROM:
        return "95 % bootstrap percentile interval of the mean"
    return "lowest to highest value"


def interval(values: Sequence[float], bounds: Bounds, of: int | None = None) -> Spread:
    """Mean and interval of ``values`` (see the module docstring), clipped to ``bounds``."""
    n = len(values)
    total = n if of is None else of
    if n == 0:
        return Spread(None, None, None, 0, total)
    data = np.asarray(values, dtype=float)
    mean = float(data.mean())
    if n >= BOOTSTRAP_FROM:
        rng = np.random.default_rng(BOOTSTRAP_SEED)
        means = rng.choice(data, size=(BOOTSTRAP_RESAMPLES, n), replace=True).mean(axis=1)
        low, high = (float(q) for q in np.percentile(means, [2.5, 97.5]))
    else:
        low, high = float(data.min()), float(data.max())
    return Spread(_clip(mean, bounds), _clip(low, bounds), _clip(high, bounds), n, total)


def _clip(value: float, bounds: Bounds) -> float:
    if bounds.low is not None:
        value = max(bounds.low, value)
    if bounds.high is not None:
        value = min(bounds.high, value)
    return value


@dataclass(frozen=True)
class Figure:
    """A per-run figure the aggregate table shows: how to read it, its bounds, its unit."""

    key: str
    title: str
    value: Callable[[dict, dict], float | None]
    bounds: Bounds
    unit: str
    can_miss: bool = False


def figures_for(scenario: dict, runs: Sequence[dict]) -> list[Figure]:
    """The figures of the aggregate table; accuracy ones only when some run recorded it."""

    def sent(key: str) -> Callable[[dict, dict], float | None]:
        return lambda run, _s: (run.get("bytes") or {}).get(key)

    accuracy = [
        Figure(
            "final_accuracy",
            "Final accuracy",
            lambda r, _s: r.get("final_accuracy"),
            FRACTION,
            "fraction",
        ),
        *(
            Figure(
                f"time_to_{t:g}",
                f"Time to {t:.0%}",
                lambda r, _s, t=t: facts.time_to_target(r, t),
                NON_NEGATIVE,
                "s",
                can_miss=True,
            )
            for t in facts.targets(scenario, runs)
        ),
    ]
    return [
        *([] if facts.all_timing_only(scenario, runs) else accuracy),
        Figure("sim_time_s", "Sim. time", lambda r, _s: r.get("sim_time_s"), NON_NEGATIVE, "s"),
        Figure("bytes", "Traffic", sent("total"), NON_NEGATIVE, "B"),
        Figure("raw_data", "Raw data", sent("raw_data"), NON_NEGATIVE, "B"),
        Figure(
            "wait", "Mean waiting", lambda r, s: facts.mean_wait_share(r, s), FRACTION, "fraction"
        ),
        Figure("energy_j", "Energy", lambda r, _s: facts.total_energy(r), NON_NEGATIVE, "J"),
        Figure("lost_work_s", "Work lost", lambda r, _s: facts.lost_work(r), NON_NEGATIVE, "s"),
    ]


@dataclass(frozen=True)
class SchemeSummary:
    """One scheme over seeds: how many runs, how many stalled, each figure's spread."""

    name: str
    runs: int
    stalled: int
    spreads: dict[str, Spread]

    def candidate(self) -> Candidate:
        def mean(key: str) -> float | None:
            found = self.spreads.get(key)
            return None if found is None else found.mean

        return Candidate(
            name=self.name,
            accuracy=mean("final_accuracy"),
            time_s=mean("sim_time_s"),
            bytes=mean("bytes"),
            energy_j=mean("energy_j"),
            raw_bytes=mean("raw_data") or 0.0,
            stalled=self.stalled == self.runs,
            reached=tuple(
                sorted(
                    (float(key.removeprefix("time_to_")), spread.mean)
                    for key, spread in self.spreads.items()
                    if key.startswith("time_to_")
                    and spread.mean is not None
                    and spread.n == spread.of  # every finished seed reached it
                )
            ),
        )


def by_scheme(scenario: dict, runs: Sequence[dict]) -> list[SchemeSummary]:
    """One summary per scheme label (in the order they first appear), over its runs.

    Stalled runs are counted and left out of every mean: their figures are those of a
    run cut short.
    """
    labels = list(dict.fromkeys(facts.base_label(run) for run in runs))
    figures = figures_for(scenario, runs)
    out = []
    for label in labels:
        mine = [run for run in runs if facts.base_label(run) == label]
        finished = [run for run in mine if facts.stall(run) is None]
        spreads = {}
        for figure in figures:
            values = [v for run in finished if (v := figure.value(run, scenario)) is not None]
            spreads[figure.key] = interval([float(v) for v in values], figure.bounds, len(finished))
        out.append(SchemeSummary(label, len(mine), len(mine) - len(finished), spreads))
    return out


def seeds_of_one_scenario(scenario: dict, runs: Sequence[dict]) -> bool:
    """Whether the runs come from several files of one scenario (seeds), not several scenarios."""
    origins = {facts.origin_key(run, scenario) for run in runs}
    return len(origins) > 1 and len({name for name, _ in origins}) == 1
