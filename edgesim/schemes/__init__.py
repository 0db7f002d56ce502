"""The registry of training schemes: name → descriptor, listed by the CLI, tested as a contract."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edgesim.errors import EdgesimError, did_you_mean
from edgesim.metrics.results import DEVICES_MEAN
from edgesim.schemes import (
    async_distill_fl,
    centralized,
    deep_edge,
    distill_fl,
    ecavg,
    fedasync,
    fedavg,
    fedbuff,
    gear,
    handoff,
    local,
)
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
        SchemeInfo(
            "fedasync",
            "asynchronous FL: each arriving model is mixed in, weighted by its staleness",
            "Xie et al. 2019",
            fedasync.run,
            "global",
        ),
        SchemeInfo(
            "fedbuff",
            "asynchronous FL: the server applies every K buffered, staleness-scaled deltas",
            "Nguyen et al. 2022",
            fedbuff.run,
            "global",
        ),
        SchemeInfo(
            "ecavg",
            "edges pre-train, server averages and fine-tunes, edges fine-tune the result",
            "seed 001",
            ecavg.run,
            DEVICES_MEAN,
        ),
        SchemeInfo(
            "distill-fl",
            "small-model FedAvg with forward and reverse distillation on the server (sync)",
            "seed 003 conventional [1], seed 004 12-6",
            distill_fl.run,
            "global",
        ),
        SchemeInfo(
            "async-distill-fl",
            "small-model FedAvg; a distillation server reverse-distils without blocking it",
            "seed 003 proposed",
            async_distill_fl.run,
            "global",
        ),
        SchemeInfo(
            "gear",
            "small-model FL with distillation, then FedAvg of the large model",
            "seed 004",
            gear.run,
            "global",
        ),
        SchemeInfo(
            "deep-edge",
            "profiled, speed-proportional data-parallel training on a parameter server",
            "seed 002",
            deep_edge.run,
            "global",
        ),
    )
}


def get_scheme(name: str) -> SchemeInfo:
    if name not in SCHEMES:
        raise EdgesimError(f"unknown scheme '{name}'{did_you_mean(name, SCHEMES)}")
    return SCHEMES[name]
