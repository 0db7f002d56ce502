"""How far timing-only runs scale: N devices × 100 FedAvg rounds, wall seconds and peak memory.

Issue 11's goal is 10 000 devices × 100 rounds in ≤ 10 s on 2 cores with memory
growing linearly and under 2 GB. Each size runs in a fresh process, so the peak
resident memory (``ru_maxrss``) is that size's alone. Run:
``python benchmarks/timing_only.py [devices ...] [--rounds R] [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SIZES = (100, 1_000, 10_000)
SAMPLES_PER_DEVICE = 8
"""Synthetic training samples per client: one batch per local epoch."""


def scenario(devices: int, rounds: int) -> dict[str, Any]:
    """``devices`` clients on one switch with one edge server, timing-only FedAvg."""
    return {
        "name": f"timing-only-{devices}",
        "seed": 1,
        "timing_only": True,
        "devices": [
            {"id": "server", "profile": "rtx-2080ti", "role": "server"},
            {"id": "nano", "profile": "jetson-nano", "count": devices},
        ],
        "network": {
            "nodes": ["switch"],
            "links": [
                {"between": ["server", "switch"], "profile": "ethernet-1g"},
                {"between": ["nano", "switch"], "profile": "ethernet-1g"},
            ],
        },
        "data": {
            "dataset": "synthetic",
            "test_fraction": 0.1,
            "validation_fraction": 0.0,
            "synthetic": {"samples": int(devices * SAMPLES_PER_DEVICE / 0.9) + 20},
        },
        "training": {"model": "mlp", "batch_size": 8},
        "schemes": [{"scheme": "fedavg", "rounds": rounds}],
    }


def measure(devices: int, rounds: int, profile: bool) -> dict[str, Any]:
    """One run in this process: wall seconds, peak resident MB, and the simulated outcome."""
    from edgesim.config import from_model, validate_scenario
    from edgesim.runner import run_scenario

    source, here = f"<timing-only {devices}>", Path.cwd()
    loaded = from_model(validate_scenario(scenario(devices, rounds), source, here), source, here)
    start = time.perf_counter()
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    results = run_scenario(loaded)
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
    run = results["runs"][0]
    return {
        "devices": devices,
        "wall_s": round(time.perf_counter() - start, 2),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "sim_time_s": run["sim_time_s"],
        "spans": len(run["timeline"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("devices", nargs="*", type=int, default=list(SIZES))
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--profile", action="store_true", help="cProfile each size to stderr")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.devices[0], args.rounds, args.profile)))
        return
    rows = []
    for devices in args.devices:
        command = [sys.executable, str(Path(__file__)), str(devices), "--one"]
        command += ["--rounds", str(args.rounds)] + (["--profile"] if args.profile else [])
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        sys.stderr.write(done.stderr)
        rows.append(json.loads(done.stdout))
    print(f"{'devices':>8} {'wall s':>8} {'peak MB':>8} {'spans':>10} {'sim s':>10}")
    for row in rows:
        print(
            f"{row['devices']:>8} {row['wall_s']:>8} {row['peak_mb']:>8} "
            f"{row['spans']:>10} {row['sim_time_s']:>10}"
        )
    for small, large in zip(rows, rows[1:], strict=False):
        factor = large["devices"] / small["devices"]
        print(
            f"{small['devices']} → {large['devices']} devices (×{factor:g}): wall "
            f"×{large['wall_s'] / max(small['wall_s'], 1e-9):.1f}, "
            f"memory ×{large['peak_mb'] / small['peak_mb']:.1f}"
        )


if __name__ == "__main__":
    main()
