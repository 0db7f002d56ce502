"""A simulated device: one compute queue, up or down, charged by the cost model.

Going down is SimPy's machine-shop pattern: the work in progress is lost and
whoever waited on it gets :class:`DeviceDown`. The device never runs torch
itself; schemes ask it for simulated seconds and do the real step afterwards.

A latency-critical background task (:mod:`edgesim.cluster.background`) may
share the device with the training work. Work is then tracked as seconds of
the whole device left to do, progressing at a *share* of the device that
changes whenever a background job starts or ends: under the ``priority``
policy a running background job takes the whole device and training pauses
(it resumes where it stopped; nothing is lost); under ``fair`` the two
share it half and half (processor sharing, as an OS time-slices two busy
processes). Without a background task the share is always 1.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Literal

import simpy

from edgesim.config.profiles import DeviceProfile
from edgesim.metrics.recorder import Recorder
from edgesim.types import DeviceId, SimTime

SharingPolicy = Literal["priority", "fair"]
POLICIES: tuple[SharingPolicy, ...] = ("priority", "fair")
_EPSILON_S = 1e-12
"""Work left below this many seconds is done (float residue of rate changes)."""


@dataclass
class _Work:
    """The foreground work in progress: what it is and the intervals in which it progressed."""

    detail: str
    ran: list[list[SimTime]] = field(default_factory=list)
    since: SimTime | None = None
    """Progressing since this time (``None`` while paused by a background job)."""


class DeviceDown(Exception):
    """The device went down (or was down) while work was asked of it."""

    def __init__(self, device: DeviceId):
        super().__init__(f"device {device} is down")
        self.device = device


class Device:
    def __init__(
        self,
        env: simpy.Environment,
        device_id: DeviceId,
        profile: DeviceProfile,
        recorder: Recorder,
    ):
        self.env = env
        self.id = device_id
        self.profile = profile
        self.recorder = recorder
        self.up = True
        self.went_down = env.event()
        self.came_up = env.event()
        self._busy = False
        self._turns: deque[simpy.Event] = deque()
        """Work queued for the device (one accelerator), each waiting for its turn."""
        self._down_since: SimTime | None = None
        self._downs: list[tuple[SimTime, SimTime]] = []
        self._work: _Work | None = None
        self.policy: SharingPolicy = "fair"
        self.share_changed = env.event()
        """Succeeds (and is replaced) whenever the foreground or background share changes."""
        self._foreground = False
        self._background = False

    def __repr__(self) -> str:
        return f"Device({self.id!r}, {self.profile.name!r})"

    def compute(self, seconds: float, detail: str = "") -> Generator[simpy.Event, object, None]:
        """Occupy the device for ``seconds``; raises :class:`DeviceDown` if it fails meanwhile.

        Concurrent requests queue (one accelerator). ``seconds`` is the work at
        the whole device; a background job running meanwhile stretches it (see
        the module docstring), and only the intervals in which it progressed
        are recorded as compute. If the calling process is interrupted (a
        round deadline), the partial work is recorded as lost and the interrupt
        propagates.
        """
        if not self.up:
            raise DeviceDown(self.id)
        went_down = self.went_down
        yield from self._take_turn(went_down)
        try:
            work = self._work = _Work(detail)
            self._set_sharing(foreground=True)
            try:
                finished = yield from self._progress(seconds, went_down, work)
            except simpy.Interrupt:
                self._lose(work.ran, f"abandoned: {detail}", "abandoned_work_s")
                raise
            finally:
                self._work = None
                self._set_sharing(foreground=False)
            if not finished:
                self._lose(work.ran, f"lost: {detail}", "lost_work_s")
                raise DeviceDown(self.id)
            for start, end in work.ran:
                self.recorder.span(self.id, "compute", start, end, detail)
        finally:
            self._pass_turn()

    def _take_turn(self, went_down: simpy.Event) -> Generator[simpy.Event, object, None]:
        """Hold the device's one accelerator: at once if it is free, else in FIFO order.

        Raises :class:`DeviceDown` if the device fails while this work queues.
        """
        if not self._busy:
            self._busy = True
            return
        turn = self.env.event()
        self._turns.append(turn)
        try:
            granted = yield turn | went_down
        except BaseException:  # interrupted (a round deadline) or closed while queued
            self._give_up_turn(turn)
            raise
        if turn not in granted:
            self._give_up_turn(turn)
            raise DeviceDown(self.id)

    def _give_up_turn(self, turn: simpy.Event) -> None:
        if turn.triggered:  # the device was handed over meanwhile: hand it on
            self._pass_turn()
        else:
            self._turns.remove(turn)

    def _pass_turn(self) -> None:
        """The work holding the device is over: the next in the queue gets it."""
        if self._turns:
            self._turns.popleft().succeed()
        else:
            self._busy = False

    def _progress(
        self, seconds: float, went_down: simpy.Event, work: _Work
    ) -> Generator[simpy.Event, object, bool]:
        """Do ``seconds`` of work at the foreground share; False if the device went down.

        ``work.ran`` collects the [start, end] intervals in which the work progressed.
        """
        remaining, ran = seconds, work.ran
        while True:
            share, since, changed = self.foreground_share(), self.env.now, self.share_changed
            done = self.env.timeout(remaining / share) if share > 0 else None
            work.since = since if share > 0 else None
            wakes = [done, went_down, changed] if done else [went_down, changed]
            try:
                outcome = yield simpy.AnyOf(self.env, wakes)
            finally:
                work.since = None
                if share > 0 and self.env.now > since:
                    if ran and ran[-1][1] == since:
                        ran[-1][1] = self.env.now
                    else:
                        ran.append([since, self.env.now])
            remaining -= share * (self.env.now - since)
            if done in outcome or (done is not None and remaining <= _EPSILON_S):
                return True
            if went_down in outcome:
                return False

    # ------------------------------------------------------------------ sharing

    @property
    def computing(self) -> bool:
        """Foreground work (training, evaluation) is in progress, running or paused."""
        return self._foreground

    def foreground_share(self) -> float:
        """The share of the device the training work gets now."""
        if not self._background:
            return 1.0
        return 0.0 if self.policy == "priority" else 0.5

    def background_share(self) -> float:
        """The share of the device a running background job gets now."""
        return 0.5 if self._foreground and self.policy == "fair" else 1.0

    def set_policy(self, policy: SharingPolicy) -> None:
        """How training and a background job share the device (``priority`` or ``fair``)."""
        if policy not in POLICIES:
            raise ValueError(f"policy(={policy!r}) must be one of {', '.join(POLICIES)}")
        self._set_sharing(policy=policy)

    def background_running(self, running: bool) -> None:
        """A background job started (True) or ended (False) on this device."""
        self._set_sharing(background=running)

    def _set_sharing(
        self,
        foreground: bool | None = None,
        background: bool | None = None,
        policy: SharingPolicy | None = None,
    ) -> None:
        before = (self.foreground_share(), self.background_share())
        if foreground is not None:
            self._foreground = foreground
        if background is not None:
            self._background = background
        if policy is not None:
            self.policy = policy
        changed = (self.foreground_share(), self.background_share()) != before
        if changed and self.share_changed.callbacks:  # nobody waits: no event to process
            event, self.share_changed = self.share_changed, self.env.event()
            event.succeed()

    def _lose(self, ran: list[list[SimTime]], detail: str, counter: str) -> None:
        for start, end in ran:
            self.recorder.span(self.id, "lost", start, end, detail)
        self.recorder.count(counter, sum(end - start for start, end in ran))

    def wait_until_up(self) -> Generator[simpy.Event, object, None]:
        while not self.up:
            yield self.came_up

    def go_down(self) -> None:
        if not self.up:
            return
        self.up = False
        self._down_since = self.env.now
        self.recorder.count("failures")
        event, self.came_up = self.went_down, self.env.event()
        event.succeed()

    def come_up(self) -> None:
        if self.up:
            return
        self.up = True
        self._close_down_span()
        event, self.went_down = self.came_up, self.env.event()
        event.succeed()

    def _close_down_span(self, at: SimTime | None = None) -> None:
        at = self.env.now if at is None else at
        if self._down_since is not None:
            self.recorder.span(self.id, "down", self._down_since, at)
            self._downs.append((self._down_since, at))
            self._down_since = None

    def up_parts(self, start: SimTime, end: SimTime) -> list[tuple[SimTime, SimTime]]:
        """The parts of ``[start, end]`` in which the device was up (down, it waits for no one)."""
        downs = [*self._downs]
        if self._down_since is not None:
            downs.append((self._down_since, max(end, self._down_since)))
        parts, cursor = [], start
        for down_start, down_end in downs:
            if down_end <= cursor or down_start >= end:
                continue
            if down_start > cursor:
                parts.append((cursor, down_start))
            cursor = max(cursor, down_end)
        if cursor < end:
            parts.append((cursor, end))
        return parts

    def finish(self, at: SimTime | None = None) -> None:
        """The run ends ``at`` (default now): close an open outage, record work in progress.

        Work still in progress is recorded as unfinished compute.
        """
        at = self.env.now if at is None else at
        self._close_down_span(at)
        work, self._work = self._work, None
        if work is None:
            return
        intervals = [list(i) for i in work.ran]
        if work.since is not None and at > work.since:
            intervals.append([work.since, at])
        for start, end in intervals:
            self.recorder.span(self.id, "compute", start, end, f"{work.detail} (unfinished)")
        self.recorder.count("unfinished_work_s", sum(end - start for start, end in intervals))
