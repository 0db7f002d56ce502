"""Network: routes, link directions, max-min sharing, aborts, interrupts and recorded spans.

Topology (bits/s, one-way latency)::

    a ─┐ ap-a 100/100 Mbit, 1 ms
    b ─┼─ ap ── uplink: up 10 Mbit, down 100 Mbit, 2 ms ── core ── srv 1 Gbit, 0.5 ms ── server
    c ─┘

Client ↔ server crosses three links: latency L = 3.5 ms; uploads are limited by the
10 Mbit/s uplink, downloads by 100 Mbit/s.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import simpy

from edgesim.cluster.device import Device
from edgesim.cluster.flows import TransferAborted
from edgesim.cluster.network import Network
from edgesim.config.fleet import Link
from edgesim.config.profiles import builtin_device_profiles
from edgesim.metrics.recorder import Recorder

MBIT = 1e6
UPLINK_UP_BPS = 10 * MBIT
UPLINK_DOWN_BPS = 100 * MBIT
L = 0.001 + 0.002 + 0.0005  # client ↔ server latency
S = 1_250_000  # bytes: 1e7 bits, 1 s on the 10 Mbit/s uplink
TIME = {"rel": 1e-9, "abs": 1e-9}
CLIENTS = ("a", "b", "c")


@dataclass
class Cluster:
    env: simpy.Environment
    recorder: Recorder
    devices: dict[str, Device]
    net: Network

    def send(self, src, dst, nbytes, log, key, at=0.0):
        """Start a transfer at ``at``; log ``("done", t)`` or ``("aborted", t, reason)``."""

        def process():
            if at:
                yield self.env.timeout(at)
            try:
                yield from self.net.transfer(src, dst, nbytes, "model")
            except TransferAborted as exc:
                log[key] = ("aborted", self.env.now, str(exc))
            else:
                log[key] = ("done", self.env.now)

        return self.env.process(process())

    def at(self, t, action):
        def process():
            yield self.env.timeout(t)
            action()

        self.env.process(process())

    def device_down(self, node):
        """What the runner does when a device's outage starts."""
        self.devices[node].go_down()
        self.net.node_down(node)


@pytest.fixture
def cluster() -> Cluster:
    env = simpy.Environment()
    recorder = Recorder()
    profiles = builtin_device_profiles()
    devices = {d: Device(env, d, profiles["jetson-nano"], recorder) for d in CLIENTS}
    devices["server"] = Device(env, "server", profiles["rtx-2080ti"], recorder)
    links = [Link(f"ap-{d}", d, "ap", None, 100 * MBIT, 100 * MBIT, 0.001) for d in CLIENTS]
    links += [
        Link("uplink", "ap", "core", None, UPLINK_UP_BPS, UPLINK_DOWN_BPS, 0.002),
        Link("srv", "server", "core", "ethernet-1g", 1000 * MBIT, 1000 * MBIT, 0.0005),
    ]
    # The expected times below are max-min closed forms (equal shares, latency paid once).
    net = Network(env, devices, ["ap", "core"], links, recorder, server="server", model="max-min")
    return Cluster(env, recorder, devices, net)


def test_routes_are_multi_hop_via_the_switches(cluster):
    assert cluster.net.path("a", "server") == ["a", "ap", "core", "server"]
    assert cluster.net.path("server", "c") == ["server", "core", "ap", "c"]
    assert cluster.net.path("a", "b") == ["a", "ap", "b"]


def test_free_transfer_takes_latency_plus_size_times_8_over_bandwidth(cluster):
    log = {}
    cluster.send("a", "b", 12_500_000, log, "x")  # 1e8 bits over 100 Mbit/s
    cluster.env.run()
    assert log["x"][0] == "done"
    assert log["x"][1] == pytest.approx(0.002 + 1.0, **TIME)


