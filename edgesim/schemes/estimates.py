"""What a server or a client can *know* of a round's duration ahead of it, not the oracle's answer.

System-aware schedulers (FedCS's deadline-fitting selection, Oort's speed-guided
exploration, the deadline-bound partial work of FedProx and of FedAvg with partial
updates) decide from an *estimate* of how long a client needs: its device profile's
nominal step time and its route's nominal bandwidth and latency, the resource
information a client can report (Nishio & Yonetani 2019, §III-B "Resource
Request"). The estimate knows nothing of what the simulator then charges on top:
contention on a shared access point or server link, background tasks, failures.
A schedule built from it can therefore be wrong, and a run shows where it was
(deadline misses, dropped clients).
"""

from __future__ import annotations

import networkx as nx
from torch import nn

from edgesim.schemes.runtime import Runtime, training_seconds, workload_of
from edgesim.types import DeviceId


class Estimates:
    """Nominal transfer and training times, from profiles and the topology as built."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self._paths: dict[tuple[DeviceId, DeviceId], tuple[float, float]] = {}

    def transfer_s(self, src: DeviceId, dst: DeviceId, nbytes: int) -> float:
        """Latency plus bytes at the route's slowest nominal bandwidth (no one else sending)."""
        latency, bottleneck_bps = self._path(src, dst)
        return latency + nbytes * 8 / bottleneck_bps

    def step_s(self, client: DeviceId, model: nn.Module) -> float:
        """One training step of a full batch on the client's profile, with no background load."""
        profile = self.rt.devices[client].profile
        return training_seconds(profile, workload_of(model), [self.rt.batch_size])

    def training_s(self, client: DeviceId, model: nn.Module, steps: int) -> float:
        return steps * self.step_s(client, model)

    def _path(self, src: DeviceId, dst: DeviceId) -> tuple[float, float]:
        """(latency, bottleneck bits/s) of the fewest-hop route with every link up."""
        known = self._paths.get((src, dst))
        if known is None:
            network = self.rt.network
            nodes = nx.shortest_path(network.graph, src, dst)
            latency, bottleneck = 0.0, float("inf")
            for a, b in zip(nodes, nodes[1:], strict=False):
                link = network.links[network.graph[a][b]["link"]]
                latency += link.latency_s
                bottleneck = min(bottleneck, link.up_bps if a == link.edge_side else link.down_bps)
            known = self._paths[(src, dst)] = (latency, bottleneck)
        return known
