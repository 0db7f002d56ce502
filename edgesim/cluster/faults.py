"""When devices and links are down: scheduled intervals, random MTBF/MTTR, or a CSV trace.

All three become one list of :class:`Outage` intervals before the run starts
(random ones drawn from the scenario seed), so every scheme of a scenario
faces exactly the same failures.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import simpy

from edgesim.config.numbers import MAX_SECONDS
from edgesim.errors import EdgesimError
from edgesim.io import read_text
from edgesim.types import SimTime


@dataclass(frozen=True, order=True)
class Outage:
    start: SimTime
    end: SimTime
    target: str


def random_outages(
    targets: Iterable[str], mtbf_s: float, mttr_s: float, horizon_s: float, seed: int
) -> list[Outage]:
    """Alternating exponential up (mean MTBF) and down (mean MTTR) times per target."""
    outages = []
    for index, target in enumerate(targets):
        rng = np.random.default_rng([seed, 0xFA17, index])
        t = 0.0
        while True:
            t += rng.exponential(mtbf_s)
            if t >= horizon_s:
                break
            repair = rng.exponential(mttr_s)
            outages.append(Outage(t, t + repair, target))
            t += repair
    return outages


def departures(
    members: list[str], fraction: float, at_s: float, spread_s: float, seed: int, index: int
) -> list[Outage]:
    """``round(fraction × len(members))`` members, drawn from the seed, leave for good.

    Each leaves at a time drawn uniformly from ``[at_s, at_s + spread_s]``; a
    departure is an outage that never ends. ``index`` tells apart several
    departure entries of one scenario.
    """
    rng = np.random.default_rng([seed, 0xDE9A, index])
    count = math.floor(fraction * len(members) + 0.5)
    leaving = sorted(rng.choice(len(members), size=count, replace=False).tolist())
    times = at_s + spread_s * rng.random(count)
    return [Outage(float(t), math.inf, members[i]) for i, t in zip(leaving, times, strict=True)]


def churn(
    targets: list[str],
    availability: float,
    mean_down_s: float,
    horizon_s: float,
    seed: int,
    index: int,
) -> list[Outage]:
    """Alternating exponential presences and absences, up ``availability`` of the time.

    Mean presence is ``mean_down_s × availability / (1 − availability)``. Each
    target starts in the stationary state: absent at time 0 with probability
    ``1 − availability`` (a fleet observed at a random moment, not a fresh boot).
    """
    mean_up_s = mean_down_s * availability / (1 - availability)
    outages = []
    for k, target in enumerate(targets):
        rng = np.random.default_rng([seed, 0xC4A2, index, k])
        absent = bool(rng.random() >= availability)
        for start, end in _alternating(rng, mean_up_s, mean_down_s, horizon_s, absent):
            outages.append(Outage(start, end, target))
    return outages


def correlated(
    targets: Mapping[str, list[str]],
    mtbf_s: float,
    mttr_s: float,
    horizon_s: float,
    seed: int,
    index: int,
) -> list[Outage]:
    """One MTBF/MTTR process per target; each of its outages takes all of ``targets[t]`` down.

    ``targets`` maps a target (an access point, a group) to what it takes down
    with it (the access point's links, the group's members).
    """
    outages = []
    for k, affected in enumerate(targets.values()):
        rng = np.random.default_rng([seed, 0xC0AA, index, k])
        for start, end in _alternating(rng, mtbf_s, mttr_s, horizon_s, False):
            outages += [Outage(start, end, a) for a in affected]
    return outages


def _alternating(
    rng: np.random.Generator, mean_up: float, mean_down: float, horizon: float, down: bool
) -> Iterator[tuple[float, float]]:
    """Down intervals of an exponential up/down process; none starts at or after ``horizon``."""
    t = 0.0 if down else float(rng.exponential(mean_up))
    while t < horizon:
        back = t + float(rng.exponential(mean_down))
        yield t, back
        t = back + float(rng.exponential(mean_up))


MAX_TRACE_BYTES = 8 * 1024 * 1024
"""Largest failure trace read (8 MiB, about a million rows: each becomes a simulated process)."""

_TRACE_COLUMNS = frozenset({"target", "down_at_s", "up_at_s"})


def read_trace(path: Path) -> list[Outage]:
    """Outages from a CSV file with a header ``target,down_at_s,up_at_s``.

    The path comes from a scenario, so it may name a folder, ``/dev/zero``, a pipe or a
    binary file: the file is read within the bounds of every user file (a regular file
    of at most :data:`MAX_TRACE_BYTES` of UTF-8 text, a BOM as
    Excel writes it allowed), and every error names the file and, for a row, its line.
    """
    text = read_text(path, "failure trace", "CSV", MAX_TRACE_BYTES).removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _trace_rows(path, reader)
    except csv.Error as exc:  # a field over the csv module's size limit
        line = reader.reader.line_num  # DictReader's own line_num lags behind a failed row
        raise EdgesimError(f"{path}:{line}: not readable as CSV: {exc}") from None


def _trace_rows(path: Path, reader: csv.DictReader) -> list[Outage]:
    """Every row's outage, once the header has the three columns rows are read by."""
    if not reader.fieldnames or not set(reader.fieldnames) >= _TRACE_COLUMNS:
        raise EdgesimError(
            f"{path}: expected a header with columns {', '.join(sorted(_TRACE_COLUMNS))}"
        )
    # line_num is the physical line: DictReader skips blank lines
    return [_trace_row(f"{path}:{reader.line_num}", row) for row in reader]


