"""The report's header states the bytes of one model update (``scenario.model_bytes``)."""

from __future__ import annotations

import json

from edgesim.report.html import report_page
from edgesim.report.load import load_results

from .conftest import small_results


def test_the_header_states_each_models_update_size(tmp_path):
    data = small_results()
    data["scenario"]["model_bytes"] = {"resnet20": 1_082_664, "lenet5": 248_664}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    page = report_page(load_results([path]))
    assert "<dt>Model update</dt><dd>resnet20 1.1 MB, lenet5 248.7 kB</dd>" in page


def test_older_results_without_it_show_a_dash():
    assert "<dt>Model update</dt><dd>—</dd>" in report_page(small_results())
