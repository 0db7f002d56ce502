"""A user's model, in a file next to the scenario, named from YAML: validated, run, swept.

It must work the same in ``run``, ``validate``, a sweep's spawned worker
processes and on Ray workers, which import the file again by its path; and a
mistake in it is the user's (exit 2, naming file and line), not an edgesim bug.
"""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path

import pytest
import yaml

from edgesim.cli import main
from edgesim.sweep import load_sweep, run_sweep
from tests.conftest import TINY

NET = """
    import torch
    from torch import nn


    class Net(nn.Module):
        \"\"\"A user's own two-layer network.\"\"\"

        def __init__(self, input_shape, num_classes):
            super().__init__()
            channels, height, width = input_shape
            self.body = nn.Sequential(
                nn.Flatten(), nn.Linear(channels * height * width, 32), nn.Tanh()
            )
            self.head = nn.Linear(32, num_classes)

        def forward(self, x):
            return self.head(self.body(x)){broken}
"""


def _scenario(folder: Path, model: str = "models/net.py:Net", broken: str = "") -> Path:
    (folder / "models").mkdir(exist_ok=True)
    (folder / "models" / "net.py").write_text(
        textwrap.dedent(NET).format(broken=broken), encoding="utf-8"
    )
    data = copy.deepcopy(TINY)
    data["training"]["model"] = model
    data["schemes"] = [{"scheme": "fedavg", "rounds": 3, "round_deadline_s": 1.0}]
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _sweep(folder: Path) -> Path:
    _scenario(folder)
    sweep = {"name": "mine", "base": "scenario.yaml", "vary": {"training.lr": [0.05, 0.1]}}
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep), encoding="utf-8")
    return path


def test_a_user_model_validates_and_trains_under_fedavg(tmp_path, monkeypatch, capsys):
    path = _scenario(tmp_path)
    monkeypatch.chdir(tmp_path.parent)  # the reference is relative to the scenario, not here
    assert main(["validate", str(path)]) == 0
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    run = results["runs"][0]
    assert run["final_accuracy"] > 0.5  # 10 classes of digits: it learnt
    assert results["scenario"]["training"]["model"] == "models/net.py:Net"


@pytest.mark.parametrize("backend, jobs", [("local", 2), ("ray", 2)])
def test_a_user_model_runs_in_sweep_workers(tmp_path, backend, jobs):
    sweep = load_sweep(_sweep(tmp_path))
    if backend == "ray":
        ray = pytest.importorskip("ray")
        ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    try:
        progress = run_sweep(sweep, tmp_path / "out", backend, jobs=jobs)
    finally:
        if backend == "ray":
            ray.shutdown()
    assert progress.failed == [] and progress.finished == 2


@pytest.mark.parametrize(
    "model, broken, command, words",
    [
        ("models/net.py:Nett", "", "validate", ["training.model", "has no attribute 'Nett'"]),
        ("models/nope.py:Net", "", "validate", ["training.model", "no such Python file"]),
        ("models/net.py:Net", "\n    syntax error here", "validate", ["net.py:", "SyntaxError"]),
        (
            "models/net.py:Net",
            " / undefined_name",
            "run",
            ["error in your code", "net.py:", "NameError"],
        ),
    ],
    ids=["no-attribute", "no-file", "syntax", "fails-while-training"],
)
def test_a_mistake_in_a_user_model_is_the_users(tmp_path, capsys, model, broken, command, words):
    path = _scenario(tmp_path, model, broken)
    argv = [command, str(path)] + (
        ["--out", str(tmp_path / "out"), "--quiet"] if command == "run" else []
    )
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err
    for word in words:
        assert word in err
