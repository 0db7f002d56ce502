"""Across runs: a metric against a varied setting, one line per scheme, spread across seeds.

Used when a report combines several results files (or a sweep): each point is one
run; runs of the same scheme at the same setting (different seeds) give a mean, drawn
as a line, with the lowest and highest as an error bar and every seed as a faint dot.
A stalled run is drawn as a cross and left out of the mean and the bar: its figures
are those of a run cut short, and would flatter (less traffic, less time) its scheme.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from math import ceil

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from edgesim.report.colours import scheme_colour
from edgesim.report.figures import TEMPLATE, plot_text


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    tick_suffix: str = ""
    tick_format: str = ""


@dataclass(frozen=True)
class Point:
    """One run: its ``series`` (scheme label), setting ``x``, seed and metric values.

    ``stalled`` says when the run stalled (e.g. "stalled at 3.2 s"); empty if it finished.
    """

    series: str
    x: str
    seed: str
    values: dict[str, float | None]
    stalled: str = ""


def spread_figure(
    points: Sequence[Point], metrics: Sequence[Metric], x_title: str, by_scheme: bool = False
) -> go.Figure:
    """Small multiples, one panel per metric; x keeps the order settings first appear in.

    With ``by_scheme`` (the runs are seeds of one setting), x is the scheme instead, so
    each scheme's markers and bar stand in their own column rather than on top of each
    other. A mean over fewer runs than the series has at that x (a target some seeds
    never reached) is labelled "k of n reached".
    """
    if by_scheme:
        points = [replace(p, x=p.series) for p in points]
    cols = min(3, len(metrics))
    rows = ceil(len(metrics) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[m.title for m in metrics],
        horizontal_spacing=0.08,
        vertical_spacing=0.18,
    )
    series = list(dict.fromkeys(p.series for p in points))
    xs = list(dict.fromkeys(p.x for p in points))
    for i, metric in enumerate(metrics):
        row, col = i // cols + 1, i % cols + 1
        never: list[str] = []
        for name in series:
            colour = scheme_colour(name)
            by_x: dict[str, list[tuple[str, float]]] = defaultdict(list)
            finished: dict[str, int] = defaultdict(int)
            stalls = []
            for p in points:
                value = p.values.get(metric.key)
                if p.series != name:
                    continue
                finished[p.x] += 0 if p.stalled else 1
                if value is None:
                    continue
                if p.stalled:
                    stalls.append(p)
                else:
                    by_x[p.x].append((p.seed, float(value)))
            present = [x for x in xs if by_x.get(x)]
            never += [
                f"{name} at {x} (0 of {finished[x]})"
                if not by_scheme
                else f"{name} (0 of {finished[x]})"
                for x in xs
                if finished[x] and not by_x.get(x)
            ]
            reached = [
                f"{len(by_x[x])} of {finished[x]} reached" if len(by_x[x]) < finished[x] else ""
                for x in present
            ]
            means = [sum(v for _, v in by_x[x]) / len(by_x[x]) for x in present]
            pairs = list(zip(present, means, strict=True))
            fig.add_trace(
                go.Scatter(
                    x=[plot_text(x) for x in present],
                    y=means,
                    mode="markers+text" if by_scheme else "lines+markers+text",
                    text=reached,
                    textposition="middle right",
                    textfont={"size": 10, "color": "#555555"},
                    marker={"size": 9},
                    name=plot_text(name),
                    legendgroup=plot_text(name),
                    showlegend=i == 0,
                    line={"color": colour},
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": [max(v for _, v in by_x[x]) - m for x, m in pairs],
                        "arrayminus": [m - min(v for _, v in by_x[x]) for x, m in pairs],
                        "thickness": 1,
                    },
                    customdata=[len(by_x[x]) for x in present],
                    hovertemplate=(
                        f"{plot_text(name)}: mean %{{y:.4g}} over %{{customdata}} runs"
                        "<extra></extra>"
                    ),
                ),
                row=row,
                col=col,
            )
            seeds = [(x, seed, v) for x in present for seed, v in by_x[x]]
            fig.add_trace(
                go.Scatter(
                    x=[plot_text(x) for x, _, _ in seeds],
                    y=[v for _, _, v in seeds],
                    mode="markers",
                    marker={"color": colour, "size": 5, "opacity": 0.45},
                    legendgroup=plot_text(name),
                    showlegend=False,
                    customdata=[plot_text(seed) for _, seed, _ in seeds],
                    hovertemplate=(
                        f"{plot_text(name)}, seed %{{customdata}}: %{{y:.4g}}<extra></extra>"
                    ),
                ),
                row=row,
                col=col,
            )
            if stalls:
                fig.add_trace(_stalled_trace(name, colour, stalls, metric), row=row, col=col)
        if never:
            fig.add_annotation(
                text=plot_text("never reached: " + ", ".join(never)),
                xref="x domain",
                yref="y domain",
                x=0,
                y=1,
                xanchor="left",
                yanchor="top",
                showarrow=False,
                font={"size": 10, "color": "#9a4d00"},
                row=row,
                col=col,
            )
        fig.update_yaxes(
            ticksuffix=metric.tick_suffix,
            tickformat=metric.tick_format,
            exponentformat="SI",
            row=row,
            col=col,
        )
        fig.update_xaxes(
            categoryorder="array", categoryarray=[plot_text(x) for x in xs], row=row, col=col
        )
    fig.update_xaxes(title_text=plot_text(x_title), row=rows)
    fig.update_layout(
        template=TEMPLATE,
        height=120 + 300 * rows,
        legend={"orientation": "h", "y": 1.06, "yanchor": "bottom"},
        margin={"t": 60},
    )
    return fig


def _stalled_trace(series: str, colour: str, stalls: Sequence[Point], metric: Metric) -> go.Scatter:
    """The series' stalled runs as crosses, each hover saying when it stalled."""
    return go.Scatter(
        x=[plot_text(p.x) for p in stalls],
        y=[p.values[metric.key] for p in stalls],
        mode="markers",
        marker={"color": colour, "size": 9, "symbol": "x"},
        legendgroup=plot_text(series),
        showlegend=False,
        customdata=[plot_text(f"seed {p.seed} {p.stalled}") for p in stalls],
        hovertemplate=(
            f"{plot_text(series)}, %{{customdata}} (not in the mean): %{{y:.4g}}<extra></extra>"
        ),
    )
