"""Plotly figures for the HTML report, built from the results dict alone.

The report layer knows only results data (never simpy or torch), and this package is
the only place plotly is imported. Figures live apart from the page assembly in
``html.py`` so each chart can be read and checked on its own.

Plotly renders a small HTML subset in every text it draws (legend, ticks, hover), so
every user-supplied string passes through :func:`plot_text` first; plotly decodes the
``&amp;``/``&lt;``/``&gt;`` entities back, and the reader sees the literal string.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import plotly.graph_objects as go

BREAKDOWN_KINDS = ("compute", "send", "recv", "wait", "idle", "down")
KIND_COLOURS = {
    "compute": "#2ca02c",
    "send": "#1f77b4",
    "recv": "#17becf",
    "wait": "#ff7f0e",
    "idle": "#d9d9d9",
    "down": "#d62728",
}
UNKNOWN_KIND_COLOUR = "#8c8c8c"
MAX_TIMELINE_SPANS = 5000
"""Above this many bars a timeline is simplified: the browser slows down past it."""

TEMPLATE = "plotly_white"

Points = list[tuple[float, float]]


def plot_text(value: object) -> str:
    """Escape a user string for plotly's HTML-like text rendering (entities it decodes)."""
    return escape(str(value), quote=False)


def run_names(runs: Sequence[dict]) -> list[str]:
    """Display name per run: its label (or scheme), suffixed with #i when repeated.

    Names must be unique because they key legend entries and bar-chart groups.
    """
    bases = [str(run.get("label") or run.get("scheme") or f"run {i}") for i, run in enumerate(runs)]
    return [base if bases.count(base) == 1 else f"{base} #{i + 1}" for i, base in enumerate(bases)]


def accuracy_series(run: dict) -> tuple[Points, int]:
    """The run's primary accuracy curve, and how many device models it averages.

    ``primary_curve`` names it: ``global`` for schemes with one global model, or
    ``devices-mean`` (the mean of the models in use on the devices, computed by
    ``edgesim.metrics.results``) for schemes such as ``local`` and ``handoff``.
    """
    name = run.get("primary_curve", "global")
    curves = run.get("curves") or []
    points = next((c.get("points") or [] for c in curves if c.get("model") == name), [])
    averaged = 0
    if name != "global":
        averaged = sum(1 for c in curves if str(c.get("model", "")).startswith("device:"))
    return [(float(t), float(a)) for t, a in points], averaged


def accuracy_figure(
    runs: Sequence[dict], names: Sequence[str], targets: Sequence[float]
) -> go.Figure:
    """Accuracy over simulated time, one line per run, dotted lines at the targets."""
    fig = go.Figure()
    for run, name in zip(runs, names, strict=True):
        points, averaged = accuracy_series(run)
        if not points:
            continue
        suffix = f" (mean of {averaged} device models)" if averaged else ""
        fig.add_trace(
            go.Scatter(
                x=[t for t, _ in points],
                y=[a for _, a in points],
                mode="lines",
                name=plot_text(name + suffix),
                line={"dash": "dash"} if averaged else {},
            )
        )
    for target in targets:
        fig.add_hline(y=target, line={"dash": "dot", "width": 1, "color": "#888888"})
    fig.update_layout(
        template=TEMPLATE,
        height=420,
        xaxis_title="simulated time (s)",
        yaxis={"title": "accuracy", "range": [0, 1.02]},
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 20},
    )
    return fig


def breakdown_figure(runs: Sequence[dict], names: Sequence[str]) -> go.Figure:
    """Per-device time split into compute/send/recv/wait/idle/down, grouped by run."""
    groups, devices, seconds = [], [], {kind: [] for kind in BREAKDOWN_KINDS}
    for run, name in zip(runs, names, strict=True):
        for device, stats in (run.get("devices") or {}).items():
            groups.append(plot_text(name))
            devices.append(plot_text(device))
            for kind in BREAKDOWN_KINDS:
                seconds[kind].append(float(stats.get(f"{kind}_s") or 0.0))
    fig = go.Figure(
        [
            go.Bar(
                x=[groups, devices],
                y=seconds[kind],
                name=kind,
                marker_color=KIND_COLOURS[kind],
                hovertemplate=f"%{{x}}<br>{kind}: %{{y:.3f}} s<extra></extra>",
            )
            for kind in BREAKDOWN_KINDS
        ]
    )
    fig.update_layout(
        template=TEMPLATE,
        barmode="stack",
        height=460,
        yaxis_title="simulated seconds",
        legend={"orientation": "h", "y": 1.08},
        margin={"t": 40},
    )
    return fig


