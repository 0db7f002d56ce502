"""Run files and their digests: the resume scan and the aggregate read digests, never stale ones."""

from __future__ import annotations

import json
import shutil

import pytest

from edgesim.sweep import driver, load_sweep, run_sweep, summarize
from edgesim.sweep.aggregate import RUN_FIELDS
from edgesim.sweep.driver import pending_tasks
from edgesim.sweep.store import digest_path, read_digest, read_run, run_path


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished 2-point × 1-seed sweep: (sweep file, output folder)."""
    from tests.sweep.conftest import write_sweep

    path = write_sweep(tmp_path_factory.mktemp("store"), seeds=[0])
    out = path.parent / "out"
    assert run_sweep(load_sweep(path), out, "local", jobs=1).finished == 2
    return path, out


@pytest.fixture
def copy_of(finished, tmp_path):
    """A fresh copy of the finished sweep's folder (tests below edit it): (sweep, out)."""
    path, out = finished
    copied = tmp_path / "out"
    shutil.copytree(out, copied)
    return load_sweep(path), copied


def _from_full_files(sweep, out, monkeypatch) -> dict:
    """The aggregate as it was before digests: from every whole run file."""
    with monkeypatch.context() as patched:
        patched.setattr(driver, "read_digest", read_run)
        return summarize(sweep, out)


def test_the_driver_writes_a_digest_with_each_run_file(finished):
    path, out = finished
    for task in load_sweep(path).tasks:
        cached = json.loads(digest_path(out, task).read_text())
        assert cached["digest"]["sweep"]["point"] == task.point.id
        assert [set(r) for r in cached["digest"]["runs"]] == [
            set(r) & set(RUN_FIELDS) for r in read_run(out, task)["runs"]
        ]


def test_the_aggregate_of_digests_is_that_of_the_whole_run_files(copy_of, monkeypatch):
    sweep, out = copy_of
    assert summarize(sweep, out) == _from_full_files(sweep, out, monkeypatch)


def test_a_run_file_edited_in_place_is_read_again(copy_of, monkeypatch):
    sweep, out = copy_of
    task = sweep.tasks[0]
    data = json.loads(run_path(out, task).read_text())
    data["runs"][0]["final_accuracy"] = 0.123  # same length as most accuracies: size may not change
    run_path(out, task).write_text(json.dumps(data, indent=1) + "\n")
    summary = summarize(sweep, out)
    row = next(
        r for r in summary["rows"] if (r["point"], r["metric"]) == (task.point.id, "final_accuracy")
    )
    assert row["per_seed"] == {"0": 0.123}
    assert summary == _from_full_files(sweep, out, monkeypatch)


def test_a_lost_or_corrupt_digest_is_rebuilt_from_its_run_file(copy_of, monkeypatch):
    sweep, out = copy_of
    first, second = sweep.tasks
    digest_path(out, first).unlink()
    digest_path(out, second).write_text('{"stamp": [1, 2')
    assert pending_tasks(sweep, out) == []
    assert all(json.loads(digest_path(out, t).read_text())["stamp"] for t in sweep.tasks)
    assert summarize(sweep, out) == _from_full_files(sweep, out, monkeypatch)


def test_a_digest_without_its_run_file_is_no_finished_run(copy_of):
    sweep, out = copy_of
    first, second = sweep.tasks
    run_path(out, first).unlink()
    assert read_digest(out, first) is None
    assert pending_tasks(sweep, out) == [first]
    assert summarize(sweep, out)["missing_runs"] == [{"point": first.point.id, "seed": 0}]
