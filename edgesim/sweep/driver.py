"""Run a sweep: skip the runs already finished, run the rest on a backend, aggregate.

Each finished run is written the moment it arrives, so killing the sweep loses
at most the runs in flight; running it again (same file, same ``--out``)
runs only what is missing.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import edgesim
from edgesim.errors import EdgesimError
from edgesim.io import write_json_atomic
from edgesim.sweep.aggregate import aggregate
from edgesim.sweep.backends import NodeSetup, run_local, run_ray
from edgesim.sweep.spec import RunTask, Sweep
from edgesim.sweep.store import read_digest, run_path, write_run

log = logging.getLogger(__name__)

OnProgress = Callable[[RunTask, bool], None]
"""(task, succeeded) after each run finishes."""


@dataclass(frozen=True)
class Failure:
    """A run that failed: its task id, a one-line message, and the traceback if it was a bug."""

    task_id: str
    message: str
    traceback: str | None = None


@dataclass
class SweepProgress:
    total: int
    skipped: int
    finished: int = 0
    failed: list[Failure] = field(default_factory=list)

    @property
    def bugs(self) -> list[Failure]:
        return [f for f in self.failed if f.traceback is not None]


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def pending_tasks(sweep: Sweep, out: Path) -> list[RunTask]:
    """Tasks without a valid run file in ``out`` (missing, partial, corrupt or stale)."""
    return [task for task in sweep.tasks if read_digest(out, task) is None]


def run_sweep(
    sweep: Sweep,
    out: Path,
    backend: str = "local",
    jobs: int | None = None,
    address: str | None = None,
    on_progress: OnProgress | None = None,
    pending: list[RunTask] | None = None,
) -> SweepProgress:
    """Run every task of ``sweep`` that has no finished run file in ``out``.

    ``pending``: those tasks, when the caller has already scanned ``out`` for them
    (:func:`pending_tasks`; a 1 000-run sweep's scan reads a thousand digests).
    """
    pending = pending_tasks(sweep, out) if pending is None else pending
    progress = SweepProgress(total=len(sweep.tasks), skipped=len(sweep.tasks) - len(pending))

    def on_outcome(task: RunTask, outcome: dict[str, Any]) -> None:
        if "ok" in outcome:
            write_run(out, task, outcome["ok"])
            progress.finished += 1
            log.info("run %s finished (%d of %d)", task.id, progress.finished, len(pending))
        else:
            log.debug("run %s failed: %s", task.id, outcome.get("traceback") or outcome["error"])
            progress.failed.append(Failure(task.id, outcome["error"], outcome.get("traceback")))
        if on_progress is not None:
            on_progress(task, "ok" in outcome)

    if backend == "local":
        run_local(pending, jobs or default_jobs(), on_outcome)
    elif backend == "ray":
        run_ray(pending, address, jobs, on_outcome, node_setup(sweep, out))
    else:
        raise EdgesimError(f"--backend: unknown backend '{backend}'; valid: local, ray")
    return progress


def node_setup(sweep: Sweep, out: Path) -> NodeSetup | None:
    """What Ray prepares on each node: ``ship_folder`` (without ``out``) and ``install``."""
    setup = NodeSetup(
        pip=f"edgesim=={edgesim.__version__}" if sweep.spec.install == "pip" else None,
        wheel=None if sweep.wheel is None else str(sweep.wheel),
    )
    if sweep.spec.ship_folder and sweep.tasks:
        folder = Path(sweep.tasks[0].base_dir)
        try:
            inside = out.resolve().relative_to(folder)
        except ValueError:
            inside = None
        excludes = (f"/{inside.as_posix()}/",) if inside is not None and inside.parts else ()
        setup = dataclasses.replace(setup, folder=str(folder), excludes=excludes)
    return setup if setup != NodeSetup() else None


def summarize(sweep: Sweep, out: Path) -> dict[str, Any]:
    """Aggregate every finished run in ``out`` into ``sweep.json`` (written) and return it.

    The aggregate reads each run's digest: the run file without its series.
    """
    run_files = {}
    for task in sweep.tasks:
        data = read_digest(out, task)
        if data is not None:
            run_files[(task.point.id, task.seed)] = data
    spec = sweep.spec
    header = {
        "name": spec.name,
        "description": spec.description,
        "source": sweep.source,
        "base": sweep.base_source,
        "vary": spec.vary,
        "seeds": sweep.seeds,
        "run_files": {task.id: str(run_path(out, task).relative_to(out)) for task in sweep.tasks},
    }
    points = [{"id": p.id, "values": p.values} for p in sweep.points]
    summary = aggregate(header, points, sweep.seeds, run_files)
    write_json_atomic(out / "sweep.json", summary)
    return summary
