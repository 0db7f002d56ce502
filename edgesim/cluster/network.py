"""Links, routes and transfers on the simulated clock.

The topology is a networkx graph of devices, switches and access points;
routes are shortest paths over the links that are up. Each link has an *up*
direction (edge side → core side) and a *down* direction with their own
bandwidth, each a capacity shared by the :class:`FlowSolver`'s flow model
(SimGrid's LV08 by default). A transfer touching a device or link that goes
down is aborted, and the bytes already sent stay counted (they used the
network).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from dataclasses import dataclass

import networkx as nx
import simpy

from edgesim.cluster.device import Device
from edgesim.cluster.flows import Flow, FlowSolver, ModelName, TransferAborted
from edgesim.config.fleet import Link
from edgesim.metrics.recorder import Recorder
from edgesim.types import NodeId, SimTime


@dataclass(frozen=True)
class _Route:
    """A path between two nodes and what a flow over it crosses."""

    nodes: tuple[NodeId, ...]
    hops: tuple[tuple[str, str], ...]
    """Each hop's link and direction (``up`` from its edge side to its core side)."""
    links: tuple[str, ...]
    latency: float
    """The sum of the links' latencies, seconds."""


@dataclass(eq=False)
class _Transfer:
    flow: Flow
    nodes: tuple[NodeId, ...]
    links: tuple[str, ...]
    src: NodeId
    dst: NodeId
    nbytes: int
    upward: bool
    raw_data: bool
    start: SimTime
    detail: str


