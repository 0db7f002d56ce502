"""The page shell every edgesim HTML page shares: one self-contained file, escaped text.

A report is opened from CI artefacts, mail and offline laptops, so a page carries
everything inline: plotly.js embedded exactly once, no CDN, fonts, stylesheets or
images from elsewhere. The plotly.js embedded is the *basic* bundle (scatter, bar
and pie traces only; ``assets/README.md`` says where it comes from): every figure
of the report is drawn with scatter and bar traces, and the page is a quarter of
the size it is with the full bundle (1.2 MB of script instead of 4.8 MB). Pages
are byte-stable for the same input (no timestamps, fixed div ids) so two of them
can be diffed, and written atomically.

Two kinds of escaping keep strings from user files (scenario and device names,
labels, span details) inert: :func:`text` for HTML, and :func:`figure_html` writes
``<``, ``>`` and ``&`` inside the embedded figure JSON as ``\\u003c``-style escapes
so no string can close the ``<script>`` element. (Figures escape their own strings
for plotly's HTML-like text rendering: see :func:`edgesim.report.figures.plot_text`.)

Other pages (the sweep report) build on :func:`assemble_page` and :class:`Section`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from html import escape
from importlib.resources import files
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from edgesim.io import write_text_atomic

PLOT_CLASS = "plotly-graph-div"
_PLOT_CONFIG = '{"responsive": true, "displaylogo": false}'
_JSON_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 1.5rem auto; max-width: 1280px; padding: 0 1rem; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2rem; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.2rem; }
nav.toc { font-size: 0.9rem; margin: 0.8rem 0; }
nav.toc a { margin-right: 1rem; color: #1f5fa8; text-decoration: none; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.15rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
div.decision { background: #f5f8fc; border-left: 4px solid #1f5fa8; padding: 0.5rem 1rem; }
div.decision ul { margin: 0.3rem 0; padding-left: 1.2rem; }
div.decision p.note { margin: 0.2rem 0 0; }
p.description { margin: 0.2rem 0 0.6rem; color: #444; }
p.verdict { font-size: 0.9rem; color: #333; }
details.meta { margin: 0.5rem 0; }
details.meta summary { cursor: pointer; color: #1f5fa8; }
p.timing-only { background: #fff8e1; border-left: 4px solid #c77c00; padding: 0.7rem 1rem; }
.scroll { overflow-x: auto; }
table.summary { border-collapse: collapse; font-size: 0.85rem; }
table.summary th, table.summary td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; }
table.summary th { background: #f3f3f3; }
table.summary td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.summary td.best { font-weight: 700; background: #e3f2e5; }
table.summary tr.stalled td { background: #fff4e0; }
span.stalled { color: #9a4d00; font-weight: 600; white-space: nowrap; }
.note { color: #555; font-size: 0.85rem; }
.plotly-graph-div { width: 100%; }
"""
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="edgesim">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
<script>{plotlyjs}</script>
</head>
<body>
{body}
</body>
</html>
"""


PLOTLY_BUNDLE = "plotly-basic.min.js"
"""The vendored plotly.js bundle, a file in ``edgesim/report/assets/`` (package data)."""


@cache
def plotly_js() -> str:
    """The vendored basic plotly.js bundle (package data, so a wheel needs no checkout)."""
    return files("edgesim.report").joinpath("assets", PLOTLY_BUNDLE).read_text(encoding="utf-8")


def text(value: object) -> str:
    """A user string made safe for HTML text and attribute values."""
    return escape(str(value), quote=True)


@dataclass(frozen=True)
class Section:
    """One titled part of a page; ``html`` is already escaped markup."""

    anchor: str
    title: str
    html: str


def figure_html(div_id: str, fig: go.Figure) -> str:
    """A plot container and the script that draws ``fig`` into it (plotly.js is global)."""
    spec = pio.to_json(fig, pretty=False)
    for char, replacement in _JSON_SCRIPT_ESCAPES.items():
        spec = spec.replace(char, replacement)
    return (
        f'<div id="{text(div_id)}" class="{PLOT_CLASS}"></div>\n'
        f"<script>(function () {{ const fig = {spec};\n"
        f'Plotly.newPlot("{text(div_id)}", fig.data, fig.layout, {_PLOT_CONFIG}); }})();</script>'
    )


def note(content: str) -> str:
    """A small explanatory paragraph; ``content`` is already escaped markup."""
    return f'<p class="note">{content}</p>'


def assemble_page(title: str, header: str, sections: Sequence[Section]) -> str:
    """A whole HTML page: ``header`` markup, a table of contents, then the sections."""
    toc = " ".join(f'<a href="#{text(s.anchor)}">{text(s.title)}</a>' for s in sections)
    parts = [header, f'<nav class="toc">{toc}</nav>'] if sections else [header]
    for s in sections:
        parts.append(
            f'<section id="{text(s.anchor)}">\n<h2>{text(s.title)}</h2>\n{s.html}\n</section>'
        )
    return _PAGE.format(title=text(title), style=STYLE, plotlyjs=plotly_js(), body="\n".join(parts))


def write_page(path: str | Path, page: str) -> Path:
    """Write ``page`` atomically (temporary file, then ``os.replace``), creating folders."""
    return write_text_atomic(Path(path), page)
