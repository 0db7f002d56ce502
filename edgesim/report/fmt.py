"""How numbers read on the page and in the terminal: short, with units, the same everywhere.

The report and the CLI print through these functions only, so a round of
0.0713 s reads "0.0713 s" in both (three significant digits), not "0.1 s" in
one of them. ``None`` (a target never reached, no accuracy) reads "—".
"""

from __future__ import annotations

from math import isfinite, log10

DASH = "—"
"""What a missing value reads as."""

_BYTE_UNITS = ("kB", "MB", "GB", "TB")


def percent(fraction: float | None) -> str:
    return DASH if fraction is None else f"{fraction:.1%}"


def seconds(value: float | None) -> str:
    if value is None:
        return DASH
    if abs(value) < 60:
        return f"{value:.3g} s"
    if abs(value) < 3600:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.2f} h"


def nbytes(count: float | None) -> str:
    if count is None:
        return DASH
    if not isfinite(count) or abs(count) < 1000:
        return f"{count:.0f} B"
    exponent = min(int(log10(abs(count))) // 3, len(_BYTE_UNITS))
    return f"{count / 1000**exponent:.1f} {_BYTE_UNITS[exponent - 1]}"


def energy(joules: float | None) -> str:
    if joules is None:
        return DASH
    if abs(joules) < 1000:
        return f"{joules:.1f} J"
    if abs(joules) < 1e6:
        return f"{joules / 1e3:.2f} kJ"
    return f"{joules / 1e6:.2f} MJ"


def count(value: float) -> str:
    return f"{value:,.0f}"


def ratio(value: float) -> str:
    return f"{value:.2g}×" if value < 10 else f"{value:,.0f}×"


def plural(number: int, noun: str, many: str | None = None) -> str:
    """``1 scheme``, ``3 schemes``, ``1 server, 8 clients``: a count with its noun agreeing."""
    word = noun if number == 1 else (many or f"{noun}s")
    return f"{number:,} {word}"
