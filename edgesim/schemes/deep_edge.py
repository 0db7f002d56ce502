"""Deep-Edge (seed 002; Bhattacharjee et al., arXiv 2004.05740): updating a model on an edge.

1. **Profiling.** Each worker runs a short profiling job, charged like any
   work: it pulls the model from the PS, trains ``profile_steps`` real steps
   on a scratch copy and pushes it back. From the compute time per step
   (measured under whatever background load the worker carries at that
   moment) and the time of the pull and push, its speed is the rate at which
   it would get through chunks: ``chunk_steps / (chunk_steps × step +
   pull-and-push)`` steps per simulated second.
2. **Allocation.** The training work is ``epochs`` passes over the workers'
   pooled training data: ``ceil(epochs × ceil(pooled samples / batch))``
   steps in all. These *steps* are split over the workers in proportion to
   their measured speed (``allocation: proportional``) or evenly
   (``equal``), by largest remainder.
3. **Data-parallel training with a parameter server** (the server device).
   Asynchronous by default: each worker repeatedly pulls the PS's latest
   weights, trains a chunk of ``chunk_steps`` of its share on its own data,
   and pushes the difference (new − pulled); the PS adds each difference to
   its weights the moment it arrives, stale or not (async SGD). With
   ``sync: true`` the PS runs rounds instead: every live worker pulls the
   same weights, trains its part of the round, and the PS applies the
   step-weighted mean of the differences once all are back — fast workers
   wait for the slow. A round holds about ``chunk_steps`` per worker; each
   worker spreads what is left of its share evenly over the rounds left, so
   the shares end together in the last round (:meth:`Allocation.round_part`)
   rather than leaving one worker's few leftover steps to make the final
   model alone.
4. **Interference-aware throttling.** With ``throttle: true`` (default)
   Deep-Edge's scheduler gives a device's latency-critical background task
   priority over training (:mod:`edgesim.cluster.background`): training is
   paused while a job runs, so deadlines are met whenever the task alone is
   schedulable. ``throttle: false`` leaves each device's own policy (an OS
   time-sharing training and the task fairly unless the scenario says
   otherwise).
5. **Fault tolerance.** When a worker goes down, its unfinished share
   (including the chunk it lost) is re-allocated at once to the live
   workers by the same rule — their next chunk's timeline detail names the
   steps and where they came from, and ``reallocated_steps`` counts them.
   When the worker is back it profiles itself again and rejoins: the work
   still unassigned is split afresh over all live workers.

Where the paper is silent or this model simplifies:

- The paper distributes *data* shards among devices; here data stays where
  it was collected (no raw data moves) and what is split are *steps* over the
  pooled epoch, each worker drawing its batches from its own data. With an
  IID partition this is statistically the same; with a non-IID one a faster
  worker's data weighs more.
- The paper's scheduler solves an optimisation over device selection and
  shard sizes under deadline constraints; here every worker takes part and
  shares follow measured speed, while priority scheduling on each device
  guarantees the deadlines.
- Stop criterion: the fixed number of epochs (the paper measures total
  training time for a fixed amount of re-training). The curve is the PS's
  model (``global``), observed after each update it applies.
- Profiling steps only measure; their weights are thrown away.
- A transfer that fails while the worker itself is up (its link or the PS
  is down) is retried the moment the worker can reach the PS again; the
  chunk's steps go back to the worker's share meanwhile. In ``sync`` mode a
  round the PS loses by going down is run again once it is back
  (:mod:`edgesim.schemes.rounds`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import simpy
from torch import nn

from edgesim.cluster.device import DeviceDown
from edgesim.cluster.flows import TransferAborted
from edgesim.config.scheme_settings import DeepEdgeScheme
from edgesim.learning.allocation import apportion
from edgesim.learning.deltas import apply_delta, delta
from edgesim.learning.weights import StateDict, clone_state, weighted_average
from edgesim.schemes.rounds import Returned, run_round, until_server_up
from edgesim.schemes.runtime import Process, Runtime
from edgesim.types import DeviceId


def run(rt: Runtime, spec: DeepEdgeScheme) -> Process:
    workers = spec.devices or rt.clients
    if spec.throttle:
        for worker in workers:
            rt.devices[worker].set_policy("priority")
    ps = ParameterServer(rt)
    rt.observe("global", ps.model, force=True)
    pooled = sum(len(rt.holdings[w].train) for w in workers)
    total_steps = math.ceil(spec.epochs * math.ceil(pooled / rt.batch_size))

    # 1. profiling, on every worker at once
    jobs = {w: rt.env.process(profile(rt, w, spec, ps.state())) for w in workers}
    yield from rt.wait(rt.server, rt.env.all_of(list(jobs.values())), "workers profiling")
    speeds = {w: job.value for w, job in jobs.items() if job.value is not None}

    # 2. allocation
    work = Allocation(rt, spec.allocation, total_steps)
    work.start(speeds)

    # 3. data-parallel training against the parameter server
    if spec.sync:
        for worker in sorted(set(workers) - set(speeds)):  # down while profiling
            rt.env.process(recover(rt, worker, spec, ps, work))
        yield from sync_rounds(rt, spec, ps, work)
    else:
        for worker in workers:
            rt.env.process(async_worker(rt, worker, spec, ps, work))
        yield from rt.wait(rt.server, work.finished, "workers training")
    rt.observe("global", ps.model, force=True)


class ParameterServer:
    """The global model on the server; applies workers' weight differences."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.model: nn.Module = rt.new_model()

    def state(self) -> StateDict:
        return self.model.state_dict()

    def apply(self, update: StateDict) -> None:
        self.model.load_state_dict(apply_delta(self.state(), update))
        self.rt.recorder.count("updates_applied")
        self.rt.observe("global", self.model)


