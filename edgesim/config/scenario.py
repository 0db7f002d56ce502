"""The scenario file: fleet, network, faults, data, model and the schemes to compare.

Validated completely before anything runs (unknown keys are errors), so a
typo costs a second, not a half-finished simulation. Every field is
documented in ``docs/scenario.md``.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from edgesim.config.base import Strict
from edgesim.config.names import Name, PathText, Reference
from edgesim.config.numbers import (
    MAX_DEVICES,
    MAX_IMAGE_SIZE,
    MAX_SECONDS,
    MAX_TARGETS,
    BatchSize,
    BitsPerSecond,
    Latency,
    LearningRate,
    PositiveSeconds,
    Seconds,
    Seed,
)
from edgesim.config.profiles import DeviceProfile
from edgesim.config.schemes import SchemeSpec

# --------------------------------------------------------------------------- fleet


def _profile_kind(value: Any) -> str:
    return "inline" if isinstance(value, (dict, DeviceProfile)) else "name"


ProfileRef = Annotated[
    Annotated[PathText, Tag("name")] | Annotated[DeviceProfile, Tag("inline")],
    Discriminator(_profile_kind),
]
"""A built-in profile name, a path to a profile YAML file, or an inline profile mapping.

Discriminated by the value's type so that a mistake in an inline profile is
reported against that profile only (not also as "not a valid string").
"""


class DeviceGroup(Strict):
    """One device, or ``count`` identical devices named ``<id>-0`` … ``<id>-<count-1>``."""

    id: Name
    profile: ProfileRef
    count: int = Field(default=1, ge=1, le=MAX_DEVICES)
    role: Literal["client", "server"] = "client"


# --------------------------------------------------------------------------- network


class LinkSpec(Strict):
    """A link between two nodes; ``between: [edge_side, core_side]`` so *up* is edge → core.

    A device-group id on either end means one link per member of the group.
    """

    between: tuple[Reference, Reference]
    profile: Reference | None = None
    up_bps: BitsPerSecond | None = None
    down_bps: BitsPerSecond | None = None
    latency_s: Latency | None = None
    name: Reference | None = None

    @model_validator(mode="after")
    def _profile_or_numbers(self) -> LinkSpec:
        explicit = (self.up_bps, self.down_bps, self.latency_s)
        if self.profile is None and None in explicit:
            raise ValueError("give a link 'profile' or all of up_bps, down_bps and latency_s")
        if self.between[0] == self.between[1]:
            raise ValueError(f"a link joins two different nodes, got {list(self.between)}")
        return self


class Network(Strict):
    nodes: list[Reference] = Field(default_factory=list, description="switches and access points")
    links: list[LinkSpec] = Field(min_length=1)
    model: Literal["lv08", "cm02", "max-min"] = Field(
        default="lv08",
        description="bandwidth sharing between concurrent transfers: SimGrid's LV08 (default) "
        "or CM02 (shares weighted by route latency), or plain max-min (equal shares)",
    )


# --------------------------------------------------------------------------- faults


class DownInterval(Strict):
    """``target`` (a device or link name) is down from ``at_s`` for ``duration_s`` seconds."""

    target: Reference
    at_s: Seconds
    duration_s: PositiveSeconds


class RandomFailures(Strict):
    """Exponential up/down times drawn from the scenario seed (MTBF / MTTR)."""

    targets: list[Reference] = Field(
        min_length=1, description="device ids, group ids or link names"
    )
    mtbf_s: PositiveSeconds
    mttr_s: PositiveSeconds
    horizon_s: PositiveSeconds = Field(description="no failure starts after this simulated time")


class Departure(Strict):
    """A ``fraction`` of the devices in ``targets`` leave for good (who and when: from the seed)."""

    targets: list[Reference] = Field(min_length=1, description="device ids or group ids")
    fraction: float = Field(ge=0, le=1, description="share of the members that leave")
    at_s: Seconds = Field(default=0.0, description="the first departure")
    spread_s: Seconds = Field(default=0.0, description="departures uniform over this window")


class Churn(Strict):
    """Devices leave and rejoin: up a fraction ``availability`` of the time on average."""

    targets: list[Reference] = Field(min_length=1, description="device ids or group ids")
    availability: float = Field(gt=0, lt=1, description="long-run share of time up")
    mean_down_s: PositiveSeconds = Field(description="mean length of an absence")
    horizon_s: PositiveSeconds = Field(description="no absence starts after this simulated time")


class CorrelatedOutages(Strict):
    """Everything behind one access point (or a whole group) goes down at once."""

    targets: list[Reference] = Field(min_length=1, description="network nodes or group ids")
    mtbf_s: PositiveSeconds
    mttr_s: PositiveSeconds
    horizon_s: PositiveSeconds = Field(description="no outage starts after this simulated time")


class Failures(Strict):
    scheduled: list[DownInterval] = Field(default_factory=list)
    random: RandomFailures | None = None
    trace: PathText | None = Field(
        default=None, description="CSV file with columns target,down_at_s,up_at_s"
    )
    departures: list[Departure] = Field(default_factory=list)
    churn: list[Churn] = Field(default_factory=list)
    correlated: list[CorrelatedOutages] = Field(default_factory=list)


# --------------------------------------------------------------------------- data and model


class Partition(Strict):
    kind: Literal["iid", "dirichlet", "shards"] = "iid"
    alpha: float = Field(default=0.5, ge=1e-3, le=1e3, description="Dirichlet concentration")
    shards_per_device: int = Field(default=2, ge=1, le=1000)
    server_share: float = Field(default=0.0, ge=0, lt=1)
    personal_class: tuple[Reference, Annotated[int, Field(ge=0)]] | None = Field(
        default=None, description="[device id, label]: that class only on that device"
    )
    server_copies: Reference | None = Field(
        default=None, description="a client id: the server holds a copy of its samples"
    )

    @model_validator(mode="after")
    def _copy_or_share(self) -> Partition:
        if self.server_copies is not None and self.server_share > 0:
            raise ValueError("server_copies and server_share > 0 exclude each other; pick one")
        return self


MAX_CLASSES = 1000
"""Most classes a dataset may have (ImageNet has 1000): the model's last layer is that wide."""

