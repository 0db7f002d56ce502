"""Model updates as differences of weights, as a parameter server combines them.

A worker that pulled weights ``base`` and trained them into ``new`` pushes
``delta(new, base)``; an asynchronous parameter server adds each delta to its
current weights as it arrives (``apply_delta``), even if other deltas landed
since the worker pulled — the stale-update behaviour of asynchronous SGD
(Dean et al., "Large Scale Distributed Deep Networks", NeurIPS 2012).
"""

from __future__ import annotations

from edgesim.learning.weights import SizeOnly, StateDict


def delta(new: StateDict, base: StateDict) -> StateDict:
    """``new - base`` key by key (integer buffers such as step counters too)."""
    if isinstance(new, SizeOnly):
        return new  # same keys and dtypes: the same bytes
    if new.keys() != base.keys():
        raise ValueError("the two states have different keys")
    return {key: (new[key] - base[key]).detach().clone() for key in new}


def apply_delta(state: StateDict, update: StateDict, scale: float = 1.0) -> StateDict:
    """``state + scale × update``; integer buffers get the update unscaled."""
    if isinstance(state, SizeOnly):
        return state
    if state.keys() != update.keys():
        raise ValueError("the update does not match the model's keys")
    applied: StateDict = {}
    for key, value in state.items():
        if value.is_floating_point():
            applied[key] = value + scale * update[key].to(value.dtype)
        else:
            applied[key] = value + update[key]
    return applied
