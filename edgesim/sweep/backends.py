"""Where the runs of a sweep execute: a local process pool, or tasks on a Ray cluster.

Both hand each finished run to ``on_outcome`` in the driver as soon as it
arrives (the driver writes it at once), and both run the same pure function
(:func:`edgesim.sweep.worker.attempt`), so a run's results do not depend on
the backend or the number of jobs. Local workers are started with ``spawn``
(torch and ``fork`` do not mix); each configures torch the same way.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from edgesim.errors import EdgesimError
from edgesim.sweep.spec import RunTask
from edgesim.sweep.worker import attempt, quiet_worker

log = logging.getLogger(__name__)

OnOutcome = Callable[[RunTask, dict[str, Any]], None]
BACKENDS = ("local", "ray")


def run_local(tasks: Sequence[RunTask], jobs: int, on_outcome: OnOutcome) -> None:
    """``jobs`` worker processes (one job: in this process); at most ``jobs`` runs in flight."""
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            on_outcome(task, attempt(task))
        return
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=quiet_worker)
    queue = list(tasks)
    running: dict[Future[dict[str, Any]], RunTask] = {}
    try:
        while queue or running:
            while queue and len(running) < jobs:
                task = queue.pop(0)
                running[pool.submit(attempt, task)] = task
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: running[f].id):
                on_outcome(running.pop(future), future.result())
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


@dataclass(frozen=True)
class Shipment:
    """A folder Ray sends to each node once (``runtime_env`` working_dir), minus ``excludes``.

    Ray uploads it once per sweep and each node unpacks it once into a cache that
    all its workers share; a task then runs in that copy.
    """

    folder: str
    excludes: list[str]

    def runtime_env(self) -> dict[str, Any]:
        return {"working_dir": self.folder, "excludes": self.excludes}


def _ray_attempt(task: RunTask, shipped: bool) -> dict[str, Any]:
    """``attempt`` in a Ray worker; a shipped task's relative paths resolve in its working dir."""
    quiet_worker()
    if shipped:
        task = dataclasses.replace(task, base_dir=os.getcwd())
    return attempt(task)


def run_ray(
    tasks: Sequence[RunTask],
    address: str | None,
    jobs: int | None,
    on_outcome: OnOutcome,
    shipment: Shipment | None = None,
) -> None:
    """Each run a Ray task (1 CPU) on the cluster at ``address``.

    If Ray is already initialised in this process (a test, a notebook) that
    connection is used and left open; otherwise ``ray.init(address)`` connects
    (``auto``: the cluster this machine belongs to; ``ray://host:10001``: a
    remote cluster through Ray Client; none: ``RAY_ADDRESS`` or a fresh local
    instance) and disconnects at the end. ``jobs`` caps the runs in flight.
    With a ``shipment`` (only when this call connects: Ray ships a folder only then),
    every task runs in Ray's copy of its folder.
    """
    try:
        import ray
    except ImportError:
        raise EdgesimError(
            "--backend ray needs Ray on this machine: pip install 'edgesim[ray]'"
        ) from None
    started = not ray.is_initialized()
    if started:
        env = None if shipment is None else shipment.runtime_env()
        try:
            ray.init(address=address, logging_level=logging.WARNING, runtime_env=env)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise EdgesimError(f"--address {address}: cannot connect to Ray: {exc}") from None
    elif shipment is not None:
        raise EdgesimError(
            "ship_folder: Ray is already connected in this process, and Ray ships a folder "
            "only when it connects; disconnect first (ray.shutdown()), or connect with "
            f"ray.init(runtime_env={shipment.runtime_env()}) and leave ship_folder out"
        )
    remote = ray.remote(num_cpus=1)(_ray_attempt)
    limit = jobs or len(tasks)
    queue = list(tasks)
    running: dict[Any, RunTask] = {}
    try:
        while queue or running:
            while queue and len(running) < limit:
                task = queue.pop(0)
                running[remote.remote(task, shipment is not None)] = task
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                on_outcome(running.pop(ref), ray.get(ref))
    except BaseException:
        for ref in running:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()
