"""The network: the topology as scenario links draw it, and the traffic each link carried.

The graph is the networkx graph of the scenario's devices, switches and links. The
layout is a tidy tree from the server (leaves side by side, each parent centred
over its children, one level per hop), so it is deterministic and reads top-down
the way traffic flows. Big fleets collapse the leaf devices that share a neighbour,
a profile and a link profile into one node ("240 × raspberry-pi-4").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import plotly.graph_objects as go

from edgesim.report import fmt
from edgesim.report.colours import SWITCH_COLOUR
from edgesim.report.figures import (
    TEMPLATE,
    button_row,
    plot_text,
    profile_colours,
    run_colours,
)


@dataclass(frozen=True)
class Topology:
    """The graph to draw: nodes carry ``kind``/``profile``/``count``, edges their links."""

    graph: nx.Graph
    root: str


def topology(scenario: dict, collapse: bool) -> Topology:
    """The scenario's network as a graph; with ``collapse``, similar leaf devices merged."""
    graph = nx.Graph()
    root = ""
    for device in scenario.get("devices") or []:
        graph.add_node(
            str(device["id"]),
            kind="device",
            profile=str(device.get("profile", "?")),
            role=str(device.get("role", "")),
            count=1,
        )
        if device.get("role") == "server" and not root:
            root = str(device["id"])
    for switch in scenario.get("switches") or []:
        graph.add_node(str(switch), kind="switch", profile="switch", role="", count=1)
    for link in scenario.get("links") or []:
        a, b = str(link["edge_side"]), str(link["core_side"])
        for node in (a, b):
            if node not in graph:
                graph.add_node(node, kind="switch", profile="switch", role="", count=1)
        graph.add_edge(a, b, links=[link])
    if not root and graph:
        root = max(graph.nodes, key=lambda n: (graph.degree[n], n))
    if collapse:
        graph = _collapse_leaves(graph, root)
    return Topology(graph, root)


def _collapse_leaves(graph: nx.Graph, root: str) -> nx.Graph:
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for node, data in graph.nodes(data=True):
        if data["kind"] == "device" and node != root and graph.degree[node] == 1:
            (neighbour,) = graph.neighbors(node)
            link_profile = str(graph.edges[node, neighbour]["links"][0].get("profile", "?"))
            groups[(neighbour, data["profile"], link_profile)].append(node)
    collapsed = graph.copy()
    for (neighbour, profile, _), members in groups.items():
        if len(members) < 2:
            continue
        name = f"{len(members)} × {profile} ({members[0]} …)"
        links = [link for m in members for link in graph.edges[m, neighbour]["links"]]
        collapsed.remove_nodes_from(members)
        collapsed.add_node(name, kind="device", profile=profile, role="", count=len(members))
        collapsed.add_edge(name, neighbour, links=links)
    return collapsed


def tree_layout(graph: nx.Graph, root: str) -> dict[str, tuple[float, float]]:
    """Leaves at consecutive x, parents centred over their children, y = −hops from root."""
    positions: dict[str, tuple[float, float]] = {}
    next_x = 0.0
    components = sorted(nx.connected_components(graph), key=lambda c: (root not in c, min(c)))
    for component in components:
        start = root if root in component else min(component)
        tree = nx.bfs_tree(graph.subgraph(component), start, sort_neighbors=sorted)
        depth = nx.shortest_path_length(tree, start)
        for node in nx.dfs_postorder_nodes(tree, start, sort_neighbors=sorted):
            children = list(tree.successors(node))
            if children:
                x = sum(positions[c][0] for c in children) / len(children)
            else:
                x, next_x = next_x, next_x + 1.0
            positions[node] = (x, -float(depth[node]))
        next_x += 1.0
    return positions


def _link_bytes(run: dict, links: Sequence[dict]) -> int:
    per_link = run.get("bytes_per_link") or {}
    return sum(int(per_link.get(str(link.get("name")), 0)) for link in links)


