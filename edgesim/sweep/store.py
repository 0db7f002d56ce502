"""The output folder of a sweep: one JSON file per finished run, so a sweep resumes.

``OUT/runs/<point>-<seed>.json`` is written atomically the moment its run
finishes. A file counts as finished only if it parses and names the same
point, seed and scenario fingerprint as the task: a partial, corrupt or stale
file (the base scenario was edited since) is run again.

A run file is mostly series (timelines, curves: ~175 kB for four schemes) that
the resume scan and the aggregate never read, and parsing 1 000 of them takes
seconds. So beside each run file the driver keeps its *digest*,
``OUT/digests/<point>-<seed>.json``: the run file without those series, stamped
with the run file's size, modification and change times and inode. A digest
whose stamp no longer matches its run file (rewritten, edited, copied) is
ignored and rebuilt from the run file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from edgesim.io import write_json_atomic
from edgesim.metrics.results import SCHEMA_VERSION
from edgesim.sweep.aggregate import RUN_FIELDS
from edgesim.sweep.spec import RunTask


def run_path(out: Path, task: RunTask) -> Path:
    return out / "runs" / f"{task.id}.json"


def digest_path(out: Path, task: RunTask) -> Path:
    return out / "digests" / f"{task.id}.json"


def read_run(out: Path, task: RunTask) -> dict[str, Any] | None:
    """The finished run file of ``task``, or None if it is missing, unreadable or stale."""
    data = _parse(run_path(out, task))
    return data if data is not None and _finished(data, task) else None


def read_digest(out: Path, task: RunTask) -> dict[str, Any] | None:
    """The digest of ``task``'s finished run file (None exactly where :func:`read_run` is).

    Read from ``OUT/digests`` when its stamp matches the run file; otherwise
    built from the run file and written there for the next scan.
    """
    stamp = _stamp(run_path(out, task))
    if stamp is None:
        return None
    cached = _parse(digest_path(out, task))
    if cached is not None and cached.get("stamp") == stamp:
        found = cached.get("digest")
    else:
        data = read_run(out, task)
        found = None if data is None else _write_digest(out, task, stamp, data)
    return found if isinstance(found, dict) and _finished(found, task) else None


def write_run(out: Path, task: RunTask, data: dict[str, Any]) -> Path:
    """Write the run file of ``task`` (atomically), then its digest."""
    path = write_json_atomic(run_path(out, task), data)
    stamp = _stamp(path)
    if stamp is not None:
        _write_digest(out, task, stamp, data)
    return path


def digest(data: dict[str, Any]) -> dict[str, Any]:
    """A run file cut to what the resume check and the aggregate read."""
    scenario = data.get("scenario")
    return {
        "schema_version": data.get("schema_version"),
        "sweep": data.get("sweep"),
        "scenario": {"targets": scenario.get("targets")} if isinstance(scenario, dict) else None,
        "runs": [{k: run[k] for k in RUN_FIELDS if k in run} for run in data["runs"]],
    }


def _write_digest(
    out: Path, task: RunTask, stamp: list[int], data: dict[str, Any]
) -> dict[str, Any]:
    """Write the digest compactly and without fsync: it is a cache, rebuilt if lost or cut short.

    (Indented JSON goes through the stdlib's pure-Python encoder; a cold scan of
    1 000 runs spent most of its time there and in fsync.)
    """
    found = digest(data)
    path = digest_path(out, task)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"stamp": stamp, "digest": found}, separators=(",", ":")))
    os.replace(tmp, path)
    return found


def _stamp(path: Path) -> list[int] | None:
    """What changes whenever a file is rewritten, edited in place or replaced (None: no file)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _parse(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _finished(data: dict[str, Any], task: RunTask) -> bool:
    """A complete run file (or digest) of ``task``: this schema, this point, seed and scenario."""
    if data.get("schema_version") != SCHEMA_VERSION:
        return False
    block = data.get("sweep")
    expected = {"point": task.point.id, "seed": task.seed, "fingerprint": task.fingerprint}
    if not isinstance(block, dict) or any(block.get(k) != v for k, v in expected.items()):
        return False
    return isinstance(data.get("runs"), list)