def test_upload_and_download_use_the_up_and_down_bandwidth(cluster):
    log = {}
    cluster.send("a", "server", S, log, "up")
    cluster.env.run()
    # A fresh, idle network for the download.
    start = cluster.env.now
    cluster.send("server", "a", S, log, "down")
    cluster.env.run()
    assert log["up"] == ("done", pytest.approx(L + S * 8 / UPLINK_UP_BPS, **TIME))
    assert log["down"] == ("done", pytest.approx(start + L + S * 8 / UPLINK_DOWN_BPS, **TIME))
    assert log["up"][1] == pytest.approx(L + 1.0, **TIME)
    assert log["down"][1] - start == pytest.approx(L + 0.1, **TIME)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_n_clients_uploading_share_the_uplink_equally(cluster, n):
    log, seen = {}, {}
    for client in CLIENTS[:n]:
        cluster.send(client, "server", S, log, client)

    def look():
        seen["rates"] = sorted(f.rate for f in cluster.net.solver.active)

    cluster.at(0.5, look)
    cluster.env.run()
    # Each gets 1/N of the uplink: all finish at L + N·S·8/B.
    for client in CLIENTS[:n]:
        assert log[client] == ("done", pytest.approx(L + n * S * 8 / UPLINK_UP_BPS, **TIME))
    assert seen["rates"] == pytest.approx([UPLINK_UP_BPS / 8 / n] * n)
    rec = cluster.recorder
    assert rec.bytes_per_link["uplink"] == n * S
    assert rec.bytes_per_link["srv"] == n * S
    assert rec.bytes_up == n * S
    assert rec.counters["aborted_transfers"] == 0


def test_destination_down_mid_transfer_aborts_it_and_speeds_up_the_others(cluster):
    # Three downloads of 12.5 MB share the uplink's 100 Mbit/s down direction: 12.5e6/3 B/s each.
    size = 12_500_000
    down_at = L + 0.6
    log = {}
    for client in CLIENTS:
        cluster.send("server", client, size, log, client)
    cluster.at(down_at, lambda: cluster.device_down("c"))
    cluster.env.run()

    sent_by_c = 0.6 * size / 3  # 2.5 MB in 0.6 s at a third of 12.5 MB/s
    assert log["c"][:2] == ("aborted", pytest.approx(down_at, **TIME))
    assert "c went down" in log["c"][2]
    # a and b: 1e7 B left each at 6.25e6 B/s → 1.6 s more; without the abort they would
    # finish at L + 3.0, so c's unsent 1e7 B / 12.5e6 B/s = 0.8 s earlier.
    for client in ("a", "b"):
        assert log[client] == ("done", pytest.approx(L + 2.2, **TIME))
        assert (L + 3.0) - log[client][1] == pytest.approx((size - sent_by_c) / 12.5e6, **TIME)

    rec = cluster.recorder
    assert rec.counters["aborted_transfers"] == 1
    assert rec.bytes_per_link["ap-c"] == round(sent_by_c)  # partial bytes are counted
    assert rec.bytes_per_link["ap-a"] == size
    assert rec.bytes_per_link["uplink"] == 2 * size + round(sent_by_c)
    aborted = [s for s in rec.spans if "(aborted)" in s.detail]
    assert {(s.device, s.kind) for s in aborted} == {("server", "send"), ("c", "recv")}
    assert all(s.end == pytest.approx(down_at, **TIME) for s in aborted)


def test_baseline_without_outage_for_the_abort_test(cluster):
    log = {}
    for client in CLIENTS:
        cluster.send("server", client, 12_500_000, log, client)
    cluster.env.run()
    assert all(log[c] == ("done", pytest.approx(L + 3.0, **TIME)) for c in CLIENTS)


def test_transfers_to_or_from_a_down_device_are_refused_until_it_is_back(cluster):
    log = {}
    cluster.at(1.0, lambda: cluster.device_down("c"))
    cluster.send("server", "c", S, log, "to_c", at=2.0)
    cluster.send("c", "server", S, log, "from_c", at=2.5)
    cluster.at(3.0, cluster.devices["c"].come_up)
    cluster.send("c", "server", S, log, "later", at=3.0)
    cluster.env.run()
    assert log["to_c"] == ("aborted", 2.0, "c is down")
    assert log["from_c"] == ("aborted", 2.5, "c is down")
    assert log["later"] == ("done", pytest.approx(3.0 + L + 1.0, **TIME))
    assert cluster.recorder.bytes_per_link["ap-c"] == S


