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


def scenario(devices: int, rounds: int, timeline: bool = False) -> dict[str, Any]:
    """``devices`` clients on one switch with one edge server, timing-only FedAvg.

    Without ``timeline`` the results keep the devices' totals but not every span
    (``observe.timeline: false``, what docs/scenario.md advises for such fleets).
    """
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
        "observe": {"timeline": timeline},
        "schemes": [{"scheme": "fedavg", "rounds": rounds}],
    }


def bare_simpy_seconds(devices: int, rounds: int) -> float:
    """Host seconds of the same rounds as bare SimPy: per client a process, three timeouts.

    The floor a SimPy simulator of this protocol cannot go below (download,
    train, upload; the server waits for all): no network sharing, no failures,
    no recording. edgesim's event loop is measured against it in the same process.
    """
    import simpy

    env = simpy.Environment()

    def client(seconds: float):
        yield env.timeout(seconds)  # download
        yield env.timeout(seconds)  # local training
        yield env.timeout(seconds)  # upload

    def server():
        for _ in range(rounds):
            yield env.all_of([env.process(client(1.0 + i * 1e-6)) for i in range(devices)])

    began = time.perf_counter()
    env.process(server())
    env.run()
    return time.perf_counter() - began


def measure(devices: int, rounds: int, profile: bool, timeline: bool) -> dict[str, Any]:
    """One run in this process: wall seconds, peak resident MB, and the simulated outcome."""
    from edgesim import runner
    from edgesim.config import from_model, validate_scenario

    source, here = f"<timing-only {devices}>", Path.cwd()
    data = scenario(devices, rounds, timeline)
    loaded = from_model(validate_scenario(data, source, here), source, here)
    clock_s = 0.0
    run_until = runner.run_until

    def timed_run_until(*args: Any) -> bool:
        nonlocal clock_s
        began = time.perf_counter()
        try:
            return run_until(*args)
        finally:
            clock_s += time.perf_counter() - began

    runner.run_until = timed_run_until
    start = time.perf_counter()
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    results = runner.run_scenario(loaded)
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
    run = results["runs"][0]
    return {
        "devices": devices,
        "wall_s": round(time.perf_counter() - start, 2),
        "clock_s": round(clock_s, 3),
        "bare_simpy_s": round(bare_simpy_seconds(devices, rounds), 4),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "sim_time_s": run["sim_time_s"],
        "train_steps": run["counters"]["train_steps"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("devices", nargs="*", type=int, default=list(SIZES))
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--profile", action="store_true", help="cProfile each size to stderr")
    parser.add_argument("--timeline", action="store_true", help="keep every span in the results")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.devices[0], args.rounds, args.profile, args.timeline)))
        return
    rows = []
    for devices in args.devices:
        command = [sys.executable, str(Path(__file__)), str(devices), "--one"]
        command += ["--rounds", str(args.rounds)] + (["--profile"] if args.profile else [])
        command += ["--timeline"] if args.timeline else []
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        sys.stderr.write(done.stderr)
        rows.append(json.loads(done.stdout))
    kept = "kept" if args.timeline else "not kept"
    print(f"{args.rounds} rounds, timeline {kept} in the results")
    print("clock s: inside the event loop (the rest of wall s is set-up and results);")
    print("÷ bare: clock s over the same rounds in bare SimPy, measured in the same process")
    print(
        f"{'devices':>8} {'wall s':>8} {'clock s':>8} {'µs/client-round':>16} "
        f"{'÷ bare':>7} {'peak MB':>8}"
    )
    for row in rows:
        per_client_round = 1e6 * row["clock_s"] / (row["devices"] * args.rounds)
        print(
            f"{row['devices']:>8} {row['wall_s']:>8} {row['clock_s']:>8} "
            f"{per_client_round:>16.0f} {row['clock_s'] / row['bare_simpy_s']:>7.1f} "
            f"{row['peak_mb']:>8}"
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
