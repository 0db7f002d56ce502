"""Scenario and profile configuration: schemas, YAML loading, reference checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgesim.config.fleet import Fleet, resolve_fleet
from edgesim.config.loading import validate
from edgesim.config.scenario import Scenario
from edgesim.config.schemes import with_plugin_schemes
from edgesim.config.yaml_files import load_yaml
from edgesim.errors import ConfigError


@dataclass(frozen=True)
class LoadedScenario:
    scenario: Scenario
    fleet: Fleet
    source: str
    base_dir: Path


def load_scenario(
    path: str | Path, seed: int | None = None, timing_only: bool = False
) -> LoadedScenario:
    """Read, validate and resolve a scenario file; every user mistake is an EdgesimError.

    ``seed`` (the command line's ``--seed``) replaces the file's before
    validation, so it is held to the same range; errors then name both.
    ``timing_only`` (``--timing-only``) turns the file's ``timing_only`` on, so
    the schemes that cannot run without accuracy are refused as for the file's own.
    """
    return scenario_from_yaml(load_yaml(Path(path)), Path(path), seed, timing_only)


def scenario_from_yaml(
    data: Any, path: Path, seed: int | None = None, timing_only: bool = False
) -> LoadedScenario:
    """:func:`load_scenario` for a file already read (``edgesim validate`` reads it once)."""
    source = str(path)
    if looks_like_sweep(data):
        raise ConfigError(
            source,
            [
                "(top level): this is a sweep file (it has 'base:' and no 'devices:'), "
                f"not a scenario; run it with: edgesim sweep {path}"
            ],
        )
    if seed is not None and isinstance(data, dict):
        data, source = {**data, "seed": seed}, f"{path} (with --seed {seed})"
    if timing_only and isinstance(data, dict):
        data, source = {**data, "timing_only": True}, f"{source} (with --timing-only)"
    return from_model(validate_scenario(data, source, path.parent), source, path.parent)


def validate_scenario(data: Any, source: str, base_dir: Path) -> Scenario:
    """Validate scenario data, its user schemes (named by reference) registered first."""
    return validate(Scenario, with_plugin_schemes(data, base_dir, source), source)


def looks_like_sweep(data: Any) -> bool:
    """A sweep file names a ``base:`` scenario where a scenario lists its ``devices:``."""
    return isinstance(data, dict) and "base" in data and "devices" not in data


def looks_like_scenario(data: Any) -> bool:
    return isinstance(data, dict) and "devices" in data and "base" not in data


def from_model(scenario: Scenario, source: str, base_dir: Path) -> LoadedScenario:
    return LoadedScenario(scenario, resolve_fleet(scenario, source, base_dir), source, base_dir)
