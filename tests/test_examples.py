"""The examples run from their own folders, as a user's plugin would, without touching edgesim."""

from __future__ import annotations

import json
from pathlib import Path

from edgesim.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_fedprox_is_a_user_plugin_of_under_120_lines():
    source = (EXAMPLES / "fedprox" / "fedprox.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) < 120


def test_fedprox_takes_the_stragglers_partial_work_that_fedavg_drops(tmp_path, monkeypatch):
    monkeypatch.chdir(EXAMPLES / "fedprox")
    labels = ["fedavg (drops stragglers)", "fedprox mu=0 (partial work)"]
    argv = ["run", "scenario.yaml", "--out", str(tmp_path), "--quiet"]
    assert main([*argv, *(a for label in labels for a in ("--scheme", label))]) == 0
    runs = {r["label"]: r for r in json.loads((tmp_path / "results.json").read_text())["runs"]}
    fedavg, fedprox = (runs[label]["counters"] for label in labels)
    assert fedprox["partial_updates"] > 0 and "partial_updates" not in fedavg
    assert fedprox["client_updates"] > fedavg["client_updates"]
    assert runs[labels[1]]["final_accuracy"] > runs[labels[0]]["final_accuracy"]
