"""The range of every kind of number a user writes: finite, and sane for an edge cluster.

Being finite is not enough: ``batch_size: 1000000000`` validates as an int
and then allocates 256 GB to count the model's FLOPs; ``seed: 10**23``
overflows torch; ``up_bps: 1e-300`` makes a transfer outlast the universe in a
float that prints as ``1e+300 s``. Each bound below is far beyond any real
fleet or training run, so it only ever refuses a typo or an attack, and the
error names the field and says the range. ``docs/scenario.md`` lists them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_SECONDS = 1e9
"""Longest simulated time or duration (about 31 years)."""

MAX_LATENCY_S = 3600.0
"""Longest one-way link latency (an hour; a geostationary hop is 0.27 s)."""

MIN_BPS, MAX_BPS = 1.0, 1e13
"""Slowest and fastest link: 1 bit/s to 10 Tbit/s."""

MAX_SEED = 2**32 - 1
"""Largest seed (numpy's and torch's generators take any seed up to here on every platform)."""

MAX_BATCH_SIZE = 4096
MAX_EPOCHS = 10_000
MAX_ROUNDS = 1_000_000
"""Rounds, server updates, steps: the most of any one kind a scheme may be asked for."""

MAX_DEVICES = 100_000
"""Most devices in one scenario, after every group is expanded."""

MAX_JOBS = 1024
"""Most sweep runs at once on one machine (``edgesim sweep --jobs``, ``edgesim.sweep(jobs=)``)."""

MAX_IMAGE_SIZE = 512
MAX_TARGETS = 32

MAX_FLOPS = 1e18
"""Fastest device: an exaflop per second."""

MAX_BYTES = 1e15
"""Largest memory or memory bandwidth (a petabyte, per second for bandwidth)."""

MAX_WATTS = 1e6

Seconds = Annotated[float, Field(ge=0, le=MAX_SECONDS)]
PositiveSeconds = Annotated[float, Field(gt=0, le=MAX_SECONDS)]
Latency = Annotated[float, Field(ge=0, le=MAX_LATENCY_S)]
BitsPerSecond = Annotated[float, Field(ge=MIN_BPS, le=MAX_BPS)]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
BatchSize = Annotated[int, Field(ge=1, le=MAX_BATCH_SIZE)]
Epochs = Annotated[float, Field(gt=0, le=MAX_EPOCHS)]
EpochCount = Annotated[int, Field(ge=1, le=MAX_EPOCHS)]
Count = Annotated[int, Field(ge=1, le=MAX_ROUNDS)]
"""Rounds, updates, steps or handoffs (at least one)."""

LearningRate = Annotated[float, Field(gt=0, le=100)]
Watts = Annotated[float, Field(ge=0, le=MAX_WATTS)]
