"""The HTML report of a sweep (``sweep.json``): a verdict, then each metric against each setting.

First what the sweep says, per varied setting, by the rule of
:mod:`edgesim.report.sweep_verdict` ("fedavg holds up to 50 %; local: every run
stalls from 25 %"). Then for every varied path, one figure per metric: the mean
across seeds with its interval as error bars, one line per scheme (and per value
of the other varied paths, when there are several), each scheme in its colour of
every report (:mod:`edgesim.report.colours`). The interval is recomputed here from
each seed's value (``per_seed``) by :func:`edgesim.report.aggregate.interval`, so it
never leaves what is possible (no negative time), rather than the aggregate's
Student-t interval, which on three seeds does. Then one table with every grid point
× scheme. Runs that stalled are named in the header and counted wherever a mean is
shown, and left out of every statistic. Built on the shared page shell of
:mod:`edgesim.report.page`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from edgesim.report import aggregate, fmt
from edgesim.report.colours import scheme_colour
from edgesim.report.figures import TEMPLATE, plot_text
from edgesim.report.page import Section, assemble_page, figure_html, note, text, write_page
from edgesim.report.sweep_verdict import (
    RULE,
    TIME_RULE,
    Level,
    is_share,
    parameter_label,
    sweep_sentences,
    value_text,
)

_FORMATS: dict[str, Callable[[float], str]] = {
    "fraction": fmt.percent,
    "s": fmt.seconds,
    "B": fmt.nbytes,
}
_BOUNDS = {"fraction": aggregate.FRACTION}
"""Bounds of a metric by unit; any other unit (s, B) is a non-negative amount."""


def render_sweep_report(summary: dict[str, Any], path: str | Path) -> Path:
    """Write the report of a loaded ``sweep.json`` to ``path`` (atomically)."""
    return write_page(path, sweep_page(summary))


def sweep_page(summary: dict[str, Any]) -> str:
    header = summary["sweep"]
    sections = [
        Section(
            f"vary-{i}",
            f"Against {parameter_label(path)} ({path})",
            _figures(summary, path, i),
        )
        for i, path in enumerate(header["vary"])
    ]
    sections.append(Section("table", "All grid points", _table(summary)))
    return assemble_page(f"edgesim sweep: {header['name']}", _header(summary), sections)


def _value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _stalled_seeds(summary: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(point id, scheme label, seed) of every stalled run."""
    return {(s["point"], s["label"], str(s["seed"])) for s in summary.get("stalled_runs") or []}


def spread_of(
    row: dict[str, Any], unit: str, stalled: set[tuple[str, str, str]]
) -> aggregate.Spread:
    """A row's mean and bounded interval, from the values of its seeds that did not stall."""
    finished = {
        seed: value
        for seed, value in (row.get("per_seed") or {}).items()
        if (row["point"], row["label"], str(seed)) not in stalled
    }
    values = [float(v) for v in finished.values() if v is not None]
    bounds = _BOUNDS.get(unit, aggregate.NON_NEGATIVE)
    return aggregate.interval(values, bounds, of=row["of"])


def _primary(summary: dict[str, Any]) -> dict[str, Any] | None:
    """The metric the verdict judges by: final accuracy, or simulated time without it."""
    rows = summary["rows"]
    keys = {m["key"]: m for m in summary["metrics"]}
    has_accuracy = any(r["metric"] == "final_accuracy" and r["mean"] is not None for r in rows)
    return keys.get("final_accuracy") if has_accuracy else keys.get("sim_time_s")


def _verdict(summary: dict[str, Any]) -> str:
    """One paragraph per varied path: how each scheme holds as the setting changes."""
    metric = _primary(summary)
    if metric is None or not summary["points"]:
        return ""
    timing_only = metric["key"] == "sim_time_s"
    rows = _index(summary)
    stalled = _stalled_counts(summary)
    stalled_seeds = _stalled_seeds(summary)
    vary = summary["sweep"]["vary"]
    paragraphs = []
    for path, values in vary.items():
        others = {o: vs[0] for o, vs in vary.items() if o != path}
        line = [p for p in summary["points"] if all(p["values"][o] == v for o, v in others.items())]
        line.sort(key=lambda p: values.index(p["values"][path]))
        levels: dict[str, list[Level]] = {}
        for entry in summary["labels"]:
            label = entry["label"]
            levels[label] = []
            for point in line:
                row = rows.get((point["id"], label, metric["key"]))
                spread = spread_of(row, metric["unit"], stalled_seeds) if row else None
                runs = row["of"] if row else 0
                levels[label].append(
                    Level(
                        point["values"][path],
                        spread.mean if spread else None,
                        stalled[(point["id"], label)],
                        runs,
                    )
                )
        sentences = sweep_sentences(levels, path, timing_only, is_share(path, values))
        held = "" if len(vary) == 1 else f" (other settings at their first value: {others})"
        items = "".join(f"<li>{text(sentence)}</li>" for sentence in sentences)
        paragraphs.append(
            f'<p class="sweep-verdict" data-path="{text(path)}">Against '
            f"{text(parameter_label(path))}{text(held)}:</p>\n<ul>{items}</ul>"
        )
    rule = TIME_RULE if timing_only else RULE
    return (
        '<div class="decision"><strong>Verdict.</strong>\n'
        + "\n".join(paragraphs)
        + note(f"Rule: {text(rule)}; means over the seeds that did not stall.")
        + "</div>\n"
    )


