"""Timing-only runs: the same clock, bytes and energy as a real run, without torch steps.

Every built-in scheme whose registry flag says its timing does not depend on
accuracy is run on the tiny scenario twice; everything but accuracy must be
identical. The scale test runs 2 000 devices (simulated time only is asserted).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from edgesim.config import from_model, load_scenario, validate_scenario
from edgesim.config.schemes import SCHEMES
from edgesim.errors import ConfigError
from edgesim.runner import run_scenario
from tests.conftest import TINY

FIXED_GEAR = {"scheme": "gear", "rounds": 6, "switch": {"round": 3}}
TIMING = ("sim_time_s", "stalled", "timeline", "bytes", "bytes_per_link", "bytes_curve", "devices")


def _loaded(data: dict[str, Any]):
    return from_model(validate_scenario(data, "<test>", Path.cwd()), "<test>", Path.cwd())


def _accepted() -> list[dict[str, Any]]:
    """The tiny scenario's schemes whose settings the registry accepts for timing-only runs."""
    schemes = [s for s in TINY["schemes"] if s["scheme"] != "gear"] + [FIXED_GEAR]
    loaded = _loaded({**copy.deepcopy(TINY), "schemes": schemes})
    return [
        schemes[i]
        for i, spec in enumerate(loaded.scenario.schemes)
        if SCHEMES[spec.scheme].why_not_timing_only(spec) is None
    ]


ACCEPTED = _accepted()


@pytest.fixture(scope="module")
def both() -> tuple[dict[str, Any], dict[str, Any]]:
    """Real and timing-only results of every accepted scheme, by label."""
    data = {**copy.deepcopy(TINY), "schemes": ACCEPTED}
    real, timing = (run_scenario(_loaded({**data, "timing_only": t})) for t in (False, True))
    return (
        {run["label"]: run for run in real["runs"]},
        {run["label"]: run for run in timing["runs"]},
    )


ACCURACY_DRIVEN = {"oort", "tifl"}
"""Schemes that choose their clients by what training reports: refused whatever their settings."""


def test_every_built_in_but_auto_gear_and_the_accuracy_driven_selectors_is_accepted():
    assert {s["scheme"] for s in ACCEPTED} == set(SCHEMES) - ACCURACY_DRIVEN


@pytest.mark.parametrize(
    ("scheme", "reason"),
    [("oort", "Oort selects clients by the training losses"), ("tifl", "TiFL chooses each round")],
)
def test_the_accuracy_driven_selectors_are_refused_with_the_reason(tiny_scenario, scheme, reason):
    tiny_scenario["timing_only"] = True
    tiny_scenario["schemes"] = [s for s in tiny_scenario["schemes"] if s["scheme"] == scheme]
    with pytest.raises(ConfigError) as raised:
        run_scenario(_loaded(tiny_scenario))
    assert f"schemes[0]: scheme '{scheme}' cannot run timing-only: {reason}" in str(raised.value)


@pytest.mark.parametrize("scheme", [s["scheme"] for s in ACCEPTED])
def test_timeline_bytes_and_energy_equal_a_real_run(both, scheme):
    real, timing = (runs[scheme] for runs in both)
    assert real["timeline"], "the run did something"
    for key in TIMING:
        assert timing[key] == real[key], key
    real_counters = {k: v for k, v in real["counters"].items() if "accuracy" not in k}
    assert timing["counters"] == real_counters
    assert timing["timing_only"] is True and real["timing_only"] is False
    assert not any(curve["points"] for curve in timing["curves"])
    assert timing["final_accuracy"] is None
    assert set(timing["time_to_accuracy_s"].values()) == {None}


def test_auto_gear_is_refused_with_the_reason(tiny_scenario):
    tiny_scenario["timing_only"] = True
    schemes = tiny_scenario["schemes"]
    tiny_scenario["schemes"] = [s for s in schemes if s["scheme"] not in ACCURACY_DRIVEN]
    with pytest.raises(ConfigError) as raised:
        run_scenario(_loaded(tiny_scenario))
    message = str(raised.value)
    index = [s["scheme"] for s in tiny_scenario["schemes"]].index("gear")
    assert f"schemes[{index}]: scheme 'gear' cannot run timing-only: switch: auto" in message
    assert message.count("cannot run timing-only") == 1


def test_the_command_line_flag_turns_it_on(tiny_scenario, write_scenario):
    tiny_scenario["schemes"] = [{"scheme": "fedavg", "rounds": 1}]
    loaded = load_scenario(write_scenario(tiny_scenario), timing_only=True)
    assert loaded.scenario.timing_only
    assert loaded.source.endswith("(with --timing-only)")
    assert run_scenario(loaded)["scenario"]["timing_only"] is True


def test_two_thousand_devices():
    """Two FedAvg rounds of 2 000 clients: each downloads and uploads one model a round."""
    devices, rounds = 2_000, 2
    data = {
        "name": "scale",
        "seed": 1,
        "timing_only": True,
        "devices": [
            {"id": "server", "profile": "rtx-2080ti", "role": "server"},
            {"id": "nano", "profile": "jetson-nano", "count": devices},
        ],
        "network": {
            "nodes": ["switch"],
            "links": [
                {"between": ["server", "switch"], "profile": "ethernet-1g"},
                {"between": ["nano", "switch"], "profile": "ethernet-1g"},
            ],
        },
        "data": {
            "dataset": "synthetic",
            "validation_fraction": 0.0,
            "synthetic": {"samples": 10 * devices},
        },
        "training": {"model": "mlp", "batch_size": 8},
        "schemes": [{"scheme": "fedavg", "rounds": rounds}],
    }
    results = run_scenario(_loaded(data))
    run = results["runs"][0]
    model_bytes = results["scenario"]["model_bytes"]["mlp"]
    assert run["counters"]["rounds"] == rounds
    assert run["counters"]["client_updates"] == devices * rounds
    assert run["bytes"]["total"] == 2 * devices * rounds * model_bytes
    assert run["sim_time_s"] > 0 and run["curves"] == []


def test_without_the_timeline_every_other_figure_is_the_same():
    """``observe.timeline: false`` drops the spans from the results, not from the totals."""
    data = {**copy.deepcopy(TINY), "schemes": ACCEPTED, "timing_only": True}
    kept = run_scenario(_loaded(data))
    dropped = run_scenario(_loaded({**data, "observe": {"timeline": False}}))
    assert [run["label"] for run in dropped["runs"]] == [run["label"] for run in kept["runs"]]
    for with_spans, without in zip(kept["runs"], dropped["runs"], strict=True):
        assert with_spans["timeline"] and "timeline" not in without
        assert without == {k: v for k, v in with_spans.items() if k != "timeline"}
