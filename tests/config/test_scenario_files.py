"""Reading scenario files: YAML errors, profiles by name / file / inline, groups and links."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from edgesim.config import load_scenario
from edgesim.config.profiles import PROFILE_DIR, builtin_device_profiles
from edgesim.errors import ConfigError, EdgesimError

SMALL: dict[str, Any] = {
    "name": "files",
    "devices": [
        {"id": "server", "profile": "rtx-2080ti", "role": "server"},
        {"id": "edge", "profile": "jetson-nano"},
    ],
    "network": {"links": [{"between": ["edge", "server"], "profile": "ethernet-1g"}]},
    "schemes": [{"scheme": "fedavg"}],
}

NANO = yaml.safe_load((PROFILE_DIR / "jetson-nano.yaml").read_text(encoding="utf-8"))


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def with_edge_profile(profile: Any) -> dict[str, Any]:
    data = copy.deepcopy(SMALL)
    data["devices"][1]["profile"] = profile
    return data


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    return caught.value.problems


# --------------------------------------------------------------------------- the file itself


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", "name: x\ndevices: [a, b\nnetwork: {}\n")
    with pytest.raises(EdgesimError) as caught:
        load_scenario(path)
    assert str(caught.value) == (
        f"{path}: not valid YAML (line 3, column 8): did not find expected ',' or ']'"
    )


def test_yaml_tab_indentation_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", "name: x\n\tseed: 1\n")
    with pytest.raises(
        EdgesimError, match=r"not valid YAML \(line 2, column 1\): found a tab character"
    ):
        load_scenario(path)


def test_missing_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(EdgesimError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"file not found: {path}"
    assert not isinstance(caught.value, ConfigError)


def test_scenario_path_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(EdgesimError, match=r"is a directory, expected a YAML file"):
        load_scenario(tmp_path)


@pytest.mark.parametrize(
    ("text", "got"),
    [
        ("- name: x\n- seed: 1\n", "a list"),
        ("just a string\n", "a string"),
        ("42\n", "a number"),
        ("", "an empty file"),
        ("# only a comment\n", "an empty file"),
    ],
    ids=["list", "string", "number", "empty", "comment-only"],
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    """What the file is, never what it says: a profile path may point at /etc/passwd."""
    path = write(tmp_path / "s.yaml", text)
    assert problems_of(path) == [f"(top level): expected a mapping of keys to values, got {got}"]


def test_missing_required_top_level_fields_are_all_listed(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", {"description": "nothing else"})
    assert problems_of(path) == [
        "name: required field is missing",
        "devices: required field is missing",
        "network: required field is missing",
        "schemes: required field is missing",
    ]


# --------------------------------------------------------------------------- device profiles


def test_profile_by_builtin_name(tmp_path: Path) -> None:
    loaded = load_scenario(write(tmp_path / "s.yaml", SMALL))
    assert loaded.fleet.profile_of("edge") == builtin_device_profiles()["jetson-nano"]


def test_profile_file_relative_to_the_scenario(tmp_path: Path, monkeypatch) -> None:
    mine = dict(NANO, name="my-nano-5w", peak_flops=1.18e11)
    write(tmp_path / "profiles" / "my-nano.yaml", mine)
    scenario = write(
        tmp_path / "scenarios" / "s.yaml", with_edge_profile("../profiles/my-nano.yaml")
    )
    monkeypatch.chdir(tmp_path / "profiles")  # relative to the scenario file, not the cwd
    profile = load_scenario(scenario).fleet.profile_of("edge")
    assert (profile.name, profile.peak_flops) == ("my-nano-5w", 1.18e11)


def test_profile_file_in_the_scenario_folder_without_slash(tmp_path: Path) -> None:
    write(tmp_path / "mine.yml", dict(NANO, name="mine"))
    loaded = load_scenario(write(tmp_path / "s.yaml", with_edge_profile("mine.yml")))
    assert loaded.fleet.profile_of("edge").name == "mine"


def test_missing_profile_file(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", with_edge_profile("./profiles/nope.yaml"))
    missing = (tmp_path / "profiles" / "nope.yaml").resolve()
    assert problems_of(path) == [f"devices[1].profile: device profile file not found: {missing}"]


def test_invalid_profile_file_reports_its_own_problems(tmp_path: Path) -> None:
    broken = {k: v for k, v in NANO.items() if k != "efficiency"}
    broken["peak_flop"] = 1e9
    profile = write(tmp_path / "bad.yaml", broken)
    found = problems_of(write(tmp_path / "s.yaml", with_edge_profile("./bad.yaml")))
    where = f"devices[1].profile: {profile.resolve()}"
    assert found[0] == f"{where}: efficiency: required field is missing"
    assert found[1].startswith(
        f"{where}: peak_flop: unknown key 'peak_flop' (did you mean 'peak_flops'?)"
    )
    assert len(found) == 2


def test_profile_file_with_bad_yaml(tmp_path: Path) -> None:
    profile = write(tmp_path / "bad.yaml", "name: [x\n")
    found = problems_of(write(tmp_path / "s.yaml", with_edge_profile("bad.yaml")))
    assert len(found) == 1
    assert found[0].startswith(f"devices[1].profile: {profile.resolve()}: not valid YAML (line 2")


def test_inline_profile(tmp_path: Path) -> None:
    inline = dict(NANO, name="inline-nano", step_overhead_s=0.02)
    profile = load_scenario(write(tmp_path / "s.yaml", with_edge_profile(inline))).fleet.profile_of(
        "edge"
    )
    assert (profile.name, profile.step_overhead_s, profile.power_w.compute) == (
        "inline-nano",
        0.02,
        10.0,
    )


def test_inline_profile_problems_are_reported_at_their_path(tmp_path: Path) -> None:
    inline = {k: v for k, v in NANO.items() if k != "memory_bytes"}
    inline["efficency"] = 0.2
    inline["power_w"] = {"compute": 10, "transmit": 4, "idle": -1}
    found = problems_of(write(tmp_path / "s.yaml", with_edge_profile(inline)))
    assert found[0] == "devices[1].profile.memory_bytes: required field is missing"
    assert found[1] == (
        "devices[1].profile.power_w.idle: Input should be greater than or equal to 0 (got -1)"
    )
    assert found[2].startswith(
        "devices[1].profile.efficency: unknown key 'efficency' (did you mean 'efficiency'?); "
        "valid keys: name, description, peak_flops, efficiency,"
    )
    assert len(found) == 3


def test_profile_that_is_neither_a_name_nor_a_mapping(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path / "s.yaml", with_edge_profile(5)))
    assert found == ["devices[1].profile: Input should be a valid string (got 5)"]


# --------------------------------------------------------------------------- groups and links


def test_group_expands_to_numbered_devices_and_links(tmp_path: Path) -> None:
    data = copy.deepcopy(SMALL)
    data["devices"].append({"id": "nano", "profile": "jetson-nano", "count": 4})
    data["network"]["nodes"] = ["switch"]
    data["network"]["links"] += [
        {"between": ["nano", "switch"], "profile": "wifi-5", "latency_s": 0.01},
        {"between": ["switch", "server"], "profile": "ethernet-1g"},
    ]
    loaded = load_scenario(write(tmp_path / "s.yaml", data))
    fleet = loaded.fleet
    assert fleet.clients == ["edge", "nano-0", "nano-1", "nano-2", "nano-3"]
    assert loaded.scenario.members("nano") == ["nano-0", "nano-1", "nano-2", "nano-3"]
    group_links = [link for link in fleet.links if link.core_side == "switch"]
    assert [link.name for link in group_links] == [f"nano-{i}--switch" for i in range(4)]
    for link in group_links:
        # the profile's rates, with the explicit latency overriding the profile's
        assert (link.up_bps, link.down_bps, link.latency_s) == (3.6e8, 3.6e8, 0.01)


def test_link_direction_up_is_edge_to_core(tmp_path: Path) -> None:
    data = copy.deepcopy(SMALL)
    data["network"]["links"] = [
        {"between": ["edge", "server"], "profile": "lte", "name": "cell"},
    ]
    link = load_scenario(write(tmp_path / "s.yaml", data)).fleet.links[0]
    assert (link.name, link.edge_side, link.core_side) == ("cell", "edge", "server")
    assert (link.up_bps, link.down_bps) == (6.3e6, 2.13e7)  # lte: slower up than down


def test_group_on_the_core_side(tmp_path: Path) -> None:
    data = copy.deepcopy(SMALL)
    data["devices"].append({"id": "cam", "profile": "phone", "count": 2})
    data["network"]["links"].append({"between": ["server", "cam"], "profile": "5g"})
    fleet = load_scenario(write(tmp_path / "s.yaml", data)).fleet
    assert [(lk.edge_side, lk.core_side) for lk in fleet.links[1:]] == [
        ("server", "cam-0"),
        ("server", "cam-1"),
    ]
