"""How fast the flow solver is, and how it compares with SimGrid on one upload burst.

Prints, for each model, the host time of one re-solve (a flow joins or leaves) with
100, 1 000 and 10 000 flows active over a three-level tree (clients → 50-client access
points → core), then the wall time of "1 000 uploads through one access point" in
``simulate_flows`` beside SimGrid's own for the same flows (``benchmarks/simgrid_check.py``
under ``/usr/bin/python3``, if SimGrid is installed), with the largest relative
difference in completion times. ``--baseline FILE`` times another version of
``edgesim/cluster/flows.py`` in the same run (e.g. ``git show HEAD:edgesim/cluster/flows.py``).

    python benchmarks/network.py [--sizes 100 1000 10000] [--baseline old_flows.py]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import simpy

from edgesim.cluster import flows as current

CHECK = Path(__file__).with_name("simgrid_check.py")
LATENCY = 0.004  # every route's one-way latency: all flows join at one instant


def tree(n: int, seed: int = 1) -> tuple[dict, list[tuple]]:
    rng = random.Random(seed)
    aps = max(1, n // 50)
    capacity = {(f"ap{k}", "up"): rng.uniform(5e6, 5e7) for k in range(aps)}
    capacity[("core", "up")] = 3e5 * n
    routes = []
    for i in range(n):
        capacity[(f"c{i}", "up")] = rng.uniform(1e5, 1e7)
        routes.append(((f"c{i}", "up"), (f"ap{i % aps}", "up"), ("core", "up")))
    return capacity, routes


def load(path: str) -> ModuleType:
    """Another version of ``edgesim.cluster.flows``, from its file."""
    spec = importlib.util.spec_from_file_location("baseline_flows", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # for its dataclasses
    spec.loader.exec_module(module)
    return module


def resolve_ms(model: str, n: int, engine: ModuleType = current, repeats: int = 20) -> float:
    """Host milliseconds per re-solve with ``n`` flows active (one joins, then is aborted)."""
    env = simpy.Environment()
    capacity, routes = tree(n)
    solver = engine.FlowSolver(env, capacity, model)
    for route in routes:
        solver.start(route, 1e15, LATENCY)
    phase = LATENCY * engine.MODELS[model].latency_factor
    env.run(until=phase * 2)
    start = time.perf_counter()
    for j in range(repeats):
        flow = solver.start(routes[j], 1e15, LATENCY)
        env.run(until=env.now + phase * 2)
        solver.abort(flow, "benchmark")
        env.run(until=env.now + phase)
    return (time.perf_counter() - start) / (2 * repeats) * 1e3


def uploads(n: int = 1000, seed: int = 2) -> tuple[dict, list[dict]]:
    """``n`` clients, each on its own wireless link to one access point, uploading to a server."""
    rng = random.Random(seed)
    links = {"ap-uplink": [1.25e8, 0.001], "server": [1.25e9, 0.0002]}
    flows = []
    for i in range(n):
        links[f"wifi{i}"] = [rng.uniform(5e6, 4.5e7), rng.uniform(0.001, 0.005)]
        flows.append(
            {
                "route": [f"wifi{i}", "ap-uplink", "server"],
                "size": rng.randint(1_000_000, 10_000_000),
                "start": rng.uniform(0.0, 5.0),
            }
        )
    return links, flows


def upload_run(model: str, engine: ModuleType) -> tuple[float, list[float]]:
    """Wall time of the upload burst under ``engine``, and its completion times."""
    links, flows = uploads()
    requests = [
        engine.FlowRequest(
            tuple(f["route"]), f["size"], f["start"], sum(links[k][1] for k in f["route"])
        )
        for f in flows
    ]
    start = time.perf_counter()
    times = engine.simulate_flows({k: bw for k, (bw, _) in links.items()}, requests, model)
    return time.perf_counter() - start, times


def burst(model: str, baseline: ModuleType | None) -> None:
    links, flows = uploads()
    ours, times = upload_run(model, current)
    line = f"  {model:8s} edgesim {ours:7.3f} s"
    if baseline is not None:
        line += f"   baseline {upload_run(model, baseline)[0]:7.3f} s"
    spec = json.dumps({"model": model, "links": links, "flows": flows})
    try:
        out = subprocess.run(
            ["/usr/bin/python3", str(CHECK)], input=spec, capture_output=True, text=True
        )
        theirs = json.loads(out.stdout)
    except (OSError, json.JSONDecodeError):
        print(line + "   (SimGrid not available)")
        return
    error = max(abs(a - b) / b for a, b in zip(times, theirs["times"], strict=True))
    line += f"   SimGrid {theirs['wall_s']:7.3f} s   edgesim/SimGrid {ours / theirs['wall_s']:6.1f}"
    print(line + f"   max rel. difference {error:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--baseline", help="another flows.py to time beside this one")
    args = parser.parse_args()
    baseline = load(args.baseline) if args.baseline else None
    print("re-solve time (ms) with N active flows:")
    print("  model    " + "".join(f"{n:>10,d}" for n in args.sizes))
    for model in current.MODELS:
        print(f"  {model:8s} " + "".join(f"{resolve_ms(model, n):10.3f}" for n in args.sizes))
        if baseline is not None:
            times = "".join(f"{resolve_ms(model, n, baseline):10.3f}" for n in args.sizes)
            print(f"  baseline {times}")
    print("1 000 uploads through one access point (wall time):")
    for model in current.MODELS:
        burst(model, baseline)


if __name__ == "__main__":
    main()
