"""The one formatter of the report and the terminal: three significant digits, units, a dash."""

from __future__ import annotations

import pytest

from edgesim.report import fmt


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0713, "0.0713 s"),  # a round: not "0.1 s"
        (0.000123, "0.000123 s"),
        (12.5, "12.5 s"),
        (59.94, "59.9 s"),
        (90.0, "1.5 min"),
        (1234.5, "20.6 min"),
        (5432.1, "1.51 h"),
        (None, "—"),
    ],
)
def test_seconds(value, text):
    assert fmt.seconds(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (81_234_567, "81.2 MB"), (None, "—")],
)
def test_bytes(value, text):
    assert fmt.nbytes(value) == text


def test_energy_percent_and_missing_values():
    assert [fmt.energy(j) for j in (51.1, 12_345.0, 2.5e6, None)] == [
        "51.1 J",
        "12.35 kJ",
        "2.50 MJ",
        "—",
    ]
    assert [fmt.percent(a) for a in (0.9672, 0.581, None)] == ["96.7%", "58.1%", "—"]


def test_plural_agrees_with_its_count():
    assert fmt.plural(1, "server") == "1 server"
    assert fmt.plural(8, "client") == "8 clients"
    assert fmt.plural(1, "scheme") == "1 scheme"
    assert fmt.plural(1200, "device") == "1,200 devices"
    assert fmt.plural(2, "family", "families") == "2 families"
