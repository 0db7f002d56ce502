"""The output folder of a sweep: one JSON file per finished run, so a sweep resumes.

``OUT/runs/<point>-<seed>.json`` is written atomically the moment its run
finishes. A file counts as finished only if it parses and names the same
point, seed and scenario fingerprint as the task: a partial, corrupt or stale
file (the base scenario was edited since) is run again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgesim.io import write_json_atomic
from edgesim.metrics.results import SCHEMA_VERSION
from edgesim.sweep.spec import RunTask


def run_path(out: Path, task: RunTask) -> Path:
    return out / "runs" / f"{task.id}.json"


def read_run(out: Path, task: RunTask) -> dict[str, Any] | None:
    """The finished run file of ``task``, or None if it is missing, unreadable or stale."""
    try:
        data = json.loads(run_path(out, task).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        return None
    block = data.get("sweep")
    expected = {"point": task.point.id, "seed": task.seed, "fingerprint": task.fingerprint}
    if not isinstance(block, dict) or any(block.get(k) != v for k, v in expected.items()):
        return None
    if not isinstance(data.get("runs"), list):
        return None
    return data


def write_run(out: Path, task: RunTask, data: dict[str, Any]) -> Path:
    return write_json_atomic(run_path(out, task), data)
