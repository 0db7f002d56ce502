"""The registry of training schemes: name → descriptor, listed by the CLI, tested as a contract."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edgesim.errors import EdgesimError, did_you_mean
from edgesim.metrics.results import DEVICES_MEAN
from edgesim.schemes import centralized, fedavg, handoff, local
from edgesim.schemes.runtime import Process, Runtime


@dataclass(frozen=True)
class SchemeInfo:
    name: str
    description: str
    source: str
    run: Callable[[Runtime, object], Process]
    primary_curve: str
    """``global`` for schemes with one global model, else the mean of the models in use."""


SCHEMES: dict[str, SchemeInfo] = {
    info.name: info
    for info in (
        SchemeInfo(
            "local", "each device trains alone on its own data", "baseline", local.run, DEVICES_MEAN
        ),
        SchemeInfo(
            "centralized",
            "devices upload raw data, the server trains",
            "seed 000 baseline",
            centralized.run,
            "global",
        ),
        SchemeInfo(
            "fedavg",
            "synchronous federated averaging with a round deadline",
            "McMahan et al. 2017",
            fedavg.run,
            "global",
        ),
        SchemeInfo(
            "handoff",
            "device trains, server continues on its data, device keeps the better model",
            "seed 000",
            handoff.run,
            DEVICES_MEAN,
        ),
    )
}


def get_scheme(name: str) -> SchemeInfo:
    if name not in SCHEMES:
        raise EdgesimError(f"unknown scheme '{name}'{did_you_mean(name, SCHEMES)}")
    return SCHEMES[name]
