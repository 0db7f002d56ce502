"""What the report reads off a results dict: names, curves and per-run figures.

Pure functions of the loaded ``results.json`` (see docs/results.md), shared by the
summary table, the verdict and the figures, so every part of the page states the
same number the same way. Keys added later (``bytes_curve``, per-device
``deadline_misses``, ``stalled``) are optional: older results still render.

A stalled run stopped before doing what it was asked (its protocol waits for devices
that never return): its makespan, bytes and energy are those of a run cut short, so
every view that compares runs leaves it out of "best" and says that it stalled.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from math import isclose

from edgesim.report import fmt

Points = list[tuple[float, float]]

AGGREGATE_ABOVE = 40
"""Above this many devices, per-device views show one row, bar or box per group instead."""


def run_names(runs: Sequence[dict]) -> list[str]:
    """Display name per run: its label (or scheme), suffixed with #i when repeated.

    Names must be unique because they key legend entries and bar-chart groups.
    """
    bases = [str(run.get("label") or run.get("scheme") or f"run {i}") for i, run in enumerate(runs)]
    return [base if bases.count(base) == 1 else f"{base} #{i + 1}" for i, base in enumerate(bases)]


@dataclass(frozen=True)
class Stall:
    """When a run stalled and why (``reason`` is empty in results that only count it)."""

    at_s: float
    reason: str

    def phrase(self) -> str:
        return f"stalled at {fmt.seconds(self.at_s)}"


def stall(run: dict) -> Stall | None:
    """The run's stall, from ``stalled`` or, in older results, ``counters.stalled``.

    Older results only counted the stall; the run then ended at its last event, so
    its ``sim_time_s`` is when it stalled.
    """
    found = run.get("stalled")
    if isinstance(found, dict):
        at = found.get("at_s", run.get("sim_time_s"))
        return Stall(float(at or 0.0), str(found.get("reason") or ""))
    if float((run.get("counters") or {}).get("stalled") or 0) > 0:
        return Stall(float(run.get("sim_time_s") or 0.0), "")
    return None


def base_label(run: dict) -> str:
    """The run's label before ``edgesim report`` added a file's scenario and seed to it."""
    origin = run.get("origin") or {}
    return str(origin.get("label") or run.get("label") or run.get("scheme") or "run")


def origin_key(run: dict, scenario: dict) -> tuple[str, str]:
    """(scenario name, seed) the run came from: its ``origin`` or the results' scenario."""
    origin = run.get("origin") or {}
    name = origin.get("scenario", scenario.get("name"))
    seed = origin.get("seed", scenario.get("seed"))
    return str(name), str(seed)


def accuracy_series(run: dict) -> tuple[Points, int]:
    """The run's primary accuracy curve, and how many device models it averages.

    ``primary_curve`` names it: ``global`` for schemes with one global model, or
    ``devices-mean`` (the mean of the models in use on the devices, computed by
    ``edgesim.metrics.results``) for schemes such as ``local`` and ``handoff``.
    """
    name = run.get("primary_curve", "global")
    points = curve(run, name)
    averaged = 0
    if name != "global":
        averaged = sum(1 for c in run.get("curves") or [] if _model(c).startswith("device:"))
    return points, averaged


def curve(run: dict, model: str) -> Points:
    found = next((c.get("points") or [] for c in run.get("curves") or [] if _model(c) == model), [])
    return [(float(t), float(a)) for t, a in found]


def device_curves(run: dict) -> dict[str, Points]:
    """``device:<id>`` curves (the model in use on each device), keyed by device id."""
    return {
        _model(c)[len("device:") :]: [(float(t), float(a)) for t, a in c.get("points") or []]
        for c in run.get("curves") or []
        if _model(c).startswith("device:")
    }


def _model(c: dict) -> str:
    return str(c.get("model", ""))


def targets(scenario: dict, runs: Sequence[dict]) -> list[float]:
    if scenario.get("targets"):
        return [float(t) for t in scenario["targets"]]
    return sorted({float(k) for run in runs for k in run.get("time_to_accuracy_s") or {}})


def time_to_target(run: dict, target: float) -> float | None:
    for key, value in (run.get("time_to_accuracy_s") or {}).items():
        if isclose(float(key), target):
            return None if value is None else float(value)
    return None


def roles(scenario: dict) -> dict[str, str]:
    return {str(d.get("id")): str(d.get("role", "")) for d in scenario.get("devices") or []}


def profiles(scenario: dict) -> dict[str, str]:
    return {str(d.get("id")): str(d.get("profile", "?")) for d in scenario.get("devices") or []}


def device_groups(scenario: dict) -> dict[str, str]:
    """Each device's group in the aggregated views of a big fleet, in the scenario's order.

    A group is a profile: devices of one profile cost the same per step. Where devices
    of one profile sit behind different kinds of access link (Jetsons on Ethernet and
    on Wi-Fi), the link splits them ("jetson-nano on wifi-5"), since the link sets
    their transfer times and so their waiting. A server is never grouped with clients:
    waiting for them is what it does, and it would widen their spread.
    """
    devices = scenario.get("devices") or []
    access: dict[str, str] = {}
    for link in scenario.get("links") or []:
        access.setdefault(str(link.get("edge_side")), str(link.get("profile", "?")))
    links_of: dict[str, set[str]] = {}
    clients_of: set[str] = set()
    for d in devices:
        profile = str(d.get("profile", "?"))
        links_of.setdefault(profile, set()).add(access.get(str(d.get("id")), ""))
        if d.get("role") != "server":
            clients_of.add(profile)
    groups = {}
    for d in devices:
        device, profile = str(d.get("id")), str(d.get("profile", "?"))
        name = profile
        if len(links_of[profile]) > 1 and access.get(device):
            name = f"{profile} on {access[device]}"
        if d.get("role") == "server" and profile in clients_of:
            name = f"{name} (server)"
        groups[device] = name
    return groups


