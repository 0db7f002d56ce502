"""Energy: each run's total split by device profile, and each device's (or profile's) share."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import plotly.graph_objects as go

from edgesim.report.figures import TEMPLATE, plot_text, profile_colours, run_colours


def energy_by_profile_figure(
    runs: Sequence[dict],
    names: Sequence[str],
    device_profile: dict[str, str],
    profiles: Sequence[str],
) -> go.Figure:
    """Joules per run over all devices, stacked by device profile."""
    colours = profile_colours(profiles)
    traces = []
    for profile in profiles:
        totals = [
            sum(
                float(stats.get("energy_j") or 0.0)
                for device, stats in (run.get("devices") or {}).items()
                if device_profile.get(device, "?") == profile
            )
            for run in runs
        ]
        traces.append(
            go.Bar(
                x=[plot_text(n) for n in names],
                y=totals,
                name=plot_text(profile),
                marker_color=colours[profile],
                hovertemplate=f"%{{x}}: {plot_text(profile)} %{{y:.1f}} J<extra></extra>",
            )
        )
    fig = go.Figure(traces)
    fig.update_layout(
        template=TEMPLATE,
        barmode="stack",
        height=380,
        yaxis_title="energy over the run (J)",
        legend={"title": {"text": "profile"}},
        margin={"t": 20},
    )
    return fig


def energy_per_device_figure(
    runs: Sequence[dict], names: Sequence[str], device_profile: dict[str, str], per_profile: bool
) -> go.Figure:
    """Joules per device, a bar per run; the mean device of each profile with ``per_profile``."""
    traces = []
    for run, name, colour in zip(runs, names, run_colours(runs), strict=True):
        members: dict[str, list[float]] = defaultdict(list)
        for device, stats in (run.get("devices") or {}).items():
            key = device_profile.get(device, "?") if per_profile else device
            members[key].append(float(stats.get("energy_j") or 0.0))
        traces.append(
            go.Bar(
                x=[plot_text(m) for m in members],
                y=[sum(v) / len(v) for v in members.values()],
                name=plot_text(name),
                marker_color=colour,
                hovertemplate=f"{plot_text(name)}<br>%{{x}}: %{{y:.2f}} J<extra></extra>",
            )
        )
    fig = go.Figure(traces)
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        height=400,
        yaxis_title="mean device energy (J)" if per_profile else "energy (J)",
        legend={"orientation": "h", "y": 1.08},
        margin={"t": 40},
    )
    return fig
