"""The HTML report: self-contained, escaped, complete, stable, atomic, usable at 1,000 devices."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys

import pytest

from edgesim.report.html import render_report
from edgesim.report.load import load_results

from .conftest import EVIL, PLOT_IDS, make_results, make_run, small_results

SECTIONS = ("summary", "accuracy", "timeline", "time", "network", "energy")


def _render(results: dict, tmp_path, name: str = "report.html") -> str:
    path = render_report(results, tmp_path / name)
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    """The small results' page, rendered once for the tests that only read it."""
    return _render(small_results(), tmp_path_factory.mktemp("page"))


def _plot_ids(page: str) -> list[str]:
    return re.findall(r'<div id="([^"]+)" class="plotly-graph-div">', page)


def test_page_is_self_contained_with_plotly_once(page):
    assert page.count("plotly.js (basic - minified) v") == 1
    head, body = page[: page.index("<script>")], page[page.index("</head>") :]
    assert "<link" not in head and "@import" not in head and "@font-face" not in head
    assert all(url.startswith("#") for url in re.findall(r'(?:src|href)="([^"]*)"', body))


def test_every_section_and_chart_is_there(page):
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in page and f'href="#{anchor}"' in page
    assert _plot_ids(page) == PLOT_IDS
    assert "across" not in _plot_ids(page)  # one file: no across-runs section


def test_user_strings_are_escaped(page):
    assert EVIL not in page
    assert "<img src=x" not in page and "</script><script>" not in page
    assert "\\u003cscript\\u003e" not in page  # figure text is entity-escaped first
    assert "\\u0026lt;script\\u0026gt;window.__pwned" in page
    assert "FedAvg &amp; friends" in page
    assert "hetero &lt;b&gt;&amp;&lt;/b&gt;" in page


def test_header_states_fleet_split_seed_version_and_verdict(page):
    assert "4 devices: 1 × rtx-2080ti, 2 × jetson-nano, 1 × raspberry-pi-4" in page
    assert "partition.kind dirichlet, partition.alpha 0.5" in page
    assert "<dt>Seed</dt><dd>0</dd>" in page and "<dt>edgesim</dt><dd>0.1.0</dd>" in page
    verdict = re.search(r'<p class="verdict">(.*?)</p>', page, re.S).group(1)
    assert "Fastest to 80% accuracy: FedAvg &amp; friends, after 9 s" in verdict
    assert "Never got there: Local only." in verdict
    assert "No run reached 90% accuracy." in verdict
    assert "Least traffic: Local only (1.5 MB, 4× less than FedAvg &amp; friends" in verdict


def test_rendering_is_byte_stable(results, tmp_path):
    first = render_report(results, tmp_path / "a.html").read_bytes()
    second = render_report(copy.deepcopy(results), tmp_path / "b.html").read_bytes()
    assert first == second


def test_atomic_write_leaves_no_temp_files(results, tmp_path):
    render_report(results, tmp_path / "report.html")
    render_report(results, tmp_path / "report.html")  # overwrite in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_runs_without_optional_keys_still_render(results, tmp_path):
    for run in results["runs"]:
        del run["bytes_curve"]
        run["counters"] = {}
    results["runs"][1]["timeline"] = []
    del results["scenario"]["links"]
    page = _render(results, tmp_path)
    assert "No timeline events recorded." in page
    assert "The scenario lists no links." in page
    assert "results without bytes_curve" in page
    assert "fig-timeline-1" not in _plot_ids(page)


def test_task_deadline_misses_column_appears_when_recorded(results, tmp_path):
    assert "Task misses" not in _render(results, tmp_path)
    for device in results["runs"][0]["devices"].values():
        device["deadline_misses"] = 3
    page = _render(results, tmp_path)
    assert "Task misses" in page
    assert '<td class="num">12</td><td class="num">—</td>' not in page  # 4 devices × 3
    assert ">12</td>" in page


def test_combined_files_get_an_across_runs_section(results, tmp_path):
    files = []
    for seed in (1, 2, 3):
        data = copy.deepcopy(results)
        data["scenario"]["seed"] = seed
        for run in data["runs"]:
            run["final_accuracy"] += seed / 100
        files.append(tmp_path / f"r{seed}.json")
        files[-1].write_text(json.dumps(data))
    combined = load_results(files)
    labels = [r["origin"]["label"] for r in combined["runs"][:2]]
    assert labels == ["FedAvg & friends", "Local only"]
    page = _render(combined, tmp_path)
    assert '<section id="across">' in page and "fig-across" in _plot_ids(page)
    assert "6 runs from 1 scenario and 3 seeds" in page
    # per-device views show the first file's runs only
    assert [i for i in _plot_ids(page) if i.startswith("fig-timeline")] == [
        "fig-timeline-0",
        "fig-timeline-1",
    ]


def test_a_thousand_devices_aggregate_by_profile_and_stay_small(tmp_path):
    profiles = ["jetson-nano", "raspberry-pi-4", "jetson-xavier-nx", "pixel-7"]
    fleet = [("server", "rtx-2080ti")] + [
        (f"dev-{i:04d}", profiles[i % len(profiles)]) for i in range(1000)
    ]
    ids = [d for d, _ in fleet]
    runs = [
        make_run("fedavg", "fedavg", ids, global_curve=True, spans_per_device=24),
        make_run("local", "local", ids, global_curve=False, spans_per_device=24),
    ]
    page = _render(make_results(fleet, runs), tmp_path)
    size = (tmp_path / "report.html").stat().st_size
    assert size < 3_000_000, f"{size} bytes"  # the basic plotly.js alone is ~1.2 MB
    assert "jetson-nano (250 devices)" in page
    assert "dev-0777" not in page  # no per-device rows, bars or lines anywhere
    assert "250 × raspberry-pi-4" in page  # collapsed topology node
    assert "jetson-nano (250)" in page  # a group's mean device in where time goes


def test_report_layer_imports_neither_simpy_nor_torch():
    code = (
        "import sys, edgesim.report.html; "
        "sys.exit(bool({'simpy', 'torch'} & {m.split('.')[0] for m in sys.modules}))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
