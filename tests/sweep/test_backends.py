"""Local processes and Ray give identical runs; results do not depend on the number of jobs.

On Ray the driver loads each dataset once and hands it to the tasks by reference
(edgesim.sweep.shared); the runs are the same as the local ones all the same.
"""

from __future__ import annotations

import json

import pytest

from edgesim.errors import EdgesimError
from edgesim.sweep import load_sweep, run_sweep, summarize
from edgesim.sweep.backends import NodeSetup, _ray_attempt
from edgesim.sweep.driver import node_setup


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
    assert "Against share of devices that leave (failures.departures[0].fraction)" in page
    titles = page.count(" against share of devices that leave")
    assert titles >= len(summary["metrics"])
    assert page.count('class="plotly-graph-div"') == len(summary["metrics"])


NET = """from torch import nn


def Net(input_shape, num_classes):
    c, h, w = input_shape
    return nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, num_classes))
"""

DATA = """import numpy as np
from sklearn.datasets import load_digits


def load(seed):
    with open({log!r}, "a") as log:  # one line per load, by whichever process loads
        log.write("load\\n")
    digits = load_digits()
    return digits.images.astype(np.uint8)[:, None] * 15, digits.target
"""


def test_a_shipped_folder_and_a_shared_dataset_give_ray_tasks_the_same_runs(tmp_path):
    """``ship_folder``: tasks run in Ray's copy of the base's folder, where its user code is;
    the dataset, the same for both points, is loaded once, by the driver."""
    ray = pytest.importorskip("ray")
    import yaml

    from tests.sweep.conftest import write_sweep

    path = write_sweep(tmp_path, seeds=[0])
    base = yaml.safe_load((tmp_path / "base.yaml").read_text())
    base["training"]["model"] = "net.py:Net"
    base["data"]["dataset"] = "data.py:load"
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base))
    (tmp_path / "net.py").write_text(NET)
    log = tmp_path / "loads.log"
    (tmp_path / "data.py").write_text(DATA.format(log=str(log)))
    sweep_yaml = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**sweep_yaml, "ship_folder": True}))
    assert run_sweep(load_sweep(path), tmp_path / "local", "local", jobs=1).finished == 2
    assert log.read_text().count("load") == 2  # each local run loads its data
    log.unlink()
    assert not ray.is_initialized()  # run_ray connects, shipping the folder, and disconnects
    progress = run_sweep(load_sweep(path), tmp_path / "ray", "ray")
    assert (progress.finished, progress.failed) == (2, [])
    assert log.read_text().count("load") == 1  # the driver's one load, for both runs
    assert _runs(tmp_path / "ray") == _runs(tmp_path / "local")


def test_a_shipped_folder_leaves_out_the_output_folder_inside_it(tmp_path):
    from tests.sweep.conftest import write_sweep

    path = write_sweep(tmp_path)
    path.write_text(path.read_text() + "ship_folder: true\n")
    sweep = load_sweep(path)
    folder = str(tmp_path.resolve())
    assert node_setup(sweep, tmp_path / "out" / "a") == NodeSetup(folder, ("/out/a/",))
    assert node_setup(sweep, tmp_path.parent / "elsewhere") == NodeSetup(folder)
    assert node_setup(sweep, tmp_path / "out" / "a").runtime_env() == {
        "working_dir": folder,
        "excludes": ["/out/a/"],
    }
    path.write_text(path.read_text().replace("ship_folder: true", "ship_folder: false"))
    assert node_setup(load_sweep(path), tmp_path / "out") is None


def test_install_pip_asks_ray_for_this_edgesim_on_every_node(sweep_file):
    import edgesim

    path = sweep_file()
    path.write_text(path.read_text() + "install: pip\n")
    setup = node_setup(load_sweep(path), path.parent / "out")
    assert setup.runtime_env() == {"pip": [f"edgesim=={edgesim.__version__}"]}


def test_install_a_wheel_has_ray_upload_it_as_a_module(sweep_file):
    import edgesim

    path = sweep_file()
    wheel = path.parent / "dist" / f"edgesim-{edgesim.__version__}-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"")  # its name is all the sweep checks; Ray installs it
    path.write_text(path.read_text() + f"install: dist/{wheel.name}\nship_folder: true\n")
    setup = node_setup(load_sweep(path), path.parent / "out")
    assert setup.runtime_env() == {
        "working_dir": str(path.parent.resolve()),
        "excludes": ["/out/"],
        "py_modules": [str(wheel.resolve())],
    }


def test_a_worker_with_another_edgesim_refuses_to_run(sweep_file):
    task = load_sweep(sweep_file()).tasks[0]
    outcome = _ray_attempt(task, None, False, "0.0.0-other")
    assert "has edgesim" in outcome["error"] and "driver 0.0.0-other" in outcome["error"]


def test_ship_folder_on_a_ray_already_connected_says_what_to_do(sweep_file):
    ray = pytest.importorskip("ray")
    path = sweep_file(seeds=[0])
    path.write_text(path.read_text() + "ship_folder: true\n")
    ray.init(num_cpus=1, include_dashboard=False, logging_level="ERROR")
    try:
        with pytest.raises(
            EdgesimError, match=r"ship_folder, install: Ray is already connected.*working_dir"
        ):
            run_sweep(load_sweep(path), path.parent / "out", "ray")
    finally:
        ray.shutdown()
