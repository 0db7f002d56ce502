"""Energy: each run's total split by device profile (or group), and each device's."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from edgesim.report.figures import TEMPLATE, plot_text, profile_colours, run_colours


def energy_by_profile_figure(
    runs: Sequence[dict],
    names: Sequence[str],
    device_profile: dict[str, str],
    profiles: Sequence[str],
    colours: dict[str, str] | None = None,
) -> go.Figure:
    """Joules per run over all devices, stacked by device profile (``profiles``, in order).

    ``device_profile`` may map devices to groups instead (big fleets): the stacks are then
    the groups of :func:`edgesim.report.facts.device_groups`. ``colours`` (profile or
    group → colour) is the page's, so the topology agrees with it.
    """
    colours = {**profile_colours(profiles), **(colours or {})}
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


def energy_per_device_figure(runs: Sequence[dict], names: Sequence[str]) -> go.Figure:
    """Joules per device, a bar per run (big fleets show boxes per group instead)."""
    traces = []
    for run, name, colour in zip(runs, names, run_colours(runs), strict=True):
        devices = run.get("devices") or {}
        traces.append(
            go.Bar(
                x=[plot_text(device) for device in devices],
                y=[float(stats.get("energy_j") or 0.0) for stats in devices.values()],
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
        yaxis_title="energy (J)",
        legend={"orientation": "h", "y": 1.08},
        margin={"t": 40},
    )
    return fig
