"""Background tasks: periodic latency-critical jobs sharing a device with training."""

from __future__ import annotations

import pytest

from edgesim.cluster.background import PeriodicTask, only_background_left, start
from edgesim.cluster.device import DeviceDown

# A job every 1 s needing a quarter of a second of the device, due 0.375 s after release.
TASK = {"period_s": 1.0, "compute_s": 0.25, "deadline_s": 0.375}


def train(env, device, seconds, log, start_at=0.0):
    def process():
        if start_at:
            yield env.timeout(start_at)
        try:
            yield from device.compute(seconds, "train")
        except DeviceDown:
            log["train"] = ("down", env.now)
        else:
            log["train"] = ("done", env.now)

    return env.process(process())


def spans(recorder, kind):
    return [(s.start, s.end) for s in recorder.spans if s.kind == kind]


def at(env, t, action):
    def process():
        yield env.timeout(t)
        action()

    env.process(process())


def test_priority_pauses_training_and_resumes_it_without_losing_work(env, recorder, device):
    start(env, device, PeriodicTask(**TASK, policy="priority"))
    log = {}
    train(env, device, 1.0, log)
    env.run(until=3.0)
    # Job 1 runs [0, 0.25] while training waits; training runs [0.25, 1.0] (0.75 s of work),
    # job 2 preempts it [1.0, 1.25], training finishes its last 0.25 s at 1.5.
    assert log["train"] == ("done", 1.5)
    assert spans(recorder, "compute") == [(0.25, 1.0), (1.25, 1.5)]
    assert spans(recorder, "background") == [(0.0, 0.25), (1.0, 1.25), (2.0, 2.25)]
    assert recorder.deadline_misses == {}
    assert recorder.counters["background_jobs"] == 3
    assert "lost_work_s" not in recorder.counters


def test_fair_sharing_halves_both_and_misses_deadlines(env, recorder, device):
    start(env, device, PeriodicTask(**TASK, policy="fair"))
    log = {}
    train(env, device, 1.0, log)
    env.run(until=3.0)
    # [0, 0.5]: both at half speed, the job ends at 0.5 (> 0.375: a miss); training then runs
    # alone to 1.0 (0.75 done), shares again with job 2 and ends with it at 1.5 (> 1.375).
    assert log["train"] == ("done", 1.5)
    assert spans(recorder, "compute") == [(0.0, 1.5)]
    assert spans(recorder, "background") == [(0.0, 0.5), (1.0, 1.5), (2.0, 2.25)]
    assert recorder.deadline_misses == {"nano-0": 2}
    assert recorder.counters["background_deadline_misses"] == 2
    details = [s.detail for s in recorder.spans if s.kind == "background"]
    assert details == [
        "job 1: missed its deadline by 0.125000 s",
        "job 2: missed its deadline by 0.125000 s",
        "job 3: met its deadline",
    ]


def test_a_job_finishing_exactly_at_its_deadline_meets_it(env, recorder, device):
    start(env, device, PeriodicTask(period_s=1.0, compute_s=0.25, deadline_s=0.5, policy="fair"))
    log = {}
    train(env, device, 1.0, log)
    env.run(until=3.0)
    assert spans(recorder, "background")[:2] == [(0.0, 0.5), (1.0, 1.5)]
    assert recorder.deadline_misses == {}


def test_priority_stretches_long_training_by_the_tasks_utilisation(env, recorder, device):
    start(env, device, PeriodicTask(**TASK, offset_s=0.5, policy="priority"))
    log = {}
    train(env, device, 3.0, log)
    env.run(until=10.0)
    # Jobs at 0.5, 1.5, 2.5, 3.5 each take 0.25 s: 3 s of training ends at 4.0.
    assert log["train"] == ("done", 4.0)
    assert spans(recorder, "compute") == [
        (0.0, 0.5),
        (0.75, 1.5),
        (1.75, 2.5),
        (2.75, 3.5),
        (3.75, 4.0),
    ]
    assert sum(e - s for s, e in spans(recorder, "compute")) == 3.0


