"""The plateau rule gear's automatic switch uses."""

from __future__ import annotations

import pytest

from edgesim.learning.plateau import plateaued


def test_needs_more_values_than_the_window():
    assert not plateaued([0.5, 0.5, 0.5], window=3, min_gain=0.01)
    assert plateaued([0.5, 0.5, 0.5, 0.5], window=3, min_gain=0.01)


def test_a_new_best_by_at_least_min_gain_within_the_window_is_progress():
    assert not plateaued([0.50, 0.60, 0.62, 0.61], window=2, min_gain=0.01)
    assert plateaued([0.50, 0.60, 0.605, 0.59], window=2, min_gain=0.01)
    # A dip then a recovery to the old best is still a plateau.
    assert plateaued([0.70, 0.60, 0.70], window=2, min_gain=0.001)


def test_window_must_be_positive():
    with pytest.raises(ValueError, match="window"):
        plateaued([0.1, 0.2], window=0, min_gain=0.0)
