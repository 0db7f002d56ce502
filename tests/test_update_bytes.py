"""The bytes of one model update, as schemes send it: in results.json and `edgesim profiles`."""

from __future__ import annotations

import json

from edgesim.cli import main
from edgesim.learning.models import build_model
from edgesim.learning.weights import state_nbytes


def _update_bytes(name: str, shape: tuple[int, int, int] = (1, 8, 8)) -> int:
    return state_nbytes(build_model(name, shape, 10, seed=0).state_dict())


def test_profiles_state_the_update_bytes(capsys):
    assert main(["profiles", "--model", "resnet20", "--dataset", "digits", "--json"]) == 0
    stated = json.loads(capsys.readouterr().out)
    assert stated["update_bytes"] == _update_bytes("resnet20") == 1_081_512
    assert main(["profiles", "--model", "lenet5", "--dataset", "digits"]) == 0
    assert f"{_update_bytes('lenet5'):,} B/update" in " ".join(capsys.readouterr().out.split())


def test_results_state_the_bytes_every_fedavg_transfer_moves(
    tmp_path, write_scenario, tiny_scenario
):
    """A FedAvg round sends the global model to each client and its update back: all one size."""
    tiny_scenario.pop("failures")
    tiny_scenario["schemes"] = [{"scheme": "fedavg", "rounds": 2}]
    out = tmp_path / "out"
    assert main(["run", str(write_scenario(tiny_scenario)), "--out", str(out), "--quiet"]) == 0
    results = json.loads((out / "results.json").read_text())
    sizes = {"mlp": 38_696, "cnn-small": 173_160}
    assert results["scenario"]["model_bytes"] == sizes
    transfers = [span for span in results["runs"][0]["timeline"] if span[1] == "send"]
    assert results["runs"][0]["bytes"]["total"] == len(transfers) * sizes["mlp"] > 0
    assert "<dd>mlp 38.7 kB, cnn-small 173.2 kB</dd>" in (out / "report.html").read_text()