def topology_figure(
    top: Topology,
    runs: Sequence[dict],
    names: Sequence[str],
    colours: dict[str, str] | None = None,
) -> go.Figure:
    """Nodes coloured by profile, edges as wide as the traffic they carried in one run.

    ``colours`` (profile → colour) is the page's, so the energy charts agree with it.

    Buttons switch the run whose traffic sets the widths (the same scale for all, so
    widths compare across runs); hovering a link's midpoint lists its traffic per run.
    """
    graph = top.graph
    pos = tree_layout(graph, top.root)
    edges = sorted(graph.edges(data=True), key=lambda e: (str(e[0]), str(e[1])))
    traffic = [[_link_bytes(run, data["links"]) for _, _, data in edges] for run in runs]
    peak = max((b for per_run in traffic for b in per_run), default=0) or 1

    def widths(per_run: Sequence[int]) -> list[float]:
        return [1.0 + 11.0 * b / peak for b in per_run]

    first = traffic[0] if traffic else [0] * len(edges)
    fig = go.Figure()
    for (a, b, _), width in zip(edges, widths(first), strict=True):
        fig.add_trace(
            go.Scatter(
                x=[pos[a][0], pos[b][0]],
                y=[pos[a][1], pos[b][1]],
                mode="lines",
                line={"color": "#7a8ca3", "width": width},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    hover = []
    for i, (_, _, data) in enumerate(edges):
        links = data["links"]
        head = f"{len(links)} links" if len(links) > 1 else str(links[0].get("name"))
        lines = [plot_text(f"{head}: {links[0].get('profile', '?')}")]
        lines += [
            f"{plot_text(name)}: {fmt.nbytes(per_run[i])}"
            for name, per_run in zip(names, traffic, strict=True)
        ]
        hover.append("<br>".join(lines))
    fig.add_trace(
        go.Scatter(
            x=[(pos[a][0] + pos[b][0]) / 2 for a, b, _ in edges],
            y=[(pos[a][1] + pos[b][1]) / 2 for a, b, _ in edges],
            mode="markers",
            marker={"size": 9, "color": "rgba(0,0,0,0)"},
            hovertext=hover,
            hoverinfo="text",
            showlegend=False,
        )
    )
    kinds: dict[str, list[str]] = defaultdict(list)
    for node, data in sorted(graph.nodes(data=True), key=lambda nd: str(nd[0])):
        kinds[data["profile"]].append(node)
    profiles = [p for p in kinds if p != "switch"]
    colours = {**profile_colours(profiles), **(colours or {}), "switch": SWITCH_COLOUR}
    show_labels = graph.number_of_nodes() <= 60
    for profile in [*profiles, "switch"] if "switch" in kinds else profiles:
        nodes = kinds[profile]
        fig.add_trace(
            go.Scatter(
                x=[pos[n][0] for n in nodes],
                y=[pos[n][1] for n in nodes],
                mode="markers+text" if show_labels else "markers",
                text=[plot_text(n) for n in nodes],
                textposition="bottom center",
                marker={
                    "size": [14 + min(graph.nodes[n]["count"], 400) ** 0.5 for n in nodes],
                    "color": colours[profile],
                    "symbol": "square" if profile == "switch" else "circle",
                    "line": {"width": 1, "color": "#444444"},
                },
                name=plot_text(profile),
                hovertext=[
                    plot_text(
                        f"{n} — {profile}"
                        + (f", {graph.nodes[n]['role']}" if graph.nodes[n]["role"] else "")
                    )
                    for n in nodes
                ],
                hoverinfo="text",
            )
        )
    buttons = [
        {
            "label": plot_text(name),
            "method": "restyle",
            "args": [{"line.width": widths(per_run)}, list(range(len(edges)))],
        }
        for name, per_run in zip(names, traffic, strict=True)
    ]
    depth = max((-y for _, y in pos.values()), default=0.0)
    low = min((x for x, _ in pos.values()), default=0.0)
    high = max((x for x, _ in pos.values()), default=0.0)
    fig.update_layout(
        template=TEMPLATE,
        height=260 + 110 * depth,
        xaxis={"visible": False, "range": [low - 0.9, high + 0.9]},
        yaxis={"visible": False, "range": [-depth - 0.6, 0.4]},
        margin={"t": 50, "l": 10, "r": 10},
        legend={"orientation": "h", "y": -0.05},
        updatemenus=button_row(buttons) if len(buttons) > 1 else [],
    )
    return fig


def link_traffic_figure(top: Topology, runs: Sequence[dict], names: Sequence[str]) -> go.Figure:
    """Bytes each link (or group of collapsed links) carried, one bar per run."""
    edges = sorted(top.graph.edges(data=True), key=lambda e: (str(e[0]), str(e[1])))
    labels = []
    for _, _, data in edges:
        links = data["links"]
        labels.append(
            plot_text(str(links[0].get("name")))
            if len(links) == 1
            else plot_text(
                f"{len(links)} × {links[0].get('profile', '?')} → {links[0].get('core_side')}"
            )
        )
    traces = [
        go.Bar(
            x=labels,
            y=[_link_bytes(run, data["links"]) for _, _, data in edges],
            name=plot_text(name),
            marker_color=colour,
            hovertemplate=f"{plot_text(name)}<br>%{{x}}: %{{y:.4s}}B<extra></extra>",
        )
        for run, name, colour in zip(runs, names, run_colours(runs), strict=True)
    ]
    fig = go.Figure(traces)
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        height=420,
        yaxis={
            "title": "bytes carried (both directions)",
            "ticksuffix": "B",
            "exponentformat": "SI",
        },
        legend={"orientation": "h", "y": 1.08},
        margin={"t": 40},
    )
    return fig
