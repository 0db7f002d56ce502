"""Run every scheme of a scenario on fresh copies of one cluster, data split and initial model.

Each scheme gets its own SimPy environment, devices, network and recorder,
but the same partition, the same initial weights, the same batch order per
holder and the same failures, so the comparison is fair and the results are
a pure function of the scenario (host facts go to ``meta`` only).
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import math
import os
import platform
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
import torch

import edgesim
from edgesim import preflight
from edgesim.cluster import background
from edgesim.cluster.clock import Clock
from edgesim.cluster.device import Device
from edgesim.cluster.faults import (
    Outage,
    churn,
    correlated,
    departures,
    inject,
    merge,
    random_outages,
    read_trace,
)
from edgesim.cluster.network import Network
from edgesim.config import LoadedScenario
from edgesim.config.scenario import BackgroundTask, ObservedSubset, Scenario
from edgesim.config.schemes import SchemeSpec, scheme_label
from edgesim.errors import ConfigError, EdgesimError, did_you_mean
from edgesim.learning.batched import ClientBatcher
from edgesim.learning.datasets import Dataset, DataSplits, load_dataset
from edgesim.learning.flops import workload_of
from edgesim.learning.layers import layer_work_of
from edgesim.learning.models import build_model
from edgesim.learning.partition import scenario_partition, train_validation_split
from edgesim.learning.training import Optimizer
from edgesim.metrics.recorder import Recorder
from edgesim.metrics.results import DEVICES_MEAN, SCHEMA_VERSION, run_result
from edgesim.plugins import absolute
from edgesim.progress import SchemeProgress, Tracker
from edgesim.schemes import scheme_info
from edgesim.schemes.runtime import Holding, ModelKind, Runtime

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, float, float], None]
"""(run label, simulated time, accuracy) on each observation."""

OnProgress = Callable[[SchemeProgress], None]
"""How far the running scheme has got: on each observation and every :data:`TICK_EVERY` events."""

TICK_EVERY = 4096
"""Simulation events between two progress reports (a timing-only run observes nothing)."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run_scenario`: ``results`` holds the schemes that finished.

    It is a :class:`KeyboardInterrupt`, so a caller that does not look for it
    stops as before; ``edgesim run`` writes the partial results (``meta.interrupted``).
    """

    def __init__(self, results: dict[str, Any]):
        super().__init__("interrupted")
        self.results = results


@dataclass(frozen=True)
class Prepared:
    """What every scheme of a scenario shares."""

    holdings: dict[str, Holding]
    test: Dataset
    test_subsets: dict[str, Dataset]
    models: dict[str, ModelKind]
    outages: list[Outage]


def check_names(loaded: LoadedScenario) -> None:
    """Everything a run would reject beyond the schema, before any scheme starts.

    Names, data folder, labels, partition, scheme needs, trace: see
    :mod:`edgesim.preflight`, which ``edgesim validate`` runs too.
    """
    preflight.check(loaded)


def select_schemes(scenario: Scenario, names: list[str] | None) -> list[SchemeSpec]:
    """The schemes to run: all, or those whose scheme name or label is in ``names``."""
    if not names:
        return list(scenario.schemes)
    known = {s.scheme for s in scenario.schemes} | {scheme_label(s) for s in scenario.schemes}
    for name in names:
        if name not in known:
            raise EdgesimError(
                f"--scheme: '{name}' is not in this scenario{did_you_mean(name, known)}"
            )
    return [s for s in scenario.schemes if s.scheme in names or scheme_label(s) in names]


CUBLAS_WORKSPACE_CONFIG = ":4096:8"
"""cuBLAS's workspace setting for reproducible results (CUDA Toolkit docs, cuBLAS §2.1.4
"Results reproducibility"; torch's "Reproducibility" notes): read before the first cuBLAS
call, which :func:`torch.use_deterministic_algorithms` otherwise refuses on CUDA."""


def configure_torch(
    threads: int = 1, device: str = "cpu", environ: MutableMapping[str, str] | None = None
) -> dict[str, Any]:
    """Deterministic kernels on a fixed thread count, so accuracy does not depend on the host.

    On CUDA also: cuBLAS's workspace (``CUBLAS_WORKSPACE_CONFIG``, unless the user
    set it), cuDNN's deterministic algorithms without autotuning, and float32 kept
    IEEE float32 (no TF32 in matmuls and convolutions). Call it before the first
    CUDA kernel: cuBLAS reads its variable once. Returns the settings in force
    (the results' ``meta.torch_settings``).
    """
    environ = os.environ if environ is None else environ
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(threads)
    settings: dict[str, Any] = {"deterministic_algorithms": True, "threads": threads}
    if device == "cuda":
        environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE_CONFIG)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.backends.cuda.matmul.fp32_precision = "ieee"
        torch.backends.cudnn.conv.fp32_precision = "ieee"
        settings |= {
            "CUBLAS_WORKSPACE_CONFIG": environ["CUBLAS_WORKSPACE_CONFIG"],
            "cudnn_deterministic": True,
            "cudnn_benchmark": False,
            "fp32_precision": "ieee",
        }
    return settings


def accuracy_notes(torch_device: str, batch_clients: bool) -> list[str]:
    """Why accuracies may differ in the last bits from a CPU run's (the results' ``meta``).

    Empty for the default (CPU, sequential): then every host gives the same bits.
    Times, bytes and energy depend on neither, unless the protocol's timing depends
    on accuracy (the schemes a timing-only run refuses).
    """
    notes = []
    if torch_device == "cuda":
        notes.append(
            "cuda: deterministic on one GPU model, driver and torch version, but accuracies "
            "and weights are not bit-identical to a cpu run or to another GPU model "
            "(kernels sum in another order)"
        )
    if batch_clients:
        notes.append(
            "batch_clients: clients of one architecture trained together (torch.func.vmap); "
            "equal to sequential training within float rounding, not bit for bit"
        )
    return notes


def dataset_arguments(loaded: LoadedScenario) -> dict[str, Any]:
    """What :func:`load_data` passes to ``load_dataset``: the dataset name first, then its options.

    Two scenarios with the same arguments load the same data, so a sweep loads
    it once for all its runs that share them (edgesim.sweep.shared).
    """
    data = loaded.scenario.data
    return {
        "name": absolute(data.dataset, loaded.base_dir),
        "path": str((loaded.base_dir / data.path).resolve()) if data.path else None,
        "seed": loaded.scenario.seed,
        "test_fraction": data.test_fraction,
        "image_size": data.image_size,
        "grayscale": data.grayscale,
        "num_samples": data.synthetic.samples,
        "num_classes": data.synthetic.classes,
        "shape": data.synthetic.shape,
    }


def load_data(loaded: LoadedScenario) -> DataSplits:
    """The scenario's dataset, split and standardised; a data file's mistake names its field."""
    try:
        return load_dataset(**dataset_arguments(loaded))
    except ConfigError:
        raise
    except EdgesimError as exc:  # a data file the pre-flight could not judge from its header
        field = "data.path" if loaded.scenario.data.path else "data.dataset"
        raise ConfigError(loaded.source, [f"{field}: {exc}"]) from None


def prepare(loaded: LoadedScenario, splits: DataSplits | None = None) -> Prepared:
    """What the schemes share; ``splits``: the data :func:`load_data` gave, if loaded already."""
    scenario, fleet = loaded.scenario, loaded.fleet
    data = scenario.data
    if splits is None:
        splits = load_data(loaded)
    spec = data.partition
    parts = scenario_partition(loaded, splits.train.y.numpy())
    position = {holder: i for i, holder in enumerate(sorted(parts))}
    holdings = {}
    for holder, indices in sorted(parts.items()):
        # The server's copy of a device's samples is split like the device's own
        # (same validation samples), so "the same data" means the same training set.
        like = spec.server_copies if holder == fleet.server and spec.server_copies else holder
        rng = np.random.default_rng([scenario.seed, 0x7A11, position[like]])
        train_idx, val_idx = train_validation_split(indices, data.validation_fraction, rng)
        holdings[holder] = Holding(splits.train.subset(train_idx), splits.train.subset(val_idx))
    training = scenario.training
    layered = any(d.profile.layer_costs for d in fleet.devices)  # charged layer by layer
    models = {}
    for kind, field in (("main", "model"), ("small", "small_model")):
        name = absolute(getattr(training, field), loaded.base_dir)
        shape, classes = splits.train.input_shape, splits.train.num_classes
        try:
            workload = workload_of(name, shape, classes, training.batch_size)
            if layered:
                layers = layer_work_of(name, shape, classes, training.batch_size)
                workload = dataclasses.replace(workload, layers=layers)
            models[kind] = ModelKind(build_model(name, shape, classes, scenario.seed), workload)
        except EdgesimError as exc:  # a user's model that does not build
            raise ConfigError(loaded.source, [f"training.{field}: {exc}"]) from None
    subsets = observed_subsets(splits.test, scenario.observe.subsets)
    return Prepared(holdings, splits.test, subsets, models, outages_of(loaded))


def observed_subsets(test: Dataset, subsets: dict[str, ObservedSubset]) -> dict[str, Dataset]:
    """The named parts of the test set that ``observe.subsets`` asks to observe too."""
    parts = {}
    for name, subset in sorted(subsets.items()):
        rows = np.flatnonzero(np.isin(test.y.numpy(), subset.labels))
        if not len(rows):
            raise EdgesimError(
                f"observe.subsets.{name}.labels: no test sample has a label in {subset.labels}"
            )
        parts[name] = test.subset(rows)
    return parts


def outages_of(loaded: LoadedScenario) -> list[Outage]:
    scenario = loaded.scenario
    failures = scenario.failures
    outages = [
        Outage(o.at_s, o.at_s + o.duration_s, member)
        for o in failures.scheduled
        for member in scenario.members(o.target)
    ]
    if failures.random:
        spec = failures.random
        targets = [m for t in spec.targets for m in scenario.members(t)]
        outages += random_outages(targets, spec.mtbf_s, spec.mttr_s, spec.horizon_s, scenario.seed)
    for index, spec in enumerate(failures.departures):
        members = [m for t in spec.targets for m in scenario.members(t)]
        outages += departures(
            members, spec.fraction, spec.at_s, spec.spread_s, scenario.seed, index
        )
    if failures.departures and scenario.background and scenario.horizon_s is None:
        raise EdgesimError(
            "failures.departures with background tasks: set horizon_s (the tasks of the "
            "devices still up never stop, so a scheme waiting for a device that left never ends)"
        )
    for index, spec in enumerate(failures.churn):
        members = [m for t in spec.targets for m in scenario.members(t)]
        outages += churn(
            members, spec.availability, spec.mean_down_s, spec.horizon_s, scenario.seed, index
        )
    for index, spec in enumerate(failures.correlated):
        affected = {t: _taken_down_with(loaded, t) for t in spec.targets}
        outages += correlated(
            affected, spec.mtbf_s, spec.mttr_s, spec.horizon_s, scenario.seed, index
        )
    if failures.trace:
        known = set(scenario.device_ids()) | {g.id for g in scenario.devices}
        known |= {link.name for link in loaded.fleet.links}
        for outage in read_trace((loaded.base_dir / failures.trace).resolve()):
            if outage.target not in known:
                raise EdgesimError(
                    f"{failures.trace}: unknown device or link '{outage.target}'"
                    f"{did_you_mean(outage.target, known)}"
                )
            outages += [
                Outage(outage.start, outage.end, m) for m in scenario.members(outage.target)
            ]
    return merge(outages)


GC_THRESHOLDS = (100_000, 50, 1000)
"""Python's collector thresholds while a simulation runs (the defaults are 700, 10, 10)."""


