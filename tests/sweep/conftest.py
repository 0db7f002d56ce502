"""A small sweep over the tiny scenario: 2 grid points × 2 seeds of one fast scheme."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml


def tiny_base() -> dict[str, Any]:
    from tests.conftest import TINY

    base = copy.deepcopy(TINY)
    base["failures"] = {"departures": [{"targets": ["nano", "pi"], "fraction": 0.0, "at_s": 0.1}]}
    base["schemes"] = [{"scheme": "fedavg", "rounds": 3, "round_deadline_s": 1.0}]
    return base


def write_sweep(
    folder: Path, vary: dict[str, list[Any]] | None = None, seeds: list[int] | None = None
) -> Path:
    """A sweep file (its base scenario in base.yaml beside it) in ``folder``."""
    (folder / "base.yaml").write_text(yaml.safe_dump(tiny_base()), encoding="utf-8")
    sweep = {
        "name": "tiny-sweep",
        "base": "base.yaml",
        "vary": vary if vary is not None else {"failures.departures[0].fraction": [0.0, 0.67]},
        "seeds": seeds if seeds is not None else [0, 1],
    }
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def sweep_file(tmp_path: Path):
    """Write a sweep into tmp_path and return the sweep file's path."""
    return lambda vary=None, seeds=None: write_sweep(tmp_path, vary, seeds)