def _trace_row(where: str, row: Mapping[str, str | None]) -> Outage:
    """One row's outage; ``up_at_s`` may be ``inf``, a target that never comes back."""
    if any(row[column] is None for column in _TRACE_COLUMNS):
        raise EdgesimError(f"{where}: expected a value in each of {len(_TRACE_COLUMNS)} columns")
    try:
        start, end = float(row["down_at_s"]), float(row["up_at_s"])
    except ValueError:
        raise EdgesimError(f"{where}: down_at_s and up_at_s must be numbers") from None
    if not 0 <= start < end:  # also refuses nan, and an infinite down_at_s
        raise EdgesimError(f"{where}: need 0 <= down_at_s < up_at_s, got {start}, {end}")
    if start > MAX_SECONDS or MAX_SECONDS < end < math.inf:
        raise EdgesimError(
            f"{where}: times are at most {MAX_SECONDS:g} s (up_at_s may be inf: never back)"
        )
    target = row["target"].strip()
    if not target or not target.isprintable():
        raise EdgesimError(f"{where}: target must be a device id or link name, got {target[:60]!r}")
    return Outage(start, end, target)


def merge(outages: Iterable[Outage]) -> list[Outage]:
    """Overlapping or touching outages of one target become one."""
    merged: list[Outage] = []
    for outage in sorted(outages, key=lambda o: (o.target, o.start, o.end)):
        last = merged[-1] if merged else None
        if last and last.target == outage.target and outage.start <= last.end:
            merged[-1] = Outage(last.start, max(last.end, outage.end), last.target)
        else:
            merged.append(outage)
    return sorted(merged)


def inject(
    env: simpy.Environment,
    outages: Iterable[Outage],
    go_down: Callable[[str], None],
    come_up: Callable[[str], None],
) -> None:
    """Start one SimPy process per outage that takes its target down, then back up."""

    def outage_process(outage: Outage) -> Generator[simpy.Event, None, None]:
        yield env.timeout(outage.start)
        go_down(outage.target)
        if math.isinf(outage.end):
            return  # left for good: nothing more is scheduled
        yield env.timeout(outage.end - outage.start)
        come_up(outage.target)

    for outage in outages:
        env.process(outage_process(outage))
