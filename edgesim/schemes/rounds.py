"""The synchronous round, once for every round-based scheme: wait for the server, run, collect.

FedAvg, the distillation schemes, gear's large phase and Deep-Edge's
synchronous mode all share one shape — the server hands work to chosen
participants, waits for them (up to a deadline), and aggregates what came
back. What can go wrong is the same too, so it is handled here once:

* **The server is down** when a round should start: the round waits for it
  (its wait is recorded on nobody — the server is down, the clients idle).
* **The server goes down mid-round**: the round in progress is lost — the
  participants' work is abandoned (their devices stop at once, as a client
  whose connection to the server drops) and :func:`run_round` returns
  ``None``; the caller runs the round again once the server is back, so a
  scheme asked for N rounds completes N rounds.
* **A participant fails or misses the deadline**: it is dropped from the
  round; its job returns ``None``. A job cut off is interrupted, and the round
  returns once it has ended (at the same simulated time), so that what it noted
  on the way out (Oort: how long it had) is there when the scheme reads it.
* **Participants that finished wait** for the round to end, recorded as
  waiting from the moment they returned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import simpy
from torch import nn

from edgesim.learning.weights import StateDict, weighted_average
from edgesim.schemes.runtime import Process, Runtime
from edgesim.types import DeviceId, SimTime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Returned:
    """What a participant's job hands back: its result and when it was back."""

    value: object
    at: SimTime


def run_round(
    rt: Runtime,
    round_number: int,
    participants: list[DeviceId],
    job: Callable[[DeviceId], Process],
    deadline_s: float | None = None,
    working: str = "clients training",
) -> Process:
    """One round of ``job`` on every participant; their results, or ``None`` if it was lost.

    ``job(participant)`` returns a :class:`Returned` or ``None`` (it failed);
    ``working`` names what the server waits for in the timeline.
    The result maps each participant to what it returned (``None`` for those
    that failed or missed the deadline). ``None`` means the server went down
    during the round: nothing of it counts and the caller should run it again.
    """
    server = rt.server
    went_down = rt.devices[server].went_down
    jobs = {p: rt.env.process(job(p)) for p in participants}
    waiting = [rt.env.all_of(list(jobs.values())), went_down]
    if deadline_s is not None:
        waiting.append(rt.env.timeout(deadline_s))
    yield from rt.wait(server, rt.env.any_of(waiting), f"round {round_number}: {working}")
    if went_down.triggered:
        yield from _stop(rt, list(jobs.values()), "the server went down")
        rt.recorder.count("lost_rounds")
        return None
    missed = yield from _stop(rt, list(jobs.values()), "missed the round deadline")
    if missed:
        rt.recorder.count("deadline_misses", missed)
    results = {p: _value(running) for p, running in jobs.items()}
    for participant, returned in results.items():
        if returned is not None:
            rt.waited(participant, returned.at, f"round {round_number}: waiting for others")
    rt.recorder.count("rounds")
    log.info("%s: round %d done at %.6g s", rt.env.label, round_number, rt.now)
    return {p: r.value if r is not None else None for p, r in results.items()}


def _stop(rt: Runtime, jobs: list[simpy.Process], why: str) -> Process:
    """Interrupt the jobs still running and wait for them to end; how many there were.

    Each ends at once (a round's job returns ``None`` when interrupted), so this takes
    no simulated time; without the wait, what a job does on its way out would happen
    after the round had returned.
    """
    running = [job for job in jobs if job.is_alive]
    for job in running:
        job.interrupt(why)
    if running:
        yield rt.env.all_of(running)
    return len(running)


def _value(job: simpy.Process) -> Returned | None:
    return job.value if job.triggered and job.ok else None


def until_server_up(rt: Runtime, round_number: int) -> Process:
    """Before a round: wait until the server is up (and count a round that had to wait)."""
    if not rt.devices[rt.server].up:
        rt.recorder.count("rounds_delayed_by_server")
        yield from rt.await_parties([rt.server], f"round {round_number}: server down")


def adopt_average(rt: Runtime, model: nn.Module, updates: list[tuple[StateDict, float]]) -> None:
    """End of a round: count the updates and load their weighted average (none: keep ``model``)."""
    rt.recorder.count("client_updates", len(updates))
    if updates:
        model.load_state_dict(weighted_average([s for s, _ in updates], [w for _, w in updates]))
