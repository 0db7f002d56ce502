"""Where time goes: per device (or per profile, for big fleets) stacked seconds per activity."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import plotly.graph_objects as go

from edgesim.report.figures import KIND_COLOURS, TEMPLATE, plot_text

PARTS = (
    ("compute", ("compute_s",), KIND_COLOURS["compute"]),
    ("lost work", ("lost_work_s",), KIND_COLOURS["lost"]),
    ("background task", ("background_s",), KIND_COLOURS["background"]),
    ("communication", ("send_s", "recv_s"), KIND_COLOURS["send"]),
    ("wait", ("wait_s",), KIND_COLOURS["wait"]),
    ("idle", ("idle_s",), "#c7c7c7"),
    ("down", ("down_s",), KIND_COLOURS["down"]),
)
"""Bar segments and the per-device keys of results.json they add up."""


def _seconds(stats: dict, keys: Sequence[str]) -> float:
    return sum(float(stats.get(key) or 0.0) for key in keys)


def breakdown_figure(
    runs: Sequence[dict],
    names: Sequence[str],
    device_profile: dict[str, str] | None = None,
) -> go.Figure:
    """Stacked bars of simulated seconds per activity, grouped by run.

    One bar per device; with ``device_profile`` (big fleets), one bar per profile
    showing the mean device of that profile.
    """
    groups: list[str] = []
    members: list[str] = []
    values: dict[str, list[float]] = {part: [] for part, _, _ in PARTS}
    for run, name in zip(runs, names, strict=True):
        devices = run.get("devices") or {}
        if device_profile is None:
            rows = {device: [stats] for device, stats in devices.items()}
        else:
            rows = defaultdict(list)
            for device, stats in devices.items():
                rows[device_profile.get(device, "?")].append(stats)
            rows = {f"{p} (mean of {len(s)})": s for p, s in rows.items()}
        for member, stats_list in rows.items():
            groups.append(plot_text(name))
            members.append(plot_text(member))
            for part, keys, _ in PARTS:
                total = sum(_seconds(stats, keys) for stats in stats_list)
                values[part].append(total / len(stats_list))
    traces = [
        go.Bar(
            x=[groups, members],
            y=values[part],
            name=part,
            marker_color=colour,
            hovertemplate=f"%{{x}}<br>{part}: %{{y:.4f}} s<extra></extra>",
        )
        for part, _, colour in PARTS
        if any(v > 0 for v in values[part])
    ]
    fig = go.Figure(traces)
    fig.update_layout(
        template=TEMPLATE,
        barmode="stack",
        height=480,
        yaxis_title="simulated seconds",
        legend={"orientation": "h", "y": 1.08},
        margin={"t": 40},
    )
    return fig
