"""The scenario's ``background:`` tasks: schema bounds and device references."""

from __future__ import annotations

import pytest

from edgesim.config import load_scenario
from edgesim.errors import ConfigError

TASK = {"period_s": 0.05, "compute_s": 0.02, "deadline_s": 0.03}


def _problems(write_scenario, data) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_scenario(write_scenario(data))
    return caught.value.problems


def test_a_group_task_is_valid_and_defaults_to_fair_sharing(write_scenario, tiny_scenario):
    tiny_scenario["background"] = [{"device": "nano", **TASK}]
    task = load_scenario(write_scenario(tiny_scenario)).scenario.background[0]
    assert (task.policy, task.offset_s) == ("fair", 0.0)


def test_unknown_device_suggests_the_closest(write_scenario, tiny_scenario):
    tiny_scenario["background"] = [{"device": "nanoo", **TASK}]
    (problem,) = _problems(write_scenario, tiny_scenario)
    assert problem.startswith("background[0].device: unknown device or group 'nanoo'")
    assert "(did you mean 'nano'?)" in problem


def test_one_task_per_device(write_scenario, tiny_scenario):
    tiny_scenario["background"] = [{"device": "nano", **TASK}, {"device": "nano-1", **TASK}]
    (problem,) = _problems(write_scenario, tiny_scenario)
    assert problem == (
        "background[1].device: 'nano-1' already runs background[0] (one background task per device)"
    )


def test_a_task_needing_the_whole_device_is_refused(write_scenario, tiny_scenario):
    tiny_scenario["background"] = [
        {"device": "pi", "period_s": 0.05, "compute_s": 0.05, "deadline_s": 0.05}
    ]
    (problem,) = _problems(write_scenario, tiny_scenario)
    assert problem.startswith("background[0]:") and "must be < period_s" in problem


def test_unknown_policy_is_refused(write_scenario, tiny_scenario):
    tiny_scenario["background"] = [{"device": "pi", **TASK, "policy": "edf"}]
    (problem,) = _problems(write_scenario, tiny_scenario)
    assert problem.startswith("background[0].policy:")