def profile(rt: Runtime, worker: DeviceId, spec: DeepEdgeScheme, state: StateDict) -> Process:
    """Chunk steps per simulated second, measured by a short real job; ``None`` if it failed."""
    steps, started = spec.profile_steps, rt.now
    try:
        pulled = yield from rt.send_state(rt.server, worker, state, "profiling: pull")
        model, computing = rt.model_from(pulled), rt.now
        yield from rt.train(worker, model, steps, f"profiling: {steps} steps")
        computed = rt.now
        yield from rt.send_state(worker, rt.server, model.state_dict(), "profiling: push")
    except (DeviceDown, TransferAborted):
        return None
    rt.recorder.count("profiling_steps", steps)
    step_s = (computed - computing) / steps
    transfer_s = (computing - started) + (rt.now - computed)
    return spec.chunk_steps / (spec.chunk_steps * step_s + transfer_s)


class Allocation:
    """Who still has how many steps to do; re-allocates on failures and rejoins."""

    def __init__(self, rt: Runtime, rule: str, total_steps: int):
        self.rt = rt
        self.rule = rule
        self.speeds: dict[DeviceId, float] = {}
        self.remaining: dict[DeviceId, int] = {}
        self.unassigned = total_steps  # nobody live to take them yet
        self.in_flight = 0
        self.notes: dict[DeviceId, list[str]] = {}
        self.changed = rt.env.event()
        self.finished = rt.env.event()

    def start(self, speeds: dict[DeviceId, float]) -> None:
        self.speeds.update(speeds)
        self.remaining.update({w: 0 for w in speeds})
        self._split_unassigned()
        for worker in sorted(speeds):
            self.rt.recorder.count(f"allocated_steps:{worker}", self.remaining[worker])

    def share_of(self, workers: Iterable[DeviceId], steps: int) -> dict[DeviceId, int]:
        weights = {w: self.speeds[w] if self.rule == "proportional" else 1.0 for w in workers}
        return apportion(steps, weights)

    def round_part(self, workers: list[DeviceId], chunk_steps: int) -> dict[DeviceId, int]:
        """(sync) Each worker's steps in the next round, so that the shares end together.

        The rounds left are as many as the workers' remaining steps need at
        ``chunk_steps`` per worker; each worker does its remaining share over
        them, rounded up. A share that is already in proportion to speed (the
        allocation's) keeps that proportion in every round.
        """
        left = sum(self.remaining[w] for w in workers)
        rounds = math.ceil(left / (chunk_steps * len(workers)))
        return {w: math.ceil(self.remaining[w] / rounds) for w in workers}

    def live(self) -> list[DeviceId]:
        return [w for w in self.remaining if self.rt.devices[w].up]

    def take(self, worker: DeviceId, most: int) -> int:
        steps = min(most, self.remaining.get(worker, 0))
        self.remaining[worker] -= steps
        self.in_flight += steps
        return steps

    def note(self, worker: DeviceId) -> str:
        """What was re-allocated to ``worker`` since its last chunk (for the timeline)."""
        notes = self.notes.pop(worker, [])
        return f" ({'; '.join(notes)})" if notes else ""

    def done(self, steps: int) -> None:
        self.in_flight -= steps
        self._check_finished()

    def give_back(self, worker: DeviceId, steps: int) -> None:
        """A chunk failed before its update reached the PS: its steps are to do again."""
        self.in_flight -= steps
        self.remaining[worker] += steps

    def fail(self, worker: DeviceId) -> None:
        """``worker`` is down: its unfinished share goes to the live workers."""
        steps = self.remaining.pop(worker, 0)
        receivers = self.live()
        if not steps:
            return
        if not receivers:
            self.unassigned += steps
            return
        for receiver, extra in self.share_of(receivers, steps).items():
            if extra:
                self.remaining[receiver] += extra
                self.notes.setdefault(receiver, []).append(
                    f"re-allocated {extra} steps from {worker}"
                )
        self.rt.recorder.count("reallocations")
        self.rt.recorder.count("reallocated_steps", steps)
        self._changed()

    def rejoin(self, worker: DeviceId, speed: float) -> None:
        """``worker`` is back: what is not yet running is split afresh over the live workers."""
        self.speeds[worker] = speed
        self.remaining.setdefault(worker, 0)
        self.rt.recorder.count("rejoins")
        self._split_unassigned()
        self.notes.setdefault(worker, []).append(f"rejoined with {self.remaining[worker]} steps")

    def _split_unassigned(self) -> None:
        live = self.live()
        if not live:
            return
        pool = self.unassigned + sum(self.remaining[w] for w in live)
        self.unassigned = 0
        self.remaining.update(self.share_of(live, pool))
        self._changed()

    def _changed(self) -> None:
        event, self.changed = self.changed, self.rt.env.event()
        event.succeed()
        self._check_finished()

    def _check_finished(self) -> None:
        left = self.unassigned + sum(self.remaining.values()) + self.in_flight
        if left == 0 and self.remaining and not self.finished.triggered:
            self.finished.succeed()


