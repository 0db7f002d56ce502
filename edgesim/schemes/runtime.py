"""The small facade a scheme is written against: train, evaluate, send, wait, observe.

A scheme reads as its paper's protocol because every mechanism lives here: the
cost model turns real torch steps into simulated seconds on the right device,
the network charges real bytes, failures surface as :class:`DeviceDown` /
:class:`TransferAborted`, and the recorder keeps the timeline. Observing test
accuracy is the experimenter looking in: it costs no simulated time.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass

import simpy
import torch
from torch import nn

from edgesim.cluster.costs import eval_time, layered_time, step_time
from edgesim.cluster.device import Device, DeviceDown
from edgesim.cluster.flows import TransferAborted
from edgesim.cluster.network import Network
from edgesim.config.profiles import DeviceProfile
from edgesim.learning.batched import ClientBatcher
from edgesim.learning.datasets import Dataset
from edgesim.learning.distill import distill_steps
from edgesim.learning.flops import Workload
from edgesim.learning.layers import layers_at
from edgesim.learning.pool import ModelPool
from edgesim.learning.training import (
    PLAIN,
    BatchStream,
    LocalUpdate,
    Optimizer,
    evaluate,
    train_steps,
)
from edgesim.learning.weights import SizeOnly, StateDict, clone_state, state_nbytes
from edgesim.metrics.recorder import Recorder
from edgesim.types import DeviceId, SimTime

Process = Generator[simpy.Event, object, object]

EVAL_BATCH = 256
"""Batch size of a protocol's own evaluation pass (validation is forward-only)."""


@dataclass(frozen=True)
class Holding:
    """The data one participant holds: training samples and local validation samples."""

    train: Dataset
    validation: Dataset


@dataclass(frozen=True)
class ModelKind:
    """One model architecture of a run: its initial weights and what a step costs."""

    initial: nn.Module
    workload: Workload


class StandInModel:
    """A model of a timing-only run: what its steps cost and its size on the wire, no weights.

    Weights loaded into it are dropped (they are a :class:`SizeOnly` anyway); it has
    no parameters, so a :class:`LocalUpdate` anchored at it holds nothing.
    """

    def __init__(self, workload: Workload, state: SizeOnly):
        self.edgesim_workload = workload
        self._state = state

    def state_dict(self) -> SizeOnly:
        return self._state

    def load_state_dict(self, state: object) -> None:
        """Nothing to keep: a timing-only run's weights are only their size."""

    def parameters(self) -> list[nn.Parameter]:
        return []


def training_seconds(profile: DeviceProfile, workload: Workload, sizes: list[int]) -> float:
    """Simulated seconds of training steps on batches of the given sizes."""
    return sum(
        count * _step_seconds(profile, workload, size)
        for size, count in sorted(Counter(sizes).items())
    )


def _step_seconds(profile: DeviceProfile, workload: Workload, size: int) -> float:
    if profile.layer_costs is None:
        return step_time(profile, *workload.train_step_at(size))
    return layered_time(profile, "train", _layers(workload, "train", size))


def forward_seconds(profile: DeviceProfile, workload: Workload, samples: int, batch: int) -> float:
    """Simulated seconds of a forward pass over ``samples`` in batches of ``batch``."""
    if profile.layer_costs is not None:
        full, rest = divmod(samples, batch)
        seconds = full * layered_time(profile, "eval", _layers(workload, "eval", batch))
        if rest:
            seconds += layered_time(profile, "eval", _layers(workload, "eval", rest))
        return seconds
    return eval_time(
        profile,
        samples,
        batch,
        workload.eval_sample_flops,
        workload.eval_sample_bytes,
        workload.parameter_bytes,
    )


def _layers(workload: Workload, kind: str, batch: int) -> tuple[tuple[str, float, float], ...]:
    if not workload.layers:
        raise RuntimeError("a profile with layer_costs needs the workload's layers (prepare)")
    return layers_at(workload.layers, kind, batch, workload.batch_size)


