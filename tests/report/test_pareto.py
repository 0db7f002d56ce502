"""The decision: one stated rule, applied under each constraint; who is dominated."""

from __future__ import annotations

from edgesim.report.pareto import (
    RAW_DATA_MAY_LEAVE,
    RAW_DATA_STAYS,
    Candidate,
    decide,
    dominated,
    ranked,
    trade_off,
)

CENTRALIZED = Candidate("centralized", 0.983, 0.668, 67_300, 211.0, raw_bytes=67_300)
FEDAVG = Candidate("fedavg", 0.967, 9.71, 81.7e6, 983.0, raw_bytes=0)
HANDOFF = Candidate("handoff", 0.763, 1.92, 2.8e6, 346.0, raw_bytes=0)
LOCAL = Candidate("local", 0.581, 2.20, 0, 236.0, raw_bytes=0)
FLEET = [LOCAL, CENTRALIZED, FEDAVG, HANDOFF]


def test_the_page_answers_under_each_raw_data_constraint():
    choices = decide(FLEET, timing_only=False)
    assert [(c.constraint, c.pick.name, c.runner_up.name) for c in choices] == [
        (RAW_DATA_MAY_LEAVE, "centralized", "fedavg"),
        (RAW_DATA_STAYS, "fedavg", "handoff"),
    ]
    assert choices[1].sentence.startswith(
        "If raw data may not leave the devices: fedavg, 96.7%, 9.71 s, 81.7 MB. "
        "Runner-up: handoff, 76.3%, 1.92 s, 2.8 MB: 5.1× sooner, 29× less traffic, "
        "2.8× less energy, but 20.4 pp less accurate."
    )
    assert "keeps raw data on the devices" in choices[0].sentence


def test_without_a_scheme_that_moves_raw_data_there_is_one_answer():
    (only,) = decide([LOCAL, FEDAVG], timing_only=False)
    assert only.constraint.key == RAW_DATA_STAYS.key and only.pick == FEDAVG
    assert only.sentence.startswith("No scheme here moves raw data off the devices; pick: fedavg")


def test_within_one_point_of_accuracy_the_sooner_scheme_wins():
    close = Candidate("fedbuff", 0.960, 3.0, 90e6, 900.0, raw_bytes=0)
    assert [c.name for c in ranked([FEDAVG, close, HANDOFF], False)] == [
        "fedbuff",
        "fedavg",
        "handoff",
    ]
    assert trade_off(close, FEDAVG).startswith("0.7 pp more accurate, 1.1× less traffic")


def test_at_one_horizon_the_tie_goes_to_the_first_to_the_highest_target_all_reached():
    # The schedulers scenario's seed 0: every scheme stopped at 120 s, so the makespan
    # ties; fedcs, oort and fedbuff are within a point and all reached 85 %.
    fedbuff = Candidate(
        "fedbuff", 0.861, 120.0, 1.66e9, 45_870.0, 0, reached=((0.8, 16.0), (0.85, 64.1))
    )
    fedcs = Candidate(
        "fedcs", 0.864, 120.0, 2.09e9, 47_750.0, 0, reached=((0.8, 8.0), (0.85, 47.6))
    )
    oort = Candidate("oort", 0.859, 120.0, 2.94e9, 49_000.0, 0, reached=((0.8, 16.2), (0.85, 47.7)))
    tifl = Candidate("tifl", 0.839, 120.0, 0.55e9, 42_080.0, 0, reached=((0.8, 19.5),))
    assert [c.name for c in ranked([fedbuff, tifl, oort, fedcs], False)] == [
        "fedcs",
        "oort",
        "fedbuff",
        "tifl",
    ]
    # Without a target every tied scheme reached, the makespan and then the bytes decide.
    late = Candidate("late", 0.862, 120.0, 1.0e9, 40_000.0, 0)
    assert ranked([fedcs, late], False)[0] == late
    assert trade_off(fedcs, fedbuff) == "1.3× less traffic, but 0.3 pp less accurate"


def test_stalled_runs_are_never_picked_and_timing_only_picks_the_shortest():
    stalled = Candidate("fast-but-stalled", 0.99, 0.1, 0, 1.0, raw_bytes=0, stalled=True)
    assert ranked([stalled, FEDAVG], False) == [FEDAVG]
    assert ranked([FEDAVG, HANDOFF, LOCAL], True)[0] == HANDOFF


def test_a_scheme_beaten_on_every_axis_is_dominated_moving_raw_data_is_a_cost():
    worse = Candidate("worse", 0.9, 10.0, 90e6, 1000.0, raw_bytes=0)
    assert dominated([*FLEET, worse], False) == {"worse"}
    # centralized beats fedavg on accuracy, time, bytes and energy, but moves raw data
    assert "fedavg" not in dominated(FLEET, False)
    no_raw = Candidate("centralized", 0.983, 0.668, 67_300, 211.0, raw_bytes=0)
    assert "fedavg" in dominated([no_raw, FEDAVG], False)
