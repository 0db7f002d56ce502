"""When has a learning curve stopped improving? Patience-based plateau detection.

Prechelt ("Early Stopping — But When?", 1998) stops training when validation
accuracy has not improved for a number of checks; gear (seed 004) uses the
same signal to decide when small-model FL has stopped paying off.
"""

from __future__ import annotations

from collections.abc import Sequence


def plateaued(accuracies: Sequence[float], window: int, min_gain: float) -> bool:
    """True when the best of the last ``window`` values beats the best before by < ``min_gain``.

    Needs at least ``window + 1`` values (else False): the rule compares the
    recent window with what came before it.
    """
    if window < 1:
        raise ValueError(f"window(={window}) must be ≥ 1")
    if len(accuracies) <= window:
        return False
    return max(accuracies[-window:]) - max(accuracies[:-window]) < min_gain
