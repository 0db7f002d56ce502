"""Tidy tables of a results dict: one row per observation, one column per variable.

A notebook wants ``results.summary.plot(...)``, a spreadsheet wants a CSV;
both want the numbers ``results.json`` holds, not the rounded text of the
CLI's table. Every function here reads a results dict (docs/results.md) and
returns a :class:`Table` of plain row dicts, so nothing but :func:`to_frame`
needs pandas. ``meta`` (host, wall time) is never part of a table: the
tables of one scenario are the same on every machine.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgesim.errors import EdgesimError
from edgesim.io import claim_outputs, write_text_atomic
from edgesim.report.facts import stall

if TYPE_CHECKING:
    import pandas

Row = dict[str, Any]

DEVICE_STATS = (
    "compute_s",
    "send_s",
    "recv_s",
    "wait_s",
    "idle_s",
    "down_s",
    "lost_work_s",
    "background_s",
    "deadline_misses",
    "energy_j",
)
"""A device's numbers in ``runs[].devices``, in the order of docs/results.md."""

CURVE_COLUMNS = ("label", "curve", "subset", "primary", "time_s", "accuracy")
DEVICE_COLUMNS = ("label", "device", "profile", "role", *DEVICE_STATS)
TIMELINE_COLUMNS = ("label", "device", "kind", "start_s", "end_s", "detail")

RUN_TABLES = ("summary", "curves", "devices", "timeline")
"""The tables of one results dict; ``--csv`` writes each as ``<name>.csv``."""

SWEEP_CSV = "runs.csv"


@dataclass(frozen=True)
class Table:
    """Rows (dicts keyed by ``columns``) with their column order, so an empty table has columns."""

    columns: tuple[str, ...]
    rows: list[Row]


def summary_columns(targets: list[float]) -> tuple[str, ...]:
    return (
        "label",
        "scheme",
        "primary_curve",
        "final_accuracy",
        *(time_to_column(t) for t in targets),
        "sim_time_s",
        "bytes_total",
        "bytes_up",
        "bytes_down",
        "raw_data_bytes",
        "mean_wait_s",
        "wait_share",
        "lost_work_s",
        "energy_j",
        "stalled_at_s",
        "stalled_reason",
    )


def time_to_column(target: float | str) -> str:
    """``time_to_0.8``: the key of ``time_to_accuracy_s`` (``str`` of the target) after a prefix."""
    return f"time_to_{target}"


def summary_row(run: dict[str, Any], targets: list[float]) -> Row:
    """One run's numbers as the CLI's summary table and the sweep's metrics compute them.

    ``mean_wait_s`` and ``energy_j`` are the CLI table's (mean wait over
    devices, energy summed over devices); ``wait_share`` and ``lost_work_s``
    are the sweep's (edgesim.sweep.aggregate), so a sweep's table holds every
    value ``sweep.json`` averages.
    """
    devices = list(run["devices"].values())
    found = stall(run)
    sim_time = run["sim_time_s"]
    return {
        "label": run["label"],
        "scheme": run["scheme"],
        "primary_curve": run["primary_curve"],
        "final_accuracy": run["final_accuracy"],
        **{time_to_column(t): run["time_to_accuracy_s"].get(str(t)) for t in targets},
        "sim_time_s": sim_time,
        "bytes_total": run["bytes"]["total"],
        "bytes_up": run["bytes"]["up"],
        "bytes_down": run["bytes"]["down"],
        "raw_data_bytes": run["bytes"]["raw_data"],
        "mean_wait_s": sum(d["wait_s"] for d in devices) / max(len(devices), 1),
        "wait_share": (
            sum(d["wait_s"] for d in devices) / sim_time / len(devices)
            if sim_time > 0 and devices
            else None
        ),
        "lost_work_s": sum(d["lost_work_s"] for d in devices),
        "energy_j": sum(d["energy_j"] for d in devices),
        "stalled_at_s": None if found is None else found.at_s,
        "stalled_reason": None if found is None else found.reason,
    }


def summary(results: dict[str, Any]) -> Table:
    """One row per run: accuracy, times to target, makespan, bytes, waiting, energy, stall."""
    targets = list(results["scenario"]["targets"])
    rows = [summary_row(run, targets) for run in results["runs"]]
    return Table(summary_columns(targets), rows)


def curves(results: dict[str, Any]) -> Table:
    """One row per observation of every accuracy curve of every run.

    ``curve`` is the name in ``runs[].curves`` (``global``, ``device:nano-0@personal``);
    ``subset`` is the part of the test set after its ``@`` (None: the whole test set);
    ``primary`` marks the curve targets and ``final_accuracy`` are judged on.
    """
    rows = []
    for run in results["runs"]:
        for curve in run["curves"]:
            name = curve["model"]
            subset = name.partition("@")[2] or None
            primary = name == run["primary_curve"]
            for time_s, accuracy in curve["points"]:
                rows.append(
                    {
                        "label": run["label"],
                        "curve": name,
                        "subset": subset,
                        "primary": primary,
                        "time_s": time_s,
                        "accuracy": accuracy,
                    }
                )
    return Table(CURVE_COLUMNS, rows)


