"""The tables of docs/schedulers.md, from a run of scenarios/schedulers.yaml (and its sweep).

    edgesim run scenarios/schedulers.yaml --out reports/schedulers
    python benchmarks/schedulers.py reports/schedulers/results.json
    edgesim sweep scenarios/schedulers-dropout.yaml --out reports/schedulers-dropout
    python benchmarks/schedulers.py reports/schedulers/results.json \\
        --sweep reports/schedulers-dropout/sweep.json

Prints markdown: per scheduler, the time to each accuracy target, the bytes sent until
it reached the highest one, the final accuracy at the common horizon, the updates the
server averaged in, the deadline misses and the share of time the clients waited; then each
scheduler's time-to-accuracy gain over random selection (``fedavg`` and
``fedavg-wait``), the figure Oort's and TiFL's papers report; with ``--sweep``, final
accuracy and time to target per dropout level. Nothing is computed here that the
results do not hold: the numbers are read (bytes at a time: the last point before it) or divided.
"""

from __future__ import annotations

import argparse
import bisect
import json
from pathlib import Path
from typing import Any

BASELINES = ("fedavg", "fedavg-wait")
"""Random selection: with the round deadline of the other synchronous schemes, and without."""


def client_wait_share(run: dict[str, Any], server: str | None) -> float:
    """Mean over the clients of the share of the run each spent waiting on others."""
    clients = [d for name, d in run["devices"].items() if name != server]
    return sum(d["wait_s"] for d in clients) / run["sim_time_s"] / len(clients)


def bytes_at(run: dict[str, Any], t: float | None) -> float | None:
    """Bytes sent (up and down) by simulated time ``t``: the curve's last point at or before."""
    if t is None:
        return None
    curve = run.get("bytes_curve") or []
    times = [point[0] for point in curve]
    i = bisect.bisect_right(times, t)
    return curve[i - 1][1] if i else 0.0


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def megabytes(value: float | None) -> str:
    return "—" if value is None else f"{value / 1e6:,.0f} MB"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def runs_table(results: dict[str, Any]) -> str:
    targets = [f"{t:g}" for t in results["scenario"]["targets"]]
    server = next((d["id"] for d in results["scenario"]["devices"] if d["role"] == "server"), None)
    runs = results["runs"]
    top = targets[-1]
    head = [
        "scheduler",
        *(f"time to {float(t):.0%}" for t in targets),
        f"sent by {float(top):.0%}",
        "final accuracy",
        "sent in all",
        "updates used",
        "deadline misses",
        "clients waiting",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for run in runs:
        tta = run["time_to_accuracy_s"]
        counters = run["counters"]
        row = [
            f"`{run['label']}`",
            *(seconds(tta.get(t)) for t in targets),
            megabytes(bytes_at(run, tta.get(top))),
            percent(run["final_accuracy"]),
            megabytes(run["bytes"]["total"]),
            f"{counters.get('client_updates', 0):,.0f}",
            f"{counters.get('deadline_misses', 0):,.0f}",
            percent(client_wait_share(run, server)),
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def gains_table(results: dict[str, Any]) -> str:
    """Each scheduler's time to target against random selection's: baseline time / its time."""
    targets = [f"{t:g}" for t in results["scenario"]["targets"]]
    by_label = {run["label"]: run for run in results["runs"]}
    baselines = [b for b in BASELINES if b in by_label]
    head = ["scheduler"] + [f"{float(t):.0%}: vs `{b}`" for t in targets for b in baselines]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, run in by_label.items():
        if label in baselines:
            continue
        row = [f"`{label}`"]
        for t in targets:
            for b in baselines:
                row.append(gain(by_label[b], run, t))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def gain(baseline: dict[str, Any], run: dict[str, Any], target: str) -> str:
    """Baseline's time to ``target`` over the run's; a bound where one never reached it.

    A run that never reached the target took longer than its whole run: the gain is then
    at most (``<``) or at least (``>``) the ratio with that run's simulated time.
    """
    theirs = baseline["time_to_accuracy_s"].get(target)
    ours = run["time_to_accuracy_s"].get(target)
    if theirs is not None and ours is not None:
        return f"{theirs / ours:.2f}×"
    if theirs is None and ours is not None:
        return f"> {baseline['sim_time_s'] / ours:.2f}×"
    if theirs is not None:
        return f"< {theirs / run['sim_time_s']:.2f}×"
    return "—"


def sweep_table(sweep: dict[str, Any]) -> str:
    """Per metric, a table: one row per scheduler, one column per grid point (mean over seeds).

    A mean over fewer seeds than ran (a target some seeds never reached) says how many.
    """
    points = sweep["points"]
    keys = [m["key"] for m in sweep["metrics"] if m["key"].startswith("time_to_")]
    titles = {m["key"]: m["title"] for m in sweep["metrics"]}
    cells = {(r["point"], r["label"], r["metric"]): r for r in sweep["rows"]}
    varied = [
        path for path in points[0]["values"] if len({repr(p["values"][path]) for p in points}) > 1
    ]
    tables = []
    for key in ["final_accuracy", *keys, "bytes_total", "wait_share"]:
        head = [titles[key], *(_point_name(p, varied) for p in points)]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for entry in sweep["labels"]:
            row = [f"`{entry['label']}`"]
            row += [_cell(key, cells.get((p["id"], entry["label"], key))) for p in points]
            lines.append("| " + " | ".join(row) + " |")
        tables.append("\n".join(lines))
    return "\n\n".join(tables)


def _point_name(point: dict[str, Any], varied: list[str]) -> str:
    """The point by the values that differ between points (the grid's constants left out)."""
    shown = varied or list(point["values"])
    return ", ".join(f"{path.rsplit('.', 1)[-1]} {point['values'][path]}" for path in shown)


def _cell(key: str, cell: dict[str, Any] | None) -> str:
    if cell is None or cell["mean"] is None:
        return "—" if cell is None else f"— (0/{cell['of']})"
    mean = cell["mean"]
    if key in ("final_accuracy", "wait_share"):
        text = percent(mean)
    else:
        text = megabytes(mean) if key == "bytes_total" else seconds(mean)
    return text if cell["n"] == cell["of"] else f"{text} ({cell['n']}/{cell['of']})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="results.json of scenarios/schedulers.yaml")
    parser.add_argument(
        "--sweep", type=Path, help="sweep.json of scenarios/schedulers-dropout.yaml"
    )
    args = parser.parse_args()
    results = json.loads(args.results.read_text(encoding="utf-8"))
    print(runs_table(results))
    print()
    print(gains_table(results))
    if args.sweep is not None:
        print()
        print(sweep_table(json.loads(args.sweep.read_text(encoding="utf-8"))))


if __name__ == "__main__":
    main()
