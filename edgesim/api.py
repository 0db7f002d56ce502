"""edgesim from Python: ``edgesim.run(...)`` and ``edgesim.sweep(...)`` for notebooks and scripts.

The same checks, the same simulation and the same files as ``edgesim run`` and
``edgesim sweep`` (docs/python-api.md), returned as dataclasses whose tables
are pandas DataFrames. A user's mistake raises :class:`EdgesimError`; nothing
here prints or exits. Torch, the runner and the sweep machinery are imported
when a run starts, so ``import edgesim`` stays light.
"""

from __future__ import annotations

import importlib
import inspect
import os
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from edgesim import tables
from edgesim.config.loading import checked, shown
from edgesim.config.names import PathText
from edgesim.config.numbers import MAX_JOBS, Seed
from edgesim.errors import EdgesimError, did_you_mean
from edgesim.io import claim_outputs, write_json_atomic
from edgesim.report.facts import Stall, stall

if TYPE_CHECKING:
    import pandas

    from edgesim.config import LoadedScenario
    from edgesim.config.scenario import Scenario
    from edgesim.sweep import Sweep

DEVICES = ("cpu", "cuda")
"""Where torch runs, as ``edgesim run --device``."""


@dataclass(frozen=True)
class Run:
    """One scheme's run: the main numbers of its summary row (docs/results.md, ``runs[]``)."""

    label: str
    scheme: str
    primary_curve: str
    final_accuracy: float | None
    time_to_accuracy_s: dict[float, float | None]
    sim_time_s: float
    bytes_total: int
    raw_data_bytes: int
    mean_wait_s: float
    energy_j: float
    stalled: Stall | None
    counters: dict[str, float]


@dataclass(frozen=True)
class Results:
    """A scenario's results: ``raw`` is exactly what ``results.json`` holds.

    The tables are built from ``raw`` on each access (a fresh DataFrame each time).
    """

    raw: dict[str, Any] = field(repr=False)
    runs: list[Run]
    out: Path | None = None
    """The folder results.json, report.html (and the CSV tables) were written to, if any."""

    @classmethod
    def of(cls, raw: dict[str, Any], out: Path | None = None) -> Results:
        """Results of a results dict: one just run, or a ``results.json`` read back."""
        targets = list(raw["scenario"]["targets"])
        return cls(raw, [_run(run, targets) for run in raw["runs"]], out)

    @property
    def summary(self) -> pandas.DataFrame:
        """One row per run (:func:`edgesim.tables.summary`)."""
        return tables.to_frame(tables.summary(self.raw))

    @property
    def curves(self) -> pandas.DataFrame:
        """One row per accuracy observation (:func:`edgesim.tables.curves`)."""
        return tables.to_frame(tables.curves(self.raw))

    @property
    def devices(self) -> pandas.DataFrame:
        """One row per run × device (:func:`edgesim.tables.devices`)."""
        return tables.to_frame(tables.devices(self.raw))

    @property
    def timeline(self) -> pandas.DataFrame:
        """One row per span (:func:`edgesim.tables.timeline`)."""
        return tables.to_frame(tables.timeline(self.raw))


@dataclass(frozen=True)
class SweepResults:
    """A finished sweep: ``raw`` is exactly ``sweep.json``; ``table`` one row per run × scheme."""

    raw: dict[str, Any] = field(repr=False)
    table: tables.Table = field(repr=False)
    out: Path
    skipped: int
    """Runs already finished in ``out`` (not run again)."""

    @property
    def summary(self) -> pandas.DataFrame:
        """Grid values, seed and summary columns, one row per run × scheme (``runs.csv``)."""
        return tables.to_frame(self.table)


def _run(run: dict[str, Any], targets: list[float]) -> Run:
    row = tables.summary_row(run, targets)
    return Run(
        label=row["label"],
        scheme=row["scheme"],
        primary_curve=row["primary_curve"],
        final_accuracy=row["final_accuracy"],
        time_to_accuracy_s={t: row[tables.time_to_column(t)] for t in targets},
        sim_time_s=row["sim_time_s"],
        bytes_total=row["bytes_total"],
        raw_data_bytes=row["raw_data_bytes"],
        mean_wait_s=row["mean_wait_s"],
        energy_j=row["energy_j"],
        stalled=stall(run),
        counters=dict(run["counters"]),
    )


