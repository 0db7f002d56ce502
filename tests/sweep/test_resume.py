"""A killed sweep, run again, runs only what is missing; corrupt or stale run files are redone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from edgesim.sweep import load_sweep, run_sweep
from edgesim.sweep.store import run_path


def test_killed_sweep_resumes_with_only_the_missing_runs(sweep_file):
    path = sweep_file()
    out = path.parent / "out"
    command = [
        sys.executable,
        "-m",
        "edgesim.cli",
        "sweep",
        str(path),
        "--out",
        str(out),
        "--jobs",
        "1",
        "--quiet",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list((out / "runs").glob("*.json")) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    done = {f.name: f.stat().st_mtime_ns for f in (out / "runs").glob("*.json")}
    assert 1 <= len(done) < 4, "the sweep was killed mid-way"

    finished = []
    progress = run_sweep(
        load_sweep(path),
        out,
        "local",
        jobs=1,
        on_progress=lambda task, ok: finished.append(task.id),
    )
    assert progress.skipped == len(done)
    assert len(finished) == progress.finished == 4 - len(done)
    assert not {f"{i}.json" for i in finished} & set(done)
    for name, mtime in done.items():  # untouched
        assert (out / "runs" / name).stat().st_mtime_ns == mtime
    assert len(list((out / "runs").glob("*.json"))) == 4


def test_corrupt_and_stale_run_files_are_run_again(sweep_file):
    path = sweep_file(seeds=[0])
    out = path.parent / "out"
    sweep = load_sweep(path)
    assert run_sweep(sweep, out, "local", jobs=1).finished == 2
    first, second = sweep.tasks
    run_path(out, first).write_text('{"schema_version": 1, "sweep": {"poi')  # cut short
    stale = json.loads(run_path(out, second).read_text())
    stale["sweep"]["fingerprint"] = "0" * 64  # the base scenario changed since
    run_path(out, second).write_text(json.dumps(stale))
    again = run_sweep(load_sweep(path), out, "local", jobs=1)
    assert (again.skipped, again.finished) == (0, 2)
    assert run_sweep(load_sweep(path), out, "local", jobs=1).skipped == 2