@contextmanager
def rare_collections() -> Iterator[None]:
    """Collect cyclic garbage rarely while the clock runs.

    A run allocates millions of small objects that live to its end (events,
    spans, flows), so at the default thresholds the collector rescans them
    over and over: at 1 000 devices it took more than half of a timing-only
    run's wall time. Nothing simulated depends on when garbage is collected.
    """
    previous = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def run_until(
    env: Clock,
    until: simpy.Event,
    tasks: list[background.Background],
    on_tick: Callable[[], None] | None = None,
) -> bool:
    """Run until ``until`` is processed; False if nothing was left to happen before that.

    A protocol that waits for a device that left for good (an outage that never
    ends) has nothing left to do: the run ends at its last event, stalled,
    rather than raising or spinning forever. Background ``tasks`` never run
    out of events, so only they being left counts as nothing left too.
    ``on_tick`` is called every :data:`TICK_EVERY` events (progress; it only reads).
    """
    steps = 0
    while not until.processed:
        if env.peek() == math.inf or (tasks and background.only_background_left(env, tasks)):
            return False
        env.step()
        steps += 1
        if on_tick is not None and steps % TICK_EVERY == 0:
            on_tick()
    return True


def _stall(env: Clock, devices: dict[str, Device]) -> dict[str, Any]:
    """When a run stalled (its last progress), and the devices that were down then."""
    down = sorted(d for d, device in devices.items() if not device.up)
    reason = "nothing left to happen"
    if down:
        reason += f"; down and never back: {', '.join(down)}"
    return {"at_s": round(env.last_progress, 6), "reason": reason}


