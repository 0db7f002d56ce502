"""The simulated clock: SimPy's environment that can tell a stall from a hang.

Two ways a protocol can stop making progress, and both must be told apart
from a run that is merely long:

* **Stalled** — every process waits for something that will never happen (a
  device that left for good). Nothing is left to schedule, or only the
  periodic background tasks (:mod:`edgesim.cluster.background`) are, which
  tick for ever. The run ends at its last event that anyone waited for
  (:attr:`Clock.last_progress`) and says so: a timeout left behind by work
  that was abandoned (the end a lost computation would have had) or by
  bookkeeping (:class:`HousekeepingTimeout`) is not progress.
* **Hung** — a loop retries at one instant without end (a transfer that
  fails before its first ``yield``, retried at once). The clock never
  advances; SimPy would spin for ever. That is always a bug in a scheme or
  in edgesim, so :class:`Clock` fails the run with :class:`SimulationHang`
  naming the process that kept scheduling events.

Both are read from SimPy's public hooks only: :meth:`Clock.schedule` sees
every event that becomes due, and a callback appended to it tells when it
was processed.
"""

from __future__ import annotations

from functools import partial

import simpy

from edgesim.types import SimTime

MAX_EVENTS_PER_INSTANT = 2_000_000
"""Events processed at one simulated instant before the run is declared hung.

A legitimate instant (every client of a 10 000-device fleet starting a round)
schedules a few events per device; two million is beyond any real protocol
step and is reached in a few host seconds by a loop that spins.
"""


class SimulationHang(RuntimeError):
    """The clock stopped: events keep being scheduled at one instant (a bug, never a result)."""


class BackgroundTimeout(simpy.Timeout):
    """A timeout of a periodic background task: it alone never keeps a protocol alive."""


class HousekeepingTimeout(simpy.Timeout):
    """A timeout of the simulator's own bookkeeping (a solver's wake-up): never progress itself."""


class Clock(simpy.Environment):
    """A SimPy environment that counts pending protocol events and detects a spinning clock."""

    def __init__(self, max_events_per_instant: int = MAX_EVENTS_PER_INSTANT, label: str = ""):
        super().__init__()
        self.label = label
        self.max_events_per_instant = max_events_per_instant
        self._pending_protocol_events = 0
        self.last_progress: SimTime = self.now
        """When an event someone waited for was last processed."""
        self._instant: SimTime = self.now
        self._events_at_instant = 0

    def schedule(self, event: simpy.Event, priority: int = 1, delay: float = 0) -> None:
        super().schedule(event, priority, delay)
        if not isinstance(event, BackgroundTimeout):
            self._pending_protocol_events += 1
            listeners = event.callbacks
            # first, so that a callback that raises (a run's stop) cannot skip the count
            listeners.insert(0, partial(self._protocol_event_processed, listeners))
        if delay == 0:
            self._count_instant_event()

    def _protocol_event_processed(self, listeners: list, event: simpy.Event) -> None:
        """``listeners`` is the event's callback list: ours alone means nobody waited for it."""
        self._pending_protocol_events -= 1
        if len(listeners) > 1 and not isinstance(event, HousekeepingTimeout):
            self.last_progress = self.now

    def _count_instant_event(self) -> None:
        if self.now != self._instant:
            self._instant, self._events_at_instant = self.now, 0
        self._events_at_instant += 1
        if self._events_at_instant > self.max_events_per_instant:
            process = self.active_process
            who = f"process '{process.name}'" if process is not None else "a callback"
            raise SimulationHang(
                f"{self.label or 'the run'}: {who} scheduled more than "
                f"{self.max_events_per_instant} events at t={self.now!r} s without the clock "
                "advancing (a loop retrying at one instant; this is a bug in edgesim)"
            )

    @property
    def only_background_pending(self) -> bool:
        """Nothing but background-task timeouts is scheduled (every protocol process waits)."""
        return self._pending_protocol_events == 0
