"""Settings of each training scheme, one class per scheme, discriminated by ``scheme:``.

Each class documents its scheme's knobs; the protocol itself lives in
``edgesim/schemes/<name>.py``. A new scheme adds its class here and to
:data:`SchemeSpec`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


SchemeSpec = Annotated[
    LocalScheme | CentralizedScheme | FedAvgScheme | HandoffScheme,
    Field(discriminator="scheme"),
]


def scheme_label(spec: SchemeSpec) -> str:
    return spec.label or spec.scheme
