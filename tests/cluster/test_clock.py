"""The clock tells a stall (nothing left that anyone waits for) from a hang (time stands still)."""

from __future__ import annotations

import pytest

from edgesim.cluster.clock import BackgroundTimeout, Clock, HousekeepingTimeout, SimulationHang


def test_a_loop_that_retries_at_one_instant_is_a_hang_naming_the_process():
    env = Clock(max_events_per_instant=1_000, label="fedavg")

    def retry_for_ever():
        yield env.timeout(0.5)
        while True:
            yield env.timeout(0)

    env.process(retry_for_ever())
    with pytest.raises(SimulationHang, match=r"fedavg: process 'retry_for_ever' .* t=0\.5"):
        env.run()


def test_many_events_at_distinct_instants_are_not_a_hang():
    env = Clock(max_events_per_instant=100)

    def ticker():
        for _ in range(1_000):
            yield env.timeout(0.001)

    env.process(ticker())
    env.run()
    assert env.now == pytest.approx(1.0)


def test_last_progress_ignores_timeouts_nobody_waits_for():
    env = Clock()

    def abandons_its_work():
        done = env.timeout(5.0)  # the end a lost computation would have had
        yield done | env.timeout(1.0)
        HousekeepingTimeout(env, 6.0)  # a solver's stale wake-up

    env.process(abandons_its_work())
    env.run()
    assert env.now == 7.0
    assert env.last_progress == 1.0


def test_background_timeouts_alone_leave_no_protocol_event_pending():
    env = Clock()
    BackgroundTimeout(env, 1.0)
    assert env.only_background_pending
    env.timeout(2.0)
    assert not env.only_background_pending
    env.step()
    env.step()
    assert env.now == 2.0
    assert env.only_background_pending
