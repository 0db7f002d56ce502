"""A user's dataset, a loader in a file next to the scenario, named from YAML."""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path

import pytest
import yaml

from edgesim.cli import main
from tests.conftest import TINY

LOADER = """
    import numpy as np
    from sklearn.datasets import load_digits


    def load(seed):
        digits = load_digits()
        x = (digits.images / 16.0).astype("float32")  # N×H×W floats in [0, 1]
        return x, digits.target


    def presplit():
        x, y = load(0)
        return x[:1400], y[:1400], x[1400:], y[1400:]


    def broken():
        return 1 / 0


    def wrong_shape():
        return np.zeros(10), np.arange(10)
"""


def _scenario(folder: Path, dataset: str) -> Path:
    (folder / "data.py").write_text(textwrap.dedent(LOADER), encoding="utf-8")
    data = copy.deepcopy(TINY)
    data["data"] = {"dataset": dataset, "partition": {"kind": "iid", "server_share": 0.2}}
    data["schemes"] = [{"scheme": "fedavg", "rounds": 3, "round_deadline_s": 1.0}]
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("loader", ["load", "presplit"])
def test_a_user_dataset_trains_under_fedavg(tmp_path, loader):
    path = _scenario(tmp_path, f"data.py:{loader}")
    assert main(["validate", str(path)]) == 0
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["runs"][0]["final_accuracy"] > 0.5


@pytest.mark.parametrize(
    "loader, command, words",
    [
        ("nothing", "validate", ["data.dataset", "has no attribute 'nothing'"]),
        ("broken", "run", ["data.dataset", "loading the data failed", "ZeroDivisionError"]),
        ("wrong_shape", "run", ["data.dataset", "array 'x' has shape (10,)"]),
    ],
)
def test_a_mistake_in_a_user_dataset_is_the_users(tmp_path, capsys, loader, command, words):
    path = _scenario(tmp_path, f"data.py:{loader}")
    extra = ["--out", str(tmp_path / "out"), "--quiet"] if command == "run" else []
    assert main([command, str(path), *extra]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err
    for word in words:
        assert word in err
