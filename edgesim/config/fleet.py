"""Resolve a validated scenario into concrete devices and links, checking every reference.

Schema validation cannot know whether ``jetson-nan`` is a profile or whether a
link names a real node; this step does, and reports each problem at its YAML
path with a "did you mean".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import networkx as nx

from edgesim.config.profiles import (
    DeviceProfile,
    builtin_link_profiles,
    resolve_device_profile,
)
from edgesim.config.scenario import DeviceGroup, Scenario, expand
from edgesim.config.schemes import SCHEMES
from edgesim.errors import ConfigError, EdgesimError, did_you_mean


@dataclass(frozen=True)
class DeviceSpec:
    id: str
    profile: DeviceProfile
    role: str


@dataclass(frozen=True)
class Link:
    """One link; *up* is from ``edge_side`` towards ``core_side``."""

    name: str
    edge_side: str
    core_side: str
    profile: str | None
    up_bps: float
    down_bps: float
    latency_s: float


@dataclass(frozen=True)
class Fleet:
    devices: tuple[DeviceSpec, ...]
    switches: tuple[str, ...]
    links: tuple[Link, ...]
    server: str | None

    @property
    def clients(self) -> list[str]:
        return [d.id for d in self.devices if d.role == "client"]

    def profile_of(self, device_id: str) -> DeviceProfile:
        return self._profiles[device_id]

    @cached_property
    def _profiles(self) -> dict[str, DeviceProfile]:
        return {d.id: d.profile for d in self.devices}


def identity_problems(scenario: Scenario) -> list[str]:
    """Each device id (after groups expand) and network node is given once; clashes name both.

    ``nano`` with ``count: 2`` makes ``nano-0`` and ``nano-1``, so a separate
    device ``nano-1`` would be a second device of the same name. Linear in
    the devices, so a 20 000-device fleet is checked at once.
    """
    problems: list[str] = []
    owner: dict[str, tuple[str, DeviceGroup | None]] = {}  # id -> (its entry, its group)
    groups = ((f"devices[{i}]", group) for i, group in enumerate(scenario.devices))
    nodes = ((f"network.nodes[{i}]", node) for i, node in enumerate(scenario.network.nodes))
    for where, entry in itertools.chain(groups, nodes):
        if isinstance(entry, str):
            names, field, group = [entry], where, None
        else:
            names, field, group = [entry.id, *expand(entry)], f"{where}.id", entry
        for name in dict.fromkeys(names):  # a group's id and its only member are one name
            first = owner.setdefault(name, (where, group))
            if first[0] != where:
                problems.append(f"{field}: '{name}' {_taken(name, *first)}")
                break
    return problems


def _taken(name: str, where: str, group: DeviceGroup | None) -> str:
    if group is None:
        return f"is already the network node {where}"
    if name == group.id:
        return f"is already the id of {where}"
    return f"is already a device of {where} ('{group.id}' with count {group.count})"


def resolve_fleet(scenario: Scenario, source: str, base_dir: Path) -> Fleet:
    problems = identity_problems(scenario)
    if problems:  # every later check looks devices up by id
        raise ConfigError(source, problems)
    devices = []
    for i, group in enumerate(scenario.devices):
        try:
            profile = resolve_device_profile(group.profile, base_dir)
        except ConfigError as exc:  # a profile file with problems of its own
            problems += [f"devices[{i}].profile: {exc.source}: {p}" for p in exc.problems]
            continue
        except EdgesimError as exc:
            problems.append(f"devices[{i}].profile: {exc}")
            continue
        devices += [DeviceSpec(d, profile, group.role) for d in scenario.members(group.id)]

    nodes = set(scenario.device_ids()) | set(scenario.network.nodes)
    names = nodes | {g.id for g in scenario.devices}
    link_profiles = builtin_link_profiles()
    links = []
    first_link: dict[frozenset[str] | str, int] = {}  # node pair or name -> its entry
    for i, spec in enumerate(scenario.network.links):
        where = f"network.links[{i}]"
        for end, name in enumerate(spec.between):
            if name not in names:
                problems.append(
                    f"{where}.between[{end}]: unknown node '{name}'{did_you_mean(name, names)}"
                )
        if spec.profile is not None and spec.profile not in link_profiles:
            problems.append(
                f"{where}.profile: unknown link profile '{spec.profile}'"
                f"{did_you_mean(spec.profile, link_profiles)}"
            )
            continue
        base = link_profiles[spec.profile] if spec.profile else None
        edge_members, core_members = (scenario.members(n) for n in spec.between)
        if len(edge_members) > 1 and len(core_members) > 1:
            problems.append(f"{where}.between: at most one end may be a device group")
            continue
        if spec.name in names:
            problems.append(f"{where}.name: '{spec.name}' is already a device or node id")
        elif spec.name is not None and (j := first_link.setdefault(spec.name, i)) != i:
            problems.append(f"{where}.name: '{spec.name}' already names network.links[{j}]")
        for a, b in ((a, b) for a in edge_members for b in core_members):
            j = first_link.setdefault(frozenset((a, b)), i)
            if j != i:  # a second edge between the same nodes would replace the first
                problems.append(
                    f"{where}.between: {a} and {b} are already joined by network.links[{j}]"
                )
                break
        for a in edge_members:
            for b in core_members:
                links.append(
                    Link(
                        name=spec.name
                        if spec.name and len(edge_members) * len(core_members) == 1
                        else f"{a}--{b}",
                        edge_side=a,
                        core_side=b,
                        profile=spec.profile,
                        up_bps=spec.up_bps or base.up_bps,
                        down_bps=spec.down_bps or base.down_bps,
                        latency_s=spec.latency_s if spec.latency_s is not None else base.latency_s,
                    )
                )

    link_names = {link.name for link in links}
    targets = set(scenario.device_ids()) | {g.id for g in scenario.devices} | link_names
    failures = scenario.failures
    for i, outage in enumerate(failures.scheduled):
        if outage.target not in targets:
            problems.append(
                f"failures.scheduled[{i}].target: unknown device or link '{outage.target}'"
                f"{did_you_mean(outage.target, targets)}"
            )
    if failures.random:
        for i, target in enumerate(failures.random.targets):
            if target not in targets:
                problems.append(
                    f"failures.random.targets[{i}]: unknown device or link '{target}'"
                    f"{did_you_mean(target, targets)}"
                )
    devices_and_groups = set(scenario.device_ids()) | {g.id for g in scenario.devices}
    nodes_and_groups = set(scenario.network.nodes) | {g.id for g in scenario.devices}
    for field, allowed, what in (
        ("departures", devices_and_groups, "device or group"),
        ("churn", devices_and_groups, "device or group"),
        ("correlated", nodes_and_groups, "network node or group"),
    ):
        for i, spec in enumerate(getattr(failures, field)):
            for j, target in enumerate(spec.targets):
                if target not in allowed:
                    problems.append(
                        f"failures.{field}[{i}].targets[{j}]: unknown {what} '{target}'"
                        f"{did_you_mean(target, allowed)}"
                    )
    tasked: dict[str, int] = {}  # device id -> its background entry
    for i, task in enumerate(scenario.background):
        if task.device not in devices_and_groups:
            problems.append(
                f"background[{i}].device: unknown device or group '{task.device}'"
                f"{did_you_mean(task.device, devices_and_groups)}"
            )
            continue
        for member in scenario.members(task.device):
            if (j := tasked.setdefault(member, i)) != i:
                problems.append(
                    f"background[{i}].device: '{member}' already runs background[{j}] "
                    "(one background task per device)"
                )
                break
    clients = set(scenario.client_ids())
    personal = scenario.data.partition.personal_class
    if personal and personal[0] not in clients:
        problems.append(
            f"data.partition.personal_class[0]: '{personal[0]}' is not a client"
            f"{did_you_mean(personal[0], clients)}"
        )
    copied = scenario.data.partition.server_copies
    if copied is not None and copied not in clients:
        problems.append(
            f"data.partition.server_copies: '{copied}' is not a client"
            f"{did_you_mean(copied, clients)}"
        )
    server_has_data = scenario.data.partition.server_share > 0 or copied is not None
    for i, scheme in enumerate(scenario.schemes):
        for j, device in enumerate(getattr(scheme, "devices", None) or []):
            if device not in clients:
                problems.append(
                    f"schemes[{i}].devices[{j}]: '{device}' is not a client"
                    f"{did_you_mean(device, clients)}"
                )
        info = SCHEMES[scheme.scheme]
        if info.needs_server and scenario.server_id() is None:
            problems.append(
                f"schemes[{i}]: scheme '{scheme.scheme}' needs a device with role: server"
            )
        elif info.trains_on_server_data_with(scheme) and not server_has_data:
            instead = f", or {info.server_data_instead}" if info.server_data_instead else ""
            problems.append(
                f"schemes[{i}]: scheme '{scheme.scheme}' trains on server data: "
                f"set data.partition.server_share > 0 (or server_copies{instead})"
            )
    if problems:
        raise ConfigError(source, problems)

    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from((link.edge_side, link.core_side) for link in links)
    server = scenario.server_id()
    if server is not None:
        reached = nx.node_connected_component(graph, server)
        cut_off = sorted(d for d in scenario.device_ids() if d not in reached)
        if cut_off:
            raise ConfigError(
                source, [f"network.links: no route to the server from {', '.join(cut_off)}"]
            )
    return Fleet(tuple(devices), tuple(scenario.network.nodes), tuple(links), server)
