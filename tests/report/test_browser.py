"""The report in a real browser: no JavaScript errors, every chart drawn, nothing fetched.

Runs headless Chromium (``.ci/run`` installs Debian's ``chromium``); skipped with the
reason when it is not installed.
"""

from __future__ import annotations

import pytest
from plotly.offline import get_plotlyjs

from edgesim.cli import main
from edgesim.report.html import render_report

from . import chromium
from .conftest import PLOT_IDS

pytestmark = pytest.mark.skipif(
    chromium.CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)"
)


def test_report_of_a_small_run_renders_every_chart(tmp_path, write_scenario, tiny_scenario):
    tiny_scenario["schemes"] = [
        {"scheme": "fedavg", "rounds": 2},
        {"scheme": "local", "epochs": 1},
    ]
    out = tmp_path / "out"
    assert main(["run", str(write_scenario(tiny_scenario)), "--out", str(out), "--quiet"]) == 0
    found = chromium.inspect(out / "report.html", tmp_path)
    assert found["errors"] == []
    assert [p["id"] for p in found["plots"]] == PLOT_IDS
    undrawn = [p["id"] for p in found["plots"] if p["svg"] == 0 or p["traces"] == 0]
    assert undrawn == []
    assert all(url.startswith("file:") for url in found["requests"])
    png = chromium.screenshot(out / "report.html", tmp_path / "report.png", tmp_path)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000


def test_a_device_named_like_markup_does_not_execute(results, tmp_path):
    path = render_report(results, tmp_path / "evil.html")
    found = chromium.inspect(path, tmp_path)
    assert found["pwned"] == 0
    assert found["errors"] == []
    assert len(found["plots"]) == 9 and all(p["traces"] > 0 for p in found["plots"])


def fleet_scenario(nanos: int, pis: int, phones: int) -> dict:
    """A timing-only fleet: Jetsons on Ethernet, Pis behind one Wi-Fi AP, phones on LTE
    that come and go; three rounds of FedAvg and a FedBuff run, a few seconds of work."""
    clients = nanos + pis + phones
    return {
        "name": f"fleet-{clients}",
        "seed": 1,
        "timing_only": True,
        "devices": [
            {"id": "server", "profile": "rtx-2080ti", "role": "server"},
            {"id": "nano", "profile": "jetson-nano", "count": nanos},
            {"id": "pi", "profile": "raspberry-pi-4", "count": pis},
            {"id": "phone", "profile": "phone", "count": phones},
        ],
        "network": {
            "nodes": ["switch", "ap", "internet"],
            "links": [
                {"between": ["server", "switch"], "profile": "ethernet-1g"},
                {"between": ["nano", "switch"], "profile": "ethernet-1g"},
                {"between": ["pi", "ap"], "profile": "wifi-5"},
                {"between": ["ap", "switch"], "profile": "wifi-5", "name": "ap-air"},
                {"between": ["phone", "internet"], "profile": "lte"},
                {"between": ["switch", "internet"], "profile": "wan", "name": "uplink"},
            ],
        },
        "failures": {
            "churn": [
                {"targets": ["phone"], "availability": 0.9, "mean_down_s": 5, "horizon_s": 600}
            ]
        },
        "data": {
            "dataset": "synthetic",
            "test_fraction": 0.1,
            "validation_fraction": 0.0,
            "synthetic": {"samples": int(clients * 8 / 0.9) + 20},
        },
        "training": {"model": "mlp", "batch_size": 8},
        "schemes": [
            {"scheme": "fedavg", "rounds": 3, "client_fraction": 0.5, "round_deadline_s": 20},
            {"scheme": "fedbuff", "server_steps": 10, "buffer_size": 50, "max_concurrency": 100},
        ],
    }


AGGREGATED_PLOT_IDS = [
    "fig-timeline-0",
    "fig-timeline-1",
    "fig-breakdown",
    "fig-distribution",
    "fig-topology",
    "fig-links",
    "fig-energy",
    "fig-energy-devices",
]
"""A two-run timing-only report of a big fleet: no accuracy charts, per-group views."""


def test_a_thousand_device_timing_only_report_renders_every_aggregated_view(
    tmp_path, write_scenario
):
    out = tmp_path / "out"
    path = write_scenario(fleet_scenario(nanos=400, pis=300, phones=300))
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    report = out / "report.html"
    page = report.read_text(encoding="utf-8")
    assert len(page.encode()) - len(get_plotlyjs()) < 300_000  # the page, plotly.js aside
    assert "No accuracy recorded." in page and "phone (300 devices)" in page
    found = chromium.inspect(report, tmp_path)
    assert found["errors"] == []
    assert [p["id"] for p in found["plots"]] == AGGREGATED_PLOT_IDS
    undrawn = [p["id"] for p in found["plots"] if not (p["svg"] and p["traces"] and p["data"])]
    assert undrawn == []
    assert all(url.startswith("file:") for url in found["requests"])
