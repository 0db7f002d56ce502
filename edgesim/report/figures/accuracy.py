"""Accuracy over simulated time and over bytes sent (seed 004's view of the trade-off)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from edgesim.report import facts
from edgesim.report.figures import TEMPLATE, button_row, plot_text, run_colours


def _primary_trace(run: dict, name: str, colour: str, x: list[float]) -> go.Scatter:
    points, averaged = facts.accuracy_series(run)
    suffix = f" (mean of {averaged} device models)" if averaged else ""
    return go.Scatter(
        x=x,
        y=[a for _, a in points],
        mode="lines+markers",
        marker={"size": 4},
        name=plot_text(name + suffix),
        legendgroup=plot_text(name),
        line={"color": colour, "dash": "dash" if averaged else "solid", "width": 2.5},
    )


def accuracy_time_figure(
    runs: Sequence[dict],
    names: Sequence[str],
    targets: Sequence[float],
    per_device: bool = True,
) -> go.Figure:
    """One line per run (global model solid, device-model mean dashed), targets dotted.

    With ``per_device``, the model in use on each device is drawn too, thin and hidden
    until its legend entry ("<run>: each device") is clicked.
    """
    fig = go.Figure()
    for run, name, colour in zip(runs, names, run_colours(runs), strict=True):
        points, _ = facts.accuracy_series(run)
        if points:
            fig.add_trace(_primary_trace(run, name, colour, [t for t, _ in points]))
        if not per_device:
            continue
        for i, (device, device_points) in enumerate(facts.device_curves(run).items()):
            fig.add_trace(
                go.Scatter(
                    x=[t for t, _ in device_points],
                    y=[a for _, a in device_points],
                    mode="lines",
                    name=plot_text(f"{name}: each device"),
                    legendgroup=plot_text(f"{name} devices"),
                    showlegend=i == 0,
                    visible="legendonly",
                    line={"color": colour, "width": 1, "dash": "dot"},
                    hovertemplate=f"{plot_text(device)}: %{{y:.1%}} at %{{x:.4g}} s<extra></extra>",
                )
            )
    for target in targets:
        fig.add_hline(y=target, line={"dash": "dot", "width": 1, "color": "#888888"})
    fig.update_layout(
        template=TEMPLATE,
        height=440,
        xaxis_title="simulated time (s)",
        yaxis={"title": "test accuracy", "range": [0, 1.02], "tickformat": ".0%"},
        legend={"orientation": "h", "y": -0.18},
        margin={"t": 20},
        hovermode="closest",
    )
    return fig


def accuracy_bytes_figure(
    runs: Sequence[dict], names: Sequence[str], targets: Sequence[float]
) -> tuple[go.Figure, list[str]]:
    """Accuracy against the bytes sent so far, and the names of runs left out (why).

    Each accuracy observation is placed at the run's cumulative traffic at that
    moment (``bytes_curve``). A run that sent nothing, or whose results predate the
    curve, has no line here; the caller says so.
    """
    fig = go.Figure()
    left_out = []
    for run, name, colour in zip(runs, names, run_colours(runs), strict=True):
        sent = facts.bytes_curve(run)
        points, _ = facts.accuracy_series(run)
        if sent is None:
            left_out.append(f"{name} (results without bytes_curve)")
            continue
        if not sent:
            left_out.append(f"{name} (sent nothing)")
            continue
        if points:
            fig.add_trace(
                _primary_trace(run, name, colour, [facts.bytes_at(sent, t) for t, _ in points])
            )
    for target in targets:
        fig.add_hline(y=target, line={"dash": "dot", "width": 1, "color": "#888888"})
    fig.update_layout(
        template=TEMPLATE,
        height=420,
        xaxis={
            "title": "bytes sent so far (all links, up + down)",
            "ticksuffix": "B",
            "exponentformat": "SI",
        },
        yaxis={"title": "test accuracy", "range": [0, 1.02], "tickformat": ".0%"},
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 40},
        updatemenus=button_row(
            [
                {"label": "linear", "method": "relayout", "args": [{"xaxis.type": "linear"}]},
                {"label": "log", "method": "relayout", "args": [{"xaxis.type": "log"}]},
            ]
        ),
    )
    return fig, left_out
