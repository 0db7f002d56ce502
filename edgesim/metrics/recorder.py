"""What happened during one scheme run: timeline spans, accuracy curves, bytes, counters.

The cluster and the schemes report here; :mod:`edgesim.metrics.results` turns
it into the ``results.json`` entry. Only observations are recorded — nothing
here changes the simulation.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from edgesim.types import DeviceId, SimTime

SPAN_KINDS = ("compute", "send", "recv", "wait", "down", "lost", "background")


@dataclass(frozen=True, slots=True)
class Span:
    """One interval of one device's time (slots: a large fleet's run keeps millions)."""

    device: DeviceId
    kind: str
    start: SimTime
    end: SimTime
    detail: str = ""


@dataclass
class Recorder:
    spans: list[Span] = field(default_factory=list)
    curves: dict[str, list[tuple[SimTime, float]]] = field(default_factory=dict)
    bytes_per_link: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    bytes_up: int = 0
    bytes_down: int = 0
    bytes_raw_data: int = 0
    bytes_curve: list[tuple[SimTime, int]] = field(default_factory=list)
    """Cumulative bytes sent (up + down) after each transfer ended, one point per time."""
    counters: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    deadline_misses: dict[DeviceId, int] = field(default_factory=lambda: defaultdict(int))
    """Background-task jobs that finished after their deadline, per device."""
    min_observe_interval_s: float = 0.0
    on_accuracy: Callable[[str, SimTime, float], None] | None = None
    """Called with each recorded observation (the CLI's progress bars)."""
    ended_at: SimTime | None = None
    """When the run ended (:meth:`end`); nothing may be recorded after it."""
    keep_details: bool = True
    """Keep each span's detail text; without it (no timeline in the results) a
    10 000-device run holds millions of spans in a third of the memory."""

    def span(
        self, device: DeviceId, kind: str, start: SimTime, end: SimTime, detail: str = ""
    ) -> None:
        if kind not in SPAN_KINDS:
            raise ValueError(f"unknown span kind '{kind}'")
        if self.ended_at is not None:
            raise RuntimeError(
                f"span {kind} of {device} [{start}, {end}] recorded after the run ended "
                f"at {self.ended_at} (a process outlived its run)"
            )
        if end > start:
            self.spans.append(Span(device, kind, start, end, detail if self.keep_details else ""))

    def end(self, at: SimTime) -> None:
        """The run is over at ``at``: devices and the network have closed their work in progress.

        A stalled run ends at its last progress, and the clock may have moved
        past it on timeouts nobody waited for while background jobs ran on:
        what happened after ``at`` is outside the run and is cut off.
        """
        self.ended_at = at
        self.spans = [
            span if span.end <= at else dataclasses.replace(span, end=at)
            for span in self.spans
            if span.start < at
        ]

    def transfer(
        self,
        links: list[str],
        nbytes: int,
        upward: bool,
        raw_data: bool,
        at: SimTime | None = None,
    ) -> None:
        """Bytes that crossed the network (counted once per transfer, and once per link crossed).

        ``at`` is when the transfer ended; with it the transfer also extends
        :attr:`bytes_curve` (the report's accuracy-over-bytes view).
        """
        for link in links:
            self.bytes_per_link[link] += nbytes
        if upward:
            self.bytes_up += nbytes
        else:
            self.bytes_down += nbytes
        if raw_data:
            self.bytes_raw_data += nbytes
        if at is not None and nbytes > 0:
            total = self.bytes_up + self.bytes_down
            if self.bytes_curve and self.bytes_curve[-1][0] == at:
                self.bytes_curve[-1] = (at, total)
            else:
                self.bytes_curve.append((at, total))

    def count(self, name: str, amount: float = 1) -> None:
        self.counters[name] += amount

    def deadline_miss(self, device: DeviceId) -> None:
        """A background job on ``device`` missed its deadline."""
        self.deadline_misses[device] += 1
        self.count("background_deadline_misses")

    def accuracy(self, model: str, time: SimTime, value: float, force: bool = False) -> bool:
        """Record an observation unless one was made less than ``min_observe_interval_s`` ago."""
        points = self.curves.setdefault(model, [])
        if points and not force and time - points[-1][0] < self.min_observe_interval_s:
            return False
        if points and points[-1][0] == time:
            points[-1] = (time, value)
        else:
            points.append((time, value))
        if self.on_accuracy is not None:
            self.on_accuracy(model, time, value)
        return True

    def wants_observation(self, model: str, time: SimTime) -> bool:
        points = self.curves.get(model)
        return not points or time - points[-1][0] >= self.min_observe_interval_s
