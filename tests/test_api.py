"""``edgesim.run`` / ``edgesim.sweep`` from Python: the numbers of results.json, as DataFrames."""

from __future__ import annotations

import copy
import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import edgesim
from edgesim import tables
from edgesim.config import load_scenario
from edgesim.errors import EdgesimError
from tests.conftest import TINY
from tests.sweep.conftest import write_sweep

pandas = pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parents[1]


def _small() -> dict:
    scenario = copy.deepcopy(TINY)
    scenario["schemes"] = [
        {"scheme": "fedavg", "rounds": 2},
        {"scheme": "local", "epochs": 1, "label": "alone"},
    ]
    scenario["observe"] = {"subsets": {"low": {"labels": [0, 1, 2]}}}
    return scenario


@pytest.fixture(scope="module")
def from_dict(tmp_path_factory) -> edgesim.Results:
    """The small scenario run once from a dict, writing results, report and CSV tables."""
    out = tmp_path_factory.mktemp("api") / "out"
    return edgesim.run(_small(), out=out, csv=True)


def _same(a: object, b: object) -> bool:
    """Equal, with pandas' NaN for a missing number equal to the file's null."""
    missing = [v is None or (isinstance(v, float) and math.isnan(v)) for v in (a, b)]
    return all(missing) if any(missing) else a == b


def test_results_are_the_file_and_typed_runs(from_dict):
    raw = json.loads((from_dict.out / "results.json").read_text(encoding="utf-8"))
    assert from_dict.raw == raw
    assert (from_dict.out / "report.html").is_file()
    fedavg, alone = from_dict.runs
    assert (fedavg.label, fedavg.scheme, alone.label, alone.scheme) == (
        "fedavg",
        "fedavg",
        "alone",
        "local",
    )
    run = raw["runs"][0]
    assert fedavg.final_accuracy == run["final_accuracy"]
    assert fedavg.sim_time_s == run["sim_time_s"]
    assert fedavg.bytes_total == run["bytes"]["total"] > 0
    assert fedavg.time_to_accuracy_s == {0.5: run["time_to_accuracy_s"]["0.5"], 0.9: None}
    assert fedavg.stalled is None and fedavg.counters == run["counters"]
    assert edgesim.Results.of(raw).runs == from_dict.runs  # a results.json read back


def test_summary_frame_holds_exactly_the_numbers_of_results_json(from_dict):
    raw = json.loads((from_dict.out / "results.json").read_text(encoding="utf-8"))
    frame = from_dict.summary
    assert list(frame["label"]) == ["fedavg", "alone"]
    for row, run in zip(frame.to_dict("records"), raw["runs"], strict=True):
        devices = run["devices"].values()
        expected = {
            "scheme": run["scheme"],
            "final_accuracy": run["final_accuracy"],
            "time_to_0.5": run["time_to_accuracy_s"]["0.5"],
            "time_to_0.9": run["time_to_accuracy_s"]["0.9"],
            "sim_time_s": run["sim_time_s"],
            "bytes_total": run["bytes"]["total"],
            "raw_data_bytes": run["bytes"]["raw_data"],
            # the CLI's summary table: mean wait over devices, energy summed
            "mean_wait_s": sum(d["wait_s"] for d in devices) / len(devices),
            "energy_j": sum(d["energy_j"] for d in devices),
        }
        assert {k: row[k] for k in expected} == expected


def test_curves_devices_and_timeline_frames(from_dict):
    raw = from_dict.raw
    curves = from_dict.curves
    assert sum(len(c["points"]) for r in raw["runs"] for c in r["curves"]) == len(curves)
    primary = curves[curves["primary"]]
    assert set(primary["curve"]) == {"global", "devices-mean"}
    assert set(curves["subset"].dropna()) == {"low"}
    last = primary[primary["label"] == "fedavg"].iloc[-1]
    assert last["accuracy"] == raw["runs"][0]["final_accuracy"]
    devices = from_dict.devices
    assert len(devices) == 2 * len(raw["scenario"]["devices"])
    states = ["compute_s", "send_s", "recv_s", "wait_s", "idle_s", "down_s"]
    for run in raw["runs"]:
        rows = devices[devices["label"] == run["label"]]
        assert rows[states].sum(axis=1).round(5).eq(round(run["sim_time_s"], 5)).all()
    timeline = from_dict.timeline
    assert len(timeline) == sum(len(r["timeline"]) for r in raw["runs"])
    assert list(timeline.iloc[0]) == ["fedavg", *raw["runs"][0]["timeline"][0]]


def test_csv_files_hold_the_tables(from_dict):
    built = tables.run_tables(from_dict.raw)
    for name, table in built.items():
        with open(from_dict.out / f"{name}.csv", newline="", encoding="utf-8") as handle:
            header, *rows = list(csv.reader(handle))
        assert tuple(header) == table.columns
        expected = [["" if v is None else str(v) for v in row.values()] for row in table.rows]
        assert rows == expected


