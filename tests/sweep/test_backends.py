"""Local processes and Ray give identical runs; results do not depend on the number of jobs."""

from __future__ import annotations

import json

import pytest

from edgesim.sweep import load_sweep, run_sweep, summarize


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
