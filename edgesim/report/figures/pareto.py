"""The trade-off at a glance: every scheme a point, accuracy against time, bytes and energy.

One panel per cost (simulated time, bytes sent, energy), final accuracy up the side
(timing-only runs: simulated time against bytes and energy). A scheme another one
beats or equals on every axis at once (:func:`edgesim.report.pareto.dominated`) is
drawn grey: the points left in colour are the real choices, and the verdict above
the chart picks among them.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from edgesim.report import fmt
from edgesim.report.colours import DOMINATED_COLOUR, scheme_colour
from edgesim.report.figures import TEMPLATE, plot_text
from edgesim.report.pareto import Candidate, dominated

_COSTS = (
    ("simulated time", "time", "time_s", "s", fmt.seconds),
    ("bytes sent", "bytes", "bytes", "B", fmt.nbytes),
    ("energy, all devices", "energy", "energy_j", "J", fmt.energy),
)
"""Each panel's x: axis title, short name for the panel title, field, unit, format."""


def pareto_figure(
    candidates: Sequence[Candidate], timing_only: bool, colour_keys: Sequence[str] | None = None
) -> go.Figure:
    """A panel per cost; a marker per candidate, grey when dominated, named beside it.

    ``colour_keys`` (one per candidate) names the scheme whose colour each takes; by
    default its name.
    """
    keys = list(colour_keys) if colour_keys is not None else [c.name for c in candidates]
    costs = _COSTS[1:] if timing_only else _COSTS
    beaten = dominated(candidates, timing_only)
    fig = make_subplots(
        rows=1,
        cols=len(costs),
        subplot_titles=[
            plot_text(f"{'time' if timing_only else 'accuracy'} vs {short}")
            for _, short, *_ in costs
        ],
        horizontal_spacing=0.07,
    )
    for col, (title, _, attr, unit, show) in enumerate(costs, start=1):
        high = max((v for c in candidates if (v := getattr(c, attr)) is not None), default=0.0)
        high = high or 1.0
        for c, key in zip(candidates, keys, strict=True):
            x = getattr(c, attr)
            y = c.time_s if timing_only else c.accuracy
            if x is None or y is None:
                continue
            grey = c.name in beaten
            colour = DOMINATED_COLOUR if grey else scheme_colour(key)
            status = "dominated" if grey else "not dominated"
            y_text = fmt.seconds(y) if timing_only else fmt.percent(y)
            fig.add_trace(
                go.Scatter(
                    x=[x],
                    y=[y],
                    mode="markers+text",
                    text=[plot_text(c.name)],
                    textposition="top right" if x < 0.15 * high else "top center",
                    textfont={"color": "#999999" if grey else "#222222", "size": 11},
                    marker={
                        "size": 13,
                        "color": colour,
                        "line": {"width": 1.5, "color": scheme_colour(key)},
                    },
                    name=plot_text(c.name),
                    legendgroup=plot_text(c.name),
                    showlegend=False,
                    hovertemplate=plot_text(
                        f"{c.name} ({status}): {y_text}, {show(x)}"
                        + (f", {fmt.nbytes(c.raw_bytes)} raw data" if c.raw_bytes else "")
                    )
                    + "<extra></extra>",
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(
            title_text=plot_text(title),
            ticksuffix=" s" if unit == "s" else unit,
            exponentformat="SI",  # 1 GB, not plotly's default "1B" (billions) before "B"
            range=[-0.1 * high, 1.15 * high],
            row=1,
            col=col,
        )
    if timing_only:
        fig.update_yaxes(ticksuffix=" s", rangemode="tozero")
        fig.update_yaxes(title_text="simulated time", col=1)
    else:
        fig.update_yaxes(tickformat=".0%")
        fig.update_yaxes(title_text="final accuracy", col=1)
    fig.update_layout(
        template=TEMPLATE,
        height=350,
        margin={"t": 62, "b": 45, "l": 60, "r": 20},
    )
    return fig