def test_link_down_aborts_crossing_flows_and_leaves_no_route_until_it_is_back(cluster):
    log = {}
    cluster.send("a", "server", S, log, "crossing")
    cluster.send("c", "b", 12_500_000, log, "local")  # does not cross the uplink
    cluster.at(0.3, lambda: cluster.net.link_down("uplink"))
    cluster.send("b", "server", S, log, "while_down", at=0.5)
    cluster.at(1.0, lambda: cluster.net.link_up("uplink"))
    cluster.send("b", "server", S, log, "after", at=1.0)
    cluster.env.run()

    assert log["crossing"][:2] == ("aborted", pytest.approx(0.3, **TIME))
    assert "link uplink went down" in log["crossing"][2]
    assert log["while_down"][:2] == ("aborted", 0.5)
    assert "no route" in log["while_down"][2]
    assert log["local"] == ("done", pytest.approx(0.002 + 1.0, **TIME))
    assert log["after"] == ("done", pytest.approx(1.0 + L + 1.0, **TIME))
    rec = cluster.recorder
    assert rec.counters["aborted_transfers"] == 1  # the refused one never started
    assert rec.bytes_per_link["ap-a"] == round((0.3 - L) * S)
    assert rec.bytes_per_link["uplink"] == round((0.3 - L) * S) + S


def test_path_raises_while_a_link_is_down(cluster):
    cluster.net.link_down("ap-a")
    with pytest.raises(TransferAborted, match="no route from a to server"):
        cluster.net.path("a", "server")
    assert cluster.net.path("b", "server") == ["b", "ap", "core", "server"]
    cluster.net.link_up("ap-a")
    assert cluster.net.path("a", "server") == ["a", "ap", "core", "server"]


def test_interrupted_sender_frees_its_bandwidth(cluster):
    log = {}
    interrupt_at = L + 0.5
    cluster.send("b", "server", S, log, "b")
    env = cluster.env

    def sender():
        try:
            yield from cluster.net.transfer("a", "server", S, "update")
        except simpy.Interrupt:
            log["a"] = ("interrupted", env.now)

    a = env.process(sender())
    cluster.at(interrupt_at, lambda: a.interrupt("deadline"))
    env.run()
    # 0.5 s at half the uplink: each sent S/4; b's 3S/4 left at the full 1.25e6 B/s → 0.75 s.
    assert log["a"] == ("interrupted", pytest.approx(interrupt_at, **TIME))
    assert log["b"] == ("done", pytest.approx(L + 1.25, **TIME))
    rec = cluster.recorder
    assert rec.bytes_per_link["ap-a"] == S // 4
    assert rec.bytes_per_link["uplink"] == S + S // 4
    assert rec.counters["aborted_transfers"] == 1
    assert cluster.net.solver.active == []
    assert not cluster.net._transfers


def test_interrupt_during_latency_sends_nothing(cluster):
    log = {}
    cluster.send("b", "server", S, log, "b")
    env = cluster.env

    def sender():
        try:
            yield from cluster.net.transfer("a", "server", S, "update")
        except simpy.Interrupt:
            log["a"] = env.now

    a = env.process(sender())
    cluster.at(L / 2, lambda: a.interrupt())
    env.run()
    assert log["a"] == pytest.approx(L / 2, **TIME)
    assert log["b"] == ("done", pytest.approx(L + 1.0, **TIME))  # never shared
    assert cluster.recorder.bytes_per_link["ap-a"] == 0


def test_spans_are_recorded_on_devices_only(cluster):
    log = {}
    cluster.send("a", "server", S, log, "x", at=0.25)
    cluster.env.run()
    spans = {(s.device, s.kind): s for s in cluster.recorder.spans}
    assert set(spans) == {("a", "send"), ("server", "recv")}
    for span in spans.values():
        assert span.start == 0.25
        assert span.end == pytest.approx(0.25 + L + 1.0, **TIME)
        assert span.detail == f"model a→server {S} B"
    assert {"ap", "core"}.isdisjoint(s.device for s in cluster.recorder.spans)


def test_transfer_to_itself_is_instant_and_uses_no_link(cluster):
    log = {}
    cluster.send("a", "a", S, log, "self", at=1.0)
    cluster.env.run()
    assert log["self"] == ("done", 1.0)
    assert dict(cluster.recorder.bytes_per_link) == {}


def test_download_from_server_counts_as_bytes_down(cluster):
    """The server sits on the edge side of its link here; direction follows the server."""
    log = {}
    cluster.send("server", "a", S, log, "down")
    cluster.send("a", "server", S, log, "up")
    cluster.env.run()
    assert cluster.recorder.bytes_down == S
    assert cluster.recorder.bytes_up == S
