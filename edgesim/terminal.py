"""The summary ``edgesim run`` prints: one row per scheme that fits the terminal it is printed on.

A row that wraps across lines or a label cut to "centr…" is unreadable, so
the layout follows the console's width: one table when it fits, else two
narrower tables (what each scheme reached, what it cost), else one small
block per scheme. Numbers go through :mod:`edgesim.report.fmt`, the report's
formatter, so the terminal and the page print the same figures.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from edgesim.report import fmt
from edgesim.tables import summary_row, time_to_column

Cells = dict[str, str]


def _cells(run: dict[str, Any], targets: list[float]) -> Cells:
    """A run's figures as text, keyed by column title: what it reached, then what it cost.

    The numbers are :func:`edgesim.tables.summary_row`'s, those ``summary.csv`` holds.
    A timing-only run measured no accuracy, so it has no accuracy columns.
    """
    row = summary_row(run, targets)
    reached: Cells = {}
    if not run.get("timing_only"):
        reached["final acc"] = fmt.percent(row["final_accuracy"])
        for target in targets:
            reached[f"to {target:.0%}"] = fmt.seconds(row[time_to_column(target)])
    return reached | {
        "sim time": fmt.seconds(row["sim_time_s"]),
        "sent": fmt.nbytes(row["bytes_total"]),
        "raw data": fmt.nbytes(row["raw_data_bytes"]),
        "mean wait": fmt.seconds(row["mean_wait_s"]),
        "energy": fmt.energy(row["energy_j"]),
    }


STALLED = " *"
"""After the label of a run that stalled; a note under the tables says when and why."""


def _label(run: dict[str, Any]) -> str:
    return escape(run["label"] + (STALLED if run.get("stalled") else ""))


def _stall_notes(runs: list[dict[str, Any]]) -> list[str]:
    return [
        f"{STALLED.strip()} {escape(run['label'])} stalled at {fmt.seconds(stall['at_s'])} "
        f"before finishing: {escape(stall['reason'])}"
        for run in runs
        if (stall := run.get("stalled"))
    ]


MAX_TABLES = 3
"""More tables than this for one summary, and a block per scheme reads better."""


def _table(labels: list[str], rows: list[Cells]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    table.add_column("scheme", no_wrap=True)
    for column in rows[0] if rows else ():
        table.add_column(column, justify="right", no_wrap=True)
    for label, row in zip(labels, rows, strict=True):
        table.add_row(label, *row.values())
    return table


def _blocks(labels: list[str], rows: list[Cells]) -> list[RenderableType]:
    """One two-column block per scheme: the layout of last resort, for very narrow terminals."""
    parts: list[RenderableType] = []
    for label, row in zip(labels, rows, strict=True):
        block = Table(box=None, show_header=False)
        block.add_column(no_wrap=True)
        block.add_column(justify="right", no_wrap=True)
        for name, value in row.items():
            block.add_row(name, value)
        parts += [f"[bold]{label}[/]", block]
    return parts


def _fits(console: Console, table: Table) -> bool:
    """Whether the table's natural width (every cell on one line, uncut) fits the console."""
    unbounded = console.options.update_width(1_000_000)
    return Measurement.get(console, unbounded, table).maximum <= console.width


def _packed(labels: list[str], rows: list[Cells], console: Console) -> list[Table]:
    """The columns in order, in as few tables as keep each within the width; none if one cannot."""
    groups: list[list[str]] = []
    for column in rows[0] if rows else ():
        if groups and _fits(console, _table(labels, _only(rows, [*groups[-1], column]))):
            groups[-1].append(column)
        elif _fits(console, _table(labels, _only(rows, [column]))):
            groups.append([column])
        else:
            return []
    for i in range(len(groups) - 1, 0, -1):  # even out: no table of one lone column
        while len(groups[i]) + 1 < len(groups[i - 1]) and _fits(
            console, _table(labels, _only(rows, [groups[i - 1][-1], *groups[i]]))
        ):
            groups[i].insert(0, groups[i - 1].pop())
    return [_table(labels, _only(rows, group)) for group in groups]


def _only(rows: list[Cells], columns: list[str]) -> list[Cells]:
    return [{c: row[c] for c in columns} for row in rows]


def summary_view(results: dict[str, Any], console: Console) -> RenderableType:
    """The summary of ``results`` laid out for ``console``'s width (see the module docstring)."""
    targets = list(results["scenario"]["targets"])
    labels = [_label(run) for run in results["runs"]]
    rows = [_cells(run, targets) for run in results["runs"]]
    tables = _packed(labels, rows, console)
    timing_only = all(run.get("timing_only") for run in results["runs"])
    kind = "simulated, timing-only: no accuracy" if timing_only else "simulated"
    title = f"[bold]{escape(results['scenario']['name'])}: summary ({kind})[/]"
    notes = _stall_notes(results["runs"])
    if not tables or len(tables) > MAX_TABLES:
        return Group(title, *_blocks(labels, rows), *notes)
    spaced = [part for table in tables for part in ("", table)]
    return Group(title, *spaced, *(["", *notes] if notes else []))