def devices(results: dict[str, Any]) -> Table:
    """One row per run × device: seconds in each state, lost and background work, energy.

    Profile and role come from the scenario's expanded device list. Keys an
    older results file lacks (``background_s``, ``deadline_misses``) are None.
    """
    described = {d["id"]: d for d in results["scenario"]["devices"]}
    rows = []
    for run in results["runs"]:
        for device, numbers in run["devices"].items():
            about = described.get(device, {})
            rows.append(
                {
                    "label": run["label"],
                    "device": device,
                    "profile": about.get("profile"),
                    "role": about.get("role"),
                    **{key: numbers.get(key) for key in DEVICE_STATS},
                }
            )
    return Table(DEVICE_COLUMNS, rows)


def timeline(results: dict[str, Any]) -> Table:
    """One row per span of ``runs[].timeline``, in its order (by start); none without one."""
    rows = [
        dict(zip(TIMELINE_COLUMNS, (run["label"], *span), strict=True))
        for run in results["runs"]
        for span in run.get("timeline", [])
    ]
    return Table(TIMELINE_COLUMNS, rows)


def run_tables(results: dict[str, Any]) -> dict[str, Table]:
    """Every table of :data:`RUN_TABLES`, by name."""
    builders = {"summary": summary, "curves": curves, "devices": devices, "timeline": timeline}
    return {name: builders[name](results) for name in RUN_TABLES}


def sweep_runs(vary: list[str], run_files: list[dict[str, Any]]) -> Table:
    """One row per finished sweep run × scheme: the point, its grid values, the seed, the summary.

    ``vary`` names the varied paths (the grid's columns, in the sweep file's
    order); each run file carries its point's values in its ``sweep`` block.
    Targets may be varied too, so the time-to-target columns are those of
    every run, in order of the target.
    """
    targets = sorted({t for data in run_files for t in data["scenario"]["targets"]})
    columns = ("point", *vary, "seed", *summary_columns(targets))
    rows = []
    for data in run_files:
        block = data["sweep"]
        grid = {"point": block["point"], **block["values"], "seed": block["seed"]}
        for run in data["runs"]:
            rows.append({**grid, **summary_row(run, data["scenario"]["targets"])})
    return Table(columns, [{c: row.get(c) for c in columns} for row in rows])


def to_frame(table: Table) -> pandas.DataFrame:
    """The table as a pandas DataFrame (pandas is the optional extra ``edgesim[pandas]``)."""
    try:
        import pandas
    except ImportError:
        raise EdgesimError(
            "tables as DataFrames need pandas: pip install 'edgesim[pandas]' "
            "(or read the rows without it: edgesim.tables.summary(results.raw).rows)"
        ) from None
    return pandas.DataFrame(table.rows, columns=list(table.columns))


def csv_text(table: Table) -> str:
    """The table as CSV: None is an empty cell, a mapping or list (a grid value) canonical JSON.

    Floats are written as Python's ``repr``, the shortest text that reads back
    as the same number, so a CSV holds exactly the numbers of ``results.json``.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(_cell(row[c]) for c in table.columns)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return value


_HEADS = {
    "summary": "label,scheme,primary_curve,final_accuracy,",
    "curves": ",".join(CURVE_COLUMNS),
    "devices": ",".join(DEVICE_COLUMNS[:5]),
    "timeline": ",".join(TIMELINE_COLUMNS),
    "runs": ",seed,label,scheme,primary_curve,final_accuracy,",
}
"""What the header line of each CSV edgesim writes contains: how edgesim knows its own CSV."""


def _written_by_edgesim(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            head = handle.readline(4096)
    except OSError:
        return False
    return _HEADS[path.stem] in head


def csv_paths(folder: Path) -> list[Path]:
    """Where ``--csv`` writes the tables of a run: ``<name>.csv`` beside ``results.json``."""
    return [Path(folder) / f"{name}.csv" for name in RUN_TABLES]


def claim_csv(paths: list[Path], inputs: tuple[Path, ...], force: bool) -> None:
    """:func:`edgesim.io.claim_outputs` for CSV files, which edgesim knows by their header."""
    for path in paths:
        claim_outputs([path], inputs, force or (path.is_file() and _written_by_edgesim(path)))


def write_csv(path: Path, table: Table) -> Path:
    return write_text_atomic(path, csv_text(table))


def write_run_csv(results: dict[str, Any], folder: Path) -> list[Path]:
    """Every table of ``results`` as CSV in ``folder`` (the paths of :func:`csv_paths`)."""
    tables = run_tables(results)
    return [write_csv(path, tables[path.stem]) for path in csv_paths(folder)]
