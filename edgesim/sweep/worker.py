"""One run of a sweep, as a pure function of its task: what a worker process or Ray task does.

The task carries the point's whole scenario as plain data, so a worker needs
nothing from the machine that planned the sweep but edgesim itself, the files
the scenario reads, and its dataset (on Ray the driver hands that over loaded:
edgesim.sweep.shared). The outcome is plain data too; the driver writes it, so
workers on other machines never touch the output folder.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgesim.config import from_model, validate_scenario
from edgesim.errors import EdgesimError
from edgesim.learning.datasets import DataSplits
from edgesim.plugins import blame
from edgesim.runner import configure_torch, run_scenario
from edgesim.sweep.spec import RunTask


def quiet_worker() -> None:
    """Worker start-up: deterministic torch, and no per-run log lines over the progress bar."""
    configure_torch()
    logging.getLogger("edgesim").setLevel(logging.ERROR)


def run_task(task: RunTask, data: DataSplits | None = None) -> dict[str, Any]:
    """The run file of ``task``: its results with a ``sweep`` block naming point and seed.

    ``data``: the task's dataset, loaded by the driver (which checked every point
    when it loaded the sweep); None: the run loads it, and checks the scenario, itself.
    """
    configure_torch()
    scenario = validate_scenario(task.scenario, task.source, Path(task.base_dir))
    loaded = from_model(scenario, task.source, Path(task.base_dir))
    results = run_scenario(loaded, data=data)
    return {
        "schema_version": results["schema_version"],
        "sweep": {
            "point": task.point.id,
            "values": task.point.values,
            "seed": task.seed,
            "fingerprint": task.fingerprint,
        },
        **{k: v for k, v in results.items() if k != "schema_version"},
    }


def attempt(task: RunTask, data: DataSplits | None = None) -> dict[str, Any]:
    """``{"ok": run file}`` or ``{"error": message}``: see :func:`guarded`."""
    return guarded(run_task, task, data)


def guarded(work: Callable[..., Any], *args: Any) -> dict[str, Any]:
    """``{"ok": work(*args)}`` or ``{"error": message}``: exceptions never cross process borders.

    A bug (anything but an :class:`EdgesimError`) also carries its ``traceback``,
    which the worker's process would otherwise take with it; the message is one line.
    """
    try:
        return {"ok": work(*args)}
    except EdgesimError as exc:
        return {"error": str(exc)}
    except Exception as exc:
        if (yours := blame(exc)) is not None:  # raised in a user's model, dataset or scheme
            return {"error": f"error in your code: {yours}"}
        first_line = (str(exc).splitlines() or [""])[0][:300]
        return {
            "error": f"{type(exc).__name__}: {first_line}",
            "traceback": traceback.format_exc(),
        }
