"""Plotly figures of the report, one module per view; this package alone imports plotly.

Plotly renders a small HTML subset in every text it draws (legend, ticks, hover), so
every user-supplied string passes through :func:`plot_text` first; plotly decodes the
``&amp;``/``&lt;``/``&gt;`` entities back, and the reader sees the literal string.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from plotly.colors import qualitative

from edgesim.report import facts

TEMPLATE = "plotly_white"
KIND_COLOURS = {
    "compute": "#2ca02c",
    "lost": "#7b3294",
    "background": "#8c564b",
    "send": "#1f77b4",
    "recv": "#17becf",
    "wait": "#ff7f0e",
    "idle": "#e3e3e3",
    "down": "#d62728",
}
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
UNKNOWN_KIND_COLOUR = "#8c8c8c"
_PALETTE = qualitative.D3 + qualitative.Dark24


def plot_text(value: object) -> str:
    """Escape a user string for plotly's HTML-like text rendering (entities it decodes)."""
    return escape(str(value), quote=False)


def run_colours(runs: Sequence[dict]) -> list[str]:
    """One colour per run, shared by runs of the same label (the same scheme across files)."""
    labels = list(dict.fromkeys(facts.base_label(run) for run in runs))
    return [_PALETTE[labels.index(facts.base_label(run)) % len(_PALETTE)] for run in runs]


def profile_colours(profiles: Sequence[str]) -> dict[str, str]:
    palette = qualitative.Set2 + qualitative.Pastel1
    return {p: palette[i % len(palette)] for i, p in enumerate(profiles)}


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