def test_overrunning_jobs_queue_in_release_order(env, recorder, device):
    # Fair sharing with training always busy: a job needs 0.75 s of wall time per 0.5 s period.
    start(env, device, PeriodicTask(period_s=0.5, compute_s=0.375, deadline_s=0.5, policy="fair"))
    log = {}
    train(env, device, 10.0, log)
    env.run(until=1.625)
    assert spans(recorder, "background") == [(0.0, 0.75), (0.75, 1.5)]  # job 2 queued 0.25 s
    assert recorder.deadline_misses == {"nano-0": 2}


def test_an_idle_device_serves_jobs_at_full_speed(env, recorder, device):
    start(env, device, PeriodicTask(**TASK, policy="fair"))
    env.run(until=2.5)
    assert spans(recorder, "background") == [(0.0, 0.25), (1.0, 1.25), (2.0, 2.25)]
    assert recorder.deadline_misses == {}


def test_failure_loses_training_in_progress_and_drops_pending_jobs(env, recorder, device):
    start(env, device, PeriodicTask(**TASK, policy="priority"))
    log = {}
    train(env, device, 1.0, log)
    at(env, 1.125, device.go_down)
    at(env, 2.5, device.come_up)
    env.run(until=3.5)
    assert log["train"] == ("down", 1.125)
    # The 0.75 s that ran before the failure is lost; the paused part is not work.
    assert spans(recorder, "lost") == [(0.25, 1.0)]
    assert recorder.counters["lost_work_s"] == 0.75
    details = [(s.start, s.end, s.detail) for s in recorder.spans if s.kind == "background"]
    # Job 2 is dropped mid-run; no job is released at 2.0 (down); job 4 runs at 3.0.
    assert details == [
        (0.0, 0.25, "job 1: met its deadline"),
        (1.0, 1.125, "job 2: dropped: device down"),
        (3.0, 3.25, "job 4: met its deadline"),
    ]
    assert recorder.deadline_misses == {}


def test_closing_counts_unfinished_jobs_past_their_deadline(env, recorder, device):
    task = start(env, device, PeriodicTask(period_s=1.0, compute_s=0.5, deadline_s=0.5))
    train(env, device, 10.0, {})
    env.run(until=0.75)  # job 1 has 0.125 s left and was due at 0.5
    task.close()
    assert recorder.deadline_misses == {"nano-0": 1}
    assert spans(recorder, "background") == [(0.0, 0.75)]


def test_only_background_left_tells_a_stall_from_paused_training(env, device):
    task = start(env, device, PeriodicTask(**TASK, policy="priority"))
    train(env, device, 0.5, {})
    env.run(until=0.125)  # job 1 runs, training paused: not stalled
    assert not only_background_left(env, [task])
    while env.peek() < 5.0:  # training is over: only the task's releases remain
        env.step()
    assert only_background_left(env, [task])


def test_policy_change_takes_effect_at_once(env, recorder, device):
    start(env, device, PeriodicTask(**TASK, policy="fair"))
    log = {}
    train(env, device, 1.0, log)
    at(env, 0.25, lambda: device.set_policy("priority"))
    env.run(until=3.0)
    # [0, 0.25] shared: job 0.125 done, training 0.125; then the job runs alone to 0.375.
    assert spans(recorder, "background")[0] == (0.0, 0.375)
    assert spans(recorder, "compute") == [(0.0, 0.25), (0.375, 1.0), (1.25, 1.5)]
    assert log["train"] == ("done", 1.5)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"period_s": 1.0, "compute_s": 1.0, "deadline_s": 1.0}, "must be > 0 and < period_s"),
        ({"period_s": 1.0, "compute_s": 0.5, "deadline_s": 0.0}, "deadline_s"),
    ],
)
def test_unschedulable_tasks_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        PeriodicTask(**fields)


def test_unknown_policy_is_refused(device):
    with pytest.raises(ValueError, match="policy"):
        device.set_policy("edf")