class Network:
    def __init__(
        self,
        env: simpy.Environment,
        devices: dict[NodeId, Device],
        switches: list[NodeId],
        links: list[Link],
        recorder: Recorder,
        server: NodeId | None = None,
        model: ModelName = "lv08",
    ):
        self.env = env
        self.server = server
        self.devices = devices
        self.recorder = recorder
        self.links = {link.name: link for link in links}
        self.graph = nx.Graph()
        self.graph.add_nodes_from(devices)
        self.graph.add_nodes_from(switches)
        for link in links:
            self.graph.add_edge(link.edge_side, link.core_side, link=link.name)
        capacity = {}
        for link in links:
            capacity[(link.name, "up")] = link.up_bps / 8
            capacity[(link.name, "down")] = link.down_bps / 8
        self.solver = FlowSolver(env, capacity, model)
        self._links_down: set[str] = set()
        self._routes: dict[tuple[NodeId, NodeId], _Route] = {}
        self._trees: dict[NodeId, dict[NodeId, NodeId | None]] = {}
        """Routes found, and the breadth-first trees they were read from, since the
        links last changed: every round asks for the same routes again."""
        self._transfers: dict[_Transfer, None] = {}
        """Transfers in progress, in start order (a dict: removal is O(1))."""
        self.restored = env.event()
        """Succeeds (and is replaced) whenever a device or a link comes back up."""

    def path(self, src: NodeId, dst: NodeId) -> list[NodeId]:
        """Fewest-hop path over links that are up; :class:`TransferAborted` if there is none."""
        return list(self._route(src, dst).nodes)

    def _route(self, src: NodeId, dst: NodeId) -> _Route:
        route = self._routes.get((src, dst))
        if route is None:
            route = self._routes[(src, dst)] = self._describe(self._search(src, dst))
        return route

    def _search(self, src: NodeId, dst: NodeId) -> list[NodeId]:
        """A fewest-hop path read off a breadth-first tree of one end, built once per root.

        One search costs O(nodes + links) (past a switch of N devices, O(N)), so a
        search per transfer would make a round of N transfers O(N²); a tree
        serves every route from or to its root. The root is an end that has a
        tree already, else the server, else the sender.
        """
        if src in self._trees or (dst not in self._trees and dst != self.server):
            root, other, forward = src, dst, True
        else:
            root, other, forward = dst, src, False
        tree = self._trees.get(root)
        if tree is None:
            tree = self._trees[root] = self._tree(root)
        if other not in tree:
            raise TransferAborted(f"no route from {src} to {dst}: links down")
        nodes = [other]
        while nodes[-1] != root:
            nodes.append(tree[nodes[-1]])
        return nodes[::-1] if forward else nodes

    def _tree(self, root: NodeId) -> dict[NodeId, NodeId | None]:
        """Each node reachable from ``root`` over links that are up → its parent towards it."""
        parent: dict[NodeId, NodeId | None] = {root: None}
        frontier, adjacency, down = deque([root]), self.graph.adj, self._links_down
        while frontier:
            node = frontier.popleft()
            for neighbour, edge in adjacency[node].items():
                if neighbour not in parent and edge["link"] not in down:
                    parent[neighbour] = node
                    frontier.append(neighbour)
        return parent

    def _describe(self, nodes: list[NodeId]) -> _Route:
        """The flow solver's view of a path: each hop's link and direction, the latency."""
        hops, links, latency = [], [], 0.0
        for a, b in zip(nodes, nodes[1:], strict=False):
            link = self.links[self.graph[a][b]["link"]]
            hops.append((link.name, "up" if a == link.edge_side else "down"))
            links.append(link.name)
            latency += link.latency_s
        return _Route(tuple(nodes), tuple(hops), tuple(links), latency)

    def transfer(
        self, src: NodeId, dst: NodeId, nbytes: int, what: str, raw_data: bool = False
    ) -> Generator[simpy.Event, object, None]:
        """Send ``nbytes`` from ``src`` to ``dst``; raises :class:`TransferAborted` on failure.

        The bytes that crossed the network are counted whether the transfer
        completes, aborts, or is still running when the run ends
        (:meth:`finish`).
        """
        down = self._down_end(src, dst)
        if down is not None:
            raise TransferAborted(f"{down} is down")
        route = self._route(src, dst)
        flow = self.solver.start(route.hops, nbytes, route.latency)
        transfer = _Transfer(
            flow,
            route.nodes,
            route.links,
            src,
            dst,
            nbytes,
            self._is_upward(src, dst, route.hops),
            raw_data,
            self.env.now,
            f"{what} {src}→{dst} {nbytes} B",
        )
        self._transfers[transfer] = None
        try:
            yield flow.done
        except TransferAborted:
            self._close(transfer, " (aborted)")
            self.recorder.count("aborted_transfers")
            raise
        except simpy.Interrupt:
            self.solver.abort(flow, "abandoned by the sender")
            self._close(transfer, " (abandoned)")
            self.recorder.count("aborted_transfers")
            raise
        self._close(transfer, "")

    def _close(self, transfer: _Transfer, outcome: str) -> None:
        """Record a transfer that ended (or was cut by the end of the run) and its bytes."""
        del self._transfers[transfer]
        flow = transfer.flow
        sent = transfer.nbytes
        if transfer.links and not (flow.done.triggered and flow.done.ok):
            sent = int(round(transfer.nbytes - max(min(flow.remaining, transfer.nbytes), 0.0)))
        now = self.env.now
        self.recorder.transfer(list(transfer.links), sent, transfer.upward, transfer.raw_data, now)
        detail = transfer.detail + outcome
        for node, kind in ((transfer.src, "send"), (transfer.dst, "recv")):
            if node in self.devices:
                self.recorder.span(node, kind, transfer.start, now, detail)

    def finish(self) -> None:
        """The run ends now: transfers still running are recorded as unfinished, bytes counted."""
        for transfer in list(self._transfers):
            self._close(transfer, " (unfinished)")
            self.recorder.count("unfinished_transfers")

    def _is_upward(self, src: NodeId, dst: NodeId, route: tuple[tuple[str, str], ...]) -> bool:
        """Towards the server is up, from it is down; otherwise the first hop's direction."""
        if self.server in (src, dst):
            return dst == self.server
        return not route or route[0][1] == "up"

    def reachable(self, src: NodeId, dst: NodeId) -> bool:
        """Both ends are up and a route between them has every link up."""
        if self._down_end(src, dst) is not None:
            return False
        try:
            self._route(src, dst)
        except TransferAborted:
            return False
        return True

    def _down_end(self, src: NodeId, dst: NodeId) -> NodeId | None:
        return next((e for e in (src, dst) if e in self.devices and not self.devices[e].up), None)

    def node_down(self, node: NodeId) -> None:
        self._abort_where(lambda t: node in t.nodes, f"{node} went down")

    def node_up(self, node: NodeId) -> None:
        self._restored()

    def link_down(self, name: str) -> None:
        self._links_down.add(name)
        self._routes.clear()
        self._trees.clear()
        self._abort_where(lambda t: name in t.links, f"link {name} went down")

    def link_up(self, name: str) -> None:
        self._links_down.discard(name)
        self._routes.clear()
        self._trees.clear()
        self._restored()

    def _restored(self) -> None:
        event, self.restored = self.restored, self.env.event()
        event.succeed()

    def _abort_where(self, touches, reason: str) -> None:
        for transfer in [t for t in self._transfers if touches(t)]:
            self.solver.abort(transfer.flow, reason)
