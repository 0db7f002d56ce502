"""Scenario and profile configuration: schemas, YAML loading, reference checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgesim.config.fleet import Fleet, resolve_fleet
from edgesim.config.loading import validate
from edgesim.config.scenario import Scenario
from edgesim.config.yaml_files import load_yaml


@dataclass(frozen=True)
class LoadedScenario:
    scenario: Scenario
    fleet: Fleet
    source: str
    base_dir: Path


def load_scenario(path: str | Path) -> LoadedScenario:
    """Read, validate and resolve a scenario file; every user mistake is an EdgesimError."""
    path = Path(path)
    scenario = validate(Scenario, load_yaml(path), str(path))
    return from_model(scenario, str(path), path.parent)


def from_model(scenario: Scenario, source: str, base_dir: Path) -> LoadedScenario:
    return LoadedScenario(scenario, resolve_fleet(scenario, source, base_dir), source, base_dir)
