"""The HTML report: self-contained, escaped, stable and atomically written."""

import copy
import re
import subprocess
import sys

import pytest

from edgesim.report.figures import accuracy_series, timeline_spans
from edgesim.report.html import render_report

EVIL = '<script>alert("x")</script>'


def _run(scheme: str, label: str, *, global_curve: bool) -> dict:
    devices = ["server", "nano-0", EVIL]
    curves = [{"model": f"device:{d}", "points": [[0.0, 0.1], [5.0, 0.5]]} for d in devices[1:]]
    if global_curve:
        curves.insert(0, {"model": "global", "points": [[0.0, 0.1], [4.0, 0.7], [9.0, 0.85]]})
    else:
        curves.append({"model": "devices-mean", "points": [[0.0, 0.1], [5.0, 0.5]]})
    return {
        "scheme": scheme,
        "label": label,
        "primary_curve": "global" if global_curve else "devices-mean",
        "sim_time_s": 10.0,
        "final_accuracy": 0.85 if global_curve else 0.5,
        "time_to_accuracy_s": {"0.8": 9.0 if global_curve else None, "0.9": None},
        "bytes": {"total": 3_000_000, "up": 1_000_000, "down": 2_000_000, "raw_data": 0},
        "bytes_per_link": {"nano-0->switch": 1234},
        "devices": {
            d: {
                "compute_s": 4.0,
                "send_s": 1.0,
                "recv_s": 1.0,
                "wait_s": 3.0,
                "idle_s": 1.0,
                "down_s": 0.0,
                "energy_j": 1500.0,
                "lost_work_s": 0.0,
            }
            for d in devices
        },
        "curves": curves,
        "timeline": [
            [d, kind, float(i), float(i + 1), f"step {i} of {d}"]
            for d in devices
            for i, kind in enumerate(["compute", "send", "wait", "reboot"])
        ],
        "counters": {"rounds": 3},
    }


@pytest.fixture
def results() -> dict:
    return {
        "schema_version": 1,
        "scenario": {
            "name": "hetero <b>&</b>",
            "description": "two runs & an evil device",
            "seed": 0,
            "devices": [
                {"id": "server", "profile": "rtx-2080ti", "role": "server"},
                {"id": "nano-0", "profile": "jetson-nano", "role": "client"},
                {"id": EVIL, "profile": "jetson-nano", "role": "client"},
            ],
            "links": [],
            "data": {"dataset": "digits", "partition": "dirichlet", "alpha": 0.5},
            "targets": [0.8, 0.9],
        },
        "runs": [
            _run("fedavg", "FedAvg & friends", global_curve=True),
            _run("local", "Local only", global_curve=False),
        ],
        "meta": {"edgesim_version": "0.1.0", "torch_version": "2.3.0", "wall_time_s": 1.0},
    }


def _render(results: dict, tmp_path, name: str = "report.html") -> str:
    path = render_report(results, tmp_path / name)
    assert path.exists()
    return path.read_text(encoding="utf-8")


def test_page_is_self_contained_with_plotly_once(results, tmp_path):
    page = _render(results, tmp_path)
    assert page.count("plotly.js v") == 1
    assert not re.search(r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?https?:", page)
    assert "<link" not in page
    # accuracy + breakdown + one timeline per run
    assert page.count('class="plotly-graph-div"') == 4
    for div_id in ("fig-accuracy", "fig-breakdown", "fig-timeline-0", "fig-timeline-1"):
        assert f'id="{div_id}"' in page


def test_user_strings_are_escaped(results, tmp_path):
    page = _render(results, tmp_path)
    assert EVIL not in page
    assert "</script><script>" not in page
    # Device ids only reach the page inside figure JSON: entity-escaped for plotly's
    # text rendering, then with markup characters written as \u escapes.
    assert '\\u0026lt;script\\u0026gt;alert(\\"x\\")' in page
    assert "FedAvg &amp; friends" in page
    assert "hetero &lt;b&gt;&amp;&lt;/b&gt;" in page


def test_summary_marks_best_and_missing(results, tmp_path):
    page = _render(results, tmp_path)
    assert '<td class="num best">85.0%</td>' in page
    assert "—" in page  # a target never reached
    assert "3.0 MB" in page and "4.50 kJ" in page and "30.0%" in page
    assert "1 × rtx-2080ti, 2 × jetson-nano" in page


def test_rendering_is_byte_stable(results, tmp_path):
    first = render_report(results, tmp_path / "a.html").read_bytes()
    second = render_report(copy.deepcopy(results), tmp_path / "b.html").read_bytes()
    assert first == second


def test_atomic_write_leaves_no_temp_files(results, tmp_path):
    render_report(results, tmp_path / "report.html")
    render_report(results, tmp_path / "report.html")  # overwrite in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_runs_without_global_curve_render(results, tmp_path):
    for run in results["runs"]:
        run["curves"] = [c for c in run["curves"] if c["model"] != "global"]
        run["curves"].append({"model": "devices-mean", "points": [[0.0, 0.1], [5.0, 0.5]]})
        run["primary_curve"] = "devices-mean"
    results["runs"][1]["timeline"] = []
    page = _render(results, tmp_path)
    assert "mean of 2 device models" in page
    assert "No timeline events recorded." in page
    assert page.count('class="plotly-graph-div"') == 3


def test_primary_curve_is_the_one_the_run_names():
    run = {
        "primary_curve": "devices-mean",
        "curves": [
            {"model": "device:a", "points": [[0.0, 0.2], [2.0, 0.6]]},
            {"model": "device:b", "points": [[1.0, 0.4]]},
            {"model": "devices-mean", "points": [[0.0, 0.2], [1.0, 0.3], [2.0, 0.5]]},
        ],
    }
    points, averaged = accuracy_series(run)
    assert averaged == 2
    assert points == [(0.0, 0.2), (1.0, 0.3), (2.0, 0.5)]


def test_large_timelines_are_simplified_and_say_so():
    events = [["d", "compute", float(i), float(i + 1), ""] for i in range(30)]
    events += [["d", "wait", 30.0 + 2 * i, 31.0 + 2 * i, ""] for i in range(5)]
    spans, note = timeline_spans(events, limit=10)
    assert [(s.kind, s.start, s.end) for s in spans[:1]] == [("compute", 0.0, 30.0)]
    assert len(spans) == 6 and "merging" in note
    spans, note = timeline_spans(events, limit=3)
    assert len(spans) == 3 and "longest" in note
    assert timeline_spans(events, limit=100) == (timeline_spans(events, limit=100)[0], None)


def test_report_layer_imports_neither_simpy_nor_torch():
    code = (
        "import sys, edgesim.report.html; "
        "sys.exit(bool({'simpy', 'torch'} & {m.split('.')[0] for m in sys.modules}))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
