"""Completion times of a flow set in SimGrid itself, to check ``edgesim.cluster.flows`` against.

Run under the Python that has SimGrid's bindings (Debian's ``python3-simgrid``)::

    /usr/bin/python3 benchmarks/simgrid_check.py < flows.json

Input (stdin, JSON)::

    {"model": "lv08" | "cm02" | "max-min",
     "links": {"name": [bandwidth_bytes_per_s, latency_s], ...},
     "flows": [{"route": ["name", ...], "size": bytes, "start": s}, ...]}

Output (stdout, JSON): ``{"times": [completion time of each flow], "wall_s": seconds}``.

Each flow gets its own pair of hosts whose (one-way) route is exactly its links, in a
``Full`` zone, and is one ``Comm.sendto`` started at ``start``; every link is SHARED
(one direction of an edgesim link is one SimGrid link). Settings:

* ``network/optim:Full`` — 3.32's default ``Lazy`` mis-solves flows that end their
  latency phase at the same instant;
* ``network/crosstraffic:0`` — edgesim does not charge 5 % of a flow to its reverse route;
* ``max-min``: SimGrid has no setting for it. Its ``maxmin`` solver weights shares by
  route latency, and ``network/solver:fairbottleneck``, which ignores the weights, is
  not exact (it keeps charging links for flows it has already fixed; ``fair_bottleneck.cpp``).
  So the links get latency 0 — every flow's penalty is then 1 (equal shares) and there
  is no TCP window bound — and each sender sleeps through its route's latency first,
  which is CM02's latency phase.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time

import simgrid

CONFIG = {
    "lv08": ["network/model:LV08"],
    "cm02": ["network/model:CM02"],
    "max-min": ["network/model:CM02"],
}


def platform(links: dict[str, list[float]], flows: list[dict], latency: bool) -> str:
    lines = [
        "<?xml version='1.0'?>",
        '<!DOCTYPE platform SYSTEM "https://simgrid.org/simgrid.dtd">',
        '<platform version="4.1">',
        '<zone id="world" routing="Full">',
    ]
    for i in range(len(flows)):
        lines.append(f'<host id="src{i}" speed="1f"/><host id="dst{i}" speed="1f"/>')
    for name, (bandwidth, seconds) in links.items():
        seconds = seconds if latency else 0.0
        lines.append(f'<link id="{name}" bandwidth="{bandwidth!r}Bps" latency="{seconds!r}s"/>')
    for i, flow in enumerate(flows):
        hops = "".join(f'<link_ctn id="{name}"/>' for name in flow["route"])
        lines.append(f'<route src="src{i}" dst="dst{i}" symmetrical="NO">{hops}</route>')
    lines += ["</zone>", "</platform>"]
    return "\n".join(lines)


def run(spec: dict) -> dict:
    flows, links = spec["flows"], spec["links"]
    max_min = spec["model"] == "max-min"
    settings = ["network/optim:Full", "network/crosstraffic:0", *CONFIG[spec["model"]]]
    args = ["simgrid_check", *(f"--cfg={s}" for s in settings), "--log=root.thres:critical"]
    engine = simgrid.Engine(args)
    with tempfile.NamedTemporaryFile("w", suffix=".xml") as xml:
        xml.write(platform(links, flows, latency=not max_min))
        xml.flush()
        engine.load_platform(xml.name)
    times = [float("nan")] * len(flows)

    def send(i: int, flow: dict) -> None:
        wait = sum(links[name][1] for name in flow["route"]) if max_min else 0.0
        simgrid.this_actor.sleep_until(flow["start"] + wait)
        simgrid.Comm.sendto(
            engine.host_by_name(f"src{i}"), engine.host_by_name(f"dst{i}"), int(flow["size"])
        )
        times[i] = simgrid.Engine.clock

    for i, flow in enumerate(flows):
        simgrid.Actor.create(f"flow{i}", engine.host_by_name(f"src{i}"), send, i, flow)
    start = time.perf_counter()
    engine.run()
    return {"times": times, "wall_s": time.perf_counter() - start}


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout)
