"""Device and link profiles: what a piece of hardware can do, with cited sources.

Profiles live as YAML files inside the package (``edgesim/device_profiles/<name>.yaml``
and ``edgesim/cluster/link_profiles.yaml``, shipped as package data so that an
installed wheel, e.g. on a Ray worker, finds them); a scenario refers to one by
name, by file path, or defines one inline. The cost model reads only these numbers.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from edgesim.config.base import Strict
from edgesim.config.loading import validate
from edgesim.config.names import Reference
from edgesim.config.numbers import MAX_BYTES, MAX_FLOPS, BitsPerSecond, Latency, Seconds, Watts
from edgesim.config.yaml_files import load_yaml
from edgesim.errors import EdgesimError, did_you_mean

PROFILE_DIR = Path(__file__).resolve().parents[1] / "device_profiles"
LINK_PROFILE_FILE = Path(__file__).resolve().parents[1] / "cluster" / "link_profiles.yaml"


class Power(Strict):
    """Watts drawn while computing, while transmitting, and while idle (energy = ∫ power dt)."""

    compute: Watts = Field(gt=0)
    transmit: Watts = Field(gt=0)
    idle: Watts


class CalibratedWorkload(Strict):
    """One workload ``edgesim calibrate`` timed: its counted work, measured and fitted seconds."""

    model: str
    input_shape: tuple[int, int, int]
    batch_size: int = Field(ge=1)
    kind: Literal["train", "eval"] = Field(description="a training step, or one eval batch")
    flops: float = Field(ge=0)
    bytes: float = Field(ge=0)
    layers: int = Field(ge=0)
    measured_s: float = Field(gt=0)
    predicted_s: float = Field(
        ge=0, description="this profile's prediction (edgesim.cluster.costs)"
    )


class StepModelFit(Strict):
    """A candidate step model (``edgesim.cluster.step_models``) fitted to the measured workloads."""

    params: dict[str, float]
    median_error: float = Field(ge=0, description="median |predicted − measured| / measured")
    worst_error: float = Field(ge=0)


class Calibration(Strict):
    """How a calibrated profile was measured, so it can be judged, compared and re-fitted."""

    tool: str
    date: str
    host: str
    platform: str
    processor: str = ""
    torch_version: str
    torch_device: str
    threads: int = Field(ge=1)
    statistic: str
    step_models: dict[str, StepModelFit] = Field(default_factory=dict)
    workloads: list[CalibratedWorkload] = Field(default_factory=list)


class LayerCosts(Strict):
    """A device's per-operator-class layer roofline, as ``edgesim calibrate`` measured it.

    With these, a step costs ``step_overhead_s`` plus, for each layer, the larger
    of its FLOPs over its class's rate and its bytes over ``bandwidth``, plus a
    dispatch cost per layer of its class (an eval batch: ``eval_overhead_s``, and
    a third of the dispatch, the forward pass's kernels only): Habitat's
    per-operation view (``edgesim.cluster.step_models``, ``CLASS_ROOFLINE``).
    """

    conv_flop_rate: float = Field(gt=0, le=MAX_FLOPS, description="FLOP/s of convolutions")
    linear_flop_rate: float = Field(gt=0, le=MAX_FLOPS, description="FLOP/s of matrix products")
    bandwidth: float = Field(
        gt=0, le=MAX_BYTES, description="bytes/s a layer's traffic moves at (often cached)"
    )
    step_overhead_s: Seconds = Field(description="fixed cost of one training step")
    eval_overhead_s: Seconds = Field(default=0.0, description="fixed cost of one eval batch")
    conv_overhead_s: Seconds = Field(default=0.0, description="dispatch cost per convolution")
    linear_overhead_s: Seconds = Field(default=0.0, description="dispatch cost per matrix product")
    other_overhead_s: Seconds = Field(
        default=0.0,
        description="dispatch cost per other layer (normalisation, activation, pooling)",
    )


class DeviceProfile(Strict):
    name: Reference
    description: str = ""
    peak_flops: float = Field(gt=0, le=MAX_FLOPS, description="FP32 FLOP/s at peak")
    efficiency: float = Field(
        gt=0, le=1, description="fraction of peak sustained by training steps that fill the device"
    )
    saturation_flops: float = Field(
        default=0.0,
        ge=0,
        le=MAX_FLOPS,
        description="FLOPs a step needs to reach the sustained rate; a smaller step runs at "
        "that rate × √(flops / saturation_flops) (GPU occupancy; 0: any step)",
    )
    step_overhead_s: Seconds = Field(description="fixed cost of one training step")
    eval_overhead_s: Seconds = Field(default=0.0, description="fixed cost of one eval batch")
    layer_costs: LayerCosts | None = Field(
        default=None,
        description="charge each layer by its operator class (written by `edgesim calibrate` "
        "where that predicts the device best); none: the whole-step terms above",
    )
    memory_bytes: float = Field(gt=0, le=MAX_BYTES)
    memory_bandwidth: float = Field(gt=0, le=MAX_BYTES, description="bytes/s")
    power_w: Power
    sources: list[str] = Field(default_factory=list)
    notes: str = ""
    calibration: SkipJsonSchema[Calibration | None] = Field(
        default=None, description="written by `edgesim calibrate`: how the numbers were measured"
    )
    """A record, not a setting (edgesim/device_profiles/README.md): kept out of the scenario
    schema, so editors do not offer it and the scenario reference need not list it."""


class LinkProfile(Strict):
    description: str = ""
    up_bps: BitsPerSecond = Field(description="bits/s from the edge side towards the core")
    down_bps: BitsPerSecond = Field(description="bits/s from the core towards the edge")
    latency_s: Latency = Field(description="one-way latency")
    sources: list[str] = Field(default_factory=list)


@cache
def builtin_device_profiles() -> dict[str, DeviceProfile]:
    """Every profile shipped in ``edgesim/device_profiles/``, by name."""
    profiles = {}
    for path in sorted(PROFILE_DIR.glob("*.yaml")):
        profile = load_device_profile(path)
        if profile.name != path.stem:
            raise EdgesimError(
                f"{path}: name '{profile.name}' must equal the file name '{path.stem}'"
            )
        profiles[profile.name] = profile
    return profiles


def load_device_profile(path: Path) -> DeviceProfile:
    return validate(DeviceProfile, load_yaml(path), str(path))


def resolve_device_profile(ref: str | DeviceProfile, base_dir: Path) -> DeviceProfile:
    """A profile given by built-in name, by a path to a YAML file, or already inline."""
    if isinstance(ref, DeviceProfile):
        return ref
    builtin = builtin_device_profiles()
    if ref in builtin:
        return builtin[ref]
    if ref.endswith((".yaml", ".yml")) or "/" in ref:
        path = (base_dir / ref).resolve()
        if not path.is_file():
            raise EdgesimError(f"device profile file not found: {path}")
        return load_device_profile(path)
    raise EdgesimError(f"unknown device profile '{ref}'{did_you_mean(ref, builtin)}")


@cache
def builtin_link_profiles() -> dict[str, LinkProfile]:
    raw = load_yaml(LINK_PROFILE_FILE)
    if not isinstance(raw, dict):
        raise EdgesimError(f"{LINK_PROFILE_FILE}: expected a mapping of name -> link profile")
    return {
        name: validate(LinkProfile, spec, f"{LINK_PROFILE_FILE}: {name}")
        for name, spec in raw.items()
    }
