"""The first screen: the decision and the trade-off chart; the run's details folded below."""

from __future__ import annotations

import re

from edgesim.report.html import report_page


def test_the_decision_and_chart_come_before_the_folded_details(results):
    results["scenario"]["model_bytes"] = {"mlp": 40_000}
    page = report_page(results)
    header = page[page.index("<header>") : page.index("</header>")]
    assert header.index('class="decision"') < header.index('id="fig-pareto"')
    assert header.index('id="fig-pareto"') < header.index('<details class="meta">')
    assert '<li class="choice" data-constraint="raw-data-stays"' in header
    assert "<dt>Model size</dt><dd>mlp: 10,000 values (40.0 kB)</dd>" in header


def test_details_say_only_what_applies(results):
    results["scenario"]["data"] |= {"grayscale": False, "image_size": 32}
    results["scenario"]["data"]["partition"] |= {"shards_per_device": 2}
    page = report_page(results)
    data = re.search(r"<dt>Data</dt><dd>(.*?)</dd>", page).group(1)
    assert "grayscale" not in data and "image_size" not in data
    assert "shards_per_device" not in data and "partition.alpha 0.5" in data
    assert "<dt>Roles</dt><dd>1 server, 3 clients</dd>" in page


def test_accuracy_notes_are_shown_when_present(results):
    results["meta"]["accuracy_notes"] = ["cuda: accuracy differs from cpu in the 4th digit"]
    page = report_page(results)
    assert "Accuracy is not bit-identical across devices: cuda: accuracy differs" in page
    assert "<dt>Accuracy notes</dt>" in page
