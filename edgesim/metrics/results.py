"""One scheme run's recorder → the ``results.json`` entry documented in docs/results.md.

Everything here is simulated and deterministic; host facts (versions, wall
time) are added to ``meta`` by the caller, never here.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from edgesim.config.profiles import DeviceProfile
from edgesim.metrics.recorder import SPAN_KINDS, Recorder, Span
from edgesim.types import DeviceId, SimTime

SCHEMA_VERSION = 1
_DIGITS = 6


def _r(value: float) -> float:
    return round(float(value), _DIGITS)


def _union_length(spans: list[Span]) -> float:
    total, reach = 0.0, float("-inf")
    for span in sorted(spans, key=lambda s: s.start):
        start = max(span.start, reach)
        if span.end > start:
            total += span.end - start
        reach = max(reach, span.end)
    return total


def device_summary(
    recorder: Recorder, profiles: dict[DeviceId, DeviceProfile], end: SimTime
) -> dict[str, dict[str, float]]:
    """Seconds per activity and energy for each device.

    Each figure is the length of the union of that activity's spans (a server
    sending to eight clients at once sends for the longest of them, not the
    sum). Activities of different kinds may overlap (a device trains while a
    checkpoint uploads); idle is the up time covered by none. Energy charges
    idle power for all up time plus the extra power of computing and of
    transmitting over idle, so overlapping activities add their extra power.
    """
    by_device: dict[DeviceId, list[Span]] = defaultdict(list)
    for span in recorder.spans:
        by_device[span.device].append(span)
    summary = {}
    for device, profile in profiles.items():
        spans = by_device.get(device, [])
        seconds = {kind: _union_length([s for s in spans if s.kind == kind]) for kind in SPAN_KINDS}
        computing = _union_length([s for s in spans if s.kind in ("compute", "lost")])
        communicating = _union_length([s for s in spans if s.kind in ("send", "recv")])
        busy = _union_length([s for s in spans if s.kind != "down"])
        up_time = max(end - seconds["down"], 0.0)
        power = profile.power_w
        energy = (
            power.idle * up_time
            + (power.compute - power.idle) * computing
            + (power.transmit - power.idle) * communicating
        )
        summary[device] = {
            "compute_s": _r(seconds["compute"]),
            "send_s": _r(seconds["send"]),
            "recv_s": _r(seconds["recv"]),
            "wait_s": _r(seconds["wait"]),
            "idle_s": _r(max(up_time - busy, 0.0)),
            "down_s": _r(seconds["down"]),
            "lost_work_s": _r(seconds["lost"]),
            "background_s": _r(seconds["background"]),
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
) -> dict[str, Any]:
    """The results entry of one run; targets are judged on ``primary_curve``.

    ``primary_curve`` is ``global`` for schemes with one global model, or
    :data:`DEVICES_MEAN` for schemes where each device uses its own model.
    """
    curves = dict(sorted(recorder.curves.items()))
    if primary_curve == DEVICES_MEAN:
        curves[DEVICES_MEAN] = devices_mean_curve(recorder)
    primary = curves.get(primary_curve, [])
    total = recorder.bytes_up + recorder.bytes_down
    return {
        "scheme": scheme,
        "label": label,
        "primary_curve": primary_curve,
        "sim_time_s": _r(end),
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
        "timeline": [
            [s.device, s.kind, _r(s.start), _r(s.end), s.detail]
            for s in sorted(recorder.spans, key=lambda s: (s.start, s.device, s.kind, s.end))
        ],
        "counters": {k: _r(v) for k, v in sorted(recorder.counters.items())},
    }
