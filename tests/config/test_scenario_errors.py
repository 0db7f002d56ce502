"""Every scenario mistake a user can make is reported at its YAML path, with a useful message.

Each test starts from one small valid scenario, breaks one thing (or several),
and checks the exact path and the key words of the problem reported by
``load_scenario`` (schema and reference checks) or ``check_names`` (dataset
and model names).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml

from edgesim.config import load_scenario
from edgesim.config.schemes import SchemeSpec
from edgesim.errors import ConfigError

# server ── switch ── nano-0, nano-1, xavier;  switch ── ap (named ap-uplink) ── pi-0, pi-1
BASE: dict[str, Any] = {
    "name": "errors",
    "devices": [
        {"id": "server", "profile": "rtx-2080ti", "role": "server"},
        {"id": "nano", "profile": "jetson-nano", "count": 2},
        {"id": "xavier", "profile": "jetson-xavier-nx"},
        {"id": "pi", "profile": "raspberry-pi-4", "count": 2},
    ],
    "network": {
        "nodes": ["switch", "ap"],
        "links": [
            {"between": ["server", "switch"], "profile": "ethernet-1g"},
            {"between": ["nano", "switch"], "profile": "ethernet-1g"},
            {"between": ["xavier", "switch"], "profile": "ethernet-1g"},
            {"between": ["pi", "ap"], "profile": "wifi-5"},
            {"between": ["ap", "switch"], "profile": "wifi-5", "name": "ap-uplink"},
        ],
    },
    "failures": {"scheduled": [{"target": "nano-1", "at_s": 1, "duration_s": 2}]},
    "data": {
        "dataset": "digits",
        "partition": {"kind": "dirichlet", "alpha": 0.5, "server_share": 0.2},
    },
    "training": {"model": "cnn-small"},
    "schemes": [
        {"scheme": "local", "epochs": 2},
        {"scheme": "centralized", "epochs": 2},
        {"scheme": "fedavg", "rounds": 3},
        {"scheme": "handoff", "device_epochs": 1, "server_epochs": 1},
    ],
}

CLIENTS = "valid: nano-0, nano-1, pi-0, pi-1, xavier"


@pytest.fixture
def problems(tmp_path: Path) -> Callable[..., list[str]]:
    """Apply ``change`` to a copy of BASE, load it, and return the problems reported."""

    def run(change: Callable[[dict[str, Any]], object]) -> list[str]:
        data = copy.deepcopy(BASE)
        change(data)
        path = tmp_path / "scenario.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_scenario(path)
        assert caught.value.source == str(path)
        assert str(path) in str(caught.value)
        return caught.value.problems

    return run


def only(found: list[str]) -> str:
    assert len(found) == 1, found
    return found[0]


def test_base_scenario_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(BASE), encoding="utf-8")
    loaded = load_scenario(path)
    assert loaded.fleet.server == "server"
    assert loaded.fleet.clients == ["nano-0", "nano-1", "xavier", "pi-0", "pi-1"]


# --------------------------------------------------------------------------- unknown keys


def test_unknown_top_level_key_suggests_the_closest(problems) -> None:
    problem = only(problems(lambda d: d.update(seeed=1)))
    assert problem.startswith("seeed: unknown key 'seeed' (did you mean 'seed'?); valid keys: ")
    assert "name, description, seed, devices, network" in problem


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["data"]["partition"].update(alfa=1),
            "data.partition.alfa: unknown key 'alfa' (did you mean 'alpha'?); valid keys: kind,",
        ),
        (
            lambda d: d["training"].update(batchsize=8),
            "training.batchsize: unknown key 'batchsize' (did you mean 'batch_size'?)",
        ),
        (
            lambda d: d["devices"][2].update(roel="client"),
            "devices[2].roel: unknown key 'roel' (did you mean 'role'?); valid keys: id, profile,",
        ),
        (
            lambda d: d["network"]["links"][1].update(latency=0.1),
            "network.links[1].latency: unknown key 'latency' (did you mean 'latency_s'?)",
        ),
        (
            lambda d: d["failures"]["scheduled"][0].update(duration=3),
            "failures.scheduled[0].duration: unknown key 'duration' (did you mean 'duration_s'?)",
        ),
        (
            lambda d: d.update(observe={"min_interval": 1}),
            "observe.min_interval: unknown key 'min_interval' (did you mean 'min_interval_s'?)",
        ),
    ],
    ids=["partition", "training", "device", "link", "scheduled-failure", "observe"],
)
def test_unknown_nested_key_is_reported_at_its_path(problems, change, expected) -> None:
    assert only(problems(change)).startswith(expected)


def test_unknown_key_without_a_close_match_lists_the_valid_keys(problems) -> None:
    problem = only(problems(lambda d: d["training"].update(xyzzy=1)))
    assert problem == (
        "training.xyzzy: unknown key 'xyzzy'; "
        "valid keys: model, small_model, batch_size, lr, momentum, weight_decay"
    )


# --------------------------------------------------------------------------- schemes

SCHEME_NAMES = ", ".join(
    get_args(cls.model_fields["scheme"].annotation)[0] for cls in get_args(get_args(SchemeSpec)[0])
)
"""Every scheme tag, in the order the union declares them (as pydantic lists them)."""


def test_unknown_scheme_tag_suggests_the_closest(problems) -> None:
    problem = only(problems(lambda d: d["schemes"][2].update(scheme="fedavgg")))
    assert problem == (
        f"schemes[2]: unknown scheme 'fedavgg' (did you mean 'fedavg'?); valid: {SCHEME_NAMES}"
    )


def test_missing_scheme_tag_names_the_valid_schemes(problems) -> None:
    problem = only(problems(lambda d: d["schemes"][2].pop("scheme")))
    assert problem == f"schemes[2]: missing 'scheme'; valid: {SCHEME_NAMES}"


def test_unknown_key_inside_a_scheme_has_no_tag_in_its_path(problems) -> None:
    problem = only(problems(lambda d: d["schemes"][2].update(roundz=5)))
    assert problem.startswith("schemes[2].roundz: unknown key 'roundz' (did you mean 'rounds'?)")
    assert "fedavg.roundz" not in problem
    # the valid keys are those of *this* scheme
    assert "valid keys: label, scheme, rounds, local_epochs" in problem


def test_key_of_another_scheme_is_unknown(problems) -> None:
    problem = only(problems(lambda d: d["schemes"][0].update(rounds=5)))
    assert problem.startswith("schemes[0].rounds: unknown key 'rounds'; valid keys: label, scheme")


def test_scheme_that_is_not_a_mapping(problems) -> None:
    problem = only(problems(lambda d: d["schemes"].append("fedavg")))
    assert problem.startswith("schemes[4]: ")
    assert "(got 'fedavg')" in problem


def test_no_schemes(problems) -> None:
    problem = only(problems(lambda d: d.update(schemes=[])))
    assert problem.startswith("schemes: List should have at least 1 item")


# --------------------------------------------------------------------------- numbers out of range


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["schemes"][2].update(rounds=-1),
            "schemes[2].rounds: Input should be greater than or equal to 1 (got -1)",
        ),
        (
            lambda d: d["schemes"][0].update(epochs=0),
            "schemes[0].epochs: Input should be greater than or equal to 1 (got 0)",
        ),
        (
            lambda d: d["schemes"][2].update(client_fraction=1.5),
            "schemes[2].client_fraction: Input should be less than or equal to 1 (got 1.5)",
        ),
        (
            lambda d: d["schemes"][1].update(upload_deadline_s=0),
            "schemes[1].upload_deadline_s: Input should be greater than 0 (got 0)",
        ),
        (
            lambda d: d["schemes"][3].update(after_return_epochs=-1),
            "schemes[3].after_return_epochs: Input should be greater than or equal to 0 (got -1)",
        ),
        (
            lambda d: d["data"]["partition"].update(alpha=0),
            "data.partition.alpha: Input should be greater than or equal to 0.001 (got 0)",
        ),
        (
            lambda d: d["data"]["partition"].update(alpha=-0.5),
            "data.partition.alpha: Input should be greater than or equal to 0.001 (got -0.5)",
        ),
        (
            lambda d: d["data"]["partition"].update(server_share=1),
            "data.partition.server_share: Input should be less than 1 (got 1)",
        ),
        (
            lambda d: d["data"]["partition"].update(server_share=-0.1),
            "data.partition.server_share: Input should be greater than or equal to 0 (got -0.1)",
        ),
        (
            lambda d: d["data"].update(test_fraction=1),
            "data.test_fraction: Input should be less than 1 (got 1)",
        ),
        (
            lambda d: d.update(targets=[0.5, 1.5]),
            "targets[1]: Input should be less than or equal to 1 (got 1.5)",
        ),
        (
            lambda d: d.update(targets=[0, 0.9]),
            "targets[0]: Input should be greater than 0 (got 0)",
        ),
        (lambda d: d.update(horizon_s=0), "horizon_s: Input should be greater than 0 (got 0)"),
        (
            lambda d: d.update(seed=-1),
            "seed: Input should be greater than or equal to 0 (got -1)",
        ),
        (
            lambda d: d["devices"][1].update(count=0),
            "devices[1].count: Input should be greater than or equal to 1 (got 0)",
        ),
        (
            lambda d: d["training"].update(momentum=1),
            "training.momentum: Input should be less than 1 (got 1)",
        ),
        (
            lambda d: d["network"]["links"][0].update(latency_s=-0.001),
            "network.links[0].latency_s: Input should be greater than or equal to 0 (got -0.001)",
        ),
        (
            lambda d: d["failures"]["scheduled"][0].update(duration_s=0),
            "failures.scheduled[0].duration_s: Input should be greater than 0 (got 0)",
        ),
        (
            lambda d: d.update(observe={"min_interval_s": -1}),
            "observe.min_interval_s: Input should be greater than or equal to 0 (got -1)",
        ),
    ],
    ids=[
        "negative-rounds",
        "zero-epochs",
        "client-fraction",
        "upload-deadline",
        "after-return-epochs",
        "alpha-zero",
        "alpha-negative",
        "server-share-one",
        "server-share-negative",
        "test-fraction",
        "target-above-one",
        "target-zero",
        "horizon",
        "seed",
        "count",
        "momentum",
        "latency",
        "outage-duration",
        "observe",
    ],
)
def test_number_out_of_range(problems, change, expected) -> None:
    assert only(problems(change)) == expected


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["data"]["partition"].update(kind="dirichet"),
            "data.partition.kind: unknown value 'dirichet' (did you mean 'dirichlet'?); "
            "valid: dirichlet, iid, shards",
        ),
        (
            lambda d: d["devices"][1].update(role="serverr"),
            "devices[1].role: unknown value 'serverr' (did you mean 'server'?); "
            "valid: client, server",
        ),
        (
            lambda d: d["devices"][1].update(id="na no"),
            "devices[1].id: use 1 to 64 letters, digits, '_', '-' or '.', not starting with '.' "
            "(got 'na no')",
        ),
        (
            lambda d: d["schemes"][2].update(rounds="many"),
            "schemes[2].rounds: Input should be a valid integer, unable to parse string as an "
            "integer (got 'many')",
        ),
        (lambda d: d.pop("network"), "network: required field is missing"),
        (lambda d: d["devices"][1].pop("profile"), "devices[1].profile: required field is missing"),
    ],
    ids=["partition-kind", "role", "id-pattern", "not-a-number", "no-network", "no-profile"],
)
def test_wrong_type_or_missing_field(problems, change, expected) -> None:
    assert only(problems(change)) == expected


# --------------------------------------------------------------------------- links


def test_link_with_neither_profile_nor_numbers(problems) -> None:
    problem = only(problems(lambda d: d["network"]["links"][0].pop("profile")))
    assert problem == (
        "network.links[0]: give a link 'profile' or all of up_bps, down_bps and latency_s"
    )


def test_link_with_only_some_numbers(problems) -> None:
    def change(d: dict[str, Any]) -> None:
        d["network"]["links"][0] = {"between": ["server", "switch"], "up_bps": 1e9}

    assert only(problems(change)).startswith("network.links[0]: give a link 'profile' or all of")


def test_link_with_explicit_numbers_and_no_profile_is_valid(tmp_path: Path) -> None:
    data = copy.deepcopy(BASE)
    data["network"]["links"][0] = {
        "between": ["server", "switch"],
        "up_bps": 1e9,
        "down_bps": 2e9,
        "latency_s": 0,
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    link = load_scenario(path).fleet.links[0]
    assert (link.up_bps, link.down_bps, link.latency_s, link.profile) == (1e9, 2e9, 0, None)


def test_link_from_a_node_to_itself(problems) -> None:
    problem = only(problems(lambda d: d["network"]["links"][0].update(between=["switch"] * 2)))
    assert problem == "network.links[0]: a link joins two different nodes, got ['switch', 'switch']"


def test_link_with_three_ends(problems) -> None:
    problem = only(problems(lambda d: d["network"]["links"][0].update(between=["a", "b", "c"])))
    assert problem.startswith("network.links[0].between: Tuple should have at most 2 items")


def test_no_links(problems) -> None:
    problem = only(problems(lambda d: d["network"].update(links=[])))
    assert problem.startswith("network.links: List should have at least 1 item")


def test_unknown_link_profile(problems) -> None:
    problem = only(problems(lambda d: d["network"]["links"][1].update(profile="ethernet-1gb")))
    assert problem == (
        "network.links[1].profile: unknown link profile 'ethernet-1gb' "
        "(did you mean 'ethernet-1g'?); valid: 5g, ethernet-10g, ethernet-1g, lte, wan, "
        "wifi-5, wifi-6"
    )


@pytest.mark.parametrize(("end", "between"), [(0, ["xavir", "switch"]), (1, ["xavier", "swich"])])
def test_unknown_link_endpoint(problems, end, between) -> None:
    problem = only(problems(lambda d: d["network"]["links"][2].update(between=between)))
    expected = "xavier" if end == 0 else "switch"
    assert problem.startswith(
        f"network.links[2].between[{end}]: unknown node '{between[end]}' "
        f"(did you mean '{expected}'?); valid: "
    )


def test_second_link_between_the_same_nodes(problems) -> None:
    link = {"between": ["switch", "xavier"], "profile": "wifi-5"}  # either direction
    problem = only(problems(lambda d: d["network"]["links"].append(link)))
    assert problem == (
        "network.links[5].between: switch and xavier are already joined by network.links[2]"
    )


def test_second_group_link_is_reported_once(problems) -> None:
    link = {"between": ["nano", "switch"], "profile": "wifi-5"}
    problem = only(problems(lambda d: d["network"]["links"].append(link)))
    assert problem == (
        "network.links[5].between: nano-0 and switch are already joined by network.links[1]"
    )


def test_link_named_like_a_device(problems) -> None:
    problem = only(problems(lambda d: d["network"]["links"][0].update(name="xavier")))
    assert problem == "network.links[0].name: 'xavier' is already a device or node id"


def test_two_links_with_one_name(problems) -> None:
    problem = only(problems(lambda d: d["network"]["links"][0].update(name="ap-uplink")))
    assert problem == "network.links[4].name: 'ap-uplink' already names network.links[0]"


def test_link_between_two_groups(problems) -> None:
    link = {"between": ["nano", "pi"], "profile": "wifi-5"}
    problem = only(problems(lambda d: d["network"]["links"].append(link)))
    assert problem == "network.links[5].between: at most one end may be a device group"


# --------------------------------------------------------------------------- devices and ids


def test_unknown_device_profile(problems) -> None:
    problem = only(problems(lambda d: d["devices"][1].update(profile="jetson-nan")))
    assert problem.startswith(
        "devices[1].profile: unknown device profile 'jetson-nan' (did you mean 'jetson-nano'?); "
        "valid: a100, "
    )
    assert "rtx-2080ti" in problem


def test_two_servers(problems) -> None:
    problem = only(problems(lambda d: d["devices"][2].update(role="server")))
    assert problem == "devices: at most one device may have role 'server', got server, xavier"


def test_server_group_of_several_devices(problems) -> None:
    problem = only(problems(lambda d: d["devices"][0].update(count=2)))
    assert problem == "devices: the server 'server' is one device: count must be 1, got 2"


def _device(device_id: str, count: int = 1) -> dict[str, Any]:
    return {"id": device_id, "profile": "jetson-nano", "count": count}


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda d: d["devices"][2].update(id="nano"),
            "devices[2].id: 'nano' is already the id of devices[1]",
        ),
        (
            lambda d: d["network"]["nodes"].append("xavier"),
            "network.nodes[2]: 'xavier' is already the id of devices[2]",
        ),
        (
            lambda d: d["devices"].append(_device("nano-1")),
            "devices[4].id: 'nano-1' is already a device of devices[1] ('nano' with count 2)",
        ),
        (
            lambda d: d["devices"].insert(1, _device("nano-0")),
            "devices[2].id: 'nano-0' is already the id of devices[1]",
        ),
        (
            lambda d: d["devices"].append(_device("pi-1", count=3)),
            "devices[4].id: 'pi-1' is already a device of devices[3] ('pi' with count 2)",
        ),
        (
            lambda d: d["network"]["nodes"].append("pi-0"),
            "network.nodes[2]: 'pi-0' is already a device of devices[3] ('pi' with count 2)",
        ),
        (
            lambda d: d["network"]["nodes"].append("ap"),
            "network.nodes[2]: 'ap' is already the network node network.nodes[1]",
        ),
    ],
    ids=[
        "two-groups",
        "node-is-device",
        "device-is-group-member",
        "group-member-is-device",
        "groups-overlap",
        "node-is-group-member",
        "node-twice",
    ],
)
def test_every_device_and_node_has_its_own_name(problems, change, expected) -> None:
    """Names clash after groups expand too: ``nano`` × 2 makes ``nano-1``, so a device may not."""
    assert only(problems(change)) == expected


# --------------------------------------------------------------------------- failures


def test_unknown_scheduled_failure_target(problems) -> None:
    problem = only(problems(lambda d: d["failures"]["scheduled"][0].update(target="xavir")))
    assert problem.startswith(
        "failures.scheduled[0].target: unknown device or link 'xavir' (did you mean 'xavier'?); "
        "valid: "
    )
    # devices, groups and link names (given or derived) are all valid targets
    for name in ("ap-uplink", "nano", "nano-0", "nano-0--switch", "server--switch"):
        assert f" {name}," in problem


def test_unknown_random_failure_target(problems) -> None:
    random = {"targets": ["pi", "ap-uplnk"], "mtbf_s": 60, "mttr_s": 5, "horizon_s": 600}
    problem = only(problems(lambda d: d["failures"].update(random=random)))
    assert problem.startswith(
        "failures.random.targets[1]: unknown device or link 'ap-uplnk' "
        "(did you mean 'ap-uplink'?); valid: "
    )


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("mtbf_s", 0, "failures.random.mtbf_s: Input should be greater than 0 (got 0)"),
        ("mttr_s", -1, "failures.random.mttr_s: Input should be greater than 0 (got -1)"),
        ("horizon_s", 0, "failures.random.horizon_s: Input should be greater than 0 (got 0)"),
        ("targets", [], "failures.random.targets: List should have at least 1 item after"),
    ],
)
def test_random_failure_numbers(problems, field, value, expected) -> None:
    random = {"targets": ["pi"], "mtbf_s": 60, "mttr_s": 5, "horizon_s": 600, field: value}
    assert only(problems(lambda d: d["failures"].update(random=random))).startswith(expected)


def test_failures_may_name_groups_links_and_members(tmp_path: Path) -> None:
    data = copy.deepcopy(BASE)
    data["failures"] = {
        "scheduled": [
            {"target": "ap-uplink", "at_s": 0, "duration_s": 1},
            {"target": "pi-1--ap", "at_s": 0, "duration_s": 1},
        ],
        "random": {"targets": ["nano", "xavier"], "mtbf_s": 60, "mttr_s": 5, "horizon_s": 600},
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    load_scenario(path)


# ------------------------------------------------------------------------- server and reachability


def test_scheme_that_needs_a_server_without_one(problems) -> None:
    found = problems(lambda d: d["devices"][0].update(role="client"))
    assert found == [
        "schemes[1]: scheme 'centralized' needs a device with role: server",
        "schemes[2]: scheme 'fedavg' needs a device with role: server",
        "schemes[3]: scheme 'handoff' needs a device with role: server",
    ]


def test_handoff_needs_data_on_the_server(problems) -> None:
    problem = only(problems(lambda d: d["data"]["partition"].pop("server_share")))
    assert problem == (
        "schemes[3]: scheme 'handoff' trains on server data: "
        "set data.partition.server_share > 0 (or server_copies)"
    )


def test_local_scheme_needs_no_server(tmp_path: Path) -> None:
    data = copy.deepcopy(BASE)
    data["devices"][0]["role"] = "client"
    data["schemes"] = [{"scheme": "local"}]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert load_scenario(path).fleet.server is None


def test_device_unreachable_from_the_server(problems) -> None:
    problem = only(problems(lambda d: d["network"]["links"].pop(4)))  # the ap uplink
    assert problem == "network.links: no route to the server from pi-0, pi-1"


def test_device_with_no_link_at_all(problems) -> None:
    problem = only(problems(lambda d: d["network"]["links"].pop(2)))
    assert problem == "network.links: no route to the server from xavier"


# ----------------------------------------------------------------- data and schemes naming devices


def test_personal_class_on_the_server(problems) -> None:
    change = {"personal_class": ["server", 3]}
    assert only(problems(lambda d: d["data"]["partition"].update(change))) == (
        f"data.partition.personal_class[0]: 'server' is not a client; {CLIENTS}"
    )


def test_personal_class_on_an_unknown_device(problems) -> None:
    change = {"personal_class": ["xavie", 3]}
    assert only(problems(lambda d: d["data"]["partition"].update(change))) == (
        f"data.partition.personal_class[0]: 'xavie' is not a client "
        f"(did you mean 'xavier'?); {CLIENTS}"
    )


def test_personal_class_label_must_be_an_integer(problems) -> None:
    change = {"personal_class": ["xavier", "7s"]}
    assert only(problems(lambda d: d["data"]["partition"].update(change))).startswith(
        "data.partition.personal_class[1]: Input should be"
    )


def test_handoff_devices_naming_non_clients(problems) -> None:
    devices = ["nano-0", "server", "xaviers"]
    assert problems(lambda d: d["schemes"][3].update(devices=devices)) == [
        f"schemes[3].devices[1]: 'server' is not a client; {CLIENTS}",
        f"schemes[3].devices[2]: 'xaviers' is not a client (did you mean 'xavier'?); {CLIENTS}",
    ]


# ------------------------------------------------------------------------ several problems at once


def test_schema_problems_are_all_reported_at_once(problems) -> None:
    def change(d: dict[str, Any]) -> None:
        d["seeed"] = 1
        d["schemes"][2]["rounds"] = 0
        d["data"]["partition"]["alpha"] = -1
        d["devices"][1]["count"] = 0
        d["targets"] = [2]

    found = problems(change)
    assert len(found) == 5, found
    assert {p.split(":")[0] for p in found} == {
        "seeed",
        "schemes[2].rounds",
        "data.partition.alpha",
        "devices[1].count",
        "targets[0]",
    }


def test_reference_problems_are_all_reported_at_once(problems) -> None:
    def change(d: dict[str, Any]) -> None:
        d["devices"][1]["profile"] = "jetson-nan"
        d["network"]["links"][1]["profile"] = "ethernet-1gb"
        d["network"]["links"][2]["between"] = ["xavier", "swich"]
        d["failures"]["scheduled"][0]["target"] = "nano-9"
        d["data"]["partition"]["personal_class"] = ["server", 1]
        d["schemes"][3]["devices"] = ["server"]

    found = problems(change)
    assert [p.split(":")[0] for p in found] == [
        "devices[1].profile",
        "network.links[1].profile",
        "network.links[2].between[1]",
        "failures.scheduled[0].target",
        "data.partition.personal_class[0]",
        "schemes[3].devices[0]",
    ]
    message = str(ConfigError("x.yaml", found))
    assert message.count("\n  - ") == 6


# ------------------------------------------------------------------------- dataset and model names


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["data"].update(dataset="digit"),
            "data.dataset: unknown dataset 'digit' (did you mean 'digits'?); valid: ",
        ),
        (
            lambda d: d["training"].update(model="cnn-smal"),
            "training.model: unknown model 'cnn-smal' (did you mean 'cnn-small'?); valid: ",
        ),
    ],
    ids=["dataset", "model"],
)
def test_unknown_dataset_or_model_name(tmp_path: Path, change, expected) -> None:
    from edgesim.runner import check_names

    data = copy.deepcopy(BASE)
    change(data)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    loaded = load_scenario(path)  # the schema cannot know these names
    with pytest.raises(ConfigError) as caught:
        check_names(loaded)
    assert only(caught.value.problems).startswith(expected)


def test_dataset_and_model_names_reported_together(tmp_path: Path) -> None:
    from edgesim.runner import check_names

    data = copy.deepcopy(BASE)
    data["data"]["dataset"] = "imagenet"
    data["training"]["model"] = "resnet"
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        check_names(load_scenario(path))
    assert [p.split(":")[0] for p in caught.value.problems] == ["data.dataset", "training.model"]


def test_valid_names_pass_check_names(tmp_path: Path) -> None:
    from edgesim.runner import check_names

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(BASE), encoding="utf-8")
    check_names(load_scenario(path))
