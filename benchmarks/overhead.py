"""How much the simulator adds on top of the real torch work it drives.

Prints (total wall time of ``edgesim run`` on a scenario) / (wall time spent
inside torch training and evaluation calls), both measured in this one run,
so the ratio is meaningful on a shared, noisy machine. 1.0 would mean the
clock, network, recorder and results cost nothing. Issue 11's goal is ≤ 1.10 on
scenarios/heterogeneous.yaml. Like ``import torch`` and ``import edgesim``, the
imports a first run makes once per process (torch's deterministic settings load its
compiler's configuration; the pre-flight reads digits through scikit-learn) are
timed apart, before the run, and printed with the ratio a fresh process sees.
``--profile`` also prints where the run's time went outside torch's kernels
(cProfile slows Python code more than torch's, so the ratio printed with it reads
high).

    python benchmarks/overhead.py [scenarios/heterogeneous.yaml] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections.abc import Callable
from pathlib import Path

from edgesim.config import load_scenario
from edgesim.runner import check_names, configure_torch, run_scenario
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="scenarios/heterogeneous.yaml")
    parser.add_argument("--profile", action="store_true", help="cProfile the run")
    args = parser.parse_args()
    scenario = Path(args.scenario)
    loaded = load_scenario(scenario)
    start = time.perf_counter()
    check_names(loaded)
    configure_torch()
    imports = time.perf_counter() - start
    runtime.train_steps = timed(runtime.train_steps)
    runtime.evaluate = timed(runtime.evaluate)
    profiler = cProfile.Profile() if args.profile else None
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    results = run_scenario(loaded)
    if profiler is not None:
        profiler.disable()
    total = time.perf_counter() - start
    if profiler is not None:
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(r"edgesim|importlib\._bootstrap\b|copy\.py", 40)
    steps = sum(run["counters"].get("train_steps", 0) for run in results["runs"])
    print(f"scenario:            {scenario}")
    print(f"schemes:             {', '.join(run['label'] for run in results['runs'])}")
    print(f"train steps:         {steps:,.0f}")
    print(f"total wall time:     {total:.2f} s")
    print(f"inside torch calls:  {inside_torch:.2f} s")
    print(f"overhead ratio:      {total / inside_torch:.3f}  (total / torch; 1.0 = no overhead)")
    print(f"one-time imports:    {imports:.2f} s (before the run, once per process)")
    print(f"ratio with them:     {(total + imports) / inside_torch:.3f}  (a fresh process)")


if __name__ == "__main__":
    main()
