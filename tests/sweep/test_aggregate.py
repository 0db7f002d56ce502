"""The aggregate leaves stalled runs out of its statistics, lists them, and the report says so."""

from __future__ import annotations

from edgesim.report.sweep import sweep_page
from edgesim.sweep.aggregate import aggregate

HEADER = {
    "name": "stalls",
    "description": "",
    "source": "sweep.yaml",
    "base": "base.yaml",
    "vary": {"failures.departures[0].fraction": [0.5]},
}
POINT = {"id": "p00-00000000", "values": {"failures.departures[0].fraction": 0.5}}
REASON = "waits for devices that never return: nano-1"


def _run_file(sim_time_s: float, stalled: bool) -> dict:
    run = {
        "scheme": "local",
        "label": "local",
        "sim_time_s": sim_time_s,
        "final_accuracy": 0.5,
        "time_to_accuracy_s": {"0.8": None},
        "bytes": {"total": 0},
        "devices": {"nano-0": {"wait_s": 0.0, "lost_work_s": 0.0}},
        "stalled": {"at_s": sim_time_s, "reason": REASON} if stalled else None,
    }
    return {"scenario": {"targets": [0.8]}, "runs": [run]}


def _summary() -> dict:
    files = {
        (POINT["id"], 0): _run_file(10.0, stalled=False),
        (POINT["id"], 1): _run_file(12.0, stalled=False),
        (POINT["id"], 2): _run_file(3.2, stalled=True),
    }
    return aggregate(HEADER, [POINT], [0, 1, 2], files)


def test_a_stalled_run_is_listed_and_left_out_of_the_statistics():
    summary = _summary()
    assert summary["stalled_runs"] == [
        {"point": POINT["id"], "seed": 2, "label": "local", "at_s": 3.2, "reason": REASON}
    ]
    row = next(r for r in summary["rows"] if r["metric"] == "sim_time_s")
    assert (row["n"], row["of"], row["mean"]) == (2, 3, 11.0)
    assert row["per_seed"]["2"] == 3.2


def test_the_sweep_report_names_and_counts_stalled_runs():
    page = sweep_page(_summary())
    assert "local at p00-00000000 seed 2, 3.2 s (" + REASON + ")" in page
    assert '<td>local <span class="stalled">1 stalled</span></td>' in page
    assert '<td class="num">11 s [' in page and "(2 of 3)</td>" in page  # mean of the two