def timing_only(run: dict, scenario: dict) -> bool:
    """Whether the run took no torch step, so it has no accuracy (docs/results.md).

    Results older than the run's own flag carry the scenario's, or neither.
    """
    flag = run.get("timing_only")
    return bool(scenario.get("timing_only")) if flag is None else bool(flag)


def all_timing_only(scenario: dict, runs: Sequence[dict]) -> bool:
    """True when there are runs and none of them recorded accuracy."""
    return bool(runs) and all(timing_only(run, scenario) for run in runs)


def group_order(device_group: dict[str, str], devices: Sequence[str] = ()) -> list[str]:
    """Profiles or groups in the order the scenario first lists them, then any only in runs."""
    return list(
        dict.fromkeys([*device_group.values(), *(device_group.get(d, "?") for d in devices)])
    )


def update_sizes(scenario: dict) -> str:
    """Bytes one update of each model puts on the wire, or "—" in older results.

    A bandwidth study reads every other traffic figure against this one: a
    round of FedAvg moves it down to and up from each client.
    """
    sizes = scenario.get("model_bytes") or {}
    return ", ".join(f"{name} {fmt.nbytes(float(n))}" for name, n in sizes.items()) or "—"


def fleet_summary(scenario: dict) -> str:
    counts = Counter(str(d.get("profile")) for d in scenario.get("devices") or [])
    return ", ".join(f"{n} × {profile}" for profile, n in counts.items())


def wait_shares(run: dict, scenario: dict) -> dict[str, float]:
    """Share of the run each device spent blocked on others, for the devices that train.

    The server is left out when roles are known: waiting for clients is what a server
    does, and counting it would hide the clients' waiting.
    """
    makespan = float(run.get("sim_time_s") or 0.0)
    devices = run.get("devices") or {}
    if makespan <= 0 or not devices:
        return {}
    role = roles(scenario)
    clients = {d: s for d, s in devices.items() if role.get(d) != "server"} or devices
    return {d: float(s.get("wait_s") or 0.0) / makespan for d, s in clients.items()}


def mean_wait_share(run: dict, scenario: dict) -> float | None:
    shares = wait_shares(run, scenario)
    return sum(shares.values()) / len(shares) if shares else None


def worst_wait(run: dict, scenario: dict) -> tuple[str, float] | None:
    shares = wait_shares(run, scenario)
    if not shares:
        return None
    device = max(shares, key=lambda d: (shares[d], d))
    return device, shares[device]


def total_energy(run: dict) -> float | None:
    devices = (run.get("devices") or {}).values()
    return sum(float(d.get("energy_j") or 0.0) for d in devices) if devices else None


def lost_work(run: dict) -> float:
    """Seconds of compute lost to failures or abandoned at a deadline, over all devices."""
    return sum(float(d.get("lost_work_s") or 0.0) for d in (run.get("devices") or {}).values())


def round_deadline_misses(run: dict) -> float:
    """Clients that missed a protocol deadline (e.g. a FedAvg round), from the counters."""
    return float((run.get("counters") or {}).get("deadline_misses") or 0.0)


def task_deadline_misses(run: dict) -> float | None:
    """Background-task deadline misses summed over devices; None when not recorded."""
    devices = (run.get("devices") or {}).values()
    values = [float(d["deadline_misses"]) for d in devices if "deadline_misses" in d]
    return float(sum(values)) if values else None


def bytes_curve(run: dict) -> Points | None:
    """Cumulative bytes sent over simulated time, or None for results without the curve."""
    points = run.get("bytes_curve")
    if points is None:
        return None
    return [(float(t), float(b)) for t, b in points]


def bytes_at(points: Points, time: float) -> float:
    """Bytes sent by ``time`` (transfers ending at ``time`` included)."""
    index = bisect.bisect_right([t for t, _ in points], time)
    return points[index - 1][1] if index else 0.0


def model_sizes(scenario: dict) -> str:
    """Each model's size: the bytes of one update and the float32 values they hold.

    Results record an update's bytes, not the parameter count; an update is the
    model's state in float32, so bytes / 4 is its number of values (parameters and
    buffers).
    """
    sizes = scenario.get("model_bytes") or {}
    return (
        ", ".join(
            f"{name}: {fmt.count(float(n) / 4)} values ({fmt.nbytes(float(n))})"
            for name, n in sizes.items()
        )
        or "—"
    )


_IMAGE_OPTIONS = ("image_size", "grayscale")
"""Settings read only by datasets of images that are resized or coloured (cifar10, folders)."""
_NO_IMAGE_OPTIONS = ("digits", "synthetic", "mnist", "fashion-mnist", "npz")
_PARTITION_OPTIONS = {"dirichlet": ("alpha",), "shards": ("shards_per_device",)}
"""Partition settings read by one kind of split only."""


def data_settings(data: dict) -> dict:
    """The scenario's ``data`` block without the settings its dataset and split never read.

    ``grayscale False`` beside the digits, or a Dirichlet ``alpha`` beside an IID
    split, would suggest a choice that was never made.
    """
    dataset = str(data.get("dataset", ""))
    shown = {
        key: value
        for key, value in data.items()
        if not (key in _IMAGE_OPTIONS and dataset in _NO_IMAGE_OPTIONS)
        and not (key == "synthetic" and dataset != "synthetic")
    }
    partition = dict(data.get("partition") or {})
    if partition:
        kind = str(partition.get("kind", ""))
        for other, keys in _PARTITION_OPTIONS.items():
            if other != kind:
                for key in keys:
                    partition.pop(key, None)
        shown["partition"] = partition
    return shown
