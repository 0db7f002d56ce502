"""Timing-only runs and big fleets: no empty accuracy views, per-group views of constant size."""

from __future__ import annotations

import json
import re

from edgesim.report import facts
from edgesim.report.figures.distribution import box_stats
from edgesim.report.html import render_report
from edgesim.report.load import read_results
from edgesim.report.page import plotly_js

from .conftest import PLOT_IDS, make_results, make_run, small_results

ACCURACY_PLOTS = ("fig-accuracy", "fig-accuracy-bytes")


def _timing_only(run: dict) -> dict:
    """``run`` as a timing-only run records it: the same timing, no curve, no accuracy."""
    return {
        **run,
        "timing_only": True,
        "curves": [],
        "final_accuracy": None,
        "time_to_accuracy_s": dict.fromkeys(run["time_to_accuracy_s"]),
    }


def _page(results: dict, tmp_path, name: str = "report.html") -> str:
    return render_report(results, tmp_path / name).read_text(encoding="utf-8")


def _plot_ids(page: str) -> list[str]:
    return re.findall(r'<div id="([^"]+)" class="plotly-graph-div">', page)


def _verdict(page: str) -> str:
    return re.search(r'<p class="verdict">(.*?)</p>', page, re.S).group(1)


def _big_results(devices: int, timeline: bool = True) -> dict:
    """A server and ``devices`` clients of four profiles, two timing-only runs."""
    profiles = ["jetson-nano", "raspberry-pi-4", "jetson-xavier-nx", "phone"]
    fleet = [("server", "rtx-2080ti")] + [
        (f"dev-{i:05d}", profiles[i % len(profiles)]) for i in range(devices)
    ]
    ids = [d for d, _ in fleet]
    runs = [
        _timing_only(make_run(scheme, scheme, ids, global_curve=True, spans_per_device=12))
        for scheme in ("fedavg", "fedbuff")
    ]
    for run in runs:
        if not timeline:
            del run["timeline"]
    data = make_results(fleet, runs, name="fleet")
    data["scenario"]["timing_only"] = True
    return data


def test_a_timing_only_page_says_so_and_draws_no_accuracy(tmp_path):
    data = small_results()
    data["scenario"]["timing_only"] = True
    data["runs"] = [_timing_only(run) for run in data["runs"]]
    page = _page(data, tmp_path)
    assert "<strong>No accuracy recorded.</strong> Every run here is timing-only" in page
    assert '<section id="accuracy">' not in page and 'href="#accuracy"' not in page
    assert _plot_ids(page) == [i for i in PLOT_IDS if i not in ACCURACY_PLOTS]
    assert ">Final</th>" not in page and "Time to 80%" not in page
    assert '<th colspan="1">Time</th>' in page and ">Sim. time</th>" in page
    assert "<dt>Targets</dt><dd>none judged (timing-only: no accuracy)</dd>" in page
    verdict = _verdict(page)
    assert "accuracy" not in verdict
    assert verdict.startswith(
        "<strong>Findings.</strong> Every run took the same simulated time (10 s). "
        "Least traffic: Local only (1.5 MB, 4× less"
    )


def test_a_timing_only_run_alone_is_described_by_its_own_figures(tmp_path):
    data = small_results()
    data["runs"] = [_timing_only(data["runs"][0])]
    verdict = _verdict(_page(data, tmp_path))
    assert (
        "FedAvg &amp; friends took 10 s of simulated time and sent 6.0 MB; its clients spent "
        "40.0% of the run blocked on others on average, pi-0 the most (40.0%); its devices "
        "used 12.00 kJ."
    ) in verdict


def test_a_timing_only_run_beside_a_real_one_is_named_and_left_out_of_the_charts(tmp_path):
    data = small_results()
    data["runs"][1] = _timing_only(data["runs"][1])
    page = _page(data, tmp_path)
    assert "<strong>No accuracy recorded.</strong> Timing-only: Local only:" in page
    assert "Not drawn, timing-only (no accuracy): Local only." in page
    assert _plot_ids(page) == PLOT_IDS and ">Final</th>" in page


def test_groups_are_profiles_split_by_access_link_with_the_server_apart():
    scenario = {
        "devices": [
            {"id": "boss", "profile": "jetson-nano", "role": "server"},
            {"id": "n-0", "profile": "jetson-nano", "role": "client"},
            {"id": "n-1", "profile": "jetson-nano", "role": "client"},
            {"id": "pi-0", "profile": "raspberry-pi-4", "role": "client"},
        ],
        "links": [
            {"edge_side": "boss", "core_side": "sw", "profile": "ethernet-1g"},
            {"edge_side": "n-0", "core_side": "sw", "profile": "ethernet-1g"},
            {"edge_side": "n-1", "core_side": "ap", "profile": "wifi-5"},
            {"edge_side": "pi-0", "core_side": "ap", "profile": "wifi-5"},
        ],
    }
    assert facts.device_groups(scenario) == {
        "boss": "jetson-nano on ethernet-1g (server)",
        "n-0": "jetson-nano on ethernet-1g",
        "n-1": "jetson-nano on wifi-5",
        "pi-0": "raspberry-pi-4",
    }


def test_a_box_is_five_numbers_and_the_mean():
    assert box_stats([4.0, 1.0, 100.0, 2.0, 3.0]) == {
        "lowerfence": 1.0,
        "q1": 2.0,
        "median": 3.0,
        "q3": 4.0,
        "upperfence": 100.0,
        "mean": 22.0,
    }


def test_a_big_fleet_page_grows_with_its_groups_not_its_devices(tmp_path):
    pages = {n: _page(_big_results(n), tmp_path, f"{n}.html") for n in (200, 2000)}
    bundle = len(plotly_js())
    own = {n: len(page.encode()) - bundle for n, page in pages.items()}
    assert own[2000] < 200_000, own  # plotly.js itself (the basic bundle) is about 1.2 MB
    assert abs(own[2000] - own[200]) < 2_000, own
    page = pages[2000]
    assert _plot_ids(page) == [
        "fig-pareto",
        "fig-timeline-0",
        "fig-timeline-1",
        "fig-breakdown",
        "fig-distribution",
        "fig-topology",
        "fig-links",
        "fig-energy",
        "fig-energy-devices",
    ]
    assert "phone (500 devices)" in page and "phone (500)" in page
    assert "dev-01777" not in page


def test_a_big_fleet_without_a_timeline_draws_its_totals(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_big_results(400, timeline=False)), encoding="utf-8")
    page = _page(read_results(path), tmp_path)
    assert page.count("No timeline events recorded; the per-group boxes") == 2
    assert [i for i in _plot_ids(page) if i.startswith("fig-timeline")] == []
    assert "fig-distribution" in _plot_ids(page)
