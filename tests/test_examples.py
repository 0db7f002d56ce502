"""The examples run from their own folders, as a user's plugin would, without touching edgesim."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

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


def test_a_user_scheme_runs_in_spawned_sweep_workers(tmp_path):
    """Each worker process registers the plugin again from the reference in the scenario."""
    from edgesim.sweep import load_sweep, run_sweep

    base = yaml.safe_load((EXAMPLES / "fedprox" / "scenario.yaml").read_text(encoding="utf-8"))
    plugin = f"{EXAMPLES / 'fedprox' / 'fedprox.py'}:SCHEME"
    base["schemes"] = [{"scheme": plugin, "rounds": 2, "round_deadline_s": 0.25}]
    sweep = {"name": "mu", "base": base, "vary": {"schemes[0].mu": [0.0, 0.5]}}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep), encoding="utf-8")
    progress = run_sweep(load_sweep(tmp_path / "sweep.yaml"), tmp_path / "out", "local", jobs=2)
    assert progress.failed == [] and progress.finished == 2