def test_a_path_and_a_scenario_object_run_like_the_dict(from_dict, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(_small(), sort_keys=False), encoding="utf-8")
    from_path = edgesim.run(path, schemes=("fedavg",))
    assert from_path.out is None
    assert from_path.raw["runs"] == from_dict.raw["runs"][:1]
    scenario = load_scenario(path).scenario
    reseeded = edgesim.run(scenario, schemes="alone", seed=5)
    assert reseeded.raw["scenario"]["seed"] == 5
    again = edgesim.run({**_small(), "seed": 5}, schemes=["alone"])
    assert reseeded.raw["runs"] == again.raw["runs"]


def test_timing_only_replaces_the_scenarios_setting(from_dict, tmp_path):
    """True runs without torch on the same clock; False trains a file that says timing-only."""
    timed = edgesim.run(_small(), schemes="fedavg", timing_only=True)
    assert timed.raw["scenario"]["timing_only"] is True
    [run], [real] = timed.raw["runs"], from_dict.raw["runs"][:1]
    assert run["timing_only"] is True and run["curves"] == [] and run["final_accuracy"] is None
    for key in ("sim_time_s", "bytes", "devices", "timeline"):
        assert run[key] == real[key], key
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**_small(), "timing_only": True}), encoding="utf-8")
    trained = edgesim.run(path, schemes="fedavg", timing_only=False)
    assert trained.raw["runs"] == from_dict.raw["runs"][:1]
    scenario = load_scenario(path).scenario
    assert edgesim.run(scenario, schemes="fedavg", timing_only=False).raw["runs"] == [real]
    assert edgesim.run(scenario, schemes="fedavg").raw["runs"] == [run]


def test_timing_only_refuses_a_scheme_whose_timing_is_accuracys():
    scenario = {**_small(), "schemes": [{"scheme": "gear", "rounds": 2, "switch": "auto"}]}
    with pytest.raises(EdgesimError, match=r"schemes\[0\]: scheme 'gear' cannot run timing-only"):
        edgesim.run(scenario, timing_only=True)


SUBPACKAGE_FIRST = """
import edgesim.sweep.worker, edgesim.sweep.driver as driver
import edgesim, inspect
from edgesim.sweep import load_sweep
assert callable(edgesim.sweep) and edgesim.sweep.load_sweep is load_sweep
assert "sweep" in dir(edgesim)
assert edgesim.sweep.driver is driver and "jobs" in str(inspect.signature(edgesim.sweep))
"""
"""``edgesim.sweep`` is the subpackage and the function, whichever is imported first."""


def test_plain_python_gives_the_summary_of_edgesim_run(tmp_path):
    """A fresh ``python -c`` and the CLI, on the same file: the same numbers, exactly."""
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(_small(), sort_keys=False), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = (
        "import json, edgesim; r = edgesim.run('s.yaml', schemes=['fedavg']); "
        "print(json.dumps(r.summary.to_dict(orient='records')))"
    )
    # A fresh process also shows edgesim.sweep callable after its subpackage was imported first.
    code = f"{SUBPACKAGE_FIRST}\n{code}"
    python = subprocess.Popen(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
    )
    cli = [sys.executable, "-m", "edgesim.cli", "run", "s.yaml", "--scheme", "fedavg"]
    done = subprocess.run(
        [*cli, "--out", "o", "--quiet", "--csv"], cwd=tmp_path, env=env, capture_output=True
    )
    printed, _ = python.communicate(timeout=240)
    assert python.returncode == 0, "python -c failed (its stderr is above)"
    assert done.returncode == 0, done.stderr
    [row] = json.loads(printed)
    results = json.loads((tmp_path / "o" / "results.json").read_text(encoding="utf-8"))
    [expected] = tables.summary(results).rows
    assert row.keys() == expected.keys()
    assert all(_same(row[k], expected[k]) for k in row), (row, expected)
    [run] = results["runs"]
    assert row["final_accuracy"] == run["final_accuracy"]
    assert row["sim_time_s"] == run["sim_time_s"]
    assert row["bytes_total"] == run["bytes"]["total"]
    assert row["time_to_0.5"] == run["time_to_accuracy_s"]["0.5"]
    with open(tmp_path / "o" / "summary.csv", newline="", encoding="utf-8") as handle:
        [from_csv] = list(csv.DictReader(handle))
    assert float(from_csv["energy_j"]) == row["energy_j"]
    assert float(from_csv["mean_wait_s"]) == row["mean_wait_s"]