def _taken_down_with(loaded: LoadedScenario, target: str) -> list[str]:
    """A group's members, or the links of a network node (an access point going dark)."""
    if target in loaded.scenario.network.nodes:
        return [
            link.name for link in loaded.fleet.links if target in (link.edge_side, link.core_side)
        ]
    return loaded.scenario.members(target)


def background_task(spec: BackgroundTask) -> background.PeriodicTask:
    return background.PeriodicTask(
        period_s=spec.period_s,
        compute_s=spec.compute_s,
        deadline_s=spec.deadline_s,
        offset_s=spec.offset_s,
        policy=spec.policy,
    )


def run_scheme(
    loaded: LoadedScenario,
    prepared: Prepared,
    spec: SchemeSpec,
    torch_device: str = "cpu",
    on_accuracy: ProgressCallback | None = None,
    batch_clients: bool = False,
    on_progress: OnProgress | None = None,
) -> dict[str, Any]:
    """One scheme on a fresh cluster; returns its ``runs[]`` entry.

    ``batch_clients``: train clients of one architecture together
    (:class:`~edgesim.learning.batched.ClientBatcher`); the same timeline, bytes and
    energy, accuracies within float rounding of the default sequential training.
    """
    scenario, fleet = loaded.scenario, loaded.fleet
    label = scheme_label(spec)
    env = Clock(label=label)
    recorder = Recorder(
        min_observe_interval_s=scenario.observe.min_interval_s,
        keep_details=scenario.observe.timeline,
    )
    info = scheme_info(spec.scheme)
    primary = "global" if info.global_model else DEVICES_MEAN
    tracker = None
    if on_progress is not None:
        tracker = Tracker(label, spec, scenario.horizon_s, primary, recorder, on_progress)
    if on_accuracy is not None or tracker is not None:

        def observed(model: str, t: float, accuracy: float) -> None:
            if on_accuracy is not None:
                on_accuracy(label, t, accuracy)
            if tracker is not None:
                tracker.observed(model, t, accuracy)
                tracker.tick(t)

        recorder.on_accuracy = observed
    devices = {d.id: Device(env, d.id, d.profile, recorder) for d in fleet.devices}
    network = Network(
        env,
        devices,
        list(fleet.switches),
        list(fleet.links),
        recorder,
        fleet.server,
        model=scenario.network.model,
    )

    def go_down(target: str) -> None:
        if target in devices:
            devices[target].go_down()
            network.node_down(target)
        else:
            network.link_down(target)

    def come_up(target: str) -> None:
        if target in devices:
            devices[target].come_up()
            network.node_up(target)
        else:
            network.link_up(target)

    inject(env, prepared.outages, go_down, come_up)
    tasks = [
        background.start(env, devices[member], background_task(spec))
        for spec in scenario.background
        for member in scenario.members(spec.device)
    ]
    training = scenario.training
    optimizer = Optimizer(training.lr, training.momentum, training.weight_decay)
    batcher = None
    if batch_clients and not scenario.timing_only:
        batcher = ClientBatcher(optimizer, torch_device)
    runtime = Runtime(
        env=env,
        devices=devices,
        network=network,
        recorder=recorder,
        server=fleet.server,
        holdings=prepared.holdings,
        test=prepared.test,
        models=prepared.models,
        optimizer=optimizer,
        batch_size=training.batch_size,
        seed=scenario.seed,
        torch_device=torch_device,
        test_subsets=prepared.test_subsets,
        timing_only=scenario.timing_only,
        batcher=batcher,
    )
    if tracker is not None:
        tracker.planned_steps = info.steps_planned(runtime, spec)
    finished = env.process(info.start(runtime, spec))
    until = finished if scenario.horizon_s is None else finished | env.timeout(scenario.horizon_s)
    stalled = None
    with rare_collections():
        on_tick = None if tracker is None else lambda: tracker.tick(env.now)
        reached = run_until(env, until, tasks, on_tick)
    if not reached:
        stalled = _stall(env, devices)
        recorder.count("stalled")
        log.warning("%s stalled at %.6g s: %s", label, stalled["at_s"], stalled["reason"])
    end = env.now if stalled is None else env.last_progress
    for device in devices.values():
        device.finish(end)
    network.finish()
    runtime.finish(end)
    for task in tasks:
        task.close(end)
    recorder.end(end)
    if batcher is not None:
        log.info("%s: trainings batched, sequential, dropped: %s", label, batcher.counts)
    if tracker is not None:
        tracker.tick(end, finished=True)
    return run_result(
        scheme=spec.scheme,
        label=label,
        timing_only=scenario.timing_only,
        recorder=recorder,
        profiles={d.id: d.profile for d in fleet.devices},
        end=end,
        targets=list(scenario.targets),
        primary_curve=primary,
        stalled=stalled,
        timeline=scenario.observe.timeline,
    )


