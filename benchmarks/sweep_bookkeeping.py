"""How long a 1 000-run sweep's bookkeeping takes: loading, the resume scan, aggregation, report.

Builds a sweep of 100 grid points × 10 seeds over scenarios/whatif-base.yaml
in a temporary folder, runs its first task for real, and writes 1 000 run
files as the driver would: copies of that one real run with the ``sweep``
block (and, so the intervals are not degenerate, the final accuracy) changed
per run. Then times, in this one run, each step ``edgesim sweep`` takes on a
finished sweep: ``load_sweep`` (grid expansion and checking every point),
``pending_tasks`` (the resume scan), ``data_keys`` (which runs share a dataset:
what ``--backend ray`` works out before submitting), ``summarize`` (sweep.json) and
``render_sweep_report`` (report.html). The scan is timed twice: ``cold_scan`` with no
digests (run files from an older edgesim, or copied: every file is parsed), then
as ``edgesim sweep`` meets it (the driver wrote each digest with its run file).
The goal: the total under a few seconds. Each figure is printed as wall and CPU
seconds of this process (the latter does not grow with other load on the machine).

    python benchmarks/sweep_bookkeeping.py [--profile STAGE]
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import pstats
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from edgesim.report.sweep import render_sweep_report
from edgesim.sweep import load_sweep, summarize
from edgesim.sweep.driver import pending_tasks
from edgesim.sweep.shared import data_keys
from edgesim.sweep.spec import RunTask, Sweep
from edgesim.sweep.store import write_run
from edgesim.sweep.worker import run_task

BASE = Path(__file__).resolve().parent.parent / "scenarios" / "whatif-base.yaml"
FRACTIONS = [round(0.05 * i, 2) for i in range(10)]
LRS = [round(0.05 + 0.01 * i, 2) for i in range(10)]
SEEDS = list(range(10))


def write_sweep_file(folder: Path) -> Path:
    """The sweep file, with a copy of the what-if base scenario beside it, in ``folder``."""
    shutil.copy(BASE, folder / "base.yaml")
    sweep = {
        "name": "bookkeeping",
        "base": "base.yaml",
        "vary": {"failures.departures[0].fraction": FRACTIONS, "training.lr": LRS},
        "seeds": SEEDS,
    }
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    return path


def synthetic_run(real: dict[str, Any], task: RunTask, index: int) -> dict[str, Any]:
    """The real run file relabelled as ``task``'s, its accuracies nudged per run."""
    data = copy.deepcopy(real)
    data["sweep"] = {
        "point": task.point.id,
        "values": task.point.values,
        "seed": task.seed,
        "fingerprint": task.fingerprint,
    }
    for run in data["runs"]:
        if run.get("final_accuracy") is not None:
            run["final_accuracy"] = min(1.0, run["final_accuracy"] * (0.97 + 0.003 * (index % 11)))
    return data


def write_runs(sweep: Sweep, out: Path) -> None:
    """Run the first task for real, then write every task's run file from it."""
    real = run_task(sweep.tasks[0])
    for index, task in enumerate(sweep.tasks):
        write_run(out, task, synthetic_run(real, task, index))


def timed(
    name: str, step: Callable[[], Any], profile: str | None, times: dict[str, tuple[float, float]]
) -> Any:
    """Run ``step``, record its (wall, CPU) seconds under ``name``; cProfile it if ``profile``.

    The CPU time is this process's: on a machine that others share it is the figure
    that does not grow with their load (the wall time does).
    """
    profiler = cProfile.Profile() if name == profile else None
    start, cpu = time.perf_counter(), time.process_time()
    result = profiler.runcall(step) if profiler else step()
    times[name] = (time.perf_counter() - start, time.process_time() - cpu)
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    stages = (
        "load_sweep",
        "cold_scan",
        "pending_tasks",
        "ray_data_keys",
        "summarize",
        "render_sweep_report",
    )
    parser.add_argument("--profile", choices=stages, help="print a cProfile of one stage")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sweep-bookkeeping-"))
    try:
        path = write_sweep_file(folder)
        out = folder / "out"
        write_runs(load_sweep(path), out)
        times: dict[str, tuple[float, float]] = {}
        sweep = timed("load_sweep", lambda: load_sweep(path), args.profile, times)
        shutil.rmtree(out / "digests")
        timed("cold_scan", lambda: pending_tasks(sweep, out), args.profile, times)
        pending = timed("pending_tasks", lambda: pending_tasks(sweep, out), args.profile, times)
        timed("ray_data_keys", lambda: data_keys(sweep.tasks), args.profile, times)
        summary = timed("summarize", lambda: summarize(sweep, out), args.profile, times)
        timed(
            "render_sweep_report",
            lambda: render_sweep_report(summary, out / "report.html"),
            args.profile,
            times,
        )
    finally:
        shutil.rmtree(folder)
    runs = len(sweep.tasks)
    print(f"{len(sweep.points)} points × {len(sweep.seeds)} seeds = {runs} runs")
    print(f"pending after the scan: {len(pending)} (0 expected: every run file is valid)")
    print(f"{'':<22} {'wall':>9} {'CPU':>9} {'CPU/run':>11}")
    for name, (wall, cpu) in times.items():
        print(f"{name:<22} {wall:7.3f} s {cpu:7.3f} s {cpu / runs * 1000:7.3f} ms")
    wall, cpu = (sum(t[i] for name, t in times.items() if name != "cold_scan") for i in (0, 1))
    print(f"{'total (warm scan)':<22} {wall:7.3f} s {cpu:7.3f} s {cpu / runs * 1000:7.3f} ms")


if __name__ == "__main__":
    main()
