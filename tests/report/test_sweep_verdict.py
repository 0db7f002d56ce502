"""A sweep's verdict: how far each scheme holds, by the stated rule; readable setting names."""

from __future__ import annotations

from edgesim.report.sweep_verdict import Level, parameter_label, sweep_sentences

PATH = "failures.departures[0].fraction"


def test_a_dotted_path_reads_as_words():
    assert parameter_label(PATH) == "share of devices that leave"
    assert parameter_label("schemes[0].local_epochs") == "local epochs"
    assert parameter_label("failures.churn[1].horizon_s") == "horizon (s)"


def test_each_scheme_holds_up_to_where_it_drops_more_than_five_points():
    levels = {
        "local": [Level(0.0, 0.60, 0, 3), Level(0.25, 0.58, 3, 3), Level(0.5, None, 3, 3)],
        "fedavg": [Level(0.0, 0.916, 0, 3), Level(0.25, 0.91, 0, 3), Level(0.5, 0.776, 0, 3)],
        "centralized": [Level(0.0, 0.96, 0, 3), Level(0.25, 0.96, 0, 3), Level(0.5, 0.955, 0, 3)],
    }
    assert sweep_sentences(levels, PATH, timing_only=False, share=True) == [
        "centralized holds from 0 % to 50 % (96.0% at 0 %).",
        "fedavg holds up to 25 % (91.6% at 0 %); beyond it, 77.6% at 50 %.",
        "local holds only at 0 % (60.0% at 0 %); every run stalls from 25 % on.",
    ]