def workload_of(model: nn.Module) -> Workload:
    """The cost of ``model``'s steps, attached when :meth:`Runtime.new_model` made it."""
    try:
        return model.edgesim_workload
    except AttributeError:
        raise TypeError("models must come from Runtime.new_model / model_from") from None


class Runtime:
    def __init__(
        self,
        env: simpy.Environment,
        devices: dict[DeviceId, Device],
        network: Network,
        recorder: Recorder,
        server: DeviceId | None,
        holdings: dict[DeviceId, Holding],
        test: Dataset,
        models: dict[str, ModelKind],
        optimizer: Optimizer,
        batch_size: int,
        seed: int,
        torch_device: str = "cpu",
        test_subsets: dict[str, Dataset] | None = None,
        timing_only: bool = False,
        batcher: ClientBatcher | None = None,
    ):
        self.env = env
        self.seed = seed
        self.devices = devices
        self.network = network
        self.recorder = recorder
        self.server = server
        self.clients = [d for d in devices if d != server]
        self.holdings = holdings
        self.test = test
        self.test_subsets = test_subsets or {}
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.torch_device = torch_device
        self.models = models
        self.timing_only = timing_only
        self.batcher = batcher  # opt-in: clients' torch work batched (edgesim.learning.batched)
        self._stand_ins = {
            kind: StandInModel(spec.workload, SizeOnly(state_nbytes(spec.initial.state_dict())))
            for kind, spec in (models.items() if timing_only else ())
        }
        self._pools = {
            kind: ModelPool(spec.initial, torch_device)
            for kind, spec in (() if timing_only else models.items())
        }
        self._waits: dict[object, tuple[DeviceId, SimTime, str]] = {}
        self._streams = {
            holder: BatchStream(holding.train, batch_size, self.generator_for(holder, "batches"))
            for holder, holding in sorted(holdings.items())
            if len(holding.train)
        }

    def generator_for(self, holder: DeviceId, purpose: str) -> torch.Generator:
        """A torch generator derived from the scenario seed, the holder and the purpose."""
        digest = hashlib.sha256(f"{self.seed}/{holder}/{purpose}".encode()).digest()
        return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))

    @property
    def now(self) -> SimTime:
        return self.env.now

    # ------------------------------------------------------------------ models

    def new_model(self, kind: str = "main") -> nn.Module:
        """A ``kind`` model with the run's initial weights (the same for every scheme).

        ``main`` is ``training.model`` (the global/large model); ``small`` is
        ``training.small_model`` (the distilled model of seeds 003/004). A model
        nothing refers to any more is lent again (:class:`ModelPool`), so a
        thousand clients' rounds reuse the modules of the clients before them.
        """
        return self._lend(kind)

    def model_from(self, state: StateDict, kind: str = "main") -> nn.Module:
        """A ``kind`` model holding ``state`` (loaded as ``load_state_dict`` would)."""
        return self._lend(kind, state)

    def _lend(self, kind: str, state: StateDict | None = None) -> nn.Module:
        if self.timing_only:
            return self._stand_ins[kind]  # holds no weights, so one serves every copy
        model = self._pools[kind].take(state)
        model.edgesim_workload = self.models[kind].workload  # what one step of it costs a device
        return model

    # ------------------------------------------------------------------ compute

    def steps_per_epoch(self, holder: DeviceId, data: Dataset | None = None) -> int:
        size = len(data if data is not None else self.holdings[holder].train)
        return max(1, -(-size // self.batch_size))

    def train(
        self,
        device_id: DeviceId,
        model: nn.Module,
        steps: int,
        detail: str = "",
        update: LocalUpdate = PLAIN,
    ) -> Process:
        """Charge ``steps`` training steps to the device, then take them for real on its data.

        If the device goes down first, nothing is applied (the work is lost).
        ``update`` changes the local objective (:class:`LocalUpdate`); its extra
        arithmetic (a proximal term: one pass over the weights) is not charged,
        being small beside a step's forward and backward passes.
        """
        return self.train_on(device_id, model, self._streams[device_id], steps, detail, update)

    def train_on(
        self,
        device_id: DeviceId,
        model: nn.Module,
        batches: BatchStream,
        steps: int,
        detail: str = "",
        update: LocalUpdate = PLAIN,
    ) -> Process:
        """:meth:`train` on ``batches``; with a :class:`ClientBatcher`, trained with others.

        The batcher registers the training as its compute begins and applies the
        result when it ends, having trained every client begun by then together
        (see :class:`~edgesim.learning.batched.ClientBatcher`); a failed compute
        drops it. Without one (the default) the steps are taken here, as always.
        """
        device = self.devices[device_id]
        seconds = training_seconds(
            device.profile, workload_of(model), batches.upcoming_sizes(steps)
        )
        job = (
            None
            if self.timing_only or not self.batcher
            else self.batcher.begin(model, batches, steps, update)
        )
        try:
            yield from device.compute(seconds, detail or f"train {steps} steps")
        except BaseException:
            if job is not None:
                self.batcher.drop(job)
            raise
        self.recorder.count("train_steps", steps)
        if self.timing_only:
            batches.skip(steps)
            return math.nan
        if job is not None:
            return self.batcher.finish(job)
        return train_steps(model, batches, steps, self.optimizer, self.torch_device, update)

    def train_epoch(self, device_id: DeviceId, model: nn.Module, detail: str) -> Process:
        """One epoch over the device's own data, retried from the start after a failure.

        The work in progress when the device goes down is lost; the epoch
        restarts once it is back (see :meth:`persist`).
        """
        steps = self.steps_per_epoch(device_id)
        return (yield from self.persist([device_id], self.train, device_id, model, steps, detail))

    def distill(
        self,
        device_id: DeviceId,
        student: nn.Module,
        teacher: nn.Module,
        steps: int,
        detail: str = "",
        temperature: float = 3.0,
        hard_label_weight: float = 0.0,
        data_of: DeviceId | None = None,
    ) -> Process:
        """Charge ``steps`` distillation steps to the device, then distil for real.

        One step costs a training step of the student plus the teacher's forward
        pass over the same samples. Batches come from the data ``data_of``
        holds (default: the device's own). If the device goes down first,
        nothing is applied.
        """
        device = self.devices[device_id]
        batches = self._streams[data_of or device_id]
        sizes = batches.upcoming_sizes(steps)
        seconds = training_seconds(device.profile, workload_of(student), sizes) + sum(
            forward_seconds(device.profile, workload_of(teacher), size, size) for size in sizes
        )
        yield from device.compute(seconds, detail or f"distil {steps} steps")
        self.recorder.count("distill_steps", steps)
        if self.timing_only:
            batches.skip(steps)
            return math.nan
        return distill_steps(
            student,
            teacher,
            batches,
            steps,
            self.optimizer,
            temperature,
            hard_label_weight,
            self.torch_device,
        )

    def validate(self, device_id: DeviceId, model: nn.Module, detail: str = "") -> Process:
        """Accuracy on the device's own validation data, as part of a protocol (charged).

        NaN in a timing-only run: every comparison with it is false, so a protocol
        that decides by it must be refused there (its registry flag says so).
        """
        data = self.holdings[device_id].validation
        device = self.devices[device_id]
        yield from device.compute(
            forward_seconds(device.profile, workload_of(model), len(data), EVAL_BATCH),
            detail or "validate",
        )
        return math.nan if self.timing_only else evaluate(model, data, self.torch_device)

    # ------------------------------------------------------------------ network

    def send(
        self, src: DeviceId, dst: DeviceId, nbytes: int, what: str, raw_data: bool = False
    ) -> Process:
        yield from self.network.transfer(src, dst, nbytes, what, raw_data)

    def send_model(self, src: DeviceId, dst: DeviceId, model: nn.Module, what: str) -> Process:
        """Send a model's weights; returns them as received (the sender keeps its own model)."""
        return (yield from self.send_state(src, dst, model.state_dict(), what))

    def send_state(self, src: DeviceId, dst: DeviceId, state: StateDict, what: str) -> Process:
        """Send weights (their real tensor bytes); returns the receiver's copy."""
        snapshot = clone_state(state)
        yield from self.network.transfer(src, dst, state_nbytes(snapshot), what)
        return snapshot

    # ------------------------------------------------------------------ availability

    def reachable(self, parties: list[DeviceId]) -> bool:
        """Every party is up and the first can reach each of the others over links that are up."""
        first, *others = parties
        if not self.devices[first].up:
            return False
        return all(self.network.reachable(first, other) for other in others)

    def await_parties(self, parties: list[DeviceId], detail: str) -> Process:
        """Block until every party is up and reachable; the first party waited meanwhile.

        The first party is the one that needs the others (a client retrying
        its upload waits; the server it uploads to does not). Wakes only when
        a device or a link comes back, so it never retries at the instant it
        failed.
        """
        start = self.now
        while not self.reachable(parties):
            back = [self.devices[p].came_up for p in parties if not self.devices[p].up]
            yield self.env.any_of([self.network.restored, *back])
        self.waited(parties[0], start, detail)

    def persist(
        self, parties: list[DeviceId], action: Callable[..., Process], *args: object
    ) -> Process:
        """Retry ``action(*args)`` until it completes, as a device would after a failure.

        ``parties`` are the devices the action needs, the one that acts first
        (the device that computes, the sender, then the receiver). After a
        failure the retry starts the moment all of them are up and can reach
        each other again; the first is recorded as waiting meanwhile.
        """
        while True:
            try:
                return (yield from action(*args))
            except (DeviceDown, TransferAborted):
                self.recorder.count("retries")
                yield from self.await_parties(parties, "retry after failure")

    # ------------------------------------------------------------------ waiting and observing

    def wait(self, device_id: DeviceId, event: simpy.Event, detail: str) -> Process:
        """Block on others (a round to end, a model to arrive), recorded as waiting."""
        token = object()
        self._waits[token] = (device_id, self.env.now, detail)
        try:
            value = yield event
        except GeneratorExit:  # the run ended meanwhile: :meth:`finish` recorded the wait
            raise
        except BaseException:
            self._end_wait(token)
            raise
        self._end_wait(token)
        return value

    def _end_wait(self, token: object, suffix: str = "", until: SimTime | None = None) -> None:
        device_id, start, detail = self._waits.pop(token)
        self.waited(device_id, start, detail + suffix, until)

    def waited(
        self, device_id: DeviceId, since: SimTime, detail: str, until: SimTime | None = None
    ) -> None:
        """Record that ``device_id`` was blocked on others from ``since`` to now, while up."""
        until = self.env.now if until is None else until
        for start, end in self.devices[device_id].up_parts(since, until):
            self.recorder.span(device_id, "wait", start, end, detail)

    def finish(self, at: SimTime | None = None) -> None:
        """The run ends ``at`` (default now): waits still in progress are recorded (unfinished)."""
        for token in list(self._waits):
            self._end_wait(token, " (unfinished)", at)

    def observe(self, name: str, model: nn.Module, force: bool = False) -> None:
        """Record test accuracy of ``model`` as curve ``name`` (free: the experimenter's view).

        Each test subset of ``observe.subsets`` is recorded too, as ``name@subset``.
        A timing-only run observes nothing.
        """
        if self.timing_only:
            return
        if force or self.recorder.wants_observation(name, self.env.now):
            self.recorder.accuracy(
                name, self.env.now, evaluate(model, self.test, self.torch_device), force
            )
            for subset, data in self.test_subsets.items():
                accuracy = evaluate(model, data, self.torch_device)
                self.recorder.accuracy(f"{name}@{subset}", self.env.now, accuracy, force=True)

    def local_accuracy(self, device_id: DeviceId, model: nn.Module) -> float:
        """Accuracy on the device's own validation data, observed from outside (free).

        For schemes whose protocol does not itself evaluate (ecavg's before/after
        local accuracy); a protocol's own evaluation uses :meth:`validate`.
        """
        return evaluate(model, self.holdings[device_id].validation, self.torch_device)
