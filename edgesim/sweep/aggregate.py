"""Per scheme, per grid point, per metric: the mean across seeds with a 95 % interval.

The interval is Student's t: ``mean ± t(0.975, n−1) · s / √n`` over the ``n``
seeds that have a value (``s`` the sample standard deviation); with one value
there is no interval. A time to target that was never reached has no value;
``n`` out of ``of`` says how many seeds reached it. A run that stalled (its protocol
waited for devices that never return) is listed in ``stalled_runs`` and left out of
``n``, the mean and the interval: its time, bytes and accuracy are those of a run cut
short, and averaging them in would make a scheme look faster and cheaper the more
often it stalls.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from scipy import stats

from edgesim.report.facts import stall

SWEEP_SCHEMA_VERSION = 1

RUN_FIELDS = (
    "label",
    "scheme",
    "final_accuracy",
    "time_to_accuracy_s",
    "bytes",
    "devices",
    "sim_time_s",
    "stalled",
    "counters",
)
"""The keys of a scheme run that :func:`aggregate` reads (through the metrics and ``stall``).

A run file's digest (edgesim.sweep.store) keeps only these, so a metric that
reads another key must add it here.
"""


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    unit: str
    value: Callable[[dict[str, Any]], float | None]


def metrics_for(targets: list[float]) -> list[Metric]:
    """The metrics of one scheme run (an entry of ``results.json``'s ``runs``)."""
    return [
        Metric("final_accuracy", "Final accuracy", "fraction", lambda r: r.get("final_accuracy")),
        *(
            Metric(
                f"time_to_{t:g}",
                f"Time to {t:g} accuracy",
                "s",
                lambda r, t=t: r["time_to_accuracy_s"].get(str(t)),
            )
            for t in targets
        ),
        Metric("bytes_total", "Bytes sent", "B", lambda r: r["bytes"]["total"]),
        Metric("wait_share", "Waiting share", "fraction", _wait_share),
        Metric("lost_work_s", "Work lost", "s", _lost_work),
        Metric("sim_time_s", "Simulated time", "s", lambda r: r["sim_time_s"]),
    ]


def _wait_share(run: dict[str, Any]) -> float | None:
    """Mean over devices of the share of the run each spent waiting on others."""
    devices = list(run["devices"].values())
    if run["sim_time_s"] <= 0 or not devices:
        return None
    return sum(d["wait_s"] for d in devices) / run["sim_time_s"] / len(devices)


def _lost_work(run: dict[str, Any]) -> float:
    """Device-seconds of compute lost to failures, summed over devices."""
    return sum(d["lost_work_s"] for d in run["devices"].values())


def mean_interval(values: list[float]) -> tuple[float | None, tuple[float, float] | None]:
    """Mean and 95 % Student-t interval of ``values`` (no interval below two values)."""
    n = len(values)
    if n == 0:
        return None, None
    mean = math.fsum(values) / n
    if n == 1:
        return mean, None
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = _t975(n - 1) * sd / math.sqrt(n)
    return mean, (mean - half, mean + half)


@functools.cache
def _t975(degrees: int) -> float:
    """Student's t 97.5 % quantile; cached: scipy takes ~0.1 ms a call, a sweep asks thousands."""
    return float(stats.t.ppf(0.975, degrees))


def aggregate(
    header: dict[str, Any],
    points: list[dict[str, Any]],
    seeds: list[int],
    run_files: dict[tuple[str, int], dict[str, Any]],
) -> dict[str, Any]:
    """``sweep.json``: one row per point × scheme label × metric, across ``seeds``.

    ``run_files`` maps (point id, seed) to a finished run file; missing runs
    and stalled runs are listed and left out of the statistics (``per_seed`` still
    shows a stalled run's value).
    """
    first = next(iter(run_files.values()), None)
    targets = list(first["scenario"]["targets"]) if first else []
    metrics = metrics_for(targets)
    labels: dict[str, str] = {}
    for data in run_files.values():
        for run in data["runs"]:
            labels.setdefault(run["label"], run["scheme"])
    rows = []
    for point in points:
        for label, scheme in labels.items():
            runs = {
                seed: next((r for r in data["runs"] if r["label"] == label), None)
                for seed in seeds
                if (data := run_files.get((point["id"], seed))) is not None
            }
            counted = [run for run in runs.values() if run is not None and stall(run) is None]
            for metric in metrics:
                per_seed = {
                    str(seed): None if run is None else _number(metric.value(run))
                    for seed, run in runs.items()
                }
                present = [v for run in counted if (v := _number(metric.value(run))) is not None]
                mean, interval = mean_interval(present)
                rows.append(
                    {
                        "point": point["id"],
                        "label": label,
                        "scheme": scheme,
                        "metric": metric.key,
                        "per_seed": per_seed,
                        "n": len(present),
                        "of": len(runs),
                        "mean": mean,
                        "ci95": list(interval) if interval else None,
                    }
                )
    missing = [
        {"point": p["id"], "seed": seed}
        for p in points
        for seed in seeds
        if (p["id"], seed) not in run_files
    ]
    stalled_runs = [
        {"point": p["id"], "seed": seed, "label": run["label"], **asdict(found)}
        for p in points
        for seed in seeds
        for run in run_files.get((p["id"], seed), {}).get("runs", [])
        if (found := stall(run)) is not None
    ]
    return {
        "schema_version": SWEEP_SCHEMA_VERSION,
        "sweep": header,
        "metrics": [{"key": m.key, "title": m.title, "unit": m.unit} for m in metrics],
        "points": points,
        "seeds": seeds,
        "labels": [{"label": label, "scheme": scheme} for label, scheme in labels.items()],
        "missing_runs": missing,
        "stalled_runs": stalled_runs,
        "rows": rows,
    }


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)