def _folder(out: str | os.PathLike[str]) -> Path:
    return Path(checked("out", PathText, os.fspath(out), strict=True))


def _loaded(
    scenario: str | os.PathLike[str] | dict[str, Any] | Scenario,
    seed: int | None = None,
    timing_only: bool | None = None,
) -> LoadedScenario:
    """A scenario file, a mapping written like one, or a ``Scenario``, validated and resolved.

    A mapping is checked exactly as a file is (relative paths in it are from
    the working directory); ``seed`` and ``timing_only`` replace the scenario's
    before that, so a scheme that cannot run timing-only is refused as in a file.
    """
    from edgesim.config import (
        from_model,
        looks_like_sweep,
        scenario_from_yaml,
        validate_scenario,
    )
    from edgesim.config.scenario import Scenario
    from edgesim.config.yaml_files import load_yaml

    if timing_only is not None:
        timing_only = checked("timing_only", bool, timing_only, strict=True)
    if isinstance(scenario, (str, os.PathLike)):
        path = Path(scenario)
        data = load_yaml(path)
        if timing_only is not None and isinstance(data, dict):
            data = {**data, "timing_only": timing_only}
        return scenario_from_yaml(data, path, seed)
    if isinstance(scenario, Scenario):
        update: dict[str, Any] = {}
        if seed is not None:
            update["seed"] = checked("seed", Seed, seed, strict=True)
        if timing_only is not None:
            update["timing_only"] = timing_only
        return from_model(scenario.model_copy(update=update), "<Scenario>", Path.cwd())
    if isinstance(scenario, dict):
        given = {k: v for k, v in (("seed", seed), ("timing_only", timing_only)) if v is not None}
        source = "<dict>" + "".join(f" (with {k}={v})" for k, v in given.items())
        if looks_like_sweep(scenario):
            raise EdgesimError(f"{source}: this is a sweep (it has 'base:'); use edgesim.sweep")
        data = {**scenario, **given}
        return from_model(validate_scenario(data, source, Path.cwd()), source, Path.cwd())
    raise EdgesimError(
        "scenario: expected a path to a scenario file, a dict or an edgesim Scenario, "
        f"got {type(scenario).__name__}"
    )


def run(
    scenario: str | os.PathLike[str] | dict[str, Any] | Scenario,
    *,
    schemes: str | list[str] | None = None,
    seed: int | None = None,
    timing_only: bool | None = None,
    device: str = "cpu",
    batch_clients: bool = False,
    out: str | os.PathLike[str] | None = None,
    force: bool = False,
    csv: bool = False,
) -> Results:
    """Run the scenario's schemes (all, or those named by scheme or label), as ``edgesim run``.

    ``timing_only`` replaces the scenario's ``timing_only`` (``None`` keeps it): True
    runs as ``--timing-only`` (same clock, bytes and energy, no torch step, no
    accuracy), False trains for real even if the file says otherwise.
    ``batch_clients`` is ``--batch-clients``: clients of one model trained together
    (same timeline; accuracies within float rounding, ``meta.accuracy_notes``).
    With ``out``, writes ``results.json`` and ``report.html`` there (and, with
    ``csv``, the tables as CSV), never over an input or a file edgesim did not
    write unless ``force``; the outputs are claimed before the run starts.
    """
    from edgesim.report.html import render_report
    from edgesim.runner import run_scenario

    names = [schemes] if isinstance(schemes, str) else schemes
    if names is not None:  # a list or a tuple of names
        names = checked("schemes", Annotated[list[str], Field(min_length=1)], names)
    if csv and out is None:
        raise EdgesimError("csv=True writes the tables into out: give out a folder")
    if device not in DEVICES:
        raise EdgesimError(f"device: unknown device {shown(device)}{did_you_mean(device, DEVICES)}")
    loaded = _loaded(scenario, seed, timing_only)
    folder = None if out is None else _folder(out)
    if folder is not None:
        inputs = (Path(scenario),) if isinstance(scenario, (str, os.PathLike)) else ()
        claim_outputs([folder / "results.json", folder / "report.html"], inputs, force)
        tables.claim_csv(tables.csv_paths(folder) if csv else [], inputs, force)
    batch_clients = checked("batch_clients", bool, batch_clients, strict=True)
    raw = run_scenario(loaded, schemes=names, torch_device=device, batch_clients=batch_clients)
    if folder is not None:
        write_json_atomic(folder / "results.json", raw)
        render_report(raw, folder / "report.html")
        if csv:
            tables.write_run_csv(raw, folder)
    return Results.of(raw, folder)


