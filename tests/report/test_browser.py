"""The report in a real browser: no JavaScript errors, every chart drawn, nothing fetched.

Runs headless Chromium (``.ci/run`` installs Debian's ``chromium``); skipped with the
reason when it is not installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from edgesim.cli import main
from edgesim.report.colours import scheme_colour
from edgesim.report.html import render_report
from edgesim.report.page import plotly_js
from edgesim.report.sweep import render_sweep_report
from edgesim.sweep.aggregate import aggregate

from . import chromium
from .conftest import PLOT_IDS

HETEROGENEOUS = Path(__file__).parents[2] / "scenarios" / "heterogeneous.yaml"

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
    assert len(found["plots"]) == 10 and all(p["traces"] > 0 for p in found["plots"])


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
"""A two-run timing-only report of a big fleet: no accuracy charts, per-group views."""


def test_a_thousand_device_timing_only_report_renders_every_aggregated_view(
    tmp_path, write_scenario
):
    out = tmp_path / "out"
    path = write_scenario(fleet_scenario(nanos=400, pis=300, phones=300))
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    report = out / "report.html"
    page = report.read_text(encoding="utf-8")
    assert len(page.encode()) - len(plotly_js()) < 300_000  # the page, plotly.js aside
    assert "No accuracy recorded." in page and "phone (300 devices)" in page
    found = chromium.inspect(report, tmp_path)
    assert found["errors"] == []
    assert [p["id"] for p in found["plots"]] == AGGREGATED_PLOT_IDS
    undrawn = [p["id"] for p in found["plots"] if not (p["svg"] and p["traces"] and p["data"])]
    assert undrawn == []
    assert all(url.startswith("file:") for url in found["requests"])


MAX_PAGE_BYTES = 2_000_000
"""A report of the heterogeneous scenario fits in 2 MB (the basic plotly.js bundle)."""


def short_heterogeneous() -> dict:
    """scenarios/heterogeneous.yaml, its fleet, data and failure as they are, each scheme cut
    to a few epochs or rounds so the run takes seconds."""
    scenario = yaml.safe_load(HETEROGENEOUS.read_text(encoding="utf-8"))
    short = {"local": {"epochs": 3}, "centralized": {"epochs": 3}, "fedavg": {"rounds": 3}}
    short["handoff"] = {"device_epochs": 2, "server_epochs": 2, "after_return_epochs": 2}
    scenario["schemes"] = [{**s, **short.get(s["scheme"], {})} for s in scenario["schemes"]]
    return scenario


def _number(cell: str) -> float:
    """A summary cell as a number in base units: "96.7%" → 0.967, "1.2 min" → 72, "81.7 MB"."""
    value, _, unit = cell.replace(",", "").partition(" ")
    if value.endswith("%"):
        return float(value[:-1]) / 100
    scale = {"s": 1, "min": 60, "h": 3600, "B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}
    return float(value) * scale[unit]


def expected_pick(table: list[list[str]], raw_data_may_leave: bool) -> str:
    """The pick by the page's stated rule, read off the summary table as the browser shows it:
    the most accurate; ties within 1 pp go to the first to the highest target they all
    reached (else to less simulated time), then to fewer bytes."""
    titles = table[1]
    body = [row for row in table[2:] if "stalled" not in row[0]]
    targets = [t for t in titles if t.startswith("Time to ")]
    column = {t: titles.index(t) + 2 for t in ("Final", "Sim. time", "Total", "Raw data")}
    column |= {t: titles.index(t) + 2 for t in targets}
    rows = [
        {key: None if row[i] == "—" else _number(row[i]) for key, i in column.items()}
        | {"name": row[0]}
        for row in body
        if raw_data_may_leave or _number(row[column["Raw data"]]) == 0
    ]
    best = max(r["Final"] for r in rows)
    tied = [r for r in rows if (best - r["Final"]) * 100 <= 1.0 + 1e-9]
    common = [t for t in targets if all(r[t] is not None for r in tied)]
    deciding = max(
        common, key=lambda t: float(t.removeprefix("Time to ").rstrip("%")), default=None
    )
    return min(
        tied,
        key=lambda r: (r[deciding] if deciding else 0, r["Sim. time"], r["Total"], r["name"]),
    )["name"]


def test_the_heterogeneous_report_decides_fits_in_2_mb_and_keeps_colours_in_a_sweep(
    tmp_path, write_scenario
):
    out = tmp_path / "out"
    path = write_scenario(short_heterogeneous())
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    report = out / "report.html"
    assert report.stat().st_size <= MAX_PAGE_BYTES
    found = chromium.inspect(report, tmp_path)
    assert found["errors"] == []
    undrawn = [p["id"] for p in found["plots"] if not (p["svg"] and p["traces"] and p["data"])]
    assert undrawn == [] and len(found["plots"]) == 12  # a timeline per scheme

    # centralized uploads raw data, so the page answers under both constraints
    choices = {c["constraint"]: c["scheme"] for c in found["choices"]}
    assert set(choices) == {"raw-data-may-leave", "raw-data-stays"}
    assert choices["raw-data-may-leave"] == expected_pick(found["table"], True)
    assert choices["raw-data-stays"] == expected_pick(found["table"], False)
    assert choices["raw-data-stays"] != "centralized"

    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    point = {"id": "p00-00000000", "values": {"training.lr": 0.05}}
    other = {"id": "p01-00000000", "values": {"training.lr": 0.1}}
    header = {
        "name": "colours",
        "description": "",
        "source": "sweep.yaml",
        "base": "base.yaml",
        "vary": {"training.lr": [0.05, 0.1]},
    }
    summary = aggregate(
        header, [point, other], [0], {(p["id"], 0): results for p in (point, other)}
    )
    sweep = chromium.inspect(render_sweep_report(summary, tmp_path / "sweep.html"), tmp_path)
    assert sweep["errors"] == []
    in_run = dict(found["colours"][[p["id"] for p in found["plots"]].index("fig-accuracy")])
    in_sweep = dict(sweep["colours"][0])
    schemes = [run["label"] for run in results["runs"]]
    assert {s: in_sweep[s] for s in schemes} == {s: scheme_colour(s) for s in schemes}
    primary = {s: in_run.get(s) or in_run.get(f"{s} (mean of 8 device models)") for s in schemes}
    assert primary == {s: in_sweep[s] for s in schemes}
