"""Read results.json files for ``edgesim report``, combining runs from several files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgesim.errors import EdgesimError

SUPPORTED_SCHEMA = 1


def read_results(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EdgesimError(f"results file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise EdgesimError(f"{path}: not valid JSON (line {exc.lineno}): {exc.msg}") from None
    if not isinstance(data, dict) or "runs" not in data or "scenario" not in data:
        raise EdgesimError(f"{path}: not an edgesim results file (no 'scenario' and 'runs')")
    if data.get("schema_version") != SUPPORTED_SCHEMA:
        raise EdgesimError(
            f"{path}: schema_version {data.get('schema_version')!r} is not supported "
            f"(this edgesim reads {SUPPORTED_SCHEMA})"
        )
    return data


def load_results(paths: list[Path]) -> dict[str, Any]:
    """One results dict: the first file's scenario, every file's runs.

    Each run gains an ``origin`` (file, scenario name, seed and its own label) and
    the dict a ``sources`` list, so the report can compare runs across files. When
    files come from different scenarios or seeds, each run's label gains the
    file's scenario name and seed so the report can tell them apart.
    """
    loaded = [read_results(path) for path in paths]
    first = loaded[0]
    origins = {(r["scenario"].get("name"), r["scenario"].get("seed")) for r in loaded}
    runs, sources = [], []
    for path, results in zip(paths, loaded, strict=True):
        scenario = results["scenario"]
        name, seed = scenario.get("name"), scenario.get("seed")
        sources.append({"file": str(path), "scenario": name, "seed": seed})
        for run in results["runs"]:
            origin = {"file": str(path), "scenario": name, "seed": seed, "label": run["label"]}
            label = run["label"] if len(origins) == 1 else f"{run['label']} [{name} seed {seed}]"
            runs.append({**run, "label": label, "origin": origin})
    return {**first, "runs": runs, "sources": sources}