def train_chunk(
    rt: Runtime, worker: DeviceId, state: StateDict, steps: int, what: str, note: str = ""
) -> Process:
    """Pull ``state``, train ``steps`` on the worker's data, push the difference; returns it."""
    pulled = yield from rt.send_state(rt.server, worker, state, f"{what}: pull")
    model = rt.model_from(pulled)
    yield from rt.train(worker, model, steps, f"{what}: {steps} steps{note}")
    update = delta(model.state_dict(), pulled)
    return (yield from rt.send_state(worker, rt.server, update, f"{what}: push"))


def async_worker(
    rt: Runtime, worker: DeviceId, spec: DeepEdgeScheme, ps: ParameterServer, work: Allocation
) -> Process:
    chunk = 0
    while not work.finished.triggered:
        if worker not in work.remaining:  # down (or never profiled): recover first
            yield from rejoin(rt, worker, spec, ps, work)
            continue
        steps = work.take(worker, spec.chunk_steps)
        if not steps:
            yield work.changed | work.finished  # idle: its share is done
            continue
        chunk += 1
        note = work.note(worker)
        try:
            update = yield from train_chunk(rt, worker, ps.state(), steps, f"chunk {chunk}", note)
        except (DeviceDown, TransferAborted):
            work.give_back(worker, steps)
            if rt.devices[worker].up:  # its link or the PS failed
                rt.recorder.count("retries")
                yield from rt.await_parties([worker, rt.server], "the PS is out of reach")
            else:
                work.fail(worker)
            continue
        ps.apply(update)
        work.done(steps)


def rejoin(
    rt: Runtime, worker: DeviceId, spec: DeepEdgeScheme, ps: ParameterServer, work: Allocation
) -> Process:
    """Once the worker can reach the PS, profile it again and give it a fresh allocation."""
    yield from rt.await_parties([worker, rt.server], "rejoining: waiting to reach the PS")
    speed = yield from profile(rt, worker, spec, ps.state())
    if speed is not None and not work.finished.triggered:
        work.rejoin(worker, speed)


def recover(
    rt: Runtime, worker: DeviceId, spec: DeepEdgeScheme, ps: ParameterServer, work: Allocation
) -> Process:
    """(sync) Wait until a failed worker is back, then let it rejoin."""
    while worker not in work.remaining and not work.finished.triggered:
        yield from rejoin(rt, worker, spec, ps, work)


def sync_rounds(
    rt: Runtime,
    spec: DeepEdgeScheme,
    ps: ParameterServer,
    work: Allocation,
) -> Process:
    completed = 0
    while not work.finished.triggered:
        round_number = completed + 1
        yield from until_server_up(rt, round_number)
        for worker in [w for w in work.remaining if not rt.devices[w].up]:
            work.fail(worker)  # the PS notices a worker that is down at the start of a round
            rt.env.process(recover(rt, worker, spec, ps, work))
        live = [w for w in work.live() if work.remaining[w] > 0]
        if not live:
            yield from rt.wait(rt.server, work.changed | work.finished, "no live worker has work")
            continue
        part = work.round_part(live, spec.chunk_steps)
        state = clone_state(ps.state())
        steps = {worker: work.take(worker, part[worker]) for worker in live}
        chunks = {
            worker: sync_worker(
                rt, worker, state, steps[worker], f"round {round_number}", work.note(worker)
            )
            for worker in live
        }
        returned = yield from run_round(
            rt, round_number, live, chunks.__getitem__, working="workers training"
        )
        if returned is None:  # the PS went down: the round's work is to do again
            for worker in live:
                work.give_back(worker, steps[worker])
            continue
        completed = round_number
        updates = []
        for worker, update in returned.items():
            if update is None:
                work.give_back(worker, steps[worker])
                work.fail(worker)
                rt.env.process(recover(rt, worker, spec, ps, work))
                continue
            updates.append((update, steps[worker]))
        if updates:
            ps.apply(weighted_average([u for u, _ in updates], [s for _, s in updates]))
        for _, done in updates:
            work.done(done)


def sync_worker(
    rt: Runtime, worker: DeviceId, state: StateDict, steps: int, what: str, note: str
) -> Process:
    """One worker's part of a round; ``None`` if it failed."""
    try:
        update = yield from train_chunk(rt, worker, state, steps, what, note)
    except (DeviceDown, TransferAborted, simpy.Interrupt):
        return None
    return Returned(update, rt.now)
