"""Where time goes: every device's bar is the whole run, split into the partition's states."""

from __future__ import annotations

import pytest

from edgesim.report import facts
from edgesim.report.figures.breakdown import breakdown_figure

from .conftest import SIM_TIME_S, device_summary, small_results


def _bars(fig) -> dict[tuple[str, str], dict[str, tuple[float, float]]]:
    """(run, device) → {part: (share, seconds)}, read off the figure's traces."""
    bars: dict[tuple[str, str], dict[str, tuple[float, float]]] = {}
    for trace in fig.data:
        groups, members = trace.x
        for group, member, share, seconds in zip(
            groups, members, trace.y, trace.customdata, strict=True
        ):
            bars.setdefault((group, member), {})[trace.name] = (share, seconds)
    return bars


@pytest.fixture
def results() -> dict:
    """The small results, one device running a background task and losing work to it."""
    data = small_results()
    data["runs"][0]["devices"]["pi-0"] = device_summary(
        wait_s=1.0, compute_s=4.0, lost_work_s=0.5, background_s=1.5
    )
    return data


@pytest.mark.parametrize("per_profile", [False, True], ids=["per-device", "per-profile"])
def test_each_bar_adds_up_to_the_whole_run(results, per_profile):
    runs = results["runs"]
    profiles = facts.profiles(results["scenario"]) if per_profile else None
    bars = _bars(breakdown_figure(runs, facts.run_names(runs), profiles))
    assert len(bars) == (6 if per_profile else 8)
    for bar, parts in bars.items():
        assert sum(share for share, _ in parts.values()) == pytest.approx(1.0), bar
        assert sum(seconds for _, seconds in parts.values()) == pytest.approx(SIM_TIME_S), bar


def test_compute_is_split_into_useful_lost_and_background(results):
    runs = results["runs"]
    pi = _bars(breakdown_figure(runs, facts.run_names(runs)))[("FedAvg &amp; friends", "pi-0")]
    assert {part: seconds for part, (_, seconds) in pi.items()} == {
        "compute": 2.0,
        "lost work": 0.5,
        "background task": 1.5,
        "send": 1.0,
        "receive": 0.5,
        "wait": 1.0,
        "idle": 3.5,
        "down": 0.0,
    }
    assert pi["compute"][0] == pytest.approx(0.2)


def test_hover_gives_seconds_and_percent(results):
    runs = results["runs"]
    for trace in breakdown_figure(runs, facts.run_names(runs)).data:
        assert "%{customdata:.4f} s" in trace.hovertemplate
        assert "%{y:.1%} of the run" in trace.hovertemplate