@dataclass(frozen=True)
class Span:
    """One timeline bar: ``count`` > 1 when contiguous same-kind events were merged."""

    device: str
    kind: str
    start: float
    end: float
    detail: str
    count: int = 1

    @property
    def duration(self) -> float:
        return self.end - self.start


def timeline_spans(
    events: Sequence[Sequence], limit: int = MAX_TIMELINE_SPANS
) -> tuple[list[Span], str | None]:
    """Spans to draw for a run's timeline, and a note for the page when it was simplified.

    Up to ``limit`` events are drawn as they are. Above it, contiguous (or overlapping)
    same-kind events of a device are merged, which keeps what the picture shows; if
    that is still too many, only the ``limit`` longest spans are kept, since the short
    ones would be narrower than a pixel anyway.
    """
    spans = [_span(event) for event in events]
    if len(spans) <= limit:
        return spans, None
    merged = _merge_contiguous(spans)
    note = f"{len(spans)} events, {len(merged)} after merging contiguous same-kind spans"
    if len(merged) <= limit:
        return merged, note + "."
    longest = sorted(range(len(merged)), key=lambda i: (-merged[i].duration, i))[:limit]
    kept = [merged[i] for i in sorted(longest)]
    return kept, f"{note}; only the {limit} longest are drawn."


def _span(event: Sequence) -> Span:
    device, kind, start, end = event[:4]
    detail = event[4] if len(event) > 4 else ""
    return Span(str(device), str(kind), float(start), float(end), str(detail or ""))


def _merge_contiguous(spans: list[Span]) -> list[Span]:
    ordered = sorted(spans, key=lambda s: (s.device, s.start, s.end))
    merged: list[Span] = []
    for span in ordered:
        last = merged[-1] if merged else None
        if (
            last
            and last.device == span.device
            and last.kind == span.kind
            and span.start <= last.end
        ):
            merged[-1] = Span(
                last.device,
                last.kind,
                last.start,
                max(last.end, span.end),
                f"{last.count + 1} merged spans",
                last.count + 1,
            )
        else:
            merged.append(span)
    return merged


def timeline_figure(spans: Sequence[Span], device_order: Sequence[str]) -> go.Figure:
    """Gantt-like timeline: one row per device, one coloured bar per span.

    Rows follow ``device_order`` (top to bottom), then devices only seen in the spans.
    """
    kinds = list(BREAKDOWN_KINDS) + sorted({s.kind for s in spans} - set(BREAKDOWN_KINDS))
    rows = list(dict.fromkeys([*device_order, *(s.device for s in spans)]))
    traces = []
    for kind in kinds:
        of_kind = [s for s in spans if s.kind == kind]
        if not of_kind:
            continue
        traces.append(
            go.Bar(
                orientation="h",
                base=[s.start for s in of_kind],
                x=[s.duration for s in of_kind],
                y=[plot_text(s.device) for s in of_kind],
                customdata=[
                    [plot_text(kind), s.start, s.end, plot_text(s.detail)] for s in of_kind
                ],
                name=plot_text(kind),
                marker_color=KIND_COLOURS.get(kind, UNKNOWN_KIND_COLOUR),
                hovertemplate=(
                    "<b>%{customdata[0]}</b> on %{y}<br>"
                    "%{customdata[1]:.3f} s → %{customdata[2]:.3f} s<br>"
                    "%{customdata[3]}<extra></extra>"
                ),
            )
        )
    fig = go.Figure(traces)
    fig.update_layout(
        template=TEMPLATE,
        barmode="overlay",
        height=140 + 26 * len(rows),
        xaxis_title="simulated time (s)",
        yaxis={
            "categoryorder": "array",
            "categoryarray": [plot_text(d) for d in rows],
            "autorange": "reversed",
        },
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
        margin={"t": 30},
    )
    return fig
