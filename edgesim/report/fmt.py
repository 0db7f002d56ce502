"""How numbers read on the page: short, with units, the same everywhere."""

from __future__ import annotations

from math import log10

_BYTE_UNITS = ("kB", "MB", "GB", "TB")


def percent(fraction: float) -> str:
    return f"{fraction:.1%}"


def seconds(value: float) -> str:
    if value < 60:
        return f"{value:.3g} s"
    if value < 3600:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.2f} h"


def nbytes(count: float) -> str:
    if count < 1000:
        return f"{count:.0f} B"
    exponent = min(int(log10(count)) // 3, len(_BYTE_UNITS))
    return f"{count / 1000**exponent:.1f} {_BYTE_UNITS[exponent - 1]}"


def energy(joules: float) -> str:
    if joules < 1000:
        return f"{joules:.1f} J"
    if joules < 1e6:
        return f"{joules / 1e3:.2f} kJ"
    return f"{joules / 1e6:.2f} MJ"


def count(value: float) -> str:
    return f"{value:,.0f}"


def ratio(value: float) -> str:
    return f"{value:.2g}×" if value < 10 else f"{value:,.0f}×"
