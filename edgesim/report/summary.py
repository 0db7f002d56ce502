"""The summary table: one row per run, one column per question, the best marked.

Columns come in groups (accuracy, time, traffic, waiting, cost and failures) under a
two-row header; when no run recorded accuracy (timing-only runs) its columns are left
out rather than filled with dashes. A column's best value is marked only when runs differ in it; a
missing value (a target never reached, a figure not recorded) reads "—". A stalled
run is flagged next to its name and never marked best: its figures are those of a
run cut short, so only runs that finished compete for the marks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edgesim.report import aggregate, facts, fmt
from edgesim.report.page import note, text
from edgesim.report.verdict import target_name


@dataclass(frozen=True)
class Column:
    """A numeric column; ``best`` picks the value to mark (``max`` or ``min``)."""

    group: str
    title: str
    value: Callable[[dict], float | None]
    show: Callable[[float], str]
    best: Callable[[Sequence[float]], float] = min
    hint: str = ""


def columns(scenario: dict, runs: Sequence[dict]) -> list[Column]:
    def byte_column(title: str, key: str, hint: str) -> Column:
        def value(run: dict) -> float | None:
            return (run.get("bytes") or {}).get(key)

        return Column("Traffic", title, value, fmt.nbytes, hint=hint)

    def worst(run: dict) -> float | None:
        found = facts.worst_wait(run, scenario)
        return None if found is None else found[1]

    accuracy = [
        Column("Accuracy", "Final", lambda r: r.get("final_accuracy"), fmt.percent, max),
        *(
            Column(
                "Accuracy",
                f"Time to {target_name(t)}",
                lambda r, t=t: facts.time_to_target(r, t),
                fmt.seconds,
                hint="first simulated time the primary curve reached the target",
            )
            for t in facts.targets(scenario, runs)
        ),
    ]
    cols = [
        *([] if facts.all_timing_only(scenario, runs) else accuracy),
        Column(
            "Time",
            "Sim. time",
            lambda r: r.get("sim_time_s"),
            fmt.seconds,
            hint="simulated makespan: when the protocol finished",
        ),
        byte_column("Total", "total", "payload bytes of every transfer"),
        byte_column("Up", "up", "towards the server"),
        byte_column("Down", "down", "from the server"),
        byte_column("Raw data", "raw_data", "training samples that left a device"),
        Column(
            "Waiting",
            "Mean",
            lambda r: facts.mean_wait_share(r, scenario),
            fmt.percent,
            hint="share of the run a device spent blocked on others, mean over clients",
        ),
        Column("Waiting", "Worst", worst, fmt.percent, hint="the client that waited most"),
        Column("Cost", "Energy", facts.total_energy, fmt.energy, hint="all devices"),
        Column(
            "Cost",
            "Work lost",
            facts.lost_work,
            fmt.seconds,
            hint="compute lost to failures or abandoned at a deadline",
        ),
        Column(
            "Cost",
            "Deadline misses",
            facts.round_deadline_misses,
            fmt.count,
            hint="clients that missed a protocol deadline (e.g. a round's)",
        ),
    ]
    if any(facts.task_deadline_misses(run) is not None for run in runs):
        cols.append(
            Column(
                "Cost",
                "Task misses",
                facts.task_deadline_misses,
                fmt.count,
                hint="background-task deadlines missed on the devices",
            )
        )
    return cols


def best_values(cols: Sequence[Column], runs: Sequence[dict]) -> list[float | None]:
    """Per column, the value to mark: None when no two finished (not stalled) runs differ."""
    finished = [run for run in runs if facts.stall(run) is None]
    marked = []
    for column in cols:
        present = [v for v in (column.value(run) for run in finished) if v is not None]
        marked.append(column.best(present) if len(set(present)) > 1 else None)
    return marked


def stall_tag(run: dict) -> str:
    """`` <span class="stalled">stalled at 3.2 s</span>`` (why, on hover) or "" if it finished."""
    found = facts.stall(run)
    if found is None:
        return ""
    why = text(found.reason or "it waits for devices that never return")
    return f' <span class="stalled" title="{why}">{text(found.phrase())}</span>'


def summary_table(scenario: dict, runs: Sequence[dict], names: Sequence[str]) -> str:
    cols = columns(scenario, runs)
    best = best_values(cols, runs)
    groups: list[tuple[str, int]] = []
    for column in cols:
        if groups and groups[-1][0] == column.group:
            groups[-1] = (column.group, groups[-1][1] + 1)
        else:
            groups.append((column.group, 1))
    top = '<th rowspan="2">Run</th><th rowspan="2">Scheme</th>' + "".join(
        f'<th colspan="{span}">{text(group)}</th>' for group, span in groups
    )
    sub = "".join(f'<th title="{text(c.hint)}">{text(c.title)}</th>' for c in cols)
    rows = []
    for run, name in zip(runs, names, strict=True):
        stalled = facts.stall(run) is not None
        cells = [
            f"<td>{text(name)}{stall_tag(run)}</td>",
            f"<td>{text(run.get('scheme', ''))}</td>",
        ]
        for column, top_value in zip(cols, best, strict=True):
            value = column.value(run)
            css = "num best" if not stalled and value is not None and value == top_value else "num"
            shown = "—" if value is None else column.show(value)
            cells.append(f'<td class="{css}">{text(shown)}</td>')
        row_class = ' class="stalled"' if stalled else ""
        rows.append(f"<tr{row_class}>{''.join(cells)}</tr>")
    table = (
        f'<div class="scroll"><table class="summary">\n<thead><tr>{top}</tr>\n'
        f"<tr>{sub}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table></div>"
    )
    return table + note(
        "Marked: the best value of each column (highest accuracy, lowest otherwise), when runs "
        "differ; a stalled run (it stopped before finishing what it was asked, waiting for "
        "devices that never return) is never marked, its figures are those of a run cut "
        "short. — : never reached or not recorded. Times are simulated. Waiting: the share of "
        "the run a client spent blocked on others (a round to end, a retry after a failure); "
        "the server is left out. Hover a column title for its definition."
    )


_SHOW = {"fraction": fmt.percent, "s": fmt.seconds, "B": fmt.nbytes, "J": fmt.energy}


def spread_text(spread: aggregate.Spread, unit: str, can_miss: bool = False) -> str:
    """``96.7 % [95.1 %, 97.8 %]``, with ``(k of n reached)`` where some runs have no value."""
    show = _SHOW.get(unit, lambda v: f"{v:.4g}")
    if spread.mean is None:
        return fmt.DASH + (f" (0 of {spread.of} reached)" if can_miss else "")
    out = show(spread.mean)
    low, high = show(spread.low), show(spread.high)
    if spread.n > 1 and low != high:
        out += f" [{low}, {high}]"
    if spread.n < spread.of:
        out += f" ({spread.n} of {spread.of} {'reached' if can_miss else 'recorded'})"
    return out


def aggregate_table(scenario: dict, runs: Sequence[dict]) -> str:
    """One row per scheme over seeds: mean [interval] of each figure, stalls counted."""
    summaries = aggregate.by_scheme(scenario, runs)
    figures = aggregate.figures_for(scenario, runs)
    head = "".join(f"<th>{text(t)}</th>" for t in ["Scheme", "Runs", *(f.title for f in figures)])
    rows = []
    for s in summaries:
        stalled = f' <span class="stalled">{s.stalled} stalled</span>' if s.stalled else ""
        cells = [f"<td>{text(s.name)}{stalled}</td>", f'<td class="num">{s.runs}</td>']
        cells += [
            f'<td class="num">{text(spread_text(s.spreads[f.key], f.unit, f.can_miss))}</td>'
            for f in figures
        ]
        rows.append(f'<tr data-scheme="{text(s.name)}">{"".join(cells)}</tr>')
    methods = sorted(
        {aggregate.method_name(s.spreads[f.key].n) for s in summaries for f in figures}
    )
    return (
        f'<div class="scroll"><table class="summary aggregate">\n<thead><tr>{head}</tr></thead>\n'
        "<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table></div>"
    ) + note(
        "Mean over the seeds [interval: "
        + text(" or ".join(methods))
        + f" ({aggregate.BOOTSTRAP_FROM} seeds or more: a bootstrap percentile interval), "
        "clipped at what is possible: times, bytes, energy and lost work ≥ 0, accuracy and "
        "waiting in [0, 100 %]]. (k of n reached): the mean is over the k seeds that reached "
        "the target; the others never did. Stalled runs are left out of every mean."
    )