def _header(summary: dict[str, Any]) -> str:
    header = summary["sweep"]
    runs = len(summary["points"]) * len(summary["seeds"])
    missing = summary["missing_runs"]
    facts = [
        ("Sweep file", header["source"]),
        ("Base scenario", header["base"]),
        *(
            (
                f"Varied: {parameter_label(path)} ({path})",
                ", ".join(value_text(path, v, is_share(path, values)) for v in values),
            )
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
        f'<details class="meta"><summary>{len(stalled)} stalled '
        f"run{'' if len(stalled) == 1 else 's'}</summary>"
        + note(
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
        + "</details>"
        if stalled
        else ""
    )
    return (
        f"<header>\n<h1>{text(header['name'])}</h1>\n"
        f'<p class="description">{text(header["description"])}</p>\n'
        + _verdict(summary)
        + '<details class="meta"><summary>Sweep, seeds and runs</summary>\n'
        f'<dl class="facts">\n{rows}\n</dl>\n</details>\n{missing_note}\n{stalled_note}\n'
        "</header>"
    )


def _stalled_counts(summary: dict[str, Any]) -> Counter[tuple[str, str]]:
    """Stalled runs per (point id, scheme label)."""
    return Counter((s["point"], s["label"]) for s in summary.get("stalled_runs") or [])


def _index(summary: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["point"], r["label"], r["metric"]): r for r in summary["rows"]}


def _figures(summary: dict[str, Any], path: str, number: int) -> str:
    rows = _index(summary)
    stalled = _stalled_counts(summary)
    stalled_seeds = _stalled_seeds(summary)
    points = summary["points"]
    others = [p for p in summary["sweep"]["vary"] if p != path]
    xs = [point["values"][path] for point in points]
    numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)
    share = is_share(path, xs)
    groups: dict[str, list[dict[str, Any]]] = {}
    for point in points:
        rest = ", ".join(f"{parameter_label(o)} {_value_text(point['values'][o])}" for o in others)
        groups.setdefault(rest, []).append(point)
    parts = []
    for m, metric in enumerate(summary["metrics"]):
        traces = [
            _trace(
                entry["label"],
                rest,
                members,
                path,
                metric,
                (rows, stalled, stalled_seeds),
                numeric,
                dash,
            )
            for entry in summary["labels"]
            for dash, (rest, members) in zip(_DASHES * len(groups), groups.items(), strict=False)
        ]
        fig = _figure(traces, path, metric, numeric, share)
        parts.append(figure_html(f"fig-vary-{number}-{m}", fig))
    methods = " or ".join(
        sorted({aggregate.method_name(n) for n in range(1, len(summary["seeds"]) + 1)})
    )
    parts.append(
        note(
            f"Mean across seeds; error bars: {text(methods)} ({aggregate.BOOTSTRAP_FROM} seeds "
            "or more: a 95 % bootstrap percentile interval of the mean), clipped at what is "
            "possible (no time, bytes or lost work below zero; accuracy within 0–100 %). "
            "&ldquo;k of n&rdquo; beside a point: only k seeds have a value there (a target the "
            "others never reached, or runs that stalled); a point is missing where no seed has "
            "one. Hover for the seeds counted and stalled."
        )
    )
    return "\n".join(parts)


_DASHES = ["solid", "dash", "dot", "dashdot", "longdash"]
"""Lines of one scheme at the other varied settings' values: same colour, other dashes."""


def _figure(
    traces: list[dict[str, Any]], path: str, metric: dict[str, Any], numeric: bool, share: bool
) -> go.Figure:
    """One metric against ``path``, built in one go: plotly checks a figure's traces and template
    on every ``add_trace`` and ``update_layout``, which for a 100-point grid took seconds."""
    label = parameter_label(path)
    layout: dict[str, Any] = {
        "template": TEMPLATE,
        "title": plot_text(f"{_title(metric)} against {label}"),
        "xaxis": {"title": plot_text(label)},
        "yaxis": {"title": plot_text(_axis_title(metric)), "rangemode": "tozero"},
        "height": 360,
        "margin": {"t": 50, "b": 50},
    }
    if metric["unit"] == "fraction":
        layout["yaxis"]["tickformat"] = ".0%"
    if share:
        layout["xaxis"]["tickformat"] = ".0%"
    values = summary_values(traces)
    if numeric and 1 < len(values) <= 12:
        layout["xaxis"]["tickvals"] = values
    if not numeric:
        layout["xaxis"]["type"] = "category"
    return go.Figure(data=traces, layout=layout)


