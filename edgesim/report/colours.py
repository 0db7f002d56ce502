"""Colours of the report: one per scheme everywhere, activities and profiles apart.

A reader learns a scheme's colour on the first chart and expects it on every other
one, on the next report and on a sweep's: so a scheme's colour is a function of its
name alone, never of its position in a file. The built-in schemes have fixed colours
(:data:`SCHEME_COLOURS`); any other name (a plugin, a label such as "fedavg-fast")
gets a colour picked by a stable hash of the name (:func:`scheme_colour`), from a
palette that the built-in ones do not use.

What a device does (compute, send, wait, down ...) is drawn in pale tones of
:data:`ACTIVITY_COLOURS`, and device profiles in :data:`PROFILE_PALETTE`: three
palettes that share no colour, so compute is never mistaken for fedavg. A page gives
each profile one colour (:func:`profile_colours`), the same on the topology and on
the energy charts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

SCHEME_COLOURS = {
    "fedavg": "#1f77b4",
    "centralized": "#d62728",
    "local": "#8c564b",
    "handoff": "#9467bd",
    "fedasync": "#ff7f0e",
    "fedbuff": "#17becf",
    "ecavg": "#e377c2",
    "distill-fl": "#bcbd22",
    "async-distill-fl": "#2ca02c",
    "gear": "#393b79",
    "deep-edge": "#637939",
    "fedcs": "#8c6d31",
    "oort": "#843c39",
    "tifl": "#7b4173",
    "fedprox": "#00a08b",
    "fedavg-partial": "#5254a3",
}
"""Fixed colours of the built-in schemes (edgesim.config.schemes), by scheme name."""

HASHED_SCHEME_PALETTE = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#0f6e8c",
    "#b2182b",
    "#4d4d9f",
    "#8e0152",
    "#276419",
)
"""Colours for scheme names that are not built in, picked by a hash of the name."""

ACTIVITY_COLOURS = {
    "compute": "#9ccc8c",
    "lost": "#c6a5d6",
    "background": "#d8b99a",
    "send": "#8fb5dc",
    "recv": "#a8dce0",
    "communicate": "#8fb5dc",
    "wait": "#f4cd7a",
    "idle": "#e8e8e8",
    "down": "#e59a92",
}
"""Pale tones for what a device does, none of them a scheme's or a profile's colour."""

UNKNOWN_ACTIVITY_COLOUR = "#b0b0b0"

PROFILE_PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#b07aa1",
    "#edc948",
    "#76b7b2",
    "#ff9da7",
    "#9c755f",
    "#e15759",
    "#bab0ac",
)
"""Device profiles (and groups of a big fleet), in the order a page first lists them."""

SWITCH_COLOUR = "#9e9e9e"
DOMINATED_COLOUR = "#c8c8c8"
"""A scheme another one beats on every axis (the Pareto view greys it)."""


def scheme_colour(name: str) -> str:
    """The colour of a scheme (or run label): fixed for built-ins, else a hash of the name.

    The hash is SHA-1 of the name, not Python's ``hash``, which changes per process.
    """
    if name in SCHEME_COLOURS:
        return SCHEME_COLOURS[name]
    digest = hashlib.sha1(name.encode("utf-8")).digest()
    return HASHED_SCHEME_PALETTE[int.from_bytes(digest[:4], "big") % len(HASHED_SCHEME_PALETTE)]


def activity_colour(kind: str) -> str:
    return ACTIVITY_COLOURS.get(kind, UNKNOWN_ACTIVITY_COLOUR)


def profile_colours(names: Iterable[str]) -> dict[str, str]:
    """One colour per profile or group, in the order given (the page's first listing)."""
    ordered = list(dict.fromkeys(names))
    return {n: PROFILE_PALETTE[i % len(PROFILE_PALETTE)] for i, n in enumerate(ordered)}
