"""Dotted paths into a scenario: keys, [index] and [name] selectors, errors naming the fix."""

from __future__ import annotations

import pytest

from edgesim.config.scenario import Scenario
from edgesim.errors import EdgesimError
from edgesim.sweep.paths import set_path


def base() -> dict:
    return {
        "devices": [{"id": "server", "role": "server"}, {"id": "jetsons", "count": 4}],
        "network": {"links": [{"between": ["jetsons", "server"], "name": "uplink"}]},
        "schemes": [{"scheme": "fedavg", "rounds": 3}, {"scheme": "local", "label": "alone"}],
    }


@pytest.mark.parametrize(
    ("path", "where", "value"),
    [
        ("devices[jetsons].count", lambda d: d["devices"][1]["count"], 8),
        ("network.links[uplink].profile", lambda d: d["network"]["links"][0]["profile"], "lte"),
        ("schemes[fedavg].rounds", lambda d: d["schemes"][0]["rounds"], 9),
        ("schemes[alone].epochs", lambda d: d["schemes"][1]["epochs"], 2),
        ("schemes[-1].epochs", lambda d: d["schemes"][1]["epochs"], 2),
        ("failures.random.mtbf_s", lambda d: d["failures"]["random"]["mtbf_s"], 5.0),
        ("horizon_s", lambda d: d["horizon_s"], 3.0),
    ],
)
def test_set_path_reaches_the_field(path, where, value):
    data = base()
    set_path(data, path, value, Scenario)
    assert where(data) == value


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "failures.random.mtbf",
            "unknown key 'mtbf' at failures.random (nearest valid path: 'failures.random.mtbf_s')",
        ),
        ("schemes[fedavg].roundz", "nearest valid path: 'schemes[fedavg].rounds'"),
        (
            "schemes[fedavgg].rounds",
            "no item of schemes has id, name, label or scheme 'fedavgg' (did you mean 'fedavg'?)",
        ),
        ("devices[7].count", "devices has 2 items, no index 7"),
        ("devices..count", "malformed segment ''"),
        ("network.links.profile", "network.links is not a mapping"),
    ],
)
def test_bad_paths_name_the_path_and_the_nearest_valid_one(path, message):
    with pytest.raises(EdgesimError) as error:
        set_path(base(), path, 1, Scenario)
    assert str(error.value).startswith(f"'{path}': ")
    assert message in str(error.value)


def test_ambiguous_selector_asks_for_labels():
    data = base()
    data["schemes"].append({"scheme": "fedavg", "label": "fast"})
    with pytest.raises(EdgesimError, match=r"'fedavg' matches schemes items \[0, 2\]"):
        set_path(data, "schemes[fedavg].rounds", 1, Scenario)
    set_path(data, "schemes[fast].rounds", 1, Scenario)
    assert data["schemes"][2]["rounds"] == 1
