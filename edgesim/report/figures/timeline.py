"""The timeline: what every device did, when — where stragglers and waiting show.

Up to :data:`edgesim.report.facts.AGGREGATE_ABOVE` devices, a Gantt chart with one row
per device and a bar per span (compute, send, receive, wait, down, lost work,
background task); idle is derived as the gaps between them, drawn pale. Sends and
receives are drawn thinner on top, since a device may train while a transfer runs.
Above that many devices bars would be thinner than a pixel, so the timeline shows,
per group of devices (:func:`edgesim.report.facts.device_groups`), how many were in
each activity over time: stacked areas over :data:`ACTIVITY_BINS` bins, so the figure
has the same size at 50 devices and at 10 000.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from edgesim.report.figures import (
    KIND_COLOURS,
    KIND_NAMES,
    TEMPLATE,
    UNKNOWN_KIND_COLOUR,
    plot_text,
)

MAX_TIMELINE_SPANS = 6000
"""Above this many bars a timeline is simplified: the browser slows down past it."""
DRAW_ORDER = ("idle", "down", "wait", "background", "compute", "lost", "recv", "send")
THIN_KINDS = ("send", "recv")
ACTIVITY_BINS = 200


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


def spans_of(events: Sequence[Sequence]) -> list[Span]:
    """Timeline events of results.json (``[device, kind, start, end, detail]``) as spans."""
    return [_span(event) for event in events]


def _span(event: Sequence) -> Span:
    device, kind, start, end = event[:4]
    detail = event[4] if len(event) > 4 else ""
    return Span(str(device), str(kind), float(start), float(end), str(detail or ""))


def idle_spans(spans: Sequence[Span], devices: Sequence[str], end: float) -> list[Span]:
    """The gaps in ``[0, end]`` where a device did nothing recorded (up, not busy)."""
    by_device: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        by_device[span.device].append(span)
    idle = []
    for device in dict.fromkeys([*devices, *by_device]):
        reach = 0.0
        for span in sorted(by_device.get(device, []), key=lambda s: s.start):
            if span.start > reach:
                idle.append(Span(device, "idle", reach, span.start, "idle"))
            reach = max(reach, span.end)
        if end > reach:
            idle.append(Span(device, "idle", reach, end, "idle"))
    return idle


def timeline_spans(
    spans: Sequence[Span], limit: int = MAX_TIMELINE_SPANS
) -> tuple[list[Span], str | None]:
    """Spans to draw, and a note for the page when they were simplified.

    Up to ``limit`` spans are drawn as they are. Above it, contiguous (or overlapping)
    same-kind spans of a device are merged, which keeps what the picture shows; if
    that is still too many, only the ``limit`` longest are kept, since the short ones
    would be narrower than a pixel anyway.
    """
    spans = list(spans)
    if len(spans) <= limit:
        return spans, None
    merged = _merge_contiguous(spans)
    note = f"{len(spans)} spans, {len(merged)} after merging contiguous same-kind spans"
    if len(merged) <= limit:
        return merged, note + "."
    longest = sorted(range(len(merged)), key=lambda i: (-merged[i].duration, i))[:limit]
    kept = [merged[i] for i in sorted(longest)]
    return kept, f"{note}; only the {limit} longest are drawn."


def _merge_contiguous(spans: list[Span]) -> list[Span]:
    ordered = sorted(spans, key=lambda s: (s.device, s.kind, s.start, s.end))
    merged: list[Span] = []
    for span in ordered:
        last = merged[-1] if merged else None
        if last and (last.device, last.kind) == (span.device, span.kind) and span.start <= last.end:
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
    """Gantt chart: one row per device (in ``device_order``, then any others), a bar per span."""
    kinds = [k for k in DRAW_ORDER if any(s.kind == k for s in spans)]
    kinds += sorted({s.kind for s in spans} - set(DRAW_ORDER))
    rows = list(dict.fromkeys([*device_order, *(s.device for s in spans)]))
    traces = []
    for kind in kinds:
        of_kind = [s for s in spans if s.kind == kind]
        label = KIND_NAMES.get(kind, kind)
        traces.append(
            go.Bar(
                orientation="h",
                base=[s.start for s in of_kind],
                x=[s.duration for s in of_kind],
                y=[plot_text(s.device) for s in of_kind],
                width=0.4 if kind in THIN_KINDS else 0.8,
                customdata=[[s.end, plot_text(s.detail)] for s in of_kind],
                name=plot_text(label),
                marker={"color": KIND_COLOURS.get(kind, UNKNOWN_KIND_COLOUR), "line": {"width": 0}},
                hovertemplate=(
                    f"<b>{plot_text(label)}</b> on %{{y}}<br>"
                    "%{base:.4f} s → %{customdata[0]:.4f} s (%{x:.4f} s)<br>"
                    "%{customdata[1]}<extra></extra>"
                ),
            )
        )
    fig = go.Figure(traces)
    fig.update_layout(
        template=TEMPLATE,
        barmode="overlay",
        height=150 + 24 * len(rows),
        xaxis_title="simulated time (s)",
        yaxis={
            "categoryorder": "array",
            "categoryarray": [plot_text(d) for d in rows],
            "autorange": "reversed",
        },
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "traceorder": "normal"},
        margin={"t": 30, "l": 90},
        bargap=0.1,
    )
    return fig


ACTIVITIES = {
    "compute": ("compute", "lost"),
    "communicate": ("send", "recv"),
    "background": ("background",),
    "wait": ("wait",),
    "down": ("down",),
}
ACTIVITY_COLOURS = {
    "compute": KIND_COLOURS["compute"],
    "communicate": KIND_COLOURS["send"],
    "background": KIND_COLOURS["background"],
    "wait": KIND_COLOURS["wait"],
    "down": KIND_COLOURS["down"],
    "idle": KIND_COLOURS["idle"],
}


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _coverage(intervals: list[tuple[float, float]], edges: np.ndarray) -> np.ndarray:
    """Total length of ``intervals`` in each bin between consecutive ``edges``.

    Exact: covered length up to x is Σ_{s<x}(x−s) − Σ_{e<x}(x−e), evaluated at the
    edges with sorted starts and ends and their prefix sums.
    """
    if not intervals:
        return np.zeros(len(edges) - 1)
    starts = np.sort(np.array([s for s, _ in intervals]))
    ends = np.sort(np.array([e for _, e in intervals]))

    def below(points: np.ndarray) -> np.ndarray:
        n = np.searchsorted(points, edges, side="left")
        prefix = np.concatenate([[0.0], np.cumsum(points)])
        return n * edges - prefix[n]

    return np.diff(below(starts) - below(ends))


def group_activity(
    spans: Sequence[Span], device_group: dict[str, str], end: float, bins: int = ACTIVITY_BINS
) -> tuple[np.ndarray, dict[str, dict[str, np.ndarray]]]:
    """Bin centres, and per group the mean number of its devices in each activity per bin.

    Each device counts at most once per activity (its spans of an activity are merged
    first); a device doing two things at once (training while a transfer runs)
    counts in both. Idle is the rest of the group's devices: up and doing nothing.
    """
    edges = np.linspace(0.0, max(end, 1e-9), bins + 1)
    width = edges[1] - edges[0]
    per: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    busy: dict[str, list[tuple[float, float]]] = defaultdict(list)
    by_device: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        by_device[span.device].append(span)
    for device, device_spans in by_device.items():
        group = device_group.get(device, "?")
        for activity, kinds in ACTIVITIES.items():
            chosen = [(s.start, s.end) for s in device_spans if s.kind in kinds]
            per[(group, activity)].extend(_union(chosen))
        busy[group].extend(_union([(s.start, s.end) for s in device_spans]))
    counts: dict[str, int] = defaultdict(int)
    for group in device_group.values():
        counts[group] += 1
    result = {}
    for group, n in counts.items():
        rows = {a: _coverage(per.get((group, a), []), edges) / width for a in ACTIVITIES}
        rows["idle"] = np.clip(n - _coverage(busy.get(group, []), edges) / width, 0.0, None)
        result[group] = rows
    return (edges[:-1] + edges[1:]) / 2, result


def _titled(group: str, devices: int) -> str:
    return f"{group} ({devices} device{'' if devices == 1 else 's'})"


def activity_figure(
    centres: np.ndarray, activity: dict[str, dict[str, np.ndarray]], counts: dict[str, int]
) -> go.Figure:
    """Stacked areas per group (one panel each): how many devices did what, over time.

    The bins are evenly spaced, so each trace carries its first centre and the spacing
    rather than every centre, and its counts as 32-bit floats: a panel costs a few kB.
    """
    groups = list(activity)
    fig = make_subplots(
        rows=len(groups),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=min(0.08, 0.3 / max(len(groups), 1)),
        subplot_titles=[plot_text(_titled(g, counts.get(g, 0))) for g in groups],
    )
    shown: set[str] = set()
    for row, group in enumerate(groups, start=1):
        for name, values in activity[group].items():
            if not np.any(values > 1e-12):
                continue
            fig.add_trace(
                go.Scatter(
                    x0=float(centres[0]),
                    dx=float(centres[1] - centres[0]) if len(centres) > 1 else 1.0,
                    y=values.astype(np.float32),
                    mode="lines",
                    stackgroup=f"p{row}",
                    name=name,
                    legendgroup=name,
                    legendrank=list(ACTIVITY_COLOURS).index(name),
                    showlegend=name not in shown,
                    line={"width": 0.5, "color": ACTIVITY_COLOURS[name]},
                    fillcolor=ACTIVITY_COLOURS[name],
                    hovertemplate=f"%{{y:.1f}} devices: {name} at %{{x:.4g}} s<extra></extra>",
                ),
                row=row,
                col=1,
            )
            shown.add(name)
        fig.update_yaxes(title_text="devices", row=row, col=1)
    fig.update_xaxes(title_text="simulated time (s)", row=len(groups), col=1)
    fig.update_layout(
        template=TEMPLATE,
        height=120 + 170 * len(groups),
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
        margin={"t": 50},
    )
    return fig