def sweep_table(sweep: Sweep, out: Path) -> tables.Table:
    """The finished runs of ``sweep`` in ``out``, one row per run × scheme (``runs.csv``)."""
    from edgesim.sweep.store import read_run

    files = [data for task in sweep.tasks if (data := read_run(out, task)) is not None]
    return tables.sweep_runs(list(sweep.spec.vary), files)


def sweep(
    path: str | os.PathLike[str],
    *,
    jobs: int | None = None,
    backend: str = "local",
    address: str | None = None,
    out: str | os.PathLike[str] | None = None,
    force: bool = False,
    csv: bool = False,
) -> SweepResults:
    """Run a sweep file as ``edgesim sweep`` does: resumable, into ``out`` (default reports/<name>).

    Writes the run files, ``sweep.json``, ``report.html`` (and, with ``csv``,
    ``runs.csv``). If any run failed, raises once the rest are done and
    aggregated: :class:`EdgesimError` for a mistake in the sweep, RuntimeError
    (with the first traceback) for a bug in edgesim.
    """
    from edgesim.report.sweep import render_sweep_report
    from edgesim.sweep import default_jobs, load_sweep, run_sweep, summarize

    if jobs is not None:
        checked("jobs", Annotated[int, Field(ge=1, le=MAX_JOBS)], jobs, strict=True)
    if address and backend != "ray":
        raise EdgesimError("address is for backend='ray'")
    loaded = load_sweep(path)
    folder = _folder(out) if out is not None else Path("reports") / loaded.spec.name
    inputs = (Path(path),)
    claim_outputs([folder / "sweep.json", folder / "report.html"], inputs, force)
    tables.claim_csv([folder / tables.SWEEP_CSV] if csv else [], inputs, force)
    jobs = jobs if jobs or backend == "ray" else default_jobs()
    outcome = run_sweep(loaded, folder, backend, jobs, address)
    raw = summarize(loaded, folder)
    render_sweep_report(raw, folder / "report.html")
    table = sweep_table(loaded, folder)
    if csv:
        tables.write_csv(folder / tables.SWEEP_CSV, table)
    if outcome.failed:
        failed = ", ".join(f.task_id for f in outcome.failed)
        message = f"{len(outcome.failed)} of {outcome.total} runs failed ({failed})"
        if outcome.bugs:
            first = outcome.bugs[0]
            raise RuntimeError(f"a bug in edgesim: {message}; {first.task_id}:\n{first.traceback}")
        first = outcome.failed[0]
        raise EdgesimError(
            f"{message}; rerun to retry only those. First error, {first.task_id}: {first.message}"
        )
    return SweepResults(raw, table, folder, outcome.skipped)


class _CallableSweep(types.ModuleType):
    """The ``edgesim.sweep`` subpackage, which is also the function :func:`sweep`."""

    def __call__(self, *args: Any, **kwargs: Any) -> SweepResults:
        return sweep(*args, **kwargs)


class Package(types.ModuleType):
    """The ``edgesim`` package, whose ``sweep`` is both the subpackage and :func:`sweep`.

    Importing a subpackage binds it as an attribute of its parent, so a plain
    function ``edgesim.sweep`` would be replaced by the subpackage the moment
    anything imported ``edgesim.sweep.driver``. Instead the subpackage itself
    is made callable: ``edgesim.sweep("x.yaml")``, ``from edgesim.sweep import
    load_sweep`` and ``import edgesim.sweep.worker`` all work, in any order.
    """

    @property
    def sweep(self) -> types.ModuleType:
        module = importlib.import_module("edgesim.sweep")
        if not isinstance(module, _CallableSweep):
            module.__class__ = _CallableSweep
            module.__signature__ = inspect.signature(sweep)  # type: ignore[attr-defined]
        return module

    @sweep.setter
    def sweep(self, module: types.ModuleType) -> None:
        """The import system binding the subpackage: the getter returns it from sys.modules."""

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), "sweep"})
