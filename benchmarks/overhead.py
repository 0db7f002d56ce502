"""How much the simulator adds on top of the real torch work it drives.

Prints (total wall time of ``edgesim run`` on a scenario) / (wall time spent
inside torch training and evaluation calls), both measured in this one run,
so the ratio is meaningful on a shared, noisy machine. 1.0 would mean the
clock, network, recorder and results cost nothing.

    python benchmarks/overhead.py [scenarios/heterogeneous.yaml]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from edgesim.config import load_scenario
from edgesim.runner import run_scenario
from edgesim.schemes import runtime

inside_torch = 0.0


def timed(function: Callable) -> Callable:
    def wrapper(*args, **kwargs):
        global inside_torch
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            inside_torch += time.perf_counter() - start

    return wrapper


def main() -> None:
    scenario = Path(sys.argv[1] if len(sys.argv) > 1 else "scenarios/heterogeneous.yaml")
    runtime.train_steps = timed(runtime.train_steps)
    runtime.evaluate = timed(runtime.evaluate)
    start = time.perf_counter()
    results = run_scenario(load_scenario(scenario))
    total = time.perf_counter() - start
    steps = sum(run["counters"].get("train_steps", 0) for run in results["runs"])
    print(f"scenario:            {scenario}")
    print(f"schemes:             {', '.join(run['label'] for run in results['runs'])}")
    print(f"train steps:         {steps:,.0f}")
    print(f"total wall time:     {total:.2f} s")
    print(f"inside torch calls:  {inside_torch:.2f} s")
    print(f"overhead ratio:      {total / inside_torch:.3f}  (total / torch; 1.0 = no overhead)")


if __name__ == "__main__":
    main()
