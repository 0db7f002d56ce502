"""Where the runs of a sweep execute: a local process pool, or tasks on a Ray cluster.

Both hand each finished run to ``on_outcome`` in the driver as soon as it
arrives (the driver writes it at once), and both run the same pure function
(:func:`edgesim.sweep.worker.attempt`), so a run's results do not depend on
the backend or the number of jobs. Local workers are started with ``spawn``
(torch and ``fork`` do not mix); each configures torch the same way, and each
run loads its own dataset. On Ray the driver loads each distinct dataset once
and passes it by reference (edgesim.sweep.shared), so it reaches each node once.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import multiprocessing
import os
import platform
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import edgesim
from edgesim.errors import EdgesimError
from edgesim.runner import load_data
from edgesim.sweep.shared import by_data, data_keys, loaded_task, pack, unpack
from edgesim.sweep.spec import RunTask
from edgesim.sweep.worker import attempt, guarded, quiet_worker

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
class NodeSetup:
    """What Ray prepares on each node before its first task: the job's ``runtime_env``.

    ``folder`` (``ship_folder``, minus ``excludes``) becomes the working_dir: Ray
    uploads it once per sweep and each node unpacks it once into a cache all its
    workers share; a task then runs in that copy. ``pip`` (``install: pip``) and
    ``wheel`` (``install: PATH.whl``) install edgesim on nodes that have only Ray:
    pip's requirement from the nodes' package index into a virtualenv Ray makes
    once per node, or the wheel, uploaded once, installed (with its dependencies)
    once per node.
    """

    folder: str | None = None
    excludes: tuple[str, ...] = ()
    pip: str | None = None
    wheel: str | None = None

    def runtime_env(self) -> dict[str, Any]:
        env: dict[str, Any] = {}
        if self.folder is not None:
            env |= {"working_dir": self.folder, "excludes": list(self.excludes)}
        if self.pip is not None:
            env["pip"] = [self.pip]
        if self.wheel is not None:
            env["py_modules"] = [self.wheel]
        return env


def _ray_attempt(
    task: RunTask, packed: dict[str, Any] | None, shipped: bool, version: str
) -> dict[str, Any]:
    """``attempt`` in a Ray worker, on the driver's loaded data; shipped: paths resolve in cwd.

    A worker with another edgesim than the driver's would give other results
    under the same run file name, so it refuses.
    """
    if edgesim.__version__ != version:
        return {
            "error": f"the Ray worker on {platform.node()} has edgesim {edgesim.__version__}, "
            f"the sweep's driver {version}: install the same version on every node, or "
            "let Ray install it (install: in the sweep file, docs/sweeps.md)"
        }
    quiet_worker()
    if shipped:
        task = dataclasses.replace(task, base_dir=os.getcwd())
    return attempt(task, None if packed is None else unpack(packed))


def _submissions(
    ray: Any, tasks: Sequence[RunTask], on_outcome: OnOutcome
) -> Iterator[tuple[RunTask, Any]]:
    """Each task with a reference to its dataset, put in the object store once per data key.

    A dataset that fails to load fails each of its runs with the message the run
    would have given itself; the driver's reference to a dataset goes once its
    last task is submitted (the tasks in flight hold theirs).
    """
    for _, group in by_data(tasks, data_keys(tasks)):
        loaded = guarded(lambda task=group[0]: pack(load_data(loaded_task(task))))
        if "ok" not in loaded:
            for task in group:
                on_outcome(task, loaded)
            continue
        ref = ray.put(loaded.pop("ok"))
        for task in group:
            yield task, ref


def run_ray(
    tasks: Sequence[RunTask],
    address: str | None,
    jobs: int | None,
    on_outcome: OnOutcome,
    setup: NodeSetup | None = None,
) -> None:
    """Each run a Ray task (1 CPU) on the cluster at ``address``, its dataset by reference.

    If Ray is already initialised in this process (a test, a notebook) that
    connection is used and left open; otherwise ``ray.init(address)`` connects
    (``auto``: the cluster this machine belongs to; ``ray://host:10001``: a
    remote cluster through Ray Client; none: ``RAY_ADDRESS`` or a fresh local
    instance) and disconnects at the end. ``jobs`` caps the runs in flight.
    A ``setup`` needs this call to connect: Ray applies a job's runtime_env only then.
    """
    try:
        import ray
    except ImportError:
        raise EdgesimError(
            "--backend ray needs Ray on this machine: pip install 'edgesim[ray]'"
        ) from None
    started = not ray.is_initialized()
    if started:
        env = None if setup is None else setup.runtime_env()
        try:
            ray.init(address=address, logging_level=logging.WARNING, runtime_env=env)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise EdgesimError(f"--address {address}: cannot connect to Ray: {exc}") from None
    elif setup is not None:
        raise EdgesimError(
            "ship_folder, install: Ray is already connected in this process, and Ray sets up "
            "the nodes only when it connects; disconnect first (ray.shutdown()), or connect "
            f"with ray.init(runtime_env={setup.runtime_env()}) and leave both out"
        )
    remote = ray.remote(num_cpus=1)(_ray_attempt)
    limit = jobs or len(tasks)
    shipped = setup is not None and setup.folder is not None
    submissions = _submissions(ray, tasks, on_outcome)
    running: dict[Any, RunTask] = {}
    try:
        while True:
            for task, ref in itertools.islice(submissions, limit - len(running)):
                running[remote.remote(task, ref, shipped, edgesim.__version__)] = task
            if not running:
                break
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
