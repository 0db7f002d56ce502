"""How a big fleet's devices spread within each group: one box per group and run.

A group's mean device (the breakdown's bar) hides its stragglers: 900 devices that
waited 2 s and 100 that waited 40 s average to 6 s. A box (drawn with bar traces:
the report's plotly.js bundle has scatter and bar traces only) shows the lowest, the
quartiles, the median, the mean and the highest over the group's devices, read off
the per-device totals of ``runs[].devices`` (docs/results.md), so it needs no
timeline. The five numbers are computed here, not in the browser: a box costs the
page the same at 50 devices and at 10 000.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import ceil

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from edgesim.report.figures import TEMPLATE, plot_text, run_colours


@dataclass(frozen=True)
class Quantity:
    """One panel: ``value`` reads a device's number off its ``runs[].devices`` entry."""

    title: str
    value: Callable[[dict], float]


def _seconds(*keys: str) -> Callable[[dict], float]:
    return lambda stats: sum(float(stats.get(key) or 0.0) for key in keys)


TIME_QUANTITIES = (
    Quantity("compute (s)", _seconds("compute_s")),
    Quantity("send + receive (s)", _seconds("send_s", "recv_s")),
    Quantity("wait (s)", _seconds("wait_s")),
    Quantity("down (s)", _seconds("down_s")),
)
"""The states a reader compares across a fleet: work, transfers, waiting, absence."""

ENERGY = Quantity("energy per device (J)", _seconds("energy_j"))

_STATS = ("lowerfence", "q1", "median", "q3", "upperfence", "mean")


def box_stats(values: Sequence[float]) -> dict[str, float]:
    """Lowest, quartiles (linear interpolation), median, highest and mean of ``values``."""
    array = np.asarray(values, dtype=float)
    low, q1, median, q3, high = np.percentile(array, [0, 25, 50, 75, 100])
    found = (low, q1, median, q3, high, array.mean())
    return {name: float(f"{value:.6g}") for name, value in zip(_STATS, found, strict=True)}


def distribution_figure(
    runs: Sequence[dict],
    names: Sequence[str],
    device_group: dict[str, str],
    quantities: Sequence[Quantity],
) -> go.Figure:
    """A panel per quantity (those that are zero everywhere left out), a box per group and run.

    Groups keep the order of ``device_group``; a device of a run missing from it is
    in group "?". The x labels carry each group's number of devices.
    """
    counts: dict[str, int] = defaultdict(int)
    for group in device_group.values():
        counts[group] += 1
    members: list[dict[str, list[dict]]] = []
    for run in runs:
        by_group: dict[str, list[dict]] = defaultdict(list)
        for device, stats in (run.get("devices") or {}).items():
            by_group[device_group.get(device, "?")].append(stats)
        members.append(by_group)
    groups = list(dict.fromkeys([*device_group.values(), *(g for m in members for g in m)]))
    shown = [
        q
        for q in quantities
        if any(q.value(stats) > 0 for m in members for group in m.values() for stats in group)
    ] or list(quantities[:1])
    cols = min(2, len(shown))
    rows = ceil(len(shown) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[plot_text(q.title) for q in shown],
        horizontal_spacing=0.08,
        vertical_spacing=0.3 / rows if rows > 1 else 0.1,
    )
    for i, quantity in enumerate(shown):
        row, col = i // cols + 1, i % cols + 1
        for j, (name, colour, by_group) in enumerate(
            zip(names, run_colours(runs), members, strict=True)
        ):
            present = [g for g in groups if by_group.get(g)]
            stats = [box_stats([quantity.value(s) for s in by_group[g]]) for g in present]
            labels = [plot_text(f"{g} ({counts.get(g, len(by_group[g]))})") for g in present]
            for trace in _box_traces(labels, stats, plot_text(name), colour, str(j), i == 0):
                fig.add_trace(trace, row=row, col=col)
        fig.update_yaxes(rangemode="tozero", row=row, col=col)
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        height=120 + 300 * rows,
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
        margin={"t": 60},
    )
    return fig


def _box_traces(
    labels: list[str],
    stats: list[dict[str, float]],
    name: str,
    colour: str,
    offset: str,
    legend: bool,
) -> list[go.Bar]:
    """A box drawn with bar traces (the page's plotly.js has no box trace): the middle half
    as a floating bar, lowest to highest as its error bar, the median as a thin dark bar
    at the same offset."""
    spread = max((s["upperfence"] - s["lowerfence"] for s in stats), default=0.0)
    hover = [
        f"{name}<br>%{{x}}<br>lowest {s['lowerfence']:.4g}, quartiles {s['q1']:.4g} "
        f"– {s['q3']:.4g}<br>median {s['median']:.4g}, mean {s['mean']:.4g}, "
        f"highest {s['upperfence']:.4g}<extra></extra>"
        for s in stats
    ]
    box = go.Bar(
        x=labels,
        base=[s["q1"] for s in stats],
        y=[s["q3"] - s["q1"] for s in stats],
        error_y={
            "type": "data",
            "symmetric": False,
            "array": [s["upperfence"] - s["q3"] for s in stats],
            "arrayminus": [s["q3"] - s["lowerfence"] for s in stats],
            "color": colour,
            "thickness": 1.5,
        },
        marker={"color": colour, "opacity": 0.55, "line": {"color": colour, "width": 1}},
        name=name,
        legendgroup=name,
        showlegend=legend,
        offsetgroup=offset,
        hovertemplate=hover,
    )
    median = go.Bar(
        x=labels,
        base=[s["median"] for s in stats],
        y=[spread * 0.012 for _ in stats],
        marker={"color": "#222222"},
        name=name,
        legendgroup=name,
        showlegend=False,
        offsetgroup=offset,
        hoverinfo="skip",
    )
    return [box, median]
