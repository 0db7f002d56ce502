"""Local processes and Ray give identical runs; results do not depend on the number of jobs."""

from __future__ import annotations

import json

import pytest

from edgesim.errors import EdgesimError
from edgesim.sweep import load_sweep, run_sweep, summarize
from edgesim.sweep.backends import Shipment
from edgesim.sweep.driver import shipment_of


def _runs(out):
    """Every run file in ``out``, without its ``meta`` block (host facts, wall time)."""
    files = sorted((out / "runs").glob("*.json"))
    return {
        f.name: {k: v for k, v in json.loads(f.read_text()).items() if k != "meta"} for f in files
    }


@pytest.fixture(scope="module")
def by_one_job(tmp_path_factory):
    from tests.sweep.conftest import write_sweep

    path = write_sweep(tmp_path_factory.mktemp("sweep"))
    out = path.parent / "jobs1"
    progress = run_sweep(load_sweep(path), out, "local", jobs=1)
    assert (progress.finished, progress.failed) == (4, [])
    return path, _runs(out)


def test_two_worker_processes_give_the_same_runs(by_one_job):
    path, expected = by_one_job
    out = path.parent / "jobs2"
    progress = run_sweep(load_sweep(path), out, "local", jobs=2)
    assert (progress.finished, progress.failed) == (4, [])
    assert _runs(out) == expected
    assert len(expected) == 4


def test_ray_tasks_give_the_same_runs(by_one_job):
    ray = pytest.importorskip("ray")
    path, expected = by_one_job
    out = path.parent / "ray"
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    try:
        progress = run_sweep(load_sweep(path), out, "ray")
    finally:
        ray.shutdown()
    assert (progress.finished, progress.failed) == (4, [])
    assert _runs(out) == expected


def test_dropout_lowers_accuracy_in_the_aggregate(by_one_job):
    path, _ = by_one_job
    sweep = load_sweep(path)
    summary = summarize(sweep, path.parent / "jobs1")
    rows = {(r["point"], r["metric"]): r for r in summary["rows"] if r["label"] == "fedavg"}
    none, most = (p.id for p in sweep.points)  # fraction 0 and 0.67 of the clients leave
    assert rows[(none, "final_accuracy")]["n"] == 2
    assert rows[(most, "final_accuracy")]["mean"] < rows[(none, "final_accuracy")]["mean"]
    assert summary["missing_runs"] == []


def test_report_shows_each_metric_against_each_varied_path(by_one_job):
    from edgesim.report.sweep import render_sweep_report

    path, _ = by_one_job
    summary = summarize(load_sweep(path), path.parent / "jobs1")
    page = render_sweep_report(summary, path.parent / "report.html").read_text()
    assert "Against failures.departures[0].fraction" in page
    for metric in summary["metrics"]:
        assert f"{metric['title']} against failures.departures[0].fraction" in page
    assert page.count('class="plotly-graph-div"') == len(summary["metrics"])


NET = """from torch import nn


def Net(input_shape, num_classes):
    c, h, w = input_shape
    return nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, num_classes))
"""


def test_a_shipped_folder_gives_ray_tasks_the_same_runs(tmp_path):
    """``ship_folder``: tasks run in Ray's copy of the base's folder, where its user code is."""
    ray = pytest.importorskip("ray")
    import yaml

    from tests.sweep.conftest import write_sweep

    path = write_sweep(tmp_path, seeds=[0])
    base = yaml.safe_load((tmp_path / "base.yaml").read_text())
    base["training"]["model"] = "net.py:Net"
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base))
    (tmp_path / "net.py").write_text(NET)
    sweep_yaml = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**sweep_yaml, "ship_folder": True}))
    assert run_sweep(load_sweep(path), tmp_path / "local", "local", jobs=1).finished == 2
    assert not ray.is_initialized()  # run_ray connects, shipping the folder, and disconnects
    progress = run_sweep(load_sweep(path), tmp_path / "ray", "ray")
    assert (progress.finished, progress.failed) == (2, [])
    assert _runs(tmp_path / "ray") == _runs(tmp_path / "local")


def test_a_shipped_folder_leaves_out_the_output_folder_inside_it(tmp_path):
    from tests.sweep.conftest import write_sweep

    path = write_sweep(tmp_path)
    path.write_text(path.read_text() + "ship_folder: true\n")
    sweep = load_sweep(path)
    folder = str(tmp_path.resolve())
    assert shipment_of(sweep, tmp_path / "out" / "a") == Shipment(folder, ["/out/a/"])
    assert shipment_of(sweep, tmp_path.parent / "elsewhere") == Shipment(folder, [])
    path.write_text(path.read_text().replace("ship_folder: true", "ship_folder: false"))
    assert shipment_of(load_sweep(path), tmp_path / "out") is None


def test_ship_folder_on_a_ray_already_connected_says_what_to_do(sweep_file):
    ray = pytest.importorskip("ray")
    path = sweep_file(seeds=[0])
    path.write_text(path.read_text() + "ship_folder: true\n")
    ray.init(num_cpus=1, include_dashboard=False, logging_level="ERROR")
    try:
        with pytest.raises(
            EdgesimError, match=r"ship_folder: Ray is already connected.*working_dir"
        ):
            run_sweep(load_sweep(path), path.parent / "out", "ray")
    finally:
        ray.shutdown()
