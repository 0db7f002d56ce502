"""The HTML report of a sweep (``sweep.json``): each metric against each varied parameter.

For every varied path, one figure per metric: the mean across seeds with its
95 % interval as error bars, one line per scheme (and per value of the other
varied paths, when there are several). Then one table with every grid point ×
scheme. Runs that stalled are named in the header and counted wherever a mean is
shown: the aggregate leaves them out of the statistics (edgesim.sweep.aggregate).
Built on the shared page shell of :mod:`edgesim.report.page`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from edgesim.report import fmt
from edgesim.report.figures import TEMPLATE, plot_text
from edgesim.report.page import Section, assemble_page, figure_html, note, text, write_page

_FORMATS: dict[str, Callable[[float], str]] = {
    "fraction": fmt.percent,
    "s": fmt.seconds,
    "B": fmt.nbytes,
}


def render_sweep_report(summary: dict[str, Any], path: str | Path) -> Path:
    """Write the report of a loaded ``sweep.json`` to ``path`` (atomically)."""
    return write_page(path, sweep_page(summary))


def sweep_page(summary: dict[str, Any]) -> str:
    header = summary["sweep"]
    sections = [
        Section(
            f"vary-{i}",
            f"Against {path}",
            _figures(summary, path, i),
        )
        for i, path in enumerate(header["vary"])
    ]
    sections.append(Section("table", "All grid points", _table(summary)))
    return assemble_page(f"edgesim sweep: {header['name']}", _header(summary), sections)


def _value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _header(summary: dict[str, Any]) -> str:
    header = summary["sweep"]
    runs = len(summary["points"]) * len(summary["seeds"])
    missing = summary["missing_runs"]
    facts = [
        ("Sweep file", header["source"]),
        ("Base scenario", header["base"]),
        *(
            (f"Varied: {path}", ", ".join(_value_text(v) for v in values))
            for path, values in header["vary"].items()
        ),
        ("Seeds", ", ".join(str(s) for s in summary["seeds"])),
        ("Runs", f"{runs - len(missing)} of {runs} finished"),
    ]
    rows = "\n".join(f"<dt>{text(k)}</dt><dd>{text(v)}</dd>" for k, v in facts)
    missing_note = (
        note(
            "Missing runs (left out of every statistic): "
            + text(", ".join(f"{m['point']} seed {m['seed']}" for m in missing))
        )
        if missing
        else ""
    )
    stalled = summary.get("stalled_runs") or []
    stalled_note = (
        note(
            '<span class="stalled">Stalled runs</span> (they stopped before finishing what '
            "was asked; left out of every statistic): "
            + text(
                ", ".join(
                    f"{s['label']} at {s['point']} seed {s['seed']}, {fmt.seconds(s['at_s'])}"
                    + (f" ({s['reason']})" if s.get("reason") else "")
                    for s in stalled
                )
            )
        )
        if stalled
        else ""
    )
    return (
        f"<header>\n<h1>{text(header['name'])}</h1>\n<p>{text(header['description'])}</p>\n"
        f'<dl class="facts">\n{rows}\n</dl>\n{missing_note}\n{stalled_note}\n</header>'
    )


def _stalled_counts(summary: dict[str, Any]) -> Counter[tuple[str, str]]:
    """Stalled runs per (point id, scheme label)."""
    return Counter((s["point"], s["label"]) for s in summary.get("stalled_runs") or [])


def _index(summary: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["point"], r["label"], r["metric"]): r for r in summary["rows"]}


def _figures(summary: dict[str, Any], path: str, number: int) -> str:
    rows = _index(summary)
    stalled = _stalled_counts(summary)
    points = summary["points"]
    others = [p for p in summary["sweep"]["vary"] if p != path]
    xs = [point["values"][path] for point in points]
    numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)
    groups: dict[str, list[dict[str, Any]]] = {}
    for point in points:
        rest = ", ".join(f"{o}={_value_text(point['values'][o])}" for o in others)
        groups.setdefault(rest, []).append(point)
    parts = []
    for m, metric in enumerate(summary["metrics"]):
        traces = [
            _trace(entry["label"], rest, members, path, metric, rows, stalled, numeric)
            for entry in summary["labels"]
            for rest, members in groups.items()
        ]
        parts.append(figure_html(f"fig-vary-{number}-{m}", _figure(traces, path, metric, numeric)))
    parts.append(
        note(
            "Mean across seeds; error bars: 95 % Student-t interval. A point is missing "
            "where no seed has a value (a target never reached); hover shows how many "
            "seeds contributed and how many stalled (stalled runs are left out)."
        )
    )
    return "\n".join(parts)


def _figure(
    traces: list[dict[str, Any]], path: str, metric: dict[str, Any], numeric: bool
) -> go.Figure:
    """One metric against ``path``, built in one go: plotly checks a figure's traces and template
    on every ``add_trace`` and ``update_layout``, which for a 100-point grid took seconds."""
    layout: dict[str, Any] = {
        "template": TEMPLATE,
        "title": plot_text(f"{metric['title']} against {path}"),
        "xaxis": {"title": plot_text(path)},
        "yaxis": {"title": plot_text(f"{metric['title']} ({metric['unit']})")},
        "height": 360,
        "margin": {"t": 50, "b": 50},
    }
    if metric["unit"] == "fraction":
        layout["yaxis"]["tickformat"] = ".0%"
    if not numeric:
        layout["xaxis"]["type"] = "category"
    return go.Figure(data=traces, layout=layout)


def _trace(
    label: str,
    rest: str,
    points: Sequence[dict[str, Any]],
    path: str,
    metric: dict[str, Any],
    rows: dict[tuple[str, str, str], dict[str, Any]],
    stalled: Counter[tuple[str, str]],
    numeric: bool,
) -> dict[str, Any]:
    xs, ys, up, down, hover = [], [], [], [], []
    for point in points:
        row = rows.get((point["id"], label, metric["key"]))
        x = point["values"][path]
        xs.append(x if numeric else _value_text(x))
        mean = row["mean"] if row else None
        ys.append(mean)
        interval = row["ci95"] if row else None
        up.append(interval[1] - mean if interval else 0.0)
        down.append(mean - interval[0] if interval else 0.0)
        stalls = stalled[(point["id"], label)]
        hover.append(
            plot_text(
                f"{_format(metric, mean)} ({row['n'] if row else 0} of "
                f"{row['of'] if row else 0} seeds"
                + (f"; {stalls} stalled, left out)" if stalls else ")")
            )
        )
    name = label if not rest else f"{label}, {rest}"
    return {
        "type": "scatter",
        "x": xs,
        "y": ys,
        "name": plot_text(name),
        "mode": "lines+markers",
        "error_y": {"type": "data", "array": up, "arrayminus": down, "visible": True},
        "hovertext": hover,
        "hoverinfo": "x+text+name",
    }


def _format(metric: dict[str, Any], value: float | None) -> str:
    if value is None:
        return "—"
    return _FORMATS.get(metric["unit"], lambda v: f"{v:.4g}")(value)


def _cell(metric: dict[str, Any], row: dict[str, Any] | None) -> str:
    if row is None or row["mean"] is None:
        reached = f" (0 of {row['of']})" if row else ""
        return "—" + reached
    out = _format(metric, row["mean"])
    if row["ci95"] is not None:
        low, high = row["ci95"]
        out += f" [{_format(metric, low)}, {_format(metric, high)}]"
    if row["n"] < row["of"]:
        out += f" ({row['n']} of {row['of']})"
    return out


def _table(summary: dict[str, Any]) -> str:
    rows = _index(summary)
    stalled = _stalled_counts(summary)
    paths = list(summary["sweep"]["vary"])
    metrics = summary["metrics"]
    head = "".join(
        f"<th>{text(t)}</th>" for t in ["Point", *paths, "Scheme", *(m["title"] for m in metrics)]
    )
    body = []
    for point in summary["points"]:
        for entry in summary["labels"]:
            cells = [f"<td>{text(point['id'])}</td>"]
            cells += [f"<td>{text(_value_text(point['values'][p]))}</td>" for p in paths]
            stalls = stalled[(point["id"], entry["label"])]
            tag = f' <span class="stalled">{stalls} stalled</span>' if stalls else ""
            cells.append(f"<td>{text(entry['label'])}{tag}</td>")
            for m in metrics:
                row = rows.get((point["id"], entry["label"], m["key"]))
                cells.append(f'<td class="num">{text(_cell(m, row))}</td>')
            row_class = ' class="stalled"' if stalls else ""
            body.append(f"<tr{row_class}>{''.join(cells)}</tr>")
    return (
        f'<div class="scroll"><table class="summary">\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{chr(10).join(body)}\n</tbody>\n</table></div>\n"
        + note(
            "Mean [95 % interval] across seeds. (k of n): only k seeds have a value "
            "(the others never reached the target, or stalled: a stalled run is left out "
            "of every statistic). Waiting share: mean over devices of "
            "the share of the run spent waiting on others. Work lost: device-seconds of "
            "compute lost to failures, summed over devices."
        )
    )
