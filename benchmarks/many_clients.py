"""Peak memory of real-training FedAvg over many clients: pooled models against a copy per model.

Issue 11's goal (c): 1 000 real-training clients × a few rounds with memory that does
not grow with the number of models ever created. Each client of each round asks
the runtime for a model; the runtime's pool (``edgesim.learning.pool``) lends a
module again once nothing refers to it, so the modules made are the most in use
at once — one round's clients — however many rounds run. ``--lend copy`` runs the
way before the pool, a ``copy.deepcopy`` of the initial module per model, for the
figure beside it. Each run is a fresh process, so its peak resident memory
(``ru_maxrss``) is its own; the base is the process after imports and torch's
settings, before the run.

    python benchmarks/many_clients.py [--clients N] [--rounds R ...] [--lend pool copy]
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SAMPLES_PER_CLIENT = 8
"""Synthetic training samples per client: one batch of 8 per local epoch."""


def scenario(clients: int, rounds: int) -> dict[str, Any]:
    """``clients`` Jetson Nanos and an edge server on one switch; FedAvg on cnn-small."""
    return {
        "name": f"many-clients-{clients}",
        "seed": 1,
        "devices": [
            {"id": "server", "profile": "rtx-2080ti", "role": "server"},
            {"id": "nano", "profile": "jetson-nano", "count": clients},
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
            "synthetic": {"samples": int(clients * SAMPLES_PER_CLIENT / 0.9) + 20},
        },
        "training": {"model": "cnn-small", "batch_size": 8},
        "schemes": [{"scheme": "fedavg", "rounds": rounds}],
    }


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(clients: int, rounds: int, lend: str) -> dict[str, Any]:
    """One run in this process: peak memory, wall time, models asked for and modules made."""
    from edgesim.config import from_model, validate_scenario
    from edgesim.learning.pool import ModelPool
    from edgesim.runner import configure_torch, run_scenario
    from edgesim.schemes.runtime import Runtime

    asked, made = 0, 0
    lent, new = Runtime._lend, ModelPool._new

    def counting_lend(self: Runtime, kind: str, state: Any = None) -> Any:
        nonlocal asked
        asked += 1
        if lend == "pool":
            return lent(self, kind, state)
        model = copy.deepcopy(self.models[kind].initial)  # the way before the pool
        model.edgesim_workload = self.models[kind].workload
        if state is not None:
            model.load_state_dict(state)
        return model

    def counting_new(self: ModelPool) -> Any:
        nonlocal made
        made += 1
        return new(self)

    Runtime._lend, ModelPool._new = counting_lend, counting_new
    source, here = f"<many clients {clients}>", Path.cwd()
    loaded = from_model(validate_scenario(scenario(clients, rounds), source, here), source, here)
    configure_torch()  # its imports belong to the base, not to the run
    base = peak_mb()
    start = time.perf_counter()
    run = run_scenario(loaded)["runs"][0]
    return {
        "lend": lend,
        "clients": clients,
        "rounds": rounds,
        "wall_s": round(time.perf_counter() - start, 1),
        "base_mb": round(base),
        "peak_mb": round(peak_mb()),
        "models_asked": asked,
        "modules_made": made if lend == "pool" else asked,
        "train_steps": run["counters"]["train_steps"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--lend", nargs="+", choices=["pool", "copy"], default=["pool", "copy"])
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.clients, args.rounds[0], args.lend[0])))
        return
    print("lend   clients  rounds   wall s   base MB   peak MB   growth MB   models   modules")
    for lend in args.lend:
        for rounds in args.rounds:
            command = [sys.executable, __file__, "--one", "--clients", str(args.clients)]
            command += ["--rounds", str(rounds), "--lend", lend]
            row = json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
            print(
                f"{lend:5} {row['clients']:8,} {rounds:7} {row['wall_s']:8} {row['base_mb']:9,}"
                f" {row['peak_mb']:9,} {row['peak_mb'] - row['base_mb']:11,}"
                f" {row['models_asked']:8,} {row['modules_made']:9,}"
            )


if __name__ == "__main__":
    main()
