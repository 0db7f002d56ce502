"""Settings of each training scheme, one pydantic model per scheme, named by ``scheme:``.

Each class documents its scheme's knobs; the protocol lives in
``edgesim/schemes/<name>.py`` and the scheme's entry in the registry,
:mod:`edgesim.config.schemes`, ties the two together. Every model subclasses
:class:`SchemeBase` and pins its name as ``scheme: Literal["<name>"]``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from edgesim.config.base import Strict
from edgesim.config.names import Label, Reference
from edgesim.config.numbers import (
    MAX_DEVICES,
    MAX_EPOCHS,
    MAX_ROUNDS,
    Count,
    EpochCount,
    Epochs,
    LearningRate,
    PositiveSeconds,
    Seconds,
)


class SchemeBase(Strict):
    label: Label | None = None


class LocalScheme(SchemeBase):
    scheme: Literal["local"]
    epochs: EpochCount = 10


class CentralizedScheme(SchemeBase):
    scheme: Literal["centralized"]
    epochs: EpochCount = 10
    upload_deadline_s: PositiveSeconds | None = None


class FedAvgScheme(SchemeBase):
    scheme: Literal["fedavg"]
    rounds: Count = 10
    local_epochs: Epochs = 1.0
    client_fraction: float = Field(default=1.0, gt=0, le=1)
    round_deadline_s: PositiveSeconds | None = None


class HandoffScheme(SchemeBase):
    scheme: Literal["handoff"]
    devices: list[Reference] | None = Field(
        default=None, description="clients that hand off; default all"
    )
    device_epochs: EpochCount = 5
    server_epochs: EpochCount = 5
    after_return_epochs: int = Field(default=5, ge=0, le=MAX_EPOCHS)
    handoffs: Count = 1


class AsyncClients(SchemeBase):
    """What FedAsync and FedBuff share: clients loop pull → train → push, nobody waits."""

    local_epochs: Epochs = 1.0
    max_concurrency: int | None = Field(
        default=None, ge=1, le=MAX_DEVICES, description="clients training at once; default all"
    )
    time_budget_s: PositiveSeconds | None = Field(
        default=None, description="stop at this simulated time if not done before"
    )


class FedAsyncScheme(AsyncClients):
    scheme: Literal["fedasync"]
    updates: Count = Field(default=50, description="server updates (one per client update)")
    alpha: float = Field(default=0.6, gt=0, le=1)
    staleness: Literal["constant", "polynomial", "hinge"] = "polynomial"
    a: float = Field(default=0.5, ge=0, le=100)
    b: float = Field(default=4.0, ge=0, le=100)
    rho: float = Field(
        default=0.0, ge=0, le=100, description="proximal term of the local problem (Alg. 1)"
    )


class FedBuffScheme(AsyncClients):
    scheme: Literal["fedbuff"]
    server_steps: Count = 20
    buffer_size: int = Field(
        default=3, ge=1, le=MAX_DEVICES, description="K: client updates per server step"
    )
    server_lr: LearningRate = 1.0


class EcavgScheme(SchemeBase):
    scheme: Literal["ecavg"]
    server_data: Literal["own", "uploaded"] = "own"
    rounds: Count = 1
    pretrain_epochs: EpochCount = 5
    server_epochs: EpochCount = 5
    finetune_epochs: int = Field(default=2, ge=0, le=MAX_EPOCHS)


class _DistillationFL(SchemeBase):
    """Rounds of small-model FedAvg plus distillation on the server's data (seeds 003/004)."""

    rounds: Count = 10
    local_epochs: Epochs = 1.0
    client_fraction: float = Field(default=1.0, gt=0, le=1)
    round_deadline_s: PositiveSeconds | None = None
    distill_epochs: Epochs = Field(
        default=1.0, description="epochs over the server's data per distillation job"
    )
    temperature: float = Field(default=3.0, gt=0, le=1000, description="softmax temperature T")
    hard_label_weight: float = Field(
        default=0.0, ge=0, le=1, description="weight of cross-entropy on the server's labels"
    )


class DistillFLScheme(_DistillationFL):
    scheme: Literal["distill-fl"]
    forward_distillation: bool = True


class AsyncDistillFLScheme(_DistillationFL):
    scheme: Literal["async-distill-fl"]
    distillation_server: Reference | None = Field(
        default=None, description="device id of the distillation server; default the server"
    )
    mode: Literal["per-round", "continuous"] = "per-round"
    chunk_steps: Count = Field(
        default=8, description="continuous mode: steps per chunk between model refreshes"
    )


class SwitchAt(Strict):
    round: Count = Field(description="the last small-model round")


def _switch_kind(value: object) -> str:
    return "round" if isinstance(value, (dict, SwitchAt)) else "auto"


Switch = Annotated[
    Annotated[SwitchAt, Tag("round")] | Annotated[Literal["auto"], Tag("auto")],
    Discriminator(_switch_kind),
]
"""``auto`` or ``{round: N}``; told apart by type, so a typo is reported once, against its kind."""


