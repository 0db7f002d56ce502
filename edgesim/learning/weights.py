"""Weights as data: averaging (FedAvg, McMahan et al. 2017) and their size on the wire."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

StateDict = dict[str, torch.Tensor]


@dataclass(frozen=True)
class SizeOnly:
    """The weights of a timing-only run: only their size on the wire, no tensors.

    Averaging, mixing, deltas and copies of it are itself (the pure functions
    here and in :mod:`~edgesim.learning.deltas` and :mod:`~edgesim.learning.staleness`
    pass it through), so a protocol charges the same bytes without a torch op.
    """

    nbytes: int


TENSOR_HEADER_BYTES = 64
"""Name, dtype and shape of one tensor in a serialised checkpoint."""


def weighted_average(states: Sequence[StateDict], weights: Sequence[float]) -> StateDict:
    """Average of state dicts weighted by ``weights`` (e.g. sample counts), key by key."""
    if not states:
        raise ValueError("cannot average zero models")
    if isinstance(states[0], SizeOnly):
        return states[0]
    if len(states) != len(weights):
        raise ValueError(f"{len(states)} models but {len(weights)} weights")
    total = float(sum(weights))
    if total <= 0:
        raise ValueError(f"weights must sum to > 0, got {list(weights)}")
    averaged: StateDict = {}
    for key, first in states[0].items():
        if not first.is_floating_point():
            averaged[key] = first.clone()
            continue
        acc = torch.zeros_like(first, dtype=torch.float64)
        for state, weight in zip(states, weights, strict=True):
            acc += state[key].to(torch.float64) * (weight / total)
        averaged[key] = acc.to(first.dtype)
    return averaged


def state_nbytes(state: StateDict) -> int:
    """Bytes to send ``state``: every tensor's numel × element size plus a small header each."""
    if isinstance(state, SizeOnly):
        return state.nbytes
    return sum(t.numel() * t.element_size() + TENSOR_HEADER_BYTES for t in state.values())


def clone_state(state: StateDict) -> StateDict:
    if isinstance(state, SizeOnly):
        return state
    return {k: v.detach().clone() for k, v in state.items()}
