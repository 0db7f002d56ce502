"""Domain aliases used across layers, so signatures say what a number means."""

from typing import TypeAlias

SimTime: TypeAlias = float
"""Simulated seconds since the start of a run (never host time)."""

DeviceId: TypeAlias = str
NodeId: TypeAlias = str
"""A network node: a device or a switch / access point."""
