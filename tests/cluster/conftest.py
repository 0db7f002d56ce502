"""A simulated clock, a recorder and a Jetson Nano for device-level tests."""

import pytest

from edgesim.cluster.clock import Clock
from edgesim.cluster.device import Device
from edgesim.config.profiles import builtin_device_profiles
from edgesim.metrics.recorder import Recorder


@pytest.fixture
def env() -> Clock:
    return Clock()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def device(env, recorder) -> Device:
    return Device(env, "nano-0", builtin_device_profiles()["jetson-nano"], recorder)
