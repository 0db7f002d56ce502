"""What a sweep says: how each scheme holds up as a varied setting grows, by a stated rule.

A sweep varies a setting ("what if half the Jetsons leave?"); the reader wants one
sentence per scheme: up to which value it holds, and what happens beyond. The rule
(:data:`RULE`): a scheme *holds* at a value when its mean final accuracy there is
within :data:`TOLERANCE_PP` percentage points of its mean at the first value (the
sweep file's first, usually the baseline) and not every seed stalled; timing-only
sweeps compare simulated time instead, holding while within :data:`TIME_TOLERANCE`
times the first. Means are over the seeds that finished (stalled runs are counted
apart). Where several settings vary, the others are held at their first value.

Also here: :func:`parameter_label`, a reader's name for a dotted path of a
scenario ("failures.departures[0].fraction" → "share of devices that leave").
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from edgesim.report import fmt

TOLERANCE_PP = 5.0
"""A scheme holds while its accuracy is within this many percentage points of the first."""
TIME_TOLERANCE = 1.25
"""Timing-only sweeps: a scheme holds while its simulated time is within this factor."""

RULE = (
    f"a scheme holds at a value while its mean final accuracy there is within "
    f"{TOLERANCE_PP:g} percentage points of its mean at the first value and its runs did not "
    "all stall"
)
TIME_RULE = (
    f"a scheme holds at a value while its mean simulated time there is within "
    f"{TIME_TOLERANCE:g}× its time at the first value and its runs did not all stall"
)

_LABELS = (
    (r"failures\.departures\[\d+\]\.fraction$", "share of devices that leave"),
    (r"failures\.departures\[\d+\]\.at_s$", "when devices leave (s)"),
    (r"failures\.churn\[\d+\]\.availability$", "device availability"),
    (r"failures\.churn\[\d+\]\.mean_down_s$", "mean time down (s)"),
    (r"failures\.scheduled\[\d+\]\.duration_s$", "outage length (s)"),
    (r"data\.partition\.alpha$", "Dirichlet α of the split"),
    (r"data\.partition\.server_share$", "share of the data on the server"),
    (r"training\.batch_size$", "batch size"),
    (r"training\.lr$", "learning rate"),
    (r"devices\[\d+\]\.count$", "number of devices"),
    (r"schemes\[\d+\]\.rounds$", "rounds"),
    (r"schemes\[\d+\]\.round_deadline_s$", "round deadline (s)"),
)
"""Names for the paths sweeps vary most; any other path is named by its last keys."""

_SHARE_KEYS = ("fraction", "availability", "share", "server_share")
"""Last keys whose values are shares of a whole, drawn as percentages."""


def parameter_label(path: str) -> str:
    """A reader's name for ``path``: a known one, else its last key in words."""
    for pattern, label in _LABELS:
        if re.search(pattern, path):
            return label
    keys = [re.sub(r"\[\d+\]", "", k) for k in path.split(".") if k]
    last = keys[-1] if keys else path
    unit = " (s)" if last.endswith("_s") else ""
    words = last.removesuffix("_s").replace("_", " ")
    if len(keys) > 1 and words in ("fraction", "count", "share"):
        words = f"{keys[-2].replace('_', ' ')} {words}"
    return words + unit


def is_share(path: str, values: Sequence[Any]) -> bool:
    """Whether ``path``'s values are shares of a whole (ticks and text in %)."""
    last = re.sub(r"\[\d+\]", "", path.split(".")[-1])
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return numeric and last in _SHARE_KEYS and all(0 <= float(v) <= 1 for v in values)


def value_text(path: str, value: Any, share: bool) -> str:
    if share:
        return f"{float(value) * 100:g} %"
    return value if isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class Level:
    """A scheme at one value of the varied setting: its mean, and stalled runs of how many."""

    value: Any
    mean: float | None
    stalled: int
    runs: int


def holds(first: float | None, level: Level, timing_only: bool) -> bool:
    if level.runs and level.stalled == level.runs:
        return False
    if level.mean is None:
        return False
    if first is None:
        return True
    if timing_only:
        return level.mean <= first * TIME_TOLERANCE
    return (first - level.mean) * 100 <= TOLERANCE_PP


def scheme_sentence(
    label: str, path: str, levels: Sequence[Level], timing_only: bool, share: bool
) -> str:
    """``fedavg holds up to 50 % (91.6 % at 0 %); beyond it, 77.6 % at 75 %`` and the like."""
    show = fmt.seconds if timing_only else fmt.percent
    if not levels:
        return ""
    first = levels[0].mean
    held = [holds(first, level, timing_only) for level in levels]
    values = [value_text(path, level.value, share) for level in levels]
    base = f"{show(first)} at {values[0]}" if first is not None else f"no value at {values[0]}"
    if all(held):
        return f"{label} holds from {values[0]} to {values[-1]} ({base})."
    breaks = held.index(False)
    at = levels[breaks]
    if at.runs and at.stalled == at.runs:
        what = f"every run stalls from {values[breaks]}"
        later = [lv for lv in levels[breaks:] if not (lv.runs and lv.stalled == lv.runs)]
        if not later:
            what += " on"
    else:
        what = f"{show(at.mean)} at {values[breaks]}"
    if breaks == 0:
        return f"{label}: {what}."
    if breaks == 1:
        return f"{label} holds only at {values[0]} ({base}); {what}."
    return f"{label} holds up to {values[breaks - 1]} ({base}); beyond it, {what}."


def sweep_sentences(
    levels_by_label: dict[str, list[Level]], path: str, timing_only: bool, share: bool
) -> list[str]:
    """One sentence per scheme, those that hold longest first."""

    def reach(levels: Sequence[Level]) -> int:
        first = levels[0].mean if levels else None
        held = [holds(first, level, timing_only) for level in levels]
        return len(held) if all(held) else held.index(False)

    order = sorted(levels_by_label, key=lambda label: -reach(levels_by_label[label]))
    return [
        s
        for label in order
        if (s := scheme_sentence(label, path, levels_by_label[label], timing_only, share))
    ]
