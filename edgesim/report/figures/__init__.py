"""Plotly figures of the report, one module per view; this package alone imports plotly.

Colours come from :mod:`edgesim.report.colours` (``profile_colours`` is re-exported).

Plotly renders a small HTML subset in every text it draws (legend, ticks, hover), so
every user-supplied string passes through :func:`plot_text` first; plotly decodes the
``&amp;``/``&lt;``/``&gt;`` entities back, and the reader sees the literal string.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from edgesim.report import facts
from edgesim.report.colours import (  # noqa: F401 (profile_colours re-exported)
    ACTIVITY_COLOURS,
    UNKNOWN_ACTIVITY_COLOUR,
    profile_colours,
    scheme_colour,
)

TEMPLATE = "plotly_white"
KIND_COLOURS = ACTIVITY_COLOURS
KIND_NAMES = {
    "compute": "compute",
    "lost": "lost work",
    "background": "background task",
    "send": "send",
    "recv": "receive",
    "wait": "wait",
    "idle": "idle",
    "down": "down",
}
UNKNOWN_KIND_COLOUR = UNKNOWN_ACTIVITY_COLOUR


def plot_text(value: object) -> str:
    """Escape a user string for plotly's HTML-like text rendering (entities it decodes)."""
    return escape(str(value), quote=False)


def run_colours(runs: Sequence[dict]) -> list[str]:
    """Each run's colour: its scheme label's (:func:`edgesim.report.colours.scheme_colour`),
    so the same scheme has the same colour in every file, seed and sweep."""
    return [scheme_colour(facts.base_label(run)) for run in runs]


def button_row(buttons: list[dict]) -> list[dict]:
    """A plotly ``updatemenus`` value: one row of buttons above a figure's top-left corner."""
    return [
        {
            "type": "buttons",
            "direction": "right",
            "x": 0,
            "y": 1.12,
            "xanchor": "left",
            "showactive": True,
            "buttons": buttons,
        }
    ]
