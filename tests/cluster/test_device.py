"""Device: one compute queue on the simulated clock, going down and coming back."""

from __future__ import annotations

import pytest
import simpy

from edgesim.cluster.device import DeviceDown

TIME = {"rel": 1e-12, "abs": 1e-12}


def at(env, t, action):
    def process():
        yield env.timeout(t)
        action()

    env.process(process())


def job(env, device, seconds, log, key, start=0.0):
    """Compute ``seconds`` from ``start``; log ``("done", t)`` or ``("down", t)``."""

    def process():
        if start:
            yield env.timeout(start)
        try:
            yield from device.compute(seconds, key)
        except DeviceDown as exc:
            assert exc.device == device.id
            log[key] = ("down", env.now)
        else:
            log[key] = ("done", env.now)

    return env.process(process())


def spans(recorder, kind=None):
    return [(s.kind, s.start, s.end) for s in recorder.spans if kind in (None, s.kind)]


def test_repr_and_initial_state(device):
    assert repr(device) == "Device('nano-0', 'jetson-nano')"
    assert device.up


def test_compute_occupies_the_device_exactly(env, recorder, device):
    log = {}
    job(env, device, 2.5, log, "step", start=1.0)
    env.run()
    assert log["step"] == ("done", 3.5)
    assert recorder.spans[0].device == "nano-0"
    assert recorder.spans[0].detail == "step"
    assert spans(recorder) == [("compute", 1.0, 3.5)]


def test_concurrent_computes_queue(env, recorder, device):
    log = {}
    job(env, device, 2.0, log, "first")
    job(env, device, 2.0, log, "second")
    job(env, device, 0.5, log, "third", start=1.0)
    env.run()
    assert log == {"first": ("done", 2.0), "second": ("done", 4.0), "third": ("done", 4.5)}
    assert spans(recorder) == [
        ("compute", 0.0, 2.0),
        ("compute", 2.0, 4.0),
        ("compute", 4.0, 4.5),
    ]


def test_zero_second_compute_records_nothing(env, recorder, device):
    log = {}
    job(env, device, 0.0, log, "nothing", start=1.0)
    env.run()
    assert log["nothing"] == ("done", 1.0)
    assert recorder.spans == []


def test_going_down_mid_compute_loses_the_work(env, recorder, device):
    log = {}
    job(env, device, 5.0, log, "running", start=1.0)
    job(env, device, 1.0, log, "queued", start=1.5)
    at(env, 3.25, device.go_down)
    env.run()
    assert log == {"running": ("down", 3.25), "queued": ("down", 3.25)}
    assert spans(recorder, "lost") == [("lost", 1.0, 3.25)]
    assert recorder.spans[0].detail == "lost: running"
    assert spans(recorder, "compute") == []
    assert recorder.counters["lost_work_s"] == pytest.approx(2.25, **TIME)
    assert recorder.counters["failures"] == 1
    assert not device.up


def test_compute_on_a_down_device_raises_immediately(env, recorder, device):
    log = {}
    at(env, 1.0, device.go_down)
    job(env, device, 1.0, log, "refused", start=2.0)
    env.run()
    assert log["refused"] == ("down", 2.0)
    assert "lost_work_s" not in recorder.counters
    with pytest.raises(DeviceDown, match="device nano-0 is down"):
        next(device.compute(1.0))


def test_wait_until_up_resumes_exactly_at_recovery(env, device):
    woke = {}

    def waiter(key, start):
        yield env.timeout(start)
        yield from device.wait_until_up()
        woke[key] = env.now

    at(env, 1.0, device.go_down)
    at(env, 4.75, device.come_up)
    env.process(waiter("during", 2.0))
    env.process(waiter("before", 0.5))
    env.process(waiter("after", 6.0))
    env.run()
    assert woke == {"before": 0.5, "during": 4.75, "after": 6.0}


def test_wait_until_up_across_two_outages(env, device):
    woke = {}

    def waiter():
        yield env.timeout(1.5)
        yield from device.wait_until_up()
        woke["first"] = env.now
        yield env.timeout(1.0)  # t = 4
        yield from device.wait_until_up()
        woke["second"] = env.now

    at(env, 1.0, device.go_down)
    at(env, 3.0, device.come_up)
    at(env, 3.5, device.go_down)
    at(env, 7.0, device.come_up)
    env.process(waiter())
    env.run()
    assert woke == {"first": 3.0, "second": 7.0}


def test_device_computes_again_after_recovery(env, recorder, device):
    log = {}
    at(env, 1.0, device.go_down)
    at(env, 2.0, device.come_up)
    job(env, device, 3.0, log, "after", start=2.0)
    at(env, 6.0, device.go_down)  # a second outage, after the job: must not touch it
    env.run()
    assert log["after"] == ("done", 5.0)
    assert spans(recorder, "compute") == [("compute", 2.0, 5.0)]
    assert recorder.counters["failures"] == 2


def test_down_spans_on_recovery_and_at_finish(env, recorder, device):
    at(env, 1.0, device.go_down)
    at(env, 1.5, device.go_down)  # already down: no effect
    at(env, 4.0, device.come_up)
    at(env, 4.5, device.come_up)  # already up: no effect
    at(env, 6.0, device.go_down)
    env.run(until=10.0)
    assert spans(recorder, "down") == [("down", 1.0, 4.0)]
    device.finish()
    device.finish()  # idempotent
    assert spans(recorder, "down") == [("down", 1.0, 4.0), ("down", 6.0, 10.0)]
    assert recorder.counters["failures"] == 2


def test_finish_on_an_idle_up_device_records_nothing(env, recorder, device):
    env.run(until=3.0)
    device.finish()
    assert recorder.spans == []


def test_finish_records_work_in_progress_as_unfinished(env, recorder, device):
    env.process(device.compute(5.0, "epoch 1"))
    env.run(until=2.0)
    device.finish()
    assert spans(recorder) == [("compute", 0.0, 2.0)]
    assert recorder.spans[0].detail == "epoch 1 (unfinished)"
    assert recorder.counters["unfinished_work_s"] == 2.0


def test_up_parts_leave_out_outages(env, device):
    at(env, 1.0, device.go_down)
    at(env, 2.0, device.come_up)
    at(env, 3.0, device.go_down)
    env.run(until=4.0)
    assert device.up_parts(0.5, 4.0) == [(0.5, 1.0), (2.0, 3.0)]
    assert device.up_parts(1.2, 1.8) == []


def test_interrupted_compute_is_recorded_as_abandoned(env, recorder, device):
    log = {}

    def worker():
        try:
            yield from device.compute(5.0, "round 1")
        except simpy.Interrupt:
            log["interrupted"] = env.now
        yield from device.compute(1.0, "next")  # the device is free again
        log["next"] = env.now

    process = env.process(worker())
    at(env, 2.0, lambda: process.interrupt("deadline"))
    env.run()
    assert log == {"interrupted": 2.0, "next": 3.0}
    assert spans(recorder) == [("lost", 0.0, 2.0), ("compute", 2.0, 3.0)]
    assert recorder.spans[0].detail == "abandoned: round 1"
    assert recorder.counters["abandoned_work_s"] == 2.0
    assert "lost_work_s" not in recorder.counters
