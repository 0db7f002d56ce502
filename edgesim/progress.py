"""How far a scheme's run has got, in the scheme's own units, for a progress bar and its ETA.

A run's length is known before it starts when its settings count it — ``rounds``
(every round-based scheme; the shared round engine counts ``rounds``),
``updates`` or ``server_steps`` (the asynchronous servers count
``server_updates``) — or when simulated time bounds it (``time_budget_s``, the
scenario's ``horizon_s``). The fraction done is the larger of the two, as the
run ends at whichever comes first; an ETA is the host time so far scaled by
what is left of that fraction. A scheme that runs epochs instead (local,
centralized) says how many training steps it plans (its registry entry's
``planned_steps``), counted by the recorder's ``train_steps``; one whose length
depends on what happens (hand-off's device trains until the checkpoint is back)
has no total without a horizon.

The accuracy shown is the latest point of the run's *primary* curve (the one
targets and ``final_accuracy`` are judged on): ``global``, or for schemes
where each device keeps its own model the mean of the devices' latest
accuracies (:func:`edgesim.metrics.results.devices_mean_curve`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from edgesim.metrics.recorder import Recorder
from edgesim.metrics.results import DEVICES_MEAN

COUNTED = {"rounds": "rounds", "updates": "server_updates", "server_steps": "server_updates"}
"""A scheme setting that fixes the run's length → the recorder counter that counts it."""

TIME_BOUNDS = ("time_budget_s",)
"""Scheme settings that bound the run in simulated seconds."""


@dataclass(frozen=True)
class SchemeProgress:
    """One scheme's progress: what a progress line shows."""

    label: str
    sim_time_s: float
    done: float
    """Rounds, updates or training steps done (``unit``); simulated seconds when only time
    bounds the run."""
    total: float | None
    """What ``done`` runs to; None when nothing bounds the run before it ends."""
    unit: str
    fraction: float | None
    """How far through the run, 0 to 1; None when ``total`` is."""
    accuracy: float | None
    """The primary curve's latest accuracy; None before the first observation."""
    finished: bool = False


@dataclass
class Tracker:
    """Follows one run through its recorder and reports a :class:`SchemeProgress` on each tick."""

    label: str
    settings: Any
    horizon_s: float | None
    primary: str
    recorder: Recorder
    report: Callable[[SchemeProgress], None]
    planned_steps: int | None = None
    """Training steps the run takes without failures, when no setting counts its length."""
    _device_accuracy: dict[str, float] = field(default_factory=dict)
    _accuracy: float | None = None

    def observed(self, model: str, _time: float, accuracy: float) -> None:
        """An accuracy observation: keep it if it is the primary curve's (or one of its devices)."""
        if self.primary == DEVICES_MEAN:
            if model.startswith("device:") and "@" not in model:
                self._device_accuracy[model] = accuracy
                values = self._device_accuracy.values()
                self._accuracy = sum(values) / len(values)
        elif model == self.primary:
            self._accuracy = accuracy

    def tick(self, now: float, finished: bool = False) -> None:
        self.report(self.progress(now, finished))

    def progress(self, now: float, finished: bool = False) -> SchemeProgress:
        counted = next(
            (s for s in COUNTED if isinstance(getattr(self.settings, s, None), int)), None
        )
        bounds = [getattr(self.settings, s, None) for s in TIME_BOUNDS]
        seconds = min((b for b in [*bounds, self.horizon_s] if b), default=None)
        time_share = None if seconds is None else min(now / seconds, 1.0)
        if counted is not None:
            total = getattr(self.settings, counted)
            done = self.recorder.counters.get(COUNTED[counted], 0)
            fraction = min(done / total, 1.0) if total else 1.0
            fraction = max(fraction, time_share or 0.0)
            unit = "rounds" if counted == "rounds" else "updates"
        elif self.planned_steps:
            done, total, unit = (
                self.recorder.counters.get("train_steps", 0),
                self.planned_steps,
                "steps",
            )
            fraction = max(min(done / total, 1.0), time_share or 0.0)
        elif seconds is not None:
            done, total, unit, fraction = now, seconds, "s", time_share
        else:
            done, total, unit, fraction = 0, None, "", None
        if finished:
            fraction = 1.0
        return SchemeProgress(
            self.label, now, done, total, unit, fraction, self._accuracy, finished
        )
