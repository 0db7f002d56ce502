"""Self-contained HTML report of one ``results.json``.

The report is what people open and pass around (CI artefacts, mail, offline laptops),
so the page carries everything inline: plotly.js embedded exactly once, no CDN, fonts,
stylesheets or images from elsewhere. It is byte-stable for a given results dict (no
timestamps, fixed div ids) so two reports can be diffed, and it is written atomically
so a reader never sees half a file.

Every user-supplied string (scenario, device ids, profiles, labels, details) is
HTML-escaped where it lands in the page, and the figure JSON embedded in ``<script>``
has ``<``, ``>`` and ``&`` written as ``\\u003c``-style escapes, so no string can close
the script element.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from math import isclose, log10
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from edgesim.io import write_text_atomic
from edgesim.report.figures import (
    accuracy_figure,
    breakdown_figure,
    run_names,
    timeline_figure,
    timeline_spans,
)

_BYTE_UNITS = ("kB", "MB", "GB", "TB")
_PLOT_CONFIG = '{"responsive": true, "displaylogo": false}'
_JSON_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #222; }
h1 { margin-bottom: 0.2rem; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.2rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
table.summary { border-collapse: collapse; font-size: 0.9rem; }
table.summary th, table.summary td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; }
table.summary th { background: #f3f3f3; }
table.summary td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.summary td.best { font-weight: 700; background: #e8f5e9; }
.note { color: #555; font-size: 0.85rem; }
.plotly-graph-div { width: 100%; }
"""
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgesim report: {title}</title>
<style>{style}</style>
<script>{plotlyjs}</script>
</head>
<body>
{body}
</body>
</html>
"""


def render_report(results: dict, path: str | Path) -> Path:
    """Write the HTML report of ``results`` (a loaded results.json) to ``path``.

    The file is written to a temporary file in the same directory, then moved over
    ``path`` with ``os.replace``; the parent directory is created if needed.
    """
    path = Path(path)
    write_text_atomic(path, _page(results))
    return path


def _page(results: dict) -> str:
    scenario = results.get("scenario") or {}
    runs = results.get("runs") or []
    names = run_names(runs)
    targets = _targets(scenario, runs)
    device_order = [str(d.get("id")) for d in scenario.get("devices") or []]
    body = [
        _header(results),
        _section("Summary", _summary_table(runs, names, targets)),
        _section(
            "Accuracy over simulated time",
            _figure_html("fig-accuracy", accuracy_figure(runs, names, targets))
            + '<p class="note">Runs without a global model (e.g. local) show the mean of '
            "their device models, dashed. Dotted lines: accuracy targets.</p>",
        ),
        _section(
            "Per-device time breakdown",
            _figure_html("fig-breakdown", breakdown_figure(runs, names)),
        ),
        _section("Timelines", _timelines(runs, names, device_order)),
    ]
    return _PAGE.format(
        title=escape(str(scenario.get("name", ""))),
        style=_STYLE,
        plotlyjs=get_plotlyjs(),
        body="\n".join(body),
    )


def _section(title: str, content: str) -> str:
    return f"<section>\n<h2>{escape(title)}</h2>\n{content}\n</section>"


def _header(results: dict) -> str:
    scenario = results.get("scenario") or {}
    meta = results.get("meta") or {}
    devices = scenario.get("devices") or []
    profiles = Counter(str(d.get("profile")) for d in devices)
    fleet = ", ".join(f"{n} × {profile}" for profile, n in profiles.items())
    data = ", ".join(f"{key}={value}" for key, value in (scenario.get("data") or {}).items())
    facts = [
        ("Seed", scenario.get("seed")),
        ("Fleet", f"{len(devices)} devices: {fleet}" if devices else "—"),
        ("Data", data or "—"),
        ("Targets", ", ".join(f"{t:g}" for t in scenario.get("targets") or []) or "—"),
        ("edgesim", meta.get("edgesim_version", "?")),
        ("torch", meta.get("torch_version", "?")),
    ]
    rows = "\n".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts)
    return (
        f"<header>\n<h1>{escape(str(scenario.get('name', 'unnamed scenario')))}</h1>\n"
        f"<p>{escape(str(scenario.get('description', '')))}</p>\n"
        f'<dl class="facts">\n{rows}\n</dl>\n</header>'
    )


@dataclass(frozen=True)
class _Column:
    """A numeric summary column; ``best`` picks the value to highlight (max or min)."""

    title: str
    value: Callable[[dict], float | None]
    fmt: Callable[[float], str]
    best: Callable[[list[float]], float] = min


def _columns(targets: Sequence[float]) -> list[_Column]:
    return [
        _Column("Final accuracy", lambda r: r.get("final_accuracy"), _fmt_percent, max),
        *(
            _Column(f"Time to {t:g}", lambda r, t=t: _time_to_target(r, t), _fmt_seconds)
            for t in targets
        ),
        _Column("Simulated time", lambda r: r.get("sim_time_s"), _fmt_seconds),
        *(
            _Column(f"{title} bytes", lambda r, k=key: (r.get("bytes") or {}).get(k), _fmt_bytes)
            for title, key in (
                ("Total", "total"),
                ("Up", "up"),
                ("Down", "down"),
                ("Raw data", "raw_data"),
            )
        ),
        _Column("Mean wait share", _wait_share, _fmt_percent),
        _Column("Energy", _energy, _fmt_energy),
    ]


def _summary_table(runs: Sequence[dict], names: Sequence[str], targets: Sequence[float]) -> str:
    columns = _columns(targets)
    values = [[column.value(run) for column in columns] for run in runs]
    best = [_best(column, [row[j] for row in values]) for j, column in enumerate(columns)]
    head = "".join(f"<th>{escape(title)}</th>" for title in ("Run", "Scheme")) + "".join(
        f"<th>{escape(column.title)}</th>" for column in columns
    )
    rows = []
    for run, name, row in zip(runs, names, values, strict=True):
        cells = [f"<td>{escape(name)}</td>", f"<td>{escape(str(run.get('scheme', '')))}</td>"]
        for column, value, top in zip(columns, row, best, strict=True):
            css = "num best" if value is not None and value == top else "num"
            text = "—" if value is None else column.fmt(value)
            cells.append(f'<td class="{css}">{escape(text)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<table class="summary">\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody>\n</table>\n"
        '<p class="note">Highlighted: best per column (highest accuracy, lowest otherwise). '
        "— : never reached or not recorded. Wait share: wait time over simulated time, "
        "averaged across devices.</p>"
    )


def _best(column: _Column, values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return column.best(present) if len(set(present)) > 1 else None


def _targets(scenario: dict, runs: Sequence[dict]) -> list[float]:
    if scenario.get("targets"):
        return [float(t) for t in scenario["targets"]]
    return sorted({float(k) for run in runs for k in run.get("time_to_accuracy_s") or {}})


def _time_to_target(run: dict, target: float) -> float | None:
    for key, seconds in (run.get("time_to_accuracy_s") or {}).items():
        if isclose(float(key), target):
            return seconds
    return None


def _wait_share(run: dict) -> float | None:
    sim_time = run.get("sim_time_s") or 0.0
    devices = (run.get("devices") or {}).values()
    if sim_time <= 0 or not devices:
        return None
    return sum((d.get("wait_s") or 0.0) / sim_time for d in devices) / len(devices)


def _energy(run: dict) -> float | None:
    devices = (run.get("devices") or {}).values()
    return sum(d.get("energy_j") or 0.0 for d in devices) if devices else None


def _fmt_percent(fraction: float) -> str:
    return f"{fraction:.1%}"


def _fmt_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.3g} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def _fmt_bytes(count: float) -> str:
    if count < 1000:
        return f"{count:.0f} B"
    exponent = min(int(log10(count)) // 3, len(_BYTE_UNITS))
    return f"{count / 1000**exponent:.1f} {_BYTE_UNITS[exponent - 1]}"


def _fmt_energy(joules: float) -> str:
    if joules < 1000:
        return f"{joules:.1f} J"
    if joules < 1e6:
        return f"{joules / 1e3:.2f} kJ"
    return f"{joules / 1e6:.2f} MJ"


def _timelines(runs: Sequence[dict], names: Sequence[str], device_order: list[str]) -> str:
    parts = []
    for i, (run, name) in enumerate(zip(runs, names, strict=True)):
        parts.append(f"<h3>{escape(name)}</h3>")
        spans, note = timeline_spans(run.get("timeline") or [])
        if not spans:
            parts.append('<p class="note">No timeline events recorded.</p>')
            continue
        if note:
            parts.append(f'<p class="note">Simplified for speed: {escape(note)}</p>')
        parts.append(_figure_html(f"fig-timeline-{i}", timeline_figure(spans, device_order)))
    return "\n".join(parts)


def _figure_html(div_id: str, fig: go.Figure) -> str:
    """A plot container and the script that draws ``fig`` into it (plotly.js is global)."""
    spec = pio.to_json(fig, pretty=False)
    for char, replacement in _JSON_SCRIPT_ESCAPES.items():
        spec = spec.replace(char, replacement)
    return (
        f'<div id="{div_id}" class="plotly-graph-div"></div>\n'
        f"<script>(function () {{ const fig = {spec};\n"
        f'Plotly.newPlot("{div_id}", fig.data, fig.layout, {_PLOT_CONFIG}); }})();</script>'
    )