MAX_SAMPLE_VALUES = 1_000_000
"""Most values (C·H·W) in one sample: a 3×512×512 image is 786 432; the MLP's first layer is
that many times 128 weights."""

MAX_DATASET_VALUES = 1_000_000_000
"""Most values in a whole generated dataset (samples × C·H·W): 1 GB as uint8, 4 GB as float32."""

SampleSize = Annotated[int, Field(ge=1, le=MAX_IMAGE_SIZE, strict=True)]
"""One of C, H, W; strict, so that ``[true, 8, 8]`` is not read as ``[1, 8, 8]``."""


class Synthetic(Strict):
    """The size of ``dataset: synthetic``: how many samples, of how many classes, of what shape.

    Scale tests need a dataset of any size without files; the defaults are
    :func:`edgesim.learning.datasets.load_dataset`'s (digits-sized 8×8 samples).
    """

    samples: int = Field(default=2000, ge=10, le=1_000_000)
    classes: int = Field(default=10, ge=2, le=MAX_CLASSES)
    shape: tuple[SampleSize, SampleSize, SampleSize] = Field(
        default=(1, 8, 8), description="[C, H, W] of one sample"
    )

    @model_validator(mode="after")
    def _fits(self) -> Synthetic:
        values = math.prod(self.shape)
        if self.samples < 2 * self.classes:
            raise ValueError(
                f"samples ({self.samples}) must be at least 2 × classes (= {2 * self.classes}): "
                "every class needs a training and a test sample"
            )
        if values > MAX_SAMPLE_VALUES:
            raise ValueError(
                f"shape {list(self.shape)} has {values:,} values per sample; "
                f"at most {MAX_SAMPLE_VALUES:,}"
            )
        if self.samples * values > MAX_DATASET_VALUES:
            raise ValueError(
                f"samples × C·H·W = {self.samples * values:,} values; "
                f"at most {MAX_DATASET_VALUES:,}"
            )
        return self


class Data(Strict):
    dataset: Reference = "digits"
    path: PathText | None = None
    test_fraction: float = Field(default=0.2, gt=0, lt=1)
    validation_fraction: float = Field(default=0.1, ge=0, lt=1)
    image_size: int = Field(default=32, ge=4, le=MAX_IMAGE_SIZE)
    grayscale: bool = False
    synthetic: Synthetic = Field(
        default=Synthetic(), description="size and shape of `dataset: synthetic`"
    )
    partition: Partition = Partition()

    @field_validator("synthetic")
    @classmethod
    def _only_for_synthetic(cls, value: Synthetic, info: ValidationInfo) -> Synthetic:
        """Runs only when the file sets ``synthetic``: elsewhere it would be silently unused."""
        dataset = info.data.get("dataset")
        if dataset is not None and dataset != "synthetic":
            raise ValueError(f"only for dataset: synthetic (dataset is '{dataset}')")
        return value


class Training(Strict):
    model: Reference = Field(default="cnn-small", description="the global model")
    small_model: Reference = Field(
        default="cnn-small", description="the small/distilled model of seeds 003/004"
    )
    batch_size: BatchSize = 32
    lr: LearningRate = 0.05
    momentum: float = Field(default=0.0, ge=0, lt=1)
    weight_decay: float = Field(default=0.0, ge=0, le=1)


