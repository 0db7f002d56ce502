"""A stalled run is flagged everywhere and never called best: it was cut short, not fast."""

from __future__ import annotations

import copy
import re

import pytest

from edgesim.report import facts
from edgesim.report.figures.spread import Metric, Point, spread_figure
from edgesim.report.html import report_page
from edgesim.report.summary import best_values, columns, summary_table
from edgesim.report.verdict import verdict

from .conftest import STALL_REASON, stalled_results

SUPERLATIVES = ("Fastest", "Least", "least", "Most", "most")


@pytest.fixture(params=[False, True], ids=["stalled-object", "legacy-counter"])
def results(request) -> dict:
    return stalled_results(legacy=request.param)


def _rows(table: str) -> list[str]:
    return re.findall(r"<tr(?: class=\"stalled\")?>(?:(?!</tr>).)*</tr>", table, re.S)[2:]


def test_the_table_flags_the_stalled_run_and_marks_only_finished_ones(results):
    scenario, runs = results["scenario"], results["runs"]
    table = summary_table(scenario, runs, facts.run_names(runs))
    fedavg, local, stalled = _rows(table)
    assert stalled.startswith('<tr class="stalled">') and "stalled at 3.2 s" in stalled
    assert "stalled" not in fedavg + local
    assert "best" not in stalled
    assert '<td class="num best">85.0%</td>' in fedavg  # the best accuracy that finished
    assert '<td class="num best">1.5 MB</td>' in local  # the least traffic that finished


def test_no_column_marks_a_value_only_the_stalled_run_has(results):
    runs = results["runs"]
    finished, stalled = runs[:2], runs[2]
    cols = columns(results["scenario"], runs)
    for column, best in zip(cols, best_values(cols, runs), strict=True):
        assert best is None or best in [column.value(run) for run in finished], column.title
    assert {"Final", "Time to 80%", "Sim. time", "Total", "Energy"} <= {
        c.title for c in cols if _alone_best(c, stalled, finished)
    }  # what the stalled run would have won


def _alone_best(column, run: dict, others: list[dict]) -> bool:
    value = column.value(run)
    rivals = [v for other in others if (v := column.value(other)) is not None]
    return value is not None and value not in rivals and column.best([value, *rivals]) == value


def test_the_verdict_names_the_stall_first_and_praises_only_finished_runs(results):
    runs = results["runs"]
    sentences = verdict(results["scenario"], runs, facts.run_names(runs))
    first = sentences[0]
    assert first.startswith("Stalled before finishing what was asked: Handoff at 3.2 s")
    assert (STALL_REASON in first) == ("stalled" in runs[2])
    assert [s for s in sentences if "Handoff" in s] == [first]
    praised = " ".join(s for s in sentences[1:] if any(w in s for w in SUPERLATIVES))
    assert "Most accurate at the end: FedAvg & friends (85.0%)" in praised
    assert "Least energy: Local only" in praised


def test_when_every_run_stalled_nothing_is_best(results):
    runs = results["runs"]
    for run in runs[:2]:
        run["stalled"] = {"at_s": 10.0, "reason": "waits for devices that never return: pi-0"}
    names = facts.run_names(runs)
    sentences = verdict(results["scenario"], runs, names)
    assert sentences[0].endswith("No run finished, so none is compared.")
    assert not any(s.startswith(("Fastest", "Least", "Most")) for s in sentences)
    assert "num best" not in summary_table(results["scenario"], runs, names)


def test_the_page_shows_the_stall_in_the_verdict_and_the_timeline(results):
    page = report_page(results)
    verdict_html = re.search(r'<p class="verdict">(.*?)</p>', page, re.S).group(1)
    assert "Stalled before finishing what was asked: Handoff at 3.2 s" in verdict_html
    assert '<h3>Handoff <span class="stalled"' in page


def test_across_runs_leave_a_stalled_run_out_of_the_mean_and_draw_it_apart():
    points = [
        Point("fedavg", "hetero", str(seed), {"sim_time_s": t}, stalled)
        for seed, t, stalled in [(1, 10.0, ""), (2, 12.0, ""), (3, 3.2, "stalled at 3.2 s")]
    ]
    fig = spread_figure(points, [Metric("sim_time_s", "simulated time (s)")], "")
    mean, seeds, crosses = fig.data
    assert list(mean.y) == [11.0] and list(mean.error_y.array) == [1.0]
    assert sorted(seeds.y) == [10.0, 12.0]
    assert list(crosses.y) == [3.2] and crosses.marker.symbol == "x"
    assert "seed 3 stalled at 3.2 s" in crosses.customdata[0]


def test_combined_report_counts_stalled_runs(results):
    combined = copy.deepcopy(results)
    combined["runs"] += [
        {**copy.deepcopy(run), "origin": {"scenario": "other", "seed": 1, "label": run["label"]}}
        for run in results["runs"]
    ]
    assert "6 runs from 2 scenarios and 2 seeds, 2 of them stalled" in report_page(combined)
