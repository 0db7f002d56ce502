"""What the runtime charges a device: the whole-step law, or each layer on a layered profile."""

from __future__ import annotations

import pytest

from edgesim.cluster.costs import layered_time, step_time
from edgesim.config import load_scenario
from edgesim.config.profiles import builtin_device_profiles
from edgesim.learning.flops import workload_of
from edgesim.learning.layers import layer_work_of, layers_at
from edgesim.runner import prepare, run_scenario


@pytest.mark.parametrize("layered", [False, True])
def test_local_training_is_charged_by_the_profiles_law(
    write_scenario, tiny_scenario, layer_costs, layered
):
    nano = builtin_device_profiles()["jetson-nano"].model_dump(exclude_none=True)
    if layered:
        nano["layer_costs"] = layer_costs
    tiny_scenario["devices"] = [
        {"id": "server", "profile": "rtx-2080ti", "role": "server"},
        {"id": "nano", "profile": nano},
    ]
    tiny_scenario["network"]["links"] = tiny_scenario["network"]["links"][:2]
    tiny_scenario["failures"] = {}
    tiny_scenario["training"]["model"] = "cnn-small"
    tiny_scenario["schemes"] = [{"scheme": "local", "epochs": 1}]
    loaded = load_scenario(write_scenario(tiny_scenario))
    run = run_scenario(loaded)["runs"][0]
    profile = next(d.profile for d in loaded.fleet.devices if d.id == "nano")
    assert (profile.layer_costs is not None) == layered
    samples = len(prepare(loaded).holdings["nano"].train)
    sizes = [32] * (samples // 32) + ([samples % 32] if samples % 32 else [])
    args = ("cnn-small", (1, 8, 8), 10, 32)
    if layered:
        layers = layer_work_of(*args)
        step = [layered_time(profile, "train", layers_at(layers, "train", b, 32)) for b in sizes]
        whole = step_time(profile, *workload_of(*args).train_step_at(32))
        assert step[0] != pytest.approx(whole, rel=0.01)  # a different law, not a relabelling
    else:
        step = [step_time(profile, *workload_of(*args).train_step_at(b)) for b in sizes]
    (epoch,) = [end - start for who, kind, start, end, _ in run["timeline"] if who == "nano"]
    assert epoch == pytest.approx(sum(step), abs=1e-6)  # the timeline keeps microseconds
