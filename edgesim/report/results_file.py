"""What ``edgesim report`` reads of a results file, checked before anything is drawn.

A results file given to ``edgesim report`` may be hand-edited, cut short, written by
another tool or hostile. A wrong type or a missing key must be one error naming the file
and the key (``runs[0].sim_time_s: Input should be a valid number``), not a KeyError
deep inside a figure. These models list what the report and the CLI's summary table
read (docs/results.md), with the bounds their arithmetic needs: times, bytes, energy
and counts finite and never negative (the report divides by makespans and plots every
time), accuracies in [0, 1]. Every other key is allowed and left alone: results files
carry more than the report reads (``schemes``, ``meta``, a sweep run's ``sweep``).

Keys every schema-1 writer has written are required; those added later (``stalled``,
``bytes_curve``, a device's ``background_s`` and ``deadline_misses``, the scenario's
``model_bytes``) may be absent, so older results still render. A run's ``timeline``
may be absent too: a fleet of thousands may leave it out, and the report then draws
what the per-device totals show. Types are strict (a
number written as a string is refused) because the report renders the dict as loaded,
not these models.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, field_validator

NonNegative = Annotated[float, Field(ge=0)]
"""Seconds, bytes, joules or a count: finite (see :class:`_Read`) and never negative."""

Accuracy = Annotated[float, Field(ge=0, le=1)]


def _ordered(span: tuple[str, str, float, float, str]) -> tuple[str, str, float, float, str]:
    """A span is drawn from its start to its end, and its length counted: never negative."""
    if span[3] < span[2]:
        raise ValueError(f"a span ends ({span[3]}) before it starts ({span[2]})")
    return span


# A JSON array stands for a tuple (Strict(False) on the tuple only; its items stay strict).
Point = Annotated[tuple[NonNegative, Accuracy], Strict(False)]
"""``[t, accuracy]`` of an accuracy curve."""

BytesPoint = Annotated[tuple[NonNegative, NonNegative], Strict(False)]
"""``[t, bytes sent so far]`` of ``bytes_curve``."""

Span = Annotated[
    tuple[str, str, NonNegative, NonNegative, str], Strict(False), AfterValidator(_ordered)
]
"""``[device, kind, start, end, detail]`` of a timeline."""


class _Read(BaseModel):
    """Strict types and finite numbers for the keys modelled; any other key is kept."""

    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)


class Device(_Read):
    id: str
    profile: str
    role: str


class Link(_Read):
    name: str
    edge_side: str
    core_side: str
    profile: str


class ScenarioBlock(_Read):
    name: str
    description: str
    seed: int
    devices: list[Device]
    links: list[Link]
    switches: list[str]
    data: dict[str, Any]
    training: dict[str, Any]
    targets: list[Accuracy]
    model_bytes: dict[str, NonNegative] | None = None


class Stall(_Read):
    at_s: NonNegative
    reason: str


class Bytes(_Read):
    total: NonNegative
    up: NonNegative
    down: NonNegative
    raw_data: NonNegative


class DeviceStats(_Read):
    compute_s: NonNegative
    send_s: NonNegative
    recv_s: NonNegative
    wait_s: NonNegative
    idle_s: NonNegative
    down_s: NonNegative
    lost_work_s: NonNegative
    background_s: NonNegative = 0.0
    deadline_misses: NonNegative = 0.0
    energy_j: NonNegative


class Curve(_Read):
    model: str
    points: list[Point]


class Counters(_Read):
    """The counters the report reads; every scheme has others, all numbers."""

    stalled: NonNegative = 0.0
    deadline_misses: NonNegative = 0.0


class Run(_Read):
    scheme: str
    label: str
    primary_curve: str
    sim_time_s: NonNegative
    stalled: Stall | None = None
    final_accuracy: Accuracy | None
    time_to_accuracy_s: dict[str, NonNegative | None]
    bytes: Bytes
    bytes_per_link: dict[str, NonNegative]
    bytes_curve: list[BytesPoint] | None = None
    devices: dict[str, DeviceStats]
    curves: list[Curve]
    timeline: list[Span] | None = None
    counters: Counters

    @field_validator("time_to_accuracy_s")
    @classmethod
    def _keys_are_targets(cls, times: dict[str, float | None]) -> dict[str, float | None]:
        """Keys are accuracy targets: the report reads them when the scenario lists none."""
        for key in times:
            try:
                target = float(key)
            except ValueError:
                target = math.nan
            if not 0 <= target <= 1:
                raise ValueError(f"key {key[:40]!r} is not an accuracy target (a number in [0, 1])")
        return times


class ResultsFile(_Read):
    """A results.json (``schema_version`` is checked before, with its own message)."""

    scenario: ScenarioBlock
    runs: list[Run]
    meta: dict[str, Any]
