"""Read results.json files for ``edgesim report``, combining runs from several files.

A results file is the user's input like a scenario, so it is read within bounds
and checked before anything is drawn; whatever is wrong with it ends in one
:class:`EdgesimError` naming the file, never in a hang, a memory blow-up or a
traceback:

* only a regular file of at most :data:`MAX_RESULTS_BYTES` of UTF-8 text is read;
* nesting deeper than :data:`MAX_DEPTH` is refused before the JSON is decoded
  (the decoder recurses once per level);
* the keys the report reads must be there, with the right types and bounds
  (:mod:`edgesim.report.results_file`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from edgesim.config.loading import validate
from edgesim.errors import ConfigError, EdgesimError
from edgesim.io import read_text
from edgesim.report.results_file import ResultsFile

SUPPORTED_SCHEMA = 1

MAX_RESULTS_BYTES = 256 * 1024 * 1024
"""Largest results file read (256 MiB): thousands of devices over many rounds write tens of MiB."""

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted; a results.json nests 7 deep."""

MAX_PROBLEMS = 10
"""Problems listed in the error about a file of the wrong shape; the rest are counted."""

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
"""A JSON string, or an unterminated one up to the end of the text."""

_ONLY_BRACKETS = str.maketrans("", "", "".join(chr(c) for c in range(128) if chr(c) not in "[]{}"))
"""Deletes every ASCII character but brackets (JSON has no other outside strings)."""


def read_results(path: Path) -> dict[str, Any]:
    """One results file, as loaded, once it has the shape the report reads."""
    data = _parse(path, read_text(path, "results file", "JSON", MAX_RESULTS_BYTES))
    if not isinstance(data, dict) or "runs" not in data or "scenario" not in data:
        raise EdgesimError(f"{path}: not an edgesim results file (no 'scenario' and 'runs')")
    if data.get("schema_version") != SUPPORTED_SCHEMA:
        raise EdgesimError(
            f"{path}: schema_version {data.get('schema_version')!r:.40} is not supported "
            f"(this edgesim reads {SUPPORTED_SCHEMA})"
        )
    _check_shape(path, data)
    return data


def _parse(path: Path, text: str) -> Any:
    """The JSON value of ``text`` (a leading BOM, as some editors write, is skipped)."""
    text = text.removeprefix("\ufeff")
    if _nesting(text) > MAX_DEPTH:
        raise EdgesimError(f"{path}: nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EdgesimError(f"{path}: not valid JSON (line {exc.lineno}): {exc.msg}") from None
    except ValueError:  # the one other refusal: an integer of more digits than Python converts
        raise EdgesimError(f"{path}: holds an integer with too many digits to read") from None


def _nesting(text: str) -> int:
    """How deep arrays and objects nest, counted outside strings without decoding.

    Linear and iterative, so a 100 000-deep file costs no stack: strings are cut
    out, the brackets left become +1 / -1 steps, and the deepest is the largest
    running sum.
    """
    brackets = _STRING.sub("", text).translate(_ONLY_BRACKETS).encode("ascii", "ignore")
    codes = np.frombuffer(brackets, dtype=np.uint8)
    opens = (codes == ord("[")) | (codes == ord("{"))
    return int(np.cumsum(opens.astype(np.int8) * 2 - 1, dtype=np.int32).max(initial=0))


def _check_shape(path: Path, data: dict[str, Any]) -> None:
    """Refuse a file the report cannot draw, listing the first problems, each cut short."""
    try:
        validate(ResultsFile, data, str(path))
    except ConfigError as exc:
        shown = [f"  - {_short(problem)}" for problem in exc.problems[:MAX_PROBLEMS]]
        more = len(exc.problems) - len(shown)
        if more:
            shown.append(f"  … and {more} more")
        lines = "\n".join(shown)
        raise EdgesimError(
            f"{path}: not the results file edgesim writes (docs/results.md):\n{lines}"
        ) from None


def _short(problem: str, limit: int = 200) -> str:
    return problem if len(problem) <= limit else problem[: limit - 1] + "…"


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
