"""Latency-critical background tasks that share a device with training (seed 002, Deep-Edge).

The picture: a Jetson on a factory line runs a control loop every 50 ms that
must answer within 40 ms, and re-trains a model in the gaps. A
:class:`PeriodicTask` releases a job every ``period_s`` (from ``offset_s``);
each job needs ``compute_s`` seconds of the whole device and must finish
within ``deadline_s`` of its release. Jobs of one task run one at a time in
release order. How a job and the training work share the device is the
device's policy (:meth:`Device.set_policy`): ``priority`` pauses training
while a job runs (Deep-Edge's interference-aware scheduler), ``fair`` gives
each half the device while both run (plain OS time-sharing).

Each job is recorded as a ``background`` span from the moment it starts
running to its completion (time queued behind an earlier job is not work).
A job that finishes after its deadline — or is still unfinished when the
run ends, past its deadline — is a deadline miss, counted per device
(``Recorder.deadline_miss``). A device that goes down drops its pending jobs
(the control loop stops with it: no miss is counted) and releases none until
it is back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from dataclasses import dataclass

import simpy

from edgesim.cluster.clock import BackgroundTimeout, Clock
from edgesim.cluster.device import Device, SharingPolicy
from edgesim.types import SimTime

_LATE_S = 1e-9
"""Finishing later than the deadline by less than this is on time (float residue)."""


@dataclass(frozen=True)
class PeriodicTask:
    period_s: float
    compute_s: float
    deadline_s: float
    offset_s: float = 0.0
    policy: SharingPolicy = "fair"

    def __post_init__(self) -> None:
        if not 0 < self.compute_s < self.period_s:
            raise ValueError(
                f"compute_s(={self.compute_s}) must be > 0 and < period_s(={self.period_s})"
            )
        if self.deadline_s <= 0 or self.offset_s < 0:
            raise ValueError(f"deadline_s(={self.deadline_s}) must be > 0, offset_s >= 0")

    @property
    def utilisation(self) -> float:
        return self.compute_s / self.period_s


@dataclass
class Job:
    number: int
    released: SimTime
    deadline: SimTime
    remaining: float
    started: SimTime | None = None
    """When it began to run (a job runs without pause once started: its share is never 0)."""


class Background:
    """One periodic task running on one device; start it with :func:`start`."""

    def __init__(self, env: simpy.Environment, device: Device, task: PeriodicTask):
        self.env = env
        self.device = device
        self.task = task
        self.queue: deque[Job] = deque()
        self._arrival = env.event()
        device.set_policy(task.policy)
        env.process(self._release())
        env.process(self._serve())

    def _release(self) -> Generator[simpy.Event, object, None]:
        task, number = self.task, 0
        while True:
            release = task.offset_s + number * task.period_s
            yield BackgroundTimeout(self.env, release - self.env.now)
            number += 1
            if not self.device.up:
                continue
            self.queue.append(Job(number, release, release + task.deadline_s, task.compute_s))
            self.device.recorder.count("background_jobs")
            if not self._arrival.triggered:
                self._arrival.succeed()

    def _serve(self) -> Generator[simpy.Event, object, None]:
        device = self.device
        while True:
            if not self.queue:
                self._arrival = self.env.event()
                yield self._arrival
            if not device.up:  # went down at the instant of a release
                self._drop()
                continue
            job, went_down = self.queue[0], device.went_down
            job.started = self.env.now
            device.background_running(True)
            try:
                finished = yield from self._run(job, went_down)
            finally:
                device.background_running(False)
            if finished:
                self.queue.popleft()
                self._record(job, self.env.now)
            else:
                self._drop()

    def _drop(self) -> None:
        for job in self.queue:
            self._span(job, self.env.now, "dropped: device down")
        self.queue.clear()

    def _run(self, job: Job, went_down: simpy.Event) -> Generator[simpy.Event, object, bool]:
        while True:
            share, since, changed = (
                self.device.background_share(),
                self.env.now,
                self.device.share_changed,
            )
            done = BackgroundTimeout(self.env, job.remaining / share)
            outcome = yield done | went_down | changed
            job.remaining -= share * (self.env.now - since)
            if done in outcome or job.remaining <= _LATE_S:
                return True
            if went_down in outcome:
                return False

    def _record(self, job: Job, end: SimTime) -> None:
        late = end - job.deadline
        if late > _LATE_S:
            self.device.recorder.deadline_miss(self.device.id)
            self._span(job, end, f"missed its deadline by {late:.6f} s")
        else:
            self._span(job, end, "met its deadline")

    def _span(self, job: Job, end: SimTime, outcome: str) -> None:
        if job.started is not None:
            self.device.recorder.span(
                self.device.id, "background", job.started, end, f"job {job.number}: {outcome}"
            )

    def close(self, at: SimTime | None = None) -> None:
        """The run ends ``at`` (default now): the running job is recorded (unfinished).

        Jobs past their deadline then are misses.
        """
        now = self.env.now if at is None else at
        for job in self.queue:
            if now - job.deadline > _LATE_S:
                self.device.recorder.deadline_miss(self.device.id)
                self._span(job, now, "past its deadline (unfinished)")
            else:
                self._span(job, now, "(unfinished)")
        self.queue.clear()


def start(env: simpy.Environment, device: Device, task: PeriodicTask) -> Background:
    """Run ``task`` on ``device`` from now on, under the task's sharing policy."""
    return Background(env, device, task)


def only_background_left(env: Clock, tasks: list[Background]) -> bool:
    """True if nothing but background tasks can happen any more: the protocol has stalled.

    Background tasks release jobs forever, so a protocol waiting for a device
    that never returns would otherwise spin without end. Training paused by a
    running job is not stalled (the job's end resumes it).
    """
    if any(task.device.computing for task in tasks):
        return False
    return env.only_background_pending
