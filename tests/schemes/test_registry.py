"""The scheme registry is the one list: schema, validation, runner and contract read it.

A toy scheme registered here, as a plugin would register one, is validated
and run like a built-in without anything else knowing about it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from pydantic import BaseModel, Field

from edgesim import preflight
from edgesim.config import load_scenario
from edgesim.config.loading import validate
from edgesim.config.scenario import Scenario
from edgesim.config.schemes import BUILT_IN, SCHEMES, SchemeBase, SchemeInfo
from edgesim.errors import ConfigError, EdgesimError
from edgesim.runner import run_scenario
from edgesim.schemes import register_scheme, scheme_info
from edgesim.schemes.local import train_alone
from edgesim.schemes.runtime import Process, Runtime
from tests.conftest import TINY

DOC = Path(__file__).resolve().parents[2] / "docs" / "schemes.md"

NAMES = [info.name for info in BUILT_IN]


def test_every_built_in_is_registered_once_in_the_documented_order():
    documented = re.findall(r"^\| `([\w-]+)` \| (.+?) \| (.+?) \|$", DOC.read_text("utf-8"), re.M)
    assert [(i.name, i.description, i.source) for i in BUILT_IN] == documented
    assert len(set(NAMES)) == len(NAMES) == len(SCHEMES)
    assert list(SCHEMES) == NAMES
    assert [SCHEMES[name] for name in NAMES] == list(BUILT_IN)


def test_the_scenario_union_accepts_exactly_the_registered_schemes():
    items = Scenario.model_json_schema()["properties"]["schemes"]["items"]
    assert sorted(items["discriminator"]["mapping"]) == sorted(NAMES)
    assert [ref["$ref"] for ref in items["oneOf"]] == [
        f"#/$defs/{info.settings.__name__}" for info in BUILT_IN
    ]
    data = copy.deepcopy(TINY)
    data["schemes"] = [{"scheme": name} for name in NAMES]
    specs = validate(Scenario, data, "tiny.yaml").schemes
    assert [type(spec) for spec in specs] == [info.settings for info in BUILT_IN]


def test_validating_a_scenario_does_not_import_torch():
    """Built-in protocols are imported when a run starts, not when a scenario is read."""
    code = "import sys, edgesim.config; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_an_unknown_scheme_is_named_with_the_nearest():
    valid = ", ".join(sorted(SCHEMES))
    with pytest.raises(EdgesimError) as caught:
        scheme_info("fedavgg")
    assert str(caught.value) == f"unknown scheme 'fedavgg' (did you mean 'fedavg'?); valid: {valid}"


# --------------------------------------------------------------------------- descriptors


class Toy(SchemeBase):
    """Each client trains alone for ``epochs`` epochs: the smallest protocol there is."""

    scheme: Literal["toy"]
    epochs: int = Field(default=1, ge=1, le=3)


def run_toy(rt: Runtime, spec: Toy) -> Process:
    yield rt.env.all_of([rt.env.process(train_alone(rt, c, spec.epochs)) for c in rt.clients])


TOY = SchemeInfo(Toy, run_toy, "each client trains alone", needs_server=False, global_model=False)


class NotAScheme(BaseModel):
    scheme: Literal["not"]


class Unnamed(SchemeBase):
    epochs: int = 1


class AnyName(SchemeBase):
    scheme: str


class TwoNames(SchemeBase):
    scheme: Literal["one", "two"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"settings": NotAScheme}, "must be a subclass of edgesim.schemes.SchemeBase"),
        ({"settings": dict}, "must be a subclass of edgesim.schemes.SchemeBase"),
        ({"settings": Unnamed}, "Unnamed: a scheme's settings name it in a field scheme: Literal"),
        ({"settings": AnyName}, "AnyName: a scheme's settings name it in a field scheme: Literal"),
        ({"settings": TwoNames}, "TwoNames: a scheme's settings name it"),
        ({"run": 42}, "scheme 'toy': run must be the protocol or 'module:function', got 42"),
        ({"run": "run_toy"}, "scheme 'toy': run must be the protocol or 'module:function'"),
        ({"description": "two\nlines"}, "scheme 'toy': description must be one line"),
        ({"description": " "}, "scheme 'toy': description must be one line"),
    ],
)
def test_a_malformed_descriptor_is_refused(fields: dict[str, Any], message: str):
    with pytest.raises(EdgesimError, match=re.escape(message)):
        dataclasses.replace(TOY, **fields)


def test_a_taken_name_is_refused():
    class FedAvgAgain(SchemeBase):
        scheme: Literal["fedavg"]

    with pytest.raises(EdgesimError, match="scheme 'fedavg' is already registered"):
        register_scheme(SchemeInfo(FedAvgAgain, run_toy, "fedavg again"))
    with pytest.raises(EdgesimError, match="register_scheme takes a SchemeInfo, got dict"):
        register_scheme({"name": "toy"})
    assert SCHEMES["fedavg"] is BUILT_IN[2]


# --------------------------------------------------------------------------- a registered toy


@contextmanager
def registered(info: SchemeInfo) -> Iterator[SchemeInfo]:
    register_scheme(info)
    try:
        yield info
    finally:
        del SCHEMES[info.name]


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate(Scenario, data, "tiny.yaml")
    return caught.value.problems


def with_schemes(*schemes: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(TINY)
    data["schemes"] = list(schemes)
    return data


def test_a_registered_scheme_is_validated_by_its_own_settings():
    with registered(TOY):
        data = with_schemes({"scheme": "fedavg"}, {"scheme": "toy"})
        specs = validate(Scenario, data, "tiny.yaml").schemes
        assert specs[1] == Toy(scheme="toy", epochs=1)
        assert problems(with_schemes({"scheme": "fedavg"}, {"scheme": "toy", "epochs": 9})) == [
            "schemes[1].epochs: Input should be less than or equal to 3 (got 9)"
        ]
        assert problems(with_schemes({"scheme": "toy", "rounds": 2})) == [
            "schemes[0].rounds: unknown key 'rounds'"
        ]
        # an unknown name lists the registered schemes, the toy too, in registry order
        assert problems(with_schemes({"scheme": "toi"})) == [
            f"schemes[0]: unknown scheme 'toi' (did you mean 'toy'?); valid: {', '.join(SCHEMES)}"
        ]
    assert problems(with_schemes({"scheme": "toy"})) == [
        f"schemes[0]: unknown scheme 'toy'; valid: {', '.join(NAMES)}"
    ]


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_registered_scheme_runs_through_run_scenario(tmp_path: Path):
    data = with_schemes({"scheme": "toy", "label": "alone"}, {"scheme": "local", "epochs": 1})
    with registered(TOY):
        results = run_scenario(load_scenario(write(tmp_path, data)))
    toy, local = results["runs"]
    assert (toy["scheme"], toy["label"], toy["primary_curve"]) == ("toy", "alone", "devices-mean")
    assert toy["final_accuracy"] is not None and toy["stalled"] is None
    # one epoch alone on each client is local's one epoch: the same run, step for step
    assert json.dumps(toy["timeline"]) == json.dumps(local["timeline"])
    assert toy["counters"] == local["counters"]


def test_the_flags_of_a_registered_scheme_drive_validation(tmp_path: Path):
    no_server = copy.deepcopy(TINY)
    no_server["devices"][0]["role"] = "client"
    no_server["schemes"] = [{"scheme": "toy"}]
    needs_server = dataclasses.replace(TOY, needs_server=True)
    with registered(needs_server), pytest.raises(ConfigError) as caught:
        load_scenario(write(tmp_path, no_server))
    assert caught.value.problems == ["schemes[0]: scheme 'toy' needs a device with role: server"]

    no_server_data = with_schemes({"scheme": "toy", "epochs": 2})
    no_server_data["data"]["partition"].pop("server_share")
    trains = dataclasses.replace(
        TOY, trains_on_server_data=lambda spec: spec.epochs > 1, server_data_instead="epochs: 1"
    )
    with registered(trains):
        with pytest.raises(ConfigError) as caught:
            load_scenario(write(tmp_path, no_server_data))
        assert caught.value.problems == [
            "schemes[0]: scheme 'toy' trains on server data: "
            "set data.partition.server_share > 0 (or server_copies, or epochs: 1)"
        ]
        no_server_data["schemes"] = [{"scheme": "toy", "epochs": 1}]
        load_scenario(write(tmp_path, no_server_data))
    with registered(dataclasses.replace(TOY, distils_on_server_data=True)):
        loaded = load_scenario(write(tmp_path, no_server_data))
        assert preflight.schemes(loaded) == [
            "schemes[0]: scheme 'toy' distils on the server's data: "
            "set data.partition.server_share > 0 (or server_copies)"
        ]
