"""Splitting a whole number of training steps over workers in proportion to their speed.

Deep-Edge (seed 002) gives capable devices more of the training work. Steps
are whole, so the split is an apportionment: Hamilton's largest-remainder
method — each worker gets the floor of its exact quota, and the steps left
over go to the largest fractional parts (ties to the earlier worker).
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def apportion(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """``total`` whole steps split over ``weights``' keys in proportion to their values."""
    if total < 0:
        raise ValueError(f"total(={total}) must be >= 0")
    if not weights:
        raise ValueError("cannot split work over zero workers")
    if any(w <= 0 or not math.isfinite(w) for w in weights.values()):
        raise ValueError(f"weights must be finite and > 0, got {dict(weights)}")
    scale = sum(weights.values())
    quotas = {name: total * w / scale for name, w in weights.items()}
    shares = {name: math.floor(q) for name, q in quotas.items()}
    order = {name: i for i, name in enumerate(weights)}
    left = total - sum(shares.values())
    by_remainder = sorted(order, key=lambda n: (-(quotas[n] - shares[n]), order[n]))
    for name in by_remainder[:left]:
        shares[name] += 1
    return shares
