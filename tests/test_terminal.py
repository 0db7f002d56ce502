"""The terminal summary: every row on one line and every label whole, at any width."""

from __future__ import annotations

import pytest
from rich.console import Console

from edgesim.report import fmt
from edgesim.terminal import summary_view

LABELS = [
    "centralized (raw data uploaded)",
    "fedavg, 30 rounds, 0.5 s deadline",
    "local only, no communication",
    "async-distill-fl continuous",
]
TARGETS = [0.5, 0.8, 0.9]


def _run(index: int, label: str) -> dict:
    reached = 0.0713 * (index + 1)
    total = 81_234_567 * (index + 1)
    return {
        "scheme": label.split()[0].strip(","),
        "label": label,
        "primary_curve": "global",
        "final_accuracy": None if index == 3 else 0.967 - 0.1 * index,
        "stalled": {"at_s": 3.2, "reason": "nothing left to happen"} if index == 2 else None,
        "time_to_accuracy_s": {
            "0.5": reached,
            "0.8": reached * 40,
            "0.9": None if index else 1234.5,
        },
        "sim_time_s": 5432.1 + index,
        "bytes": {
            "total": total,
            "up": total // 2,
            "down": total - total // 2,
            "raw_data": 5_000_000 if index == 0 else 0,
        },
        "devices": {
            f"nano-{d}": {"wait_s": 12.34 * index, "lost_work_s": 0.0, "energy_j": 12_345.0}
            for d in range(9)
        },
    }


RESULTS = {
    "scenario": {"name": "heterogeneous-edge-fleet", "targets": TARGETS},
    "runs": [_run(i, label) for i, label in enumerate(LABELS)],
}


def _render(width: int) -> list[str]:
    console = Console(width=width, record=True, emoji=False)
    console.print(summary_view(RESULTS, console))
    return console.export_text().splitlines()


@pytest.mark.parametrize("width", [200, 120, 80])
def test_rows_never_wrap_and_labels_are_never_cut(width):
    lines = _render(width)
    assert max(map(len, lines)) <= width
    assert not any("…" in line for line in lines)
    for index, label in enumerate(LABELS):
        run = RESULTS["runs"][index]
        shown = label + (" *" if run["stalled"] else "")
        rows = [line for line in lines if line.startswith(shown)]
        assert rows, f"{shown!r} not on one line at width {width}"
        # Each of the scheme's rows holds its figures on that same line.
        text = " ".join(rows)
        for figure in (
            fmt.percent(run["final_accuracy"]),
            fmt.seconds(run["time_to_accuracy_s"]["0.5"]),
            fmt.seconds(run["sim_time_s"]),
            fmt.nbytes(run["bytes"]["total"]),
            fmt.energy(9 * 12_345.0),
        ):
            assert figure in text, (figure, rows)


def test_a_wide_terminal_gets_one_table():
    lines = _render(200)
    assert sum(line.startswith(LABELS[0]) for line in lines) == 1


def test_at_80_columns_the_columns_are_split_into_tables_with_every_label():
    lines = _render(80)
    tables = sum(line.startswith(LABELS[0]) for line in lines)
    assert 2 <= tables <= 3
    headers = [line for line in lines if line.startswith("scheme")]
    assert len(headers) == tables


def test_a_very_narrow_terminal_gets_a_block_per_scheme_with_whole_labels():
    lines = _render(50)
    assert max(map(len, lines)) <= 50
    assert not any("…" in line for line in lines)
    blocks = [i for i, line in enumerate(lines) if line in LABELS or line == f"{LABELS[2]} *"]
    assert len(blocks) == len(LABELS)
    assert lines[blocks[0] + 1].split() == ["final", "acc", "96.7%"]
    assert lines[blocks[0] + 4].split() == ["to", "90%", "20.6", "min"]


def test_a_stalled_run_is_marked_and_explained_under_the_tables():
    lines = _render(80)
    note = "* local only, no communication stalled at 3.2 s before finishing: nothing left to"
    note += " happen"
    assert " ".join(lines[-2:]).replace("  ", " ").strip() == note


def test_the_terminal_prints_the_figures_the_report_prints():
    text = "\n".join(_render(200))
    assert "0.0713 s" in text  # not "0.1 s"
    assert "20.6 min" in text  # 1234.5 s
    assert "81.2 MB" in text and "111.11 kJ" in text


def test_a_timing_only_run_has_no_accuracy_columns():
    runs = [_run(i, label) | {"timing_only": True} for i, label in enumerate(LABELS)]
    console = Console(width=200, record=True, emoji=False)
    console.print(summary_view({**RESULTS, "runs": runs}, console))
    text = console.export_text()
    assert "timing-only: no accuracy" in text
    assert "final acc" not in text and "to 80%" not in text
    assert "sim time" in text and "energy" in text
