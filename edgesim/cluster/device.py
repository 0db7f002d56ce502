"""A simulated device: one compute queue, up or down, charged by the cost model.

Going down is SimPy's machine-shop pattern: the work in progress is lost and
whoever waited on it gets :class:`DeviceDown`. The device never runs torch
itself; schemes ask it for simulated seconds and do the real step afterwards.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from edgesim.config.profiles import DeviceProfile
from edgesim.metrics.recorder import Recorder
from edgesim.types import DeviceId, SimTime


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
        self._cpu = simpy.Resource(env, capacity=1)
        self._down_since: SimTime | None = None

    def __repr__(self) -> str:
        return f"Device({self.id!r}, {self.profile.name!r})"

    def compute(self, seconds: float, detail: str = "") -> Generator[simpy.Event, object, None]:
        """Occupy the device for ``seconds``; raises :class:`DeviceDown` if it fails meanwhile.

        Concurrent requests queue (one accelerator). If the calling process is
        interrupted (a round deadline), the partial work is recorded as lost and
        the interrupt propagates.
        """
        if not self.up:
            raise DeviceDown(self.id)
        went_down = self.went_down
        with self._cpu.request() as slot:
            granted = yield slot | went_down
            if slot not in granted:
                raise DeviceDown(self.id)
            start = self.env.now
            finished = self.env.timeout(seconds)
            try:
                outcome = yield finished | went_down
            except simpy.Interrupt:
                self._lose(start, f"abandoned: {detail}", "abandoned_work_s")
                raise
            if finished not in outcome:
                self._lose(start, f"lost: {detail}", "lost_work_s")
                raise DeviceDown(self.id)
            self.recorder.span(self.id, "compute", start, self.env.now, detail)

    def _lose(self, start: SimTime, detail: str, counter: str) -> None:
        self.recorder.span(self.id, "lost", start, self.env.now, detail)
        self.recorder.count(counter, self.env.now - start)

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
        self.close_down_span()
        event, self.went_down = self.came_up, self.env.event()
        event.succeed()

    def close_down_span(self) -> None:
        """End an open down interval at the current time (also called when a run ends)."""
        if self._down_since is not None:
            self.recorder.span(self.id, "down", self._down_since, self.env.now)
            self._down_since = None