def scenario_summary(loaded: LoadedScenario, prepared: Prepared) -> dict[str, Any]:
    scenario, fleet = loaded.scenario, loaded.fleet
    training = scenario.training
    return {
        "name": scenario.name,
        "description": scenario.description,
        "seed": scenario.seed,
        "devices": [{"id": d.id, "profile": d.profile.name, "role": d.role} for d in fleet.devices],
        "links": [dataclasses.asdict(link) for link in fleet.links],
        "switches": list(fleet.switches),
        "data": scenario.data.model_dump(mode="json"),
        "training": training.model_dump(mode="json"),
        "model_bytes": {
            name: prepared.models[kind].workload.update_bytes
            for kind, name in (("main", training.model), ("small", training.small_model))
        },
        "targets": list(scenario.targets),
        "timing_only": scenario.timing_only,
        "schemes": [s.model_dump(mode="json") for s in scenario.schemes],
    }


def run_scenario(
    loaded: LoadedScenario,
    schemes: list[str] | None = None,
    torch_device: str = "cpu",
    on_accuracy: ProgressCallback | None = None,
    on_run_done: Callable[[dict[str, Any]], None] | None = None,
    data: DataSplits | None = None,
    batch_clients: bool = False,
    on_progress: OnProgress | None = None,
) -> dict[str, Any]:
    """All (or the named) schemes of a scenario → the results dict.

    ``batch_clients``: see :func:`run_scheme` (opt-in; ``meta.accuracy_notes`` says so).
    ``on_progress``: how far each scheme has got (:class:`~edgesim.progress.SchemeProgress`).
    Ctrl-C raises :class:`Interrupted` with the results of the schemes that
    finished, ``meta.interrupted`` true and ``meta.missing`` the labels of the others.

    ``data``: the scenario's dataset from :func:`load_data`, loaded by whoever
    also ran :func:`check_names` on this scenario (a sweep's driver, once for many
    runs on a Ray cluster). No data file is then read here, and neither are the
    checks repeated: they read the data files, which this machine may not have.
    """
    if data is None:
        check_names(loaded)
    selected = select_schemes(loaded.scenario, schemes)
    if torch_device == "cuda" and not torch.cuda.is_available():
        raise EdgesimError("--device cuda: no CUDA device is available on this host")
    settings, timing = {}, loaded.scenario.timing_only
    if not timing:  # takes no torch step; configuring imports a compiler
        settings = configure_torch(device=torch_device)
    wall_start = time.perf_counter()
    prepared = prepare(loaded, data)
    runs: list[dict[str, Any]] = []

    def results() -> dict[str, Any]:
        return _results(loaded, prepared, runs, torch_device, settings, batch_clients, wall_start)

    try:
        for spec in selected:
            log.info("running %s", scheme_label(spec))
            run = run_scheme(
                loaded, prepared, spec, torch_device, on_accuracy, batch_clients, on_progress
            )
            runs.append(run)
            if on_run_done is not None:
                on_run_done(run)
    except KeyboardInterrupt:
        partial = results()
        partial["meta"]["interrupted"] = True
        partial["meta"]["missing"] = [scheme_label(s) for s in selected[len(runs) :]]
        raise Interrupted(partial) from None
    return results()


def _results(
    loaded: LoadedScenario,
    prepared: Prepared,
    runs: list[dict[str, Any]],
    torch_device: str,
    settings: dict[str, Any],
    batch_clients: bool,
    wall_start: float,
) -> dict[str, Any]:
    """The results dict of the ``runs`` done so far (docs/results.md)."""
    timing = loaded.scenario.timing_only
    return {
        "schema_version": SCHEMA_VERSION,
        "scenario": scenario_summary(loaded, prepared),
        "runs": runs,
        "meta": {
            "edgesim_version": edgesim.__version__,
            "torch_version": torch.__version__,
            "python": platform.python_version(),
            "host": platform.node(),
            "torch_device": torch_device,
            "torch_settings": settings,
            "accuracy_notes": [] if timing else accuracy_notes(torch_device, batch_clients),
            "wall_time_s": round(time.perf_counter() - wall_start, 3),
        },
    }
