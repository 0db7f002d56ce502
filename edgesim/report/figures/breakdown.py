"""Where time goes: each device's run split into the states it was in, as shares of the run.

Per device the results partition the run (docs/results.md): at every instant a device
is in exactly one of down, compute, send, receive, wait or idle, so the parts of one
bar add up to the whole run. Compute is drawn as three stacked parts: useful work,
work lost to a failure (``lost_work_s``) and a background job's computing
(``background_s``), both of which are parts of ``compute_s``. Big fleets show one bar
per group of devices: its mean device.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import plotly.graph_objects as go

from edgesim.report.figures import KIND_COLOURS, TEMPLATE, plot_text


def _key(name: str) -> Callable[[dict], float]:
    return lambda stats: float(stats.get(name) or 0.0)


def _useful(stats: dict) -> float:
    """Compute that was neither lost nor a background job's (never below zero)."""
    parts = _key("lost_work_s")(stats) + _key("background_s")(stats)
    return max(0.0, _key("compute_s")(stats) - parts)


PARTS: tuple[tuple[str, Callable[[dict], float], str], ...] = (
    ("compute", _useful, KIND_COLOURS["compute"]),
    ("lost work", _key("lost_work_s"), KIND_COLOURS["lost"]),
    ("background task", _key("background_s"), KIND_COLOURS["background"]),
    ("send", _key("send_s"), KIND_COLOURS["send"]),
    ("receive", _key("recv_s"), KIND_COLOURS["recv"]),
    ("wait", _key("wait_s"), KIND_COLOURS["wait"]),
    ("idle", _key("idle_s"), KIND_COLOURS["idle"]),
    ("down", _key("down_s"), KIND_COLOURS["down"]),
)
"""Bar segments, in stacking order, and the seconds each takes from a device summary."""


def breakdown_figure(
    runs: Sequence[dict],
    names: Sequence[str],
    device_profile: dict[str, str] | None = None,
) -> go.Figure:
    """Stacked bars of each state's share of the run, one bar per device, grouped by run.

    With ``device_profile`` (big fleets: device → group), one bar per group: its mean
    device, labelled with the group's number of devices. The hover gives the seconds
    and the share; the figure grows with the longest label, so none is cut.
    """
    groups: list[str] = []
    members: list[str] = []
    seconds: dict[str, list[float]] = {part: [] for part, _, _ in PARTS}
    shares: dict[str, list[float]] = {part: [] for part, _, _ in PARTS}
    for run, name in zip(runs, names, strict=True):
        makespan = float(run.get("sim_time_s") or 0.0)
        devices = run.get("devices") or {}
        if device_profile is None:
            rows = {device: [stats] for device, stats in devices.items()}
        else:
            rows = defaultdict(list)
            for device, stats in devices.items():
                rows[device_profile.get(device, "?")].append(stats)
            rows = {f"{p} ({len(s)})": s for p, s in rows.items()}
        for member, stats_list in rows.items():
            groups.append(plot_text(name))
            members.append(plot_text(member))
            for part, value, _ in PARTS:
                mean = sum(value(stats) for stats in stats_list) / len(stats_list)
                seconds[part].append(mean)
                shares[part].append(mean / makespan if makespan > 0 else 0.0)
    traces = [
        go.Bar(
            x=[groups, members],
            y=shares[part],
            customdata=seconds[part],
            name=part,
            marker_color=colour,
            hovertemplate=(
                f"%{{x}}<br>{part}: %{{customdata:.4f}} s, %{{y:.1%}} of the run<extra></extra>"
            ),
        )
        for part, _, colour in PARTS
        if any(v > 0 for v in seconds[part])
    ]
    fig = go.Figure(traces)
    longest = max((len(m) for m in members), default=0)
    fig.update_layout(
        template=TEMPLATE,
        barmode="stack",
        height=480 + 6 * longest,
        xaxis={"automargin": True, "tickangle": -90 if len(members) > 12 else 0},
        yaxis={"title": "share of the run", "tickformat": ".0%"},
        legend={"orientation": "h", "y": 1.08},
        margin={"t": 40},
    )
    return fig