class ObservedSubset(Strict):
    """The test samples whose label is one of ``labels`` (e.g. seed 000's personal class)."""

    labels: list[Annotated[int, Field(ge=0)]] = Field(min_length=1, max_length=10_000)


class Observe(Strict):
    """How often the experimenter looks at test accuracy (free: no time, no bytes)."""

    min_interval_s: Seconds = 0.0
    subsets: dict[Name, ObservedSubset] = Field(
        default_factory=dict, description="named parts of the test set, each also observed"
    )
    timeline: bool = Field(
        default=True,
        description="keep every span in the results' timeline (false for fleets of thousands)",
    )


# --------------------------------------------------------------------------- background load


class BackgroundTask(Strict):
    """A periodic latency-critical task on ``device`` (seed 002): jobs that must meet deadlines.

    A job is released every ``period_s`` from ``offset_s``; each needs
    ``compute_s`` seconds of the whole device and must finish ``deadline_s``
    after its release. ``policy`` is how the device shares itself between a
    job and training: ``priority`` pauses training while a job runs, ``fair``
    gives each half (an OS time-slicing two busy processes).
    """

    device: Reference = Field(description="a device id or group id (each member runs the task)")
    period_s: float = Field(ge=1e-3, le=MAX_SECONDS, description="at least a millisecond")
    compute_s: PositiveSeconds = Field(description="seconds of the whole device one job needs")
    deadline_s: PositiveSeconds = Field(description="relative to the job's release")
    offset_s: Seconds = Field(default=0.0, description="the first release")
    policy: Literal["priority", "fair"] = "fair"

    @model_validator(mode="after")
    def _schedulable(self) -> BackgroundTask:
        if self.compute_s >= self.period_s:
            raise ValueError(
                f"compute_s ({self.compute_s}) must be < period_s ({self.period_s}): "
                "the task would need the whole device"
            )
        return self


# --------------------------------------------------------------------------- scenario


class Scenario(Strict):
    name: Name
    description: str = ""
    seed: Seed = 0
    devices: list[DeviceGroup] = Field(min_length=1)
    network: Network
    failures: Failures = Failures()
    background: list[BackgroundTask] = Field(
        default_factory=list, description="latency-critical tasks sharing devices with training"
    )
    data: Data = Data()
    training: Training = Training()
    observe: Observe = Observe()
    targets: list[Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=lambda: [0.8, 0.9],
        max_length=MAX_TARGETS,
        description="test accuracies in (0, 1]",
    )
    horizon_s: PositiveSeconds | None = Field(default=None, description="stop every scheme here")
    timing_only: bool = Field(
        default=False,
        description="charge time, bytes and energy but take no torch step: no accuracy",
    )
    schemes: list[SchemeSpec] = Field(min_length=1)

    @field_validator("devices")
    @classmethod
    def _one_server(cls, devices: list[DeviceGroup]) -> list[DeviceGroup]:
        total = sum(group.count for group in devices)
        if total > MAX_DEVICES:
            raise ValueError(f"{total:,} devices once counts are expanded; at most {MAX_DEVICES:,}")
        servers = [g.id for g in devices if g.role == "server"]
        if len(servers) > 1:
            raise ValueError(f"at most one device may have role 'server', got {', '.join(servers)}")
        for group in devices:
            if group.role == "server" and group.count != 1:
                raise ValueError(
                    f"the server '{group.id}' is one device: count must be 1, got {group.count}"
                )
        return devices

    # ---------------------------------------------------------------- derived views
    # Unique ids are checked by :func:`edgesim.config.fleet.resolve_fleet`, which can
    # name the entries that clash; until then the first group of an id stands for it.

    @cached_property
    def groups_by_id(self) -> dict[str, DeviceGroup]:
        groups: dict[str, DeviceGroup] = {}
        for group in self.devices:
            groups.setdefault(group.id, group)
        return groups

    def device_ids(self) -> list[str]:
        return [d for group in self.devices for d in expand(group)]

    def group(self, group_id: str) -> DeviceGroup | None:
        return self.groups_by_id.get(group_id)

    def members(self, name: str) -> list[str]:
        """Device ids a name stands for: a group's members, or the name itself."""
        group = self.group(name)
        return [name] if group is None else expand(group)

    def server_id(self) -> str | None:
        return next((g.id for g in self.devices if g.role == "server"), None)

    def client_ids(self) -> list[str]:
        server = self.server_id()
        return [d for d in self.device_ids() if d != server]


def expand(group: DeviceGroup) -> list[str]:
    """A group's device ids: its own id for one device, ``<id>-0`` … for ``count`` devices."""
    return [group.id] if group.count == 1 else [f"{group.id}-{i}" for i in range(group.count)]
