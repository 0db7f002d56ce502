"""When devices and links are down: scheduled intervals, random MTBF/MTTR, or a CSV trace.

All three become one list of :class:`Outage` intervals before the run starts
(random ones drawn from the scenario seed), so every scheme of a scenario
faces exactly the same failures.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import simpy

from edgesim.errors import EdgesimError
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


def read_trace(path: Path) -> list[Outage]:
    """Outages from a CSV file with a header ``target,down_at_s,up_at_s``."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")  # Excel writes a BOM
    except OSError:
        raise EdgesimError(f"failure trace not found: {path}") from None
    outages = []
    with handle:
        reader = csv.DictReader(handle)
        expected = {"target", "down_at_s", "up_at_s"}
        if not reader.fieldnames or not expected <= set(reader.fieldnames):
            raise EdgesimError(
                f"{path}: expected a header with columns {', '.join(sorted(expected))}"
            )
        for row in reader:
            line = reader.line_num  # physical line: DictReader skips blank lines
            if any(row[column] is None for column in expected):
                raise EdgesimError(
                    f"{path}:{line}: expected a value in each of {len(expected)} columns"
                )
            try:
                start, end = float(row["down_at_s"]), float(row["up_at_s"])
            except ValueError:
                raise EdgesimError(
                    f"{path}:{line}: down_at_s and up_at_s must be numbers"
                ) from None
            if not 0 <= start < end:
                raise EdgesimError(
                    f"{path}:{line}: need 0 <= down_at_s < up_at_s, got {start}, {end}"
                )
            outages.append(Outage(start, end, row["target"].strip()))
    return outages


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
        yield env.timeout(outage.end - outage.start)
        come_up(outage.target)

    for outage in outages:
        env.process(outage_process(outage))