_UNIT_NAMES = {"s": "s", "B": "bytes"}


def _axis_title(metric: dict[str, Any]) -> str:
    """The y title: the metric and its unit (shares are read off the % ticks)."""
    unit = _UNIT_NAMES.get(metric["unit"], "" if metric["unit"] == "fraction" else metric["unit"])
    return f"{_title(metric)} ({unit})" if unit else _title(metric)


def summary_values(traces: list[dict[str, Any]]) -> list[Any]:
    """The varied values on the x axis, in order: ticks exactly where the grid points are."""
    return sorted({x for trace in traces for x in trace["x"]})


def _trace(
    label: str,
    rest: str,
    points: Sequence[dict[str, Any]],
    path: str,
    metric: dict[str, Any],
    lookups: tuple[
        dict[tuple[str, str, str], dict[str, Any]],
        Counter[tuple[str, str]],
        set[tuple[str, str, str]],
    ],
    numeric: bool,
    dash: str,
) -> dict[str, Any]:
    rows, stalled, stalled_seeds = lookups
    xs, ys, up, down, hover, counts = [], [], [], [], [], []
    for point in points:
        row = rows.get((point["id"], label, metric["key"]))
        x = point["values"][path]
        xs.append(x if numeric else _value_text(x))
        spread = spread_of(row, metric["unit"], stalled_seeds) if row else None
        mean = spread.mean if spread else None
        ys.append(mean)
        has_bar = spread is not None and mean is not None and spread.low is not None
        up.append(spread.high - mean if has_bar else 0.0)
        down.append(mean - spread.low if has_bar else 0.0)
        n, of = (spread.n, spread.of) if spread else (0, 0)
        counts.append(f"{n} of {of}" if mean is not None and n < of else "")
        stalls = stalled[(point["id"], label)]
        hover.append(
            plot_text(
                f"{_format(metric, mean)} ({n} of {of} seeds"
                + (f"; {stalls} stalled, left out)" if stalls else ")")
            )
        )
    name = label if not rest else f"{label}, {rest}"
    colour = scheme_colour(label)
    return {
        "type": "scatter",
        "x": xs,
        "y": ys,
        "name": plot_text(name),
        "mode": "lines+markers+text",
        "text": counts,
        "textposition": "top right",
        "textfont": {"size": 10, "color": "#555555"},
        "line": {"color": colour, "dash": dash},
        "marker": {"color": colour, "size": 8},
        "error_y": {
            "type": "data",
            "symmetric": False,
            "array": up,
            "arrayminus": down,
            "visible": True,
            "color": colour,
            "thickness": 1.2,
        },
        "hovertext": hover,
        "hoverinfo": "x+text+name",
    }


def _title(metric: dict[str, Any]) -> str:
    """A metric's title, a target written as a percentage ("Time to 80 % accuracy")."""
    key = str(metric["key"])
    if key.startswith("time_to_"):
        try:
            return f"Time to {float(key.removeprefix('time_to_')):.0%} accuracy"
        except ValueError:
            pass
    return str(metric["title"])


def _format(metric: dict[str, Any], value: float | None) -> str:
    if value is None:
        return "—"
    return _FORMATS.get(metric["unit"], lambda v: f"{v:.4g}")(value)


def _cell(metric: dict[str, Any], row: dict[str, Any] | None, stalled: set) -> str:
    if row is None:
        return "—"
    spread = spread_of(row, metric["unit"], stalled)
    if spread.mean is None:
        return f"— (0 of {spread.of})"
    out = _format(metric, spread.mean)
    low, high = _format(metric, spread.low), _format(metric, spread.high)
    if spread.n > 1 and low != high:
        out += f" [{low}, {high}]"
    if spread.n < spread.of:
        out += f" ({spread.n} of {spread.of})"
    return out


def _table(summary: dict[str, Any]) -> str:
    rows = _index(summary)
    stalled = _stalled_counts(summary)
    stalled_seeds = _stalled_seeds(summary)
    paths = list(summary["sweep"]["vary"])
    metrics = summary["metrics"]
    head = "".join(
        f"<th>{text(t)}</th>"
        for t in [
            "Point",
            *(parameter_label(p) for p in paths),
            "Scheme",
            *(_title(m) for m in metrics),
        ]
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
                cells.append(f'<td class="num">{text(_cell(m, row, stalled_seeds))}</td>')
            row_class = ' class="stalled"' if stalls else ""
            body.append(f"<tr{row_class}>{''.join(cells)}</tr>")
    return (
        f'<div class="scroll"><table class="summary">\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{chr(10).join(body)}\n</tbody>\n</table></div>\n"
        + note(
            "Mean [lowest, highest] across seeds (from ten seeds on: [95 % bootstrap interval "
            "of the mean]). (k of n): only k seeds have a value "
            "(the others never reached the target, or stalled: a stalled run is left out "
            "of every statistic). Waiting share: mean over devices of "
            "the share of the run spent waiting on others. Work lost: device-seconds of "
            "compute lost to failures, summed over devices."
        )
    )
