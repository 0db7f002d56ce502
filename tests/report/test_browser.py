"""The report in a real browser: no JavaScript errors, every chart drawn, nothing fetched.

Runs headless Chromium (``.ci/run`` installs Debian's ``chromium``); skipped with the
reason when it is not installed.
"""

from __future__ import annotations

import pytest

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
