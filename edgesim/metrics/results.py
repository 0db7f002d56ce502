"""One scheme run's recorder → the ``results.json`` entry documented in docs/results.md.

Everything here is simulated and deterministic; host facts (versions, wall
time) are added to ``meta`` by the caller, never here.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from edgesim.config.profiles import DeviceProfile
from edgesim.metrics.recorder import Recorder, Span
from edgesim.types import DeviceId, SimTime

SCHEMA_VERSION = 1
_DIGITS = 6


def _r(value: float) -> float:
    return round(float(value), _DIGITS)


STATE_PRECEDENCE = ("down", "compute", "send", "recv", "wait")
"""At each instant a device is in the first of these states that applies, else ``idle``.

Down first: a device that is down does nothing else. Compute before the
network: a device that trains while a checkpoint uploads is busy computing
(the transfer is the network's time, shown on its own in the timeline).
Sending before receiving (one radio, the outgoing side is the device's own
work). Waiting last: a device blocked on others that computes meanwhile (a
second role on the same device) is not waiting.
"""

_STATE_OF_KIND = {
    "down": "down",
    "compute": "compute",
    "lost": "compute",
    "background": "compute",
    "send": "send",
    "recv": "recv",
    "wait": "wait",
}


def _intervals(spans: list[Span], end: SimTime) -> list[tuple[SimTime, SimTime]]:
    return [(max(s.start, 0.0), min(s.end, end)) for s in spans if min(s.end, end) > s.start]


def _union_length(intervals: list[tuple[SimTime, SimTime]]) -> float:
    total, reach = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        start = max(start, reach)
        if stop > start:
            total += stop - start
        reach = max(reach, stop)
    return total


def partition(spans: list[Span], end: SimTime) -> dict[str, float]:
    """Seconds of ``[0, end]`` in each state, by :data:`STATE_PRECEDENCE`; they sum to ``end``."""
    boundaries: list[tuple[SimTime, int, str]] = []
    for span in spans:
        state = _STATE_OF_KIND[span.kind]
        start, stop = max(span.start, 0.0), min(span.end, end)
        if stop > start:
            boundaries += [(start, 1, state), (stop, -1, state)]
    boundaries.sort()
    seconds = dict.fromkeys(STATE_PRECEDENCE, 0.0)
    active = dict.fromkeys(STATE_PRECEDENCE, 0)
    previous = 0.0
    for time, change, state in boundaries:
        if time > previous:
            top = next((s for s in STATE_PRECEDENCE if active[s]), None)
            if top is not None:
                seconds[top] += time - previous
            previous = time
        active[state] += change
    seconds["idle"] = max(end - sum(seconds.values()), 0.0)
    return seconds


def device_summary(
    recorder: Recorder, profiles: dict[DeviceId, DeviceProfile], end: SimTime
) -> dict[str, dict[str, float]]:
    """Seconds per state and energy for each device.

    ``compute_s + send_s + recv_s + wait_s + idle_s + down_s`` is the run's
    length: :func:`partition` puts every instant in one state.
    ``lost_work_s`` (computing later lost to a failure or a deadline) and
    ``background_s`` (a background job running) are parts of ``compute_s``.
    Energy charges idle power for the up time plus the extra power of
    computing (training, evaluation, background jobs) and of transmitting
    over idle; a device that computes while it transmits draws both extras.
    """
    by_device: dict[DeviceId, list[Span]] = defaultdict(list)
    for span in recorder.spans:
        by_device[span.device].append(span)
    summary = {}
    for device, profile in profiles.items():
        spans = by_device.get(device, [])
        seconds = partition(spans, end)

        def union(*kinds: str, spans: list[Span] = spans) -> float:
            return _union_length(_intervals([s for s in spans if s.kind in kinds], end))

        computing = union("compute", "lost", "background")
        communicating = union("send", "recv")
        power = profile.power_w
        energy = (
            power.idle * (end - seconds["down"])
            + (power.compute - power.idle) * computing
            + (power.transmit - power.idle) * communicating
        )
        summary[device] = {
            "compute_s": _r(seconds["compute"]),
            "send_s": _r(seconds["send"]),
            "recv_s": _r(seconds["recv"]),
            "wait_s": _r(seconds["wait"]),
            "idle_s": _r(seconds["idle"]),
            "down_s": _r(seconds["down"]),
            "lost_work_s": _r(union("lost")),
            "background_s": _r(union("background")),
            "deadline_misses": recorder.deadline_misses.get(device, 0),
            "energy_j": _r(energy),
        }
    return summary


DEVICES_MEAN = "devices-mean"


def devices_mean_curve(recorder: Recorder) -> list[tuple[SimTime, float]]:
    """Mean accuracy of the models in use on the devices, as a step function.

    At each observation time: the mean of every device's latest accuracy
    (devices not yet observed are left out). Test-subset curves
    (``device:<id>@<subset>``) are not part of it.
    """
    device_curves = {
        k: v for k, v in recorder.curves.items() if k.startswith("device:") and "@" not in k
    }
    events = sorted((t, name, acc) for name, points in device_curves.items() for t, acc in points)
    latest: dict[str, float] = {}
    points: list[tuple[SimTime, float]] = []
    for t, name, acc in events:
        latest[name] = acc
        mean = sum(latest.values()) / len(latest)
        if points and points[-1][0] == t:
            points[-1] = (t, mean)
        else:
            points.append((t, mean))
    return points


def time_to_accuracy(points: list[tuple[SimTime, float]], target: float) -> float | None:
    return next((_r(t) for t, acc in points if acc >= target), None)


def run_result(
    *,
    scheme: str,
    label: str,
    recorder: Recorder,
    profiles: dict[DeviceId, DeviceProfile],
    end: SimTime,
    targets: list[float],
    primary_curve: str,
    stalled: dict[str, Any] | None = None,
    timing_only: bool = False,
    timeline: bool = True,
) -> dict[str, Any]:
    """The results entry of one run; targets are judged on ``primary_curve``.

    ``primary_curve`` is ``global`` for schemes with one global model, or
    :data:`DEVICES_MEAN` for schemes where each device uses its own model.
    ``stalled`` says when and why a run stopped before its protocol finished.
    A ``timing_only`` run took no torch step: it has no curves and no accuracy.
    Without ``timeline`` (``observe.timeline: false``) the entry has no
    ``timeline``; the devices' totals are computed from every span all the same.
    """
    curves = dict(sorted(recorder.curves.items()))
    if primary_curve == DEVICES_MEAN:
        curves[DEVICES_MEAN] = devices_mean_curve(recorder)
    primary = curves.get(primary_curve, [])
    total = recorder.bytes_up + recorder.bytes_down
    result = {
        "scheme": scheme,
        "label": label,
        "primary_curve": primary_curve,
        "sim_time_s": _r(end),
        "stalled": stalled,
        "timing_only": timing_only,
        "final_accuracy": _r(primary[-1][1]) if primary else None,
        "time_to_accuracy_s": {str(t): time_to_accuracy(primary, t) for t in targets},
        "bytes": {
            "total": total,
            "up": recorder.bytes_up,
            "down": recorder.bytes_down,
            "raw_data": recorder.bytes_raw_data,
        },
        "bytes_per_link": dict(sorted(recorder.bytes_per_link.items())),
        "bytes_curve": [[_r(t), total] for t, total in recorder.bytes_curve],
        "devices": device_summary(recorder, profiles, end),
        "curves": [
            {"model": name, "points": [[_r(t), _r(a)] for t, a in points]}
            for name, points in curves.items()
        ],
    }
    if timeline:
        result["timeline"] = [
            [s.device, s.kind, _r(s.start), _r(s.end), s.detail]
            for s in sorted(recorder.spans, key=lambda s: (s.start, s.device, s.kind, s.end))
        ]
    result["counters"] = {k: _r(v) for k, v in sorted(recorder.counters.items())}
    return result