class GearScheme(_DistillationFL):
    scheme: Literal["gear"]
    forward_distillation: bool = True
    switch: Switch = "auto"
    auto_window: int = Field(default=3, ge=1, le=1000)
    auto_min_gain: float = Field(default=0.01, ge=0, le=1)

    @model_validator(mode="after")
    def _switch_within_rounds(self) -> GearScheme:
        if isinstance(self.switch, SwitchAt) and self.switch.round > self.rounds:
            raise ValueError(f"switch.round(={self.switch.round}) must be ≤ rounds(={self.rounds})")
        return self


class DeepEdgeScheme(SchemeBase):
    """Seed 002: profiled, heterogeneity-aware data-parallel training against a parameter server."""

    scheme: Literal["deep-edge"]
    devices: list[Reference] | None = Field(
        default=None, description="the workers; default all clients"
    )
    epochs: Epochs = Field(default=5.0, description="passes over the workers' pooled data")
    allocation: Literal["proportional", "equal"] = "proportional"
    sync: bool = False
    chunk_steps: Count = Field(default=10, description="local steps between pull and push")
    profile_steps: Count = Field(default=10, description="steps of each profiling job")
    throttle: bool = True


class FedCSScheme(SchemeBase):
    """Nishio & Yonetani 2019: ask candidates for resources, fit the most into a deadline."""

    scheme: Literal["fedcs"]
    rounds: Count = 10
    local_epochs: Epochs = 1.0
    candidate_fraction: float = Field(
        default=1.0, gt=0, le=1, description="C: share of the clients up asked for resources"
    )
    round_deadline_s: PositiveSeconds = Field(
        default=10.0, description="T_round: resource request, distribution, updates and uploads"
    )
    resource_info_bytes: int = Field(
        default=256, ge=1, le=1_000_000, description="bytes of a resource request and of a reply"
    )
    request_timeout_s: PositiveSeconds | None = Field(
        default=None, description="longest wait for replies; later ones are not considered"
    )


class OortScheme(SchemeBase):
    """Lai et al. 2021: guided participant selection by statistical and system utility."""

    scheme: Literal["oort"]
    rounds: Count = 10
    local_epochs: Epochs = 1.0
    participants: int = Field(default=10, ge=1, le=MAX_DEVICES, description="K per round")
    round_deadline_s: PositiveSeconds | None = None
    preferred_round_s: PositiveSeconds = Field(
        default=10.0, description="T: a client slower than this has its utility penalised"
    )
    penalty: float = Field(default=2.0, ge=0, le=100, description="alpha of (T/t_i)^alpha")
    exploration: float = Field(default=0.9, ge=0, le=1, description="epsilon at round 1")
    exploration_decay: float = Field(default=0.98, gt=0, le=1, description="epsilon *= this")
    exploration_min: float = Field(default=0.2, ge=0, le=1)
    cutoff: float = Field(default=0.95, gt=0, le=1, description="c of the utility cut-off")
    pacer_window: Count = Field(default=20, description="W: rounds the pacer compares")
    pacer_step_s: Seconds = Field(default=10.0, description="Delta: how much the pacer relaxes T")


class TiFLScheme(SchemeBase):
    """Chai et al. 2020: tiers by measured latency, one tier per round, adaptive by accuracy."""

    scheme: Literal["tifl"]
    rounds: Count = Field(default=10, description="every round, the profiling ones included")
    local_epochs: Epochs = 1.0
    tiers: int = Field(default=5, ge=1, le=MAX_DEVICES, description="m")
    clients_per_round: int = Field(default=5, ge=1, le=MAX_DEVICES, description="|C|")
    profile_rounds: Count = Field(default=1, description="rounds with every client, timed")
    round_deadline_s: PositiveSeconds | None = Field(
        default=None, description="also T_max of profiling: a client past it is the slowest"
    )
    interval: Count = Field(default=5, description="I: rounds between probability updates")
    credits: int | None = Field(
        default=None, ge=1, le=MAX_ROUNDS, description="rounds each tier may be chosen; default ∞"
    )

    @model_validator(mode="after")
    def _profiling_within_rounds(self) -> TiFLScheme:
        if self.profile_rounds > self.rounds:
            raise ValueError(
                f"profile_rounds(={self.profile_rounds}) must be ≤ rounds(={self.rounds})"
            )
        return self


class PartialWork(SchemeBase):
    """Rounds in which a client that cannot finish its epochs by the deadline sends what it did."""

    rounds: Count = 10
    local_epochs: Epochs = Field(default=1.0, description="E, for a client on time")
    client_fraction: float = Field(default=1.0, gt=0, le=1)
    round_deadline_s: PositiveSeconds | None = Field(
        default=None, description="stragglers send partial work; none: everyone does E epochs"
    )


class FedProxScheme(PartialWork):
    scheme: Literal["fedprox"]
    mu: float = Field(default=0.01, ge=0, le=100, description="weight of the proximal term")


class FedAvgPartialScheme(PartialWork):
    scheme: Literal["fedavg-partial"]
