"""Settings of each training scheme, one class per scheme, discriminated by ``scheme:``.

Each class documents its scheme's knobs; the protocol itself lives in
``edgesim/schemes/<name>.py``. A new scheme adds its class here and to
:data:`SchemeSpec`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from edgesim.config.base import Strict


class SchemeBase(Strict):
    label: str | None = None


class LocalScheme(SchemeBase):
    scheme: Literal["local"]
    epochs: int = Field(default=10, ge=1)


class CentralizedScheme(SchemeBase):
    scheme: Literal["centralized"]
    epochs: int = Field(default=10, ge=1)
    upload_deadline_s: float | None = Field(default=None, gt=0)


class FedAvgScheme(SchemeBase):
    scheme: Literal["fedavg"]
    rounds: int = Field(default=10, ge=1)
    local_epochs: float = Field(default=1.0, gt=0)
    client_fraction: float = Field(default=1.0, gt=0, le=1)
    round_deadline_s: float | None = Field(default=None, gt=0)


class HandoffScheme(SchemeBase):
    scheme: Literal["handoff"]
    devices: list[str] | None = Field(
        default=None, description="clients that hand off; default all"
    )
    device_epochs: int = Field(default=5, ge=1)
    server_epochs: int = Field(default=5, ge=1)
    after_return_epochs: int = Field(default=5, ge=0)
    handoffs: int = Field(default=1, ge=1)


class AsyncClients(SchemeBase):
    """What FedAsync and FedBuff share: clients loop pull → train → push, nobody waits."""

    local_epochs: float = Field(default=1.0, gt=0)
    max_concurrency: int | None = Field(
        default=None, ge=1, description="clients training at once; default all"
    )
    time_budget_s: float | None = Field(
        default=None, gt=0, description="stop at this simulated time if not done before"
    )


class FedAsyncScheme(AsyncClients):
    scheme: Literal["fedasync"]
    updates: int = Field(default=50, ge=1, description="server updates (one per client update)")
    alpha: float = Field(default=0.6, gt=0, le=1)
    staleness: Literal["constant", "polynomial", "hinge"] = "polynomial"
    a: float = Field(default=0.5, ge=0)
    b: float = Field(default=4.0, ge=0)


class FedBuffScheme(AsyncClients):
    scheme: Literal["fedbuff"]
    server_steps: int = Field(default=20, ge=1)
    buffer_size: int = Field(default=3, ge=1, description="K: client updates per server step")
    server_lr: float = Field(default=1.0, gt=0)


class EcavgScheme(SchemeBase):
    scheme: Literal["ecavg"]
    server_data: Literal["own", "uploaded"] = "own"
    rounds: int = Field(default=1, ge=1)
    pretrain_epochs: int = Field(default=5, ge=1)
    server_epochs: int = Field(default=5, ge=1)
    finetune_epochs: int = Field(default=2, ge=0)


class _DistillationFL(SchemeBase):
    """Rounds of small-model FedAvg plus distillation on the server's data (seeds 003/004)."""

    rounds: int = Field(default=10, ge=1)
    local_epochs: float = Field(default=1.0, gt=0)
    client_fraction: float = Field(default=1.0, gt=0, le=1)
    round_deadline_s: float | None = Field(default=None, gt=0)
    distill_epochs: float = Field(
        default=1.0, gt=0, description="epochs over the server's data per distillation job"
    )
    temperature: float = Field(default=3.0, gt=0, description="softmax temperature T")
    hard_label_weight: float = Field(
        default=0.0, ge=0, le=1, description="weight of cross-entropy on the server's labels"
    )


class DistillFLScheme(_DistillationFL):
    scheme: Literal["distill-fl"]
    forward_distillation: bool = True


class AsyncDistillFLScheme(_DistillationFL):
    scheme: Literal["async-distill-fl"]
    distillation_server: str | None = Field(
        default=None, description="device id of the distillation server; default the server"
    )
    mode: Literal["per-round", "continuous"] = "per-round"
    chunk_steps: int = Field(
        default=8, ge=1, description="continuous mode: steps per chunk between model refreshes"
    )


class SwitchAt(Strict):
    round: int = Field(ge=1, description="the last small-model round")


class GearScheme(_DistillationFL):
    scheme: Literal["gear"]
    forward_distillation: bool = True
    switch: SwitchAt | Literal["auto"] = "auto"
    auto_window: int = Field(default=3, ge=1)
    auto_min_gain: float = Field(default=0.01, ge=0)

    @model_validator(mode="after")
    def _switch_within_rounds(self) -> GearScheme:
        if isinstance(self.switch, SwitchAt) and self.switch.round > self.rounds:
            raise ValueError(f"switch.round(={self.switch.round}) must be ≤ rounds(={self.rounds})")
        return self


class DeepEdgeScheme(SchemeBase):
    """Seed 002: profiled, heterogeneity-aware data-parallel training against a parameter server."""

    scheme: Literal["deep-edge"]
    devices: list[str] | None = Field(default=None, description="the workers; default all clients")
    epochs: float = Field(default=5.0, gt=0, description="passes over the workers' pooled data")
    allocation: Literal["proportional", "equal"] = "proportional"
    sync: bool = False
    chunk_steps: int = Field(default=10, ge=1, description="local steps between pull and push")
    profile_steps: int = Field(default=10, ge=1, description="steps of each profiling job")
    throttle: bool = True


SchemeSpec = Annotated[
    LocalScheme
    | CentralizedScheme
    | FedAvgScheme
    | HandoffScheme
    | FedAsyncScheme
    | FedBuffScheme
    | EcavgScheme
    | DistillFLScheme
    | AsyncDistillFLScheme
    | GearScheme
    | DeepEdgeScheme,
    Field(discriminator="scheme"),
]


def scheme_label(spec: SchemeSpec) -> str:
    return spec.label or spec.scheme
