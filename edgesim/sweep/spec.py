"""The sweep file: a base scenario, a grid of changes to it (``vary``) and the seeds.

Loading expands the grid and checks every grid point as a scenario (schema,
references, failure targets), so a mistake anywhere in the grid is reported
before the first run starts. Every grid point × seed becomes a
:class:`RunTask`: plain data that any worker process or machine can run.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

import edgesim
from edgesim.config import from_model, looks_like_scenario, looks_like_sweep, validate_scenario
from edgesim.config.base import Strict
from edgesim.config.loading import validate
from edgesim.config.names import Name, PathText
from edgesim.config.numbers import Seed
from edgesim.config.scenario import Scenario
from edgesim.config.yaml_files import load_yaml
from edgesim.errors import ConfigError, EdgesimError
from edgesim.runner import check_names, outages_of
from edgesim.sweep.paths import set_path

Scalar = str | int | float | bool | None

MAX_POINTS = 10_000
"""Most grid points: each is a whole scenario, copied and checked before the first run."""

MAX_RUNS = 100_000
"""Most runs (grid points × seeds) of one sweep."""

MAX_COPIED_BYTES = 2 * 10**9
"""Most bytes of scenario the runs copy and fingerprint in all (each run carries its scenario)."""


class SweepFile(Strict):
    name: Name
    description: str = ""
    base: PathText | dict[str, Any] = Field(
        description="a scenario file (relative to the sweep file) or an inline scenario"
    )
    vary: dict[str, list[Any]] = Field(
        default_factory=dict, description="dotted path → the values it takes (a grid)"
    )
    seeds: list[Seed] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_RUNS,
        description="scenario seeds to run each point with",
    )
    ship_folder: bool = Field(
        default=False,
        description="Ray: send the base scenario's folder to each node once (its working_dir); "
        "relative paths in the scenario then resolve in that copy",
    )
    install: str | None = Field(
        default=None,
        description="Ray: how each node gets edgesim, if not installed there already: 'pip' "
        "(this version, from the nodes' package index) or a wheel file (relative to the sweep "
        "file) that Ray uploads",
    )

    @field_validator("install")
    @classmethod
    def _install(cls, install: str | None) -> str | None:
        if install is not None and install != "pip" and not install.endswith(".whl"):
            raise ValueError(f"install '{install}': expected 'pip' or the path of a .whl file")
        return install

    @field_validator("vary")
    @classmethod
    def _values(cls, vary: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for path, values in vary.items():
            if path == "seed":
                raise ValueError("vary 'seed': list the seeds under 'seeds:' instead")
            if not values:
                raise ValueError(f"vary '{path}': give at least one value")
            if len({_canonical(v) for v in values}) != len(values):
                raise ValueError(f"vary '{path}': values repeat")
        return vary

    @field_validator("vary")
    @classmethod
    def _grid_size(cls, vary: dict[str, list[Any]]) -> dict[str, list[Any]]:
        points = math.prod(len(values) for values in vary.values())
        if points > MAX_POINTS:
            raise ValueError(f"the grid has {points:,} points; at most {MAX_POINTS:,}")
        return vary

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, seeds: list[int] | None) -> list[int] | None:
        repeated = [seed for seed, n in Counter(seeds or ()).items() if n > 1]
        if repeated:
            raise ValueError(f"seeds must be distinct; {repeated[0]} is given twice")
        return seeds


@dataclass(frozen=True)
class Point:
    """One grid point: its stable id and the value of every varied path."""

    id: str
    values: dict[str, Any]


@dataclass(frozen=True)
class RunTask:
    """One independent run: a grid point's scenario with one seed, as plain data."""

    point: Point
    seed: int
    scenario: dict[str, Any]
    source: str
    base_dir: str
    fingerprint: str

    @property
    def id(self) -> str:
        return f"{self.point.id}-{self.seed}"


