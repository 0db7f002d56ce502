"""The vendored plotly.js: the basic bundle of the version python plotly writes for, licence kept,
and no figure of the report needs a trace type it lacks."""

from __future__ import annotations

import json
import re
from importlib.resources import files

from plotly.offline import get_plotlyjs_version

from edgesim.report.html import report_page
from edgesim.report.page import plotly_js

from .test_aggregate import _big_results

BASIC_TRACES = {"scatter", "bar", "pie"}
"""What plotly.js-basic-dist-min registers."""


def test_the_bundle_is_the_basic_one_of_plotly_s_own_version():
    head = plotly_js()[:200]
    assert f"plotly.js (basic - minified) v{get_plotlyjs_version()}" in head
    licence = files("edgesim.report").joinpath("assets", "plotly-basic.LICENSE").read_text()
    assert licence.startswith("MIT License") and "Plotly" in licence


def _trace_types(page: str) -> set[str]:
    specs = re.findall(r"const fig = (\{.*?\});\nPlotly.newPlot", page, re.S)
    return {trace.get("type", "scatter") for spec in specs for trace in json.loads(spec)["data"]}


def test_every_figure_uses_traces_the_basic_bundle_has(results):
    page = report_page(results)
    assert page.count("plotly.js (basic - minified) v") == 1
    assert _trace_types(page) <= BASIC_TRACES


def test_a_big_fleet_s_boxes_are_drawn_with_bars():
    page = report_page(_big_results(200))
    assert 'id="fig-distribution"' in page
    assert _trace_types(page) <= BASIC_TRACES
