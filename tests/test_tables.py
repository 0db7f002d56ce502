"""Tidy tables of a results dict: exact rows from a hand-written results file, CSV and claims."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from edgesim import tables
from edgesim.errors import EdgesimError


def _run(label: str, **changes: object) -> dict:
    run = {
        "scheme": "fedavg",
        "label": label,
        "primary_curve": "global",
        "sim_time_s": 2.0,
        "stalled": None,
        "final_accuracy": 0.75,
        "time_to_accuracy_s": {"0.5": 1.25, "0.9": None},
        "bytes": {"total": 300, "up": 100, "down": 200, "raw_data": 0},
        "devices": {
            "server": {
                **dict.fromkeys(tables.DEVICE_STATS, 0.0),
                "wait_s": 0.5,
                "energy_j": 10.5,
                "deadline_misses": 0,
            },
            "nano": {
                **dict.fromkeys(tables.DEVICE_STATS, 0.0),
                "wait_s": 0.25,
                "lost_work_s": 0.125,
                "energy_j": 1.25,
                "deadline_misses": 1,
            },
        },
        "curves": [
            {"model": "global", "points": [[0.0, 0.1], [2.0, 0.75]]},
            {"model": "global@low", "points": [[2.0, 0.5]]},
        ],
        "timeline": [
            ["nano", "compute", 0.0, 1.0, "epoch 1"],
            ["server", "wait", 0.0, 2.0, ""],
        ],
        "counters": {"rounds": 2.0},
    }
    run.update(changes)
    return run


RESULTS = {
    "schema_version": 1,
    "scenario": {
        "name": "hand",
        "seed": 0,
        "devices": [
            {"id": "server", "profile": "rtx-2080ti", "role": "server"},
            {"id": "nano", "profile": "jetson-nano", "role": "client"},
        ],
        "targets": [0.5, 0.9],
    },
    "runs": [
        _run("a"),
        _run("b", stalled={"at_s": 1.5, "reason": "nothing left to happen"}, final_accuracy=None),
    ],
    "meta": {"wall_time_s": 1.234, "host": "somewhere"},
}


def test_summary_has_one_row_per_run_with_the_files_numbers():
    table = tables.summary(RESULTS)
    assert table.columns[:6] == (
        "label",
        "scheme",
        "primary_curve",
        "final_accuracy",
        "time_to_0.5",
        "time_to_0.9",
    )
    assert table.rows[0] == {
        "label": "a",
        "scheme": "fedavg",
        "primary_curve": "global",
        "final_accuracy": 0.75,
        "time_to_0.5": 1.25,
        "time_to_0.9": None,
        "sim_time_s": 2.0,
        "bytes_total": 300,
        "bytes_up": 100,
        "bytes_down": 200,
        "raw_data_bytes": 0,
        "mean_wait_s": 0.375,
        "wait_share": 0.1875,
        "lost_work_s": 0.125,
        "energy_j": 11.75,
        "stalled_at_s": None,
        "stalled_reason": None,
    }
    second = table.rows[1]
    assert (second["final_accuracy"], second["stalled_at_s"]) == (None, 1.5)
    assert second["stalled_reason"] == "nothing left to happen"
    assert all(list(row) == list(table.columns) for row in table.rows)


def test_an_older_file_that_only_counts_the_stall_stalls_at_its_end():
    older = {**RESULTS, "runs": [_run("old", counters={"stalled": 1.0})]}
    del older["runs"][0]["stalled"]
    row = tables.summary(older).rows[0]
    assert (row["stalled_at_s"], row["stalled_reason"]) == (2.0, "")


def test_curves_split_the_subset_and_mark_the_primary_curve():
    rows = tables.curves({**RESULTS, "runs": RESULTS["runs"][:1]}).rows
    assert [tuple(r.values()) for r in rows] == [
        ("a", "global", None, True, 0.0, 0.1),
        ("a", "global", None, True, 2.0, 0.75),
        ("a", "global@low", "low", False, 2.0, 0.5),
    ]


def test_devices_join_profile_and_role_and_older_files_lack_keys():
    rows = tables.devices(RESULTS).rows
    assert [(r["label"], r["device"], r["profile"], r["role"]) for r in rows] == [
        ("a", "server", "rtx-2080ti", "server"),
        ("a", "nano", "jetson-nano", "client"),
        ("b", "server", "rtx-2080ti", "server"),
        ("b", "nano", "jetson-nano", "client"),
    ]
    assert rows[1]["lost_work_s"] == 0.125 and rows[1]["deadline_misses"] == 1
    older = _run("old")
    del older["devices"]["nano"]["background_s"]
    row = tables.devices({**RESULTS, "runs": [older]}).rows[1]
    assert row["background_s"] is None and row["energy_j"] == 1.25


def test_timeline_has_one_row_per_span():
    rows = tables.timeline(RESULTS).rows
    assert rows[:2] == [
        {
            "label": "a",
            "device": "nano",
            "kind": "compute",
            "start_s": 0.0,
            "end_s": 1.0,
            "detail": "epoch 1",
        },
        {
            "label": "a",
            "device": "server",
            "kind": "wait",
            "start_s": 0.0,
            "end_s": 2.0,
            "detail": "",
        },
    ]
    assert len(rows) == 4


def test_no_table_holds_meta():
    for table in tables.run_tables(RESULTS).values():
        cells = {v for row in table.rows for v in row.values() if isinstance(v, (str, float))}
        assert not cells & {1.234, "somewhere"}


def test_sweep_runs_join_grid_values_and_the_union_of_targets():
    def run_file(point: str, values: dict, seed: int, targets: list[float]) -> dict:
        scenario = {**RESULTS["scenario"], "targets": targets}
        block = {"point": point, "values": values, "seed": seed, "fingerprint": "x"}
        return {**RESULTS, "scenario": scenario, "runs": [_run("a")], "sweep": block}

    files = [
        run_file("p0", {"targets": [0.5], "training.lr": 0.1}, 0, [0.5]),
        run_file("p1", {"targets": [0.5, 0.9], "training.lr": 0.1}, 1, [0.5, 0.9]),
    ]
    table = tables.sweep_runs(["targets", "training.lr"], files)
    assert table.columns[:7] == (
        "point",
        "targets",
        "training.lr",
        "seed",
        "label",
        "scheme",
        "primary_curve",
    )
    assert "time_to_0.5" in table.columns and "time_to_0.9" in table.columns
    first, second = table.rows
    assert (first["point"], first["seed"], first["training.lr"]) == ("p0", 0, 0.1)
    assert first["time_to_0.9"] is None and second["time_to_0.5"] == 1.25
    assert first["bytes_total"] == 300
    text = tables.csv_text(table)
    assert text.splitlines()[1].startswith("p0,[0.5],0.1,0,a,fedavg,global,")


def test_csv_reads_back_as_the_same_numbers(tmp_path):
    table = tables.Table(("a", "b", "c"), [{"a": 0.1 + 0.2, "b": None, "c": {"k": [1]}}])
    path = tables.write_csv(tmp_path / "summary.csv", table)
    with open(path, newline="", encoding="utf-8") as handle:
        header, row = list(csv.reader(handle))
    assert header == ["a", "b", "c"]
    assert float(row[0]) == 0.1 + 0.2 and row[1:] == ["", '{"k":[1]}']


def test_to_frame_without_pandas_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(EdgesimError, match=r"pip install 'edgesim\[pandas\]'"):
        tables.to_frame(tables.summary(RESULTS))


def test_to_frame_keeps_columns_of_an_empty_table():
    pytest.importorskip("pandas")
    frame = tables.to_frame(tables.timeline({**RESULTS, "runs": []}))
    assert list(frame.columns) == list(tables.TIMELINE_COLUMNS) and frame.empty


def test_csv_files_edgesim_wrote_may_be_replaced_others_not(tmp_path):
    paths = tables.write_run_csv(RESULTS, tmp_path)
    assert [p.name for p in paths] == ["summary.csv", "curves.csv", "devices.csv", "timeline.csv"]
    tables.claim_csv(paths, (), force=False)  # ours: replaced without --force
    foreign = tmp_path / "curves.csv"
    foreign.write_text("x,y\n1,2\n", encoding="utf-8")
    with pytest.raises(EdgesimError, match="curves.csv exists and was not written by edgesim"):
        tables.claim_csv(paths, (), force=False)
    tables.claim_csv(paths, (), force=True)
    with pytest.raises(EdgesimError, match="is one of the inputs"):
        tables.claim_csv(paths, (foreign,), force=True)


def test_docs_name_every_column():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "python-api.md").read_text("utf-8")
    columns = {c for table in tables.run_tables(RESULTS).values() for c in table.columns}
    undocumented = {c for c in columns if f"`{c}`" not in doc and not c.startswith("time_to_")}
    assert not undocumented
