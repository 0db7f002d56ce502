"""Staleness weighting and the server updates of asynchronous federated learning.

An asynchronous server applies a client's update computed from an older
global model; the *staleness* ``tau`` of that update is the server's model
version now minus the version the client started from. These functions say
how much a stale update still counts, and how it is applied:

* FedAsync (Xie, Koyejo & Gupta, "Asynchronous Federated Optimization", 2019,
  §5): ``new = (1 - alpha_t) * old + alpha_t * client`` with
  ``alpha_t = alpha * s(tau)`` and ``s`` constant, polynomial or hinge;
* FedBuff (Nguyen et al., "Federated Learning with Buffered Asynchronous
  Aggregation", AISTATS 2022, Alg. 1): the server buffers ``K`` client deltas
  ``client - start`` and applies ``server_lr * (1/K) * sum(s(tau_i) * delta_i)``
  with ``s(tau) = 1 / sqrt(1 + tau)``.

Plain functions of numbers and state dicts; no clock, no network.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from edgesim.learning.weights import SizeOnly, StateDict

STALENESS_FUNCTIONS = ("constant", "polynomial", "hinge")


def constant(tau: int) -> float:
    """``s(tau) = 1``: every update counts fully, however stale (Xie et al. §5)."""
    _check_tau(tau)
    return 1.0


def polynomial(tau: int, a: float) -> float:
    """``s(tau) = (tau + 1) ** -a`` (Xie et al. §5)."""
    _check_tau(tau)
    return (tau + 1.0) ** -a


def hinge(tau: int, a: float, b: float) -> float:
    """``s(tau) = 1`` if ``tau <= b``, else ``1 / (a * (tau - b) + 1)`` (Xie et al. §5)."""
    _check_tau(tau)
    return 1.0 if tau <= b else 1.0 / (a * (tau - b) + 1.0)


def fedbuff_weight(tau: int) -> float:
    """``s(tau) = 1 / sqrt(1 + tau)``, FedBuff's staleness scaling (Nguyen et al. §3)."""
    _check_tau(tau)
    return 1.0 / math.sqrt(1.0 + tau)


def staleness_weight(kind: str, tau: int, a: float = 0.5, b: float = 4.0) -> float:
    """``s(tau)`` of FedAsync's function ``kind`` (``constant``, ``polynomial`` or ``hinge``)."""
    if kind == "constant":
        return constant(tau)
    if kind == "polynomial":
        return polynomial(tau, a)
    if kind == "hinge":
        return hinge(tau, a, b)
    raise ValueError(
        f"unknown staleness function {kind!r}; valid: {', '.join(STALENESS_FUNCTIONS)}"
    )


def mix(old: StateDict, client: StateDict, alpha_t: float) -> StateDict:
    """FedAsync's server update ``(1 - alpha_t) * old + alpha_t * client``, key by key.

    Computed in float64 and cast back; non-float tensors (counters) keep the
    server's value.
    """
    if not 0.0 <= alpha_t <= 1.0:
        raise ValueError(f"mixing weight alpha_t(={alpha_t}) must be in [0, 1]")
    if isinstance(old, SizeOnly):
        return old
    return {
        key: _combine(value, [(1.0 - alpha_t, value), (alpha_t, client[key])])
        for key, value in old.items()
    }


def buffered_step(
    server: StateDict, deltas: Sequence[StateDict], staleness: Sequence[int], server_lr: float
) -> StateDict:
    """FedBuff's server step: ``server + server_lr * (1/K) * sum(s(tau_i) * delta_i)``.

    ``K = len(deltas)``: the mean divides by the buffer size, not by the sum of
    the weights, as in Nguyen et al.'s Algorithm 1, so stale buffers move the
    model less.
    """
    if not deltas:
        raise ValueError("a buffered step needs at least one delta")
    if len(deltas) != len(staleness):
        raise ValueError(f"{len(deltas)} deltas but {len(staleness)} staleness values")
    if isinstance(server, SizeOnly):
        return server
    scale = server_lr / len(deltas)
    weights = [scale * fedbuff_weight(tau) for tau in staleness]
    stepped: StateDict = {}
    for key, value in server.items():
        if not value.is_floating_point():
            stepped[key] = value.clone()
            continue
        terms = [(w, d[key]) for w, d in zip(weights, deltas, strict=True)]
        stepped[key] = _combine(value, [(1.0, value), *terms])
    return stepped


def _combine(like: torch.Tensor, terms: list[tuple[float, torch.Tensor]]) -> torch.Tensor:
    if not like.is_floating_point():
        return like.clone()
    acc = torch.zeros_like(like, dtype=torch.float64)
    for weight, tensor in terms:
        acc += weight * tensor.to(torch.float64)
    return acc.to(like.dtype)


def _check_tau(tau: int) -> None:
    if tau < 0:
        raise ValueError(f"staleness tau(={tau}) must be >= 0")