@dataclass(frozen=True)
class Sweep:
    spec: SweepFile
    source: str
    base_source: str
    points: list[Point]
    seeds: list[int]
    tasks: list[RunTask]

    @property
    def wheel(self) -> Path | None:
        """The wheel ``install`` names, resolved against the sweep file's folder."""
        install = self.spec.install
        if install is None or install == "pip":
            return None
        return (Path(self.source).parent / install).resolve()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def point_id(index: int, count: int, values: dict[str, Any]) -> str:
    """``p<index>-<8 hex>``: the index zero-padded to the grid's width, the hash of the values.

    The hash (SHA-256 of the values as canonical JSON) keeps a run file from
    being taken for another point's when the grid is edited between runs.
    """
    digest = hashlib.sha256(_canonical(values).encode()).hexdigest()[:8]
    return f"p{index:0{max(2, len(str(count - 1)))}d}-{digest}"


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file, expand its grid and check every point; EdgesimError if anything is off."""
    path = Path(path)
    source = str(path)
    data = load_yaml(path)
    if looks_like_scenario(data):
        raise ConfigError(
            source,
            [
                "(top level): this is a scenario file (it has 'devices:' and no 'base:'), "
                f"not a sweep; run it with: edgesim run {path}, or name it in a sweep's base:"
            ],
        )
    spec = validate(SweepFile, data, source)
    if isinstance(spec.base, str):
        base_path = path.parent / spec.base
        base, base_source, base_dir = (
            _base_file(base_path, source),
            str(base_path),
            base_path.parent,
        )
    else:
        base, base_source, base_dir = spec.base, f"{source}: base", path.parent
    where = base_source if base_source.startswith(source) else f"{base_source} (base of {source})"
    base_scenario = validate_scenario(base, where, base_dir)
    seeds = spec.seeds if spec.seeds is not None else [base_scenario.seed]
    runs = len(seeds) * math.prod(len(values) for values in spec.vary.values())
    if runs > MAX_RUNS:
        raise ConfigError(source, [f"seeds: {runs:,} runs (points × seeds); at most {MAX_RUNS:,}"])
    base_bytes = len(_canonical(base))
    if runs * base_bytes > MAX_COPIED_BYTES:
        raise ConfigError(
            source,
            [
                f"base: {runs:,} runs, each a copy of a {base_bytes:,}-byte base scenario, "
                f"would copy {runs * base_bytes / 1e9:,.1f} GB; at most {MAX_COPIED_BYTES / 1e9:g} "
                "GB (a smaller base or fewer runs)"
            ],
        )

    paths = list(spec.vary)
    combos = list(itertools.product(*(spec.vary[p] for p in paths)))
    problems: list[str] = []
    points, scenarios = [], []
    for index, combo in enumerate(combos):
        values = dict(zip(paths, combo, strict=True))
        point = Point(point_id(index, len(combos), values), values)
        data = copy.deepcopy(base)
        try:
            for key, value in values.items():
                set_path(data, key, copy.deepcopy(value), Scenario)
        except EdgesimError as exc:
            raise EdgesimError(f"{source}: vary {exc}") from None
        problems += _check(data, f"point {point.id} ({_describe(values)})", base_dir)
        points.append(point)
        scenarios.append(data)
    if problems:
        raise ConfigError(source, problems)

    tasks = []
    for point, data in zip(points, scenarios, strict=True):
        for seed in seeds:
            scenario = {**data, "seed": seed}
            fingerprint = hashlib.sha256(_canonical(scenario).encode()).hexdigest()
            tasks.append(
                RunTask(point, seed, scenario, base_source, str(base_dir.resolve()), fingerprint)
            )
    sweep = Sweep(spec, source, base_source, points, seeds, tasks)
    if sweep.wheel is not None:
        _check_wheel(sweep.wheel, source)
    return sweep


def _check_wheel(wheel: Path, source: str) -> None:
    """``install``'s wheel exists and is this edgesim (its file name says: PEP 427).

    Workers of another version would give other results under the same run file names.
    """
    if not wheel.is_file():
        raise ConfigError(
            source,
            [
                f"install: no file {wheel}; build the wheel with: "
                "python -m pip wheel --no-deps -w dist PATH-OF-EDGESIM"
            ],
        )
    name, version = (wheel.name.split("-") + ["", ""])[:2]
    if name.lower() != "edgesim" or version != edgesim.__version__:
        raise ConfigError(
            source,
            [
                f"install: {wheel.name} is not a wheel of edgesim {edgesim.__version__}, "
                "the version running this sweep (its name should begin "
                f"edgesim-{edgesim.__version__}-)"
            ],
        )


def _base_file(base_path: Path, source: str) -> Any:
    """The base scenario's YAML; a mistake names the sweep file and its ``base:`` field."""
    try:
        base = load_yaml(base_path)
    except EdgesimError as exc:
        raise EdgesimError(f"{source}: base: {exc}") from None
    if looks_like_sweep(base):
        raise EdgesimError(f"{source}: base: {base_path} is a sweep file; base names a scenario")
    return base


def _describe(values: dict[str, Any]) -> str:
    """A grid point in a message: each value cut to 60 characters (a value may be a whole list)."""
    shown = []
    for key, value in values.items():
        text = _canonical(value)
        shown.append(f"{key}={text if len(text) <= 60 else text[:60] + '…'}")
    return ", ".join(shown) or "the base scenario"


def _check(data: dict[str, Any], where: str, base_dir: Path) -> list[str]:
    """Every problem of one point's scenario, each prefixed with ``where``."""
    try:
        loaded = from_model(validate_scenario(data, where, base_dir), where, base_dir)
        check_names(loaded)
        outages_of(loaded)
    except ConfigError as exc:
        return [f"{where}: {p}" for p in exc.problems]
    except EdgesimError as exc:
        return [f"{where}: {exc}"]
    return []
