"""A run of a sweep that fails: a user's mistake exits 2, a bug in edgesim exits 1, each once."""

from __future__ import annotations

import pytest

import edgesim.errors
import edgesim.sweep.worker
from edgesim.cli import main


def _broken_run(*args: object, **kwargs: object) -> dict:
    raise ZeroDivisionError("the scheme divided by zero")


@pytest.mark.parametrize("debug", [False, True])
def test_a_bug_in_a_run_exits_1_with_one_line(sweep_file, tmp_path, monkeypatch, capsys, debug):
    monkeypatch.setattr(edgesim.sweep.worker, "run_scenario", _broken_run)
    argv = ["sweep", str(sweep_file(seeds=[0])), "--jobs", "1", "--quiet", "--out"]
    code = main([*(["--debug"] if debug else []), *argv, str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("internal error") == 1
    assert "2 of 2 runs failed" in err and "ZeroDivisionError: the scheme divided by zero" in err
    if debug:  # each run's traceback, once
        assert err.count("Traceback (most recent call last)") == 2
    else:
        assert "Traceback" not in err and "--debug" in err


def test_a_users_mistake_in_a_run_exits_2(sweep_file, tmp_path, monkeypatch, capsys):
    def refused(*args: object, **kwargs: object) -> dict:
        raise edgesim.errors.EdgesimError("data.path: no such folder")

    monkeypatch.setattr(edgesim.sweep.worker, "run_scenario", refused)
    argv = ["sweep", str(sweep_file(seeds=[0])), "--jobs", "1", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert "2 of 2 runs failed" in err and "data.path: no such folder" in err


def test_validate_checks_a_sweep_file_as_a_sweep(sweep_file, capsys):
    path = sweep_file()
    assert main(["validate", str(path)]) == 0
    assert "ok — sweep of 2 points × 2 seeds" in capsys.readouterr().out