@pytest.mark.parametrize(
    ("scenario", "options", "message"),
    [
        ({**TINY, "devicez": []}, {}, r"<dict>:\n  - devicez: unknown key 'devicez'"),
        (TINY, {"schemes": ["fedavgg"]}, "did you mean 'fedavg'"),
        (TINY, {"seed": -1}, r"<dict> \(with seed=-1\):\n  - seed: Input should be greater"),
        (TINY, {"device": "gpu"}, "device: unknown device 'gpu'"),
        (TINY, {"timing_only": 1}, r"timing_only: Input should be a valid boolean \(got 1\)"),
        (TINY, {"schemes": [3]}, "schemes: Input should be a valid string"),
        (TINY, {"schemes": []}, "schemes: List should have at least 1 item"),
        (TINY, {"csv": True}, "csv=True writes the tables into out"),
        ({"name": "s", "base": "b.yaml"}, {}, "this is a sweep"),
        (["not", "a", "scenario"], {}, "scenario: expected a path .* got list"),
        ("no/such/file.yaml", {}, "not found: no/such/file.yaml"),
    ],
)
def test_user_mistakes_raise_edgesim_error(scenario, options, message):
    with pytest.raises(EdgesimError, match=message):
        edgesim.run(scenario, **options)


def test_a_scenario_object_with_a_bad_seed_is_refused(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(TINY), encoding="utf-8")
    with pytest.raises(EdgesimError, match=r"seed: Input should be a valid integer \(got True\)"):
        edgesim.run(load_scenario(path).scenario, seed=True)


def test_outputs_are_claimed_before_the_run(tmp_path, monkeypatch):
    import edgesim.runner

    monkeypatch.setattr(edgesim.runner, "run_scenario", lambda *a, **k: pytest.fail("ran"))
    (tmp_path / "results.json").write_text("mine", encoding="utf-8")
    with pytest.raises(EdgesimError, match="was not written by edgesim"):
        edgesim.run(_small(), out=tmp_path)
    (tmp_path / "results.json").unlink()
    (tmp_path / "timeline.csv").write_text("mine", encoding="utf-8")
    with pytest.raises(EdgesimError, match="timeline.csv exists and was not written by edgesim"):
        edgesim.run(_small(), out=tmp_path, csv=True)


def test_sweep_table_joins_grid_values_with_the_numbers_of_sweep_json(tmp_path):
    path = write_sweep(tmp_path, seeds=[0])
    out = tmp_path / "out"
    result = edgesim.sweep(path, jobs=1, out=out, csv=True)
    assert result.raw == json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    frame = result.summary
    vary = "failures.departures[0].fraction"
    assert list(frame.columns[:4]) == ["point", vary, "seed", "label"]
    assert list(frame[vary]) == [0.0, 0.67] and list(frame["seed"]) == [0, 0]
    records = {(r["point"], r["label"]): r for r in frame.to_dict("records")}
    for row in result.raw["rows"]:
        value = records[(row["point"], row["label"])][row["metric"]]
        assert _same(value, row["per_seed"]["0"]), row
    written = (out / "runs.csv").read_text(encoding="utf-8")
    assert written == tables.csv_text(result.table)
    (out / "runs.csv").unlink()
    from edgesim.cli import main

    argv = ["sweep", str(path), "--jobs", "1", "--quiet", "--out", str(out), "--csv"]
    assert main(argv) == 0  # every run already finished: skipped
    assert (out / "runs.csv").read_text(encoding="utf-8") == written
    assert edgesim.sweep(path, jobs=1, out=out).skipped == 2


def test_sweep_mistakes_raise_edgesim_error(tmp_path):
    path = write_sweep(tmp_path, seeds=[0])
    with pytest.raises(EdgesimError, match="jobs: Input should be greater than or equal to 1"):
        edgesim.sweep(path, jobs=0, out=tmp_path / "o")
    with pytest.raises(EdgesimError, match="address is for backend='ray'"):
        edgesim.sweep(path, address="auto", out=tmp_path / "o")
    with pytest.raises(EdgesimError, match="this is a scenario file"):
        edgesim.sweep(tmp_path / "base.yaml", out=tmp_path / "o")


def test_batched_clients_keep_the_timeline_and_say_so(from_dict):
    batched = edgesim.run(_small(), schemes="fedavg", batch_clients=True)
    [run], [sequential] = batched.raw["runs"], from_dict.raw["runs"][:1]
    for key in ("sim_time_s", "bytes", "devices", "timeline"):
        assert run[key] == sequential[key], key
    assert any("batch_clients" in n for n in batched.raw["meta"]["accuracy_notes"])
    assert from_dict.raw["meta"]["accuracy_notes"] == []
    with pytest.raises(EdgesimError, match="batch_clients"):
        edgesim.run(_small(), batch_clients="yes")
