"""One colour per scheme by name, everywhere; activities and profiles in palettes of their own."""

from __future__ import annotations

import copy
import hashlib

from edgesim.config.schemes import SCHEMES
from edgesim.report import colours
from edgesim.report.figures import run_colours
from edgesim.report.figures.accuracy import accuracy_time_figure
from edgesim.report.html import page_profiles


def test_every_built_in_scheme_has_its_own_fixed_colour():
    assert set(colours.SCHEME_COLOURS) == set(SCHEMES)
    assert len(set(colours.SCHEME_COLOURS.values())) == len(colours.SCHEME_COLOURS)
    assert colours.scheme_colour("fedavg") == "#1f77b4"


def test_an_unknown_name_hashes_to_the_same_colour_in_every_process():
    first = colours.scheme_colour("my-plugin-scheme")
    assert first in colours.HASHED_SCHEME_PALETTE
    assert colours.scheme_colour("my-plugin-scheme") == first
    # SHA-1, not hash(): a fixed value, whatever PYTHONHASHSEED is
    digest = hashlib.sha1(b"my-plugin-scheme").digest()
    index = int.from_bytes(digest[:4], "big") % len(colours.HASHED_SCHEME_PALETTE)
    assert first == colours.HASHED_SCHEME_PALETTE[index]


def test_scheme_activity_and_profile_palettes_share_no_colour():
    schemes = {*colours.SCHEME_COLOURS.values(), *colours.HASHED_SCHEME_PALETTE}
    activities = {*colours.ACTIVITY_COLOURS.values(), colours.UNKNOWN_ACTIVITY_COLOUR}
    profiles = set(colours.PROFILE_PALETTE)
    assert not schemes & activities and not schemes & profiles and not activities & profiles
    assert colours.DOMINATED_COLOUR not in schemes | activities | profiles


def test_a_scheme_keeps_its_colour_whatever_its_position(results):
    runs = results["runs"]
    forward = run_colours(runs)
    backward = run_colours(list(reversed(runs)))
    assert forward == list(reversed(backward))
    fig = accuracy_time_figure(list(reversed(runs)), ["b", "a"], [])
    drawn = [t.line.color for t in fig.data if t.visible != "legendonly"]
    assert drawn[: len(runs)] == list(reversed(forward))


def test_a_profile_has_one_colour_on_the_topology_and_the_energy_chart(results):
    scenario = copy.deepcopy(results["scenario"])
    palette = page_profiles(scenario)
    profiles = list(dict.fromkeys(d["profile"] for d in scenario["devices"]))
    assert [palette[p] for p in profiles] == list(colours.PROFILE_PALETTE[: len(profiles)])
