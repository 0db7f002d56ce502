"""Names that may become file names, and numbers that must be finite: refused in words."""

from __future__ import annotations

import pytest

from edgesim.cli import main
from edgesim.config.names import RULE


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b", "..\\x", "x" * 65, "", "a b"])
def test_unsafe_scenario_names_are_refused_in_words(write_scenario, tiny_scenario, capsys, name):
    tiny_scenario["name"] = name
    assert main(["validate", str(write_scenario(tiny_scenario))]) == 2
    err = capsys.readouterr().err
    assert "scenario.yaml" in err and "name:" in err and RULE in err
    assert "^[" not in err  # the rule in words, not a regular expression


def test_a_name_of_dots_never_becomes_the_output_folder(
    tmp_path, monkeypatch, write_scenario, tiny_scenario
):
    tiny_scenario["name"] = ".."  # the default output, reports/.., is the working folder
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "results.json"
    mine.write_text("mine\n")
    assert main(["run", str(write_scenario(tiny_scenario)), "--quiet"]) == 2
    assert mine.read_text() == "mine\n"


@pytest.mark.parametrize("where", ["group", "subset"])
def test_device_ids_and_subset_names_follow_the_same_rule(write_scenario, tiny_scenario, where):
    if where == "group":
        tiny_scenario["devices"][1]["id"] = "../nano"
    else:
        tiny_scenario["observe"] = {"subsets": {".x": {"labels": [1]}}}
    assert main(["validate", str(write_scenario(tiny_scenario))]) == 2


def test_sweep_names_follow_the_rule(tmp_path, capsys):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("name: ..\nbase: base.yaml\nvary: {seed: [1]}\n")
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "out")]) == 2
    assert RULE in capsys.readouterr().err


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda d: d["network"]["links"][0].update(latency_s=float("inf")), "latency_s"),
        (lambda d: d["schemes"][2].update(local_epochs=float("inf")), "local_epochs"),
        (lambda d: d["training"].update(lr=float("nan")), "training.lr"),
        (lambda d: d["failures"]["scheduled"][0].update(duration_s=float("inf")), "duration_s"),
    ],
    ids=["latency", "epochs", "lr-nan", "outage"],
)
def test_infinite_and_nan_numbers_are_refused(write_scenario, tiny_scenario, capsys, edit, field):
    """``.inf`` would validate as a float, then overflow a loop or write non-JSON results."""
    edit(tiny_scenario)
    assert main(["validate", str(write_scenario(tiny_scenario))]) == 2
    err = capsys.readouterr().err
    assert field in err and "finite number" in err
