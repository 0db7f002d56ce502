"""The fault contract (issue 8): every registered scheme under every kind of failure.

Each scheme of the registry runs on TINY's fleet and settings (tests/conftest.py)
with the Raspberry Pi moved behind a Wi-Fi access point ``ap`` whose uplink
``ap-uplink`` can fail, under each fault pattern below. Every run must

* finish (a hang raises ``SimulationHang``; a stall is allowed only where a
  device never returns, and then ``stalled`` says when) with a monotone clock;
* partition its time: per device the six states sum to ``sim_time_s``;
* do nothing on a device while it is down (no span overlaps its outages);
* show the fault where it landed mid-work (lost work, aborted transfers,
  dropped clients, lost updates, lost rounds, retries);
* print nothing on stderr and raise no warning, also once SimPy's suspended
  generators are garbage-collected after the run;
* give byte-identical results when run again from a fresh data preparation;
* show, fault-free, what its registry flags say (a ``small`` curve, staleness, the
  server's part, the curve targets are judged on).

Fault times that must land mid-work are read from a fault-free run of the same
scheme: a run is a pure function of its inputs, so up to the first outage the
faulty run *is* the fault-free one, and whatever the fault-free run was doing
at that instant is what the fault interrupts.

All runs share one data preparation (:func:`edgesim.runner.prepare`) and go
through :func:`edgesim.runner.run_scheme`, the function ``run_scenario`` calls
per scheme; the per-scheme fault times are given as the prepared outages.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import gc
import io
import json
import math
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from edgesim.cluster.faults import Outage, merge
from edgesim.config import load_scenario
from edgesim.runner import outages_of, prepare, run_scheme
from edgesim.schemes import SCHEMES
from tests.conftest import TINY

Run = dict[str, Any]
Span = list[Any]  # [device, kind, start, end, detail]

CLIENTS = ["nano-0", "nano-1", "pi"]
STATES = ("compute_s", "send_s", "recv_s", "wait_s", "idle_s", "down_s")
WORK_KINDS = {"compute", "send", "recv"}

# The schemes with a ``rounds`` setting and the rounds TINY asks of each (ecavg's one
# round is not run by schemes/rounds.py but must complete all the same).
REQUESTED_ROUNDS = {
    s["scheme"]: s.get("rounds", 1)
    for s in TINY["schemes"]
    if "rounds" in SCHEMES[s["scheme"]].settings.model_fields
}


def base_scenario() -> dict[str, Any]:
    """TINY without failures, the Pi behind an access point with a shared uplink."""
    data = copy.deepcopy(TINY)
    data["failures"] = {}
    # the distillation schemes' small model as light as the main one: same protocol, faster
    data["training"]["small_model"] = "mlp"
    data["network"] = {
        "nodes": ["switch", "ap"],
        "links": [
            {"between": ["server", "switch"], "profile": "ethernet-1g"},
            {"between": ["nano", "switch"], "profile": "ethernet-1g"},
            {"between": ["pi", "ap"], "profile": "wifi-5"},
            {"between": ["ap", "switch"], "profile": "ethernet-1g", "name": "ap-uplink"},
        ],
    }
    return data


# ---------------------------------------------------------------------- fault patterns

# The server outage of the exact traces below: the server is down from 0.05 s to 0.25 s.
SERVER_DOWN = (0.05, 0.25)
OUTAGE_S = 0.05
"""How long a client (or the access point's uplink) is down when hit mid-work."""

FLAPS = [(0.02 + 0.03 * k, 0.03 + 0.03 * k) for k in range(12)]
"""nano-1's trace: down 10 ms every 30 ms, twelve times (the last outage ends at 0.36 s)."""

LEAVES_AT = 0.05


def first_span(run: Run, keep: Callable[[Span], bool]) -> Span | None:
    """The first span of the fault-free run that ``keep`` accepts and that lasts."""
    return next((s for s in run["timeline"] if keep(s) and s[3] - s[2] > 1e-4), None)


def midpoint(span: Span) -> float:
    return (span[2] + span[3]) / 2


def client_mid_compute(baseline: Run) -> list[Outage]:
    """nano-1 fails halfway through its first computation (centralized: its clients never
    compute, so nano-1 fails at 0.05 s, after its upload)."""
    span = first_span(baseline, lambda s: s[0] == "nano-1" and s[1] == "compute")
    at = midpoint(span) if span else 0.05
    return [Outage(at, at + OUTAGE_S, "nano-1")]


def client_mid_upload(baseline: Run) -> list[Outage]:
    """The first client to send to the server fails halfway through that upload
    (local sends nothing: nano-1 fails at 0.05 s)."""
    span = first_span(baseline, lambda s: s[0] in CLIENTS and s[1] == "send" and "→server" in s[4])
    if span is None:
        return [Outage(0.05, 0.05 + OUTAGE_S, "nano-1")]
    at = midpoint(span)
    return [Outage(at, at + OUTAGE_S, span[0])]


def ap_uplink_mid_transfer(baseline: Run) -> list[Outage]:
    """The access point's uplink fails halfway through the Pi's first transfer (every one
    of them crosses it; local sends nothing: the link fails at 0.05 s)."""
    span = first_span(baseline, lambda s: s[0] == "pi" and s[1] in {"send", "recv"})
    at = midpoint(span) if span else 0.05
    return [Outage(at, at + OUTAGE_S, "ap-uplink")]


def fixed(*outages: tuple[str, float, float]) -> Callable[[Run], list[Outage]]:
    return lambda _baseline: [Outage(start, end, target) for target, start, end in outages]


def from_failures(failures: dict[str, Any], files: dict[str, str] | None = None):
    """Outages as ``run_scenario`` derives them from a scenario's ``failures`` section."""

    def outages(_baseline: Run, directory: Path) -> list[Outage]:
        for name, text in (files or {}).items():
            (directory / name).write_text(text, encoding="utf-8")
        data = base_scenario()
        data["failures"] = failures
        path = directory / "pattern.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return outages_of(load_scenario(path))

    outages.reads_scenario = True
    return outages


FLAP_TRACE = "target,down_at_s,up_at_s\n" + "".join(
    f"nano-1,{down:.2f},{up:.2f}\n" for down, up in FLAPS
)

PATTERNS: dict[str, Callable[..., list[Outage]]] = {
    "fault-free": fixed(),
    "client-down-mid-compute": client_mid_compute,
    "client-down-mid-upload": client_mid_upload,
    "server-down-mid-run": fixed(("server", *SERVER_DOWN)),
    "server-down-from-start": fixed(("server", 0.0, 0.2)),
    "ap-uplink-down-mid-transfer": ap_uplink_mid_transfer,
    "all-clients-down": fixed(*((c, 0.05, 0.2) for c in CLIENTS)),
    "flapping-client": from_failures({"trace": "flaps.csv"}, {"flaps.csv": FLAP_TRACE}),
    "client-leaves-for-good": from_failures(
        {"departures": [{"targets": ["nano-1"], "fraction": 1.0, "at_s": LEAVES_AT}]}
    ),
    "random-churn-correlated": from_failures(
        {
            "random": {"targets": ["nano"], "mtbf_s": 0.12, "mttr_s": 0.02, "horizon_s": 1.0},
            "churn": [
                {"targets": ["pi"], "availability": 0.8, "mean_down_s": 0.03, "horizon_s": 1.0}
            ],
            "correlated": [{"targets": ["ap"], "mtbf_s": 0.2, "mttr_s": 0.02, "horizon_s": 1.0}],
        }
    ),
}

NEVER_BACK = {"client-leaves-for-good"}
"""Patterns in which a device never returns: the only ones a run may stall in."""

WAIT_FOR_EVERY_CLIENT = {"local", "handoff", "ecavg"}
"""Schemes whose protocol needs nano-1 itself to finish (its epochs, its hand-off, its
weights), so they stall once it has left at 0.05 s; centralized needed only its
upload, done by then; the round schemes drop it, the asynchronous ones and
deep-edge carry on without it."""


# ---------------------------------------------------------------------- running


@dataclasses.dataclass
class Outcome:
    run: Run
    outages: list[Outage]
    stderr: str
    warnings: list[str]
    unraisable: list[str]


@contextlib.contextmanager
def silence_watch() -> Iterator[dict[str, Any]]:
    """Capture fd 2, ``sys.stderr``, warnings and unraisable exceptions — through a
    ``gc.collect()`` at the end, so generators SimPy left suspended are finalised
    inside the capture (their ``finally`` blocks once printed "Exception ignored")."""
    seen: dict[str, Any] = {"unraisable": [], "warnings": []}
    sys.stderr.flush()
    saved_fd = os.dup(2)
    saved_hook = sys.unraisablehook
    text = io.StringIO()

    def unraisable(info: Any) -> None:
        seen["unraisable"].append(f"{info.exc_type.__name__}: {info.exc_value} ({info.object!r})")

    with tempfile.TemporaryFile() as fd_capture:
        os.dup2(fd_capture.fileno(), 2)
        sys.unraisablehook = unraisable
        try:
            with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(text):
                warnings.simplefilter("always")
                try:
                    yield seen
                finally:
                    gc.collect()
                    gc.collect()
                    gc.freeze()  # what survived is kept: the next run's collection skips it
                seen["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
        finally:
            sys.unraisablehook = saved_hook
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            fd_capture.seek(0)
            seen["stderr"] = fd_capture.read().decode(errors="replace") + text.getvalue()


class World:
    """One data preparation, the fault-free runs, and every pattern's runs on demand."""

    def __init__(self, directory: Path):
        self.directory = directory
        path = directory / "base.yaml"
        path.write_text(yaml.safe_dump(base_scenario(), sort_keys=False), encoding="utf-8")
        self.loaded = load_scenario(path)
        self.prepared = prepare(self.loaded)
        self.specs = {spec.scheme: spec for spec in self.loaded.scenario.schemes}
        self._outcomes: dict[tuple[str, str], Outcome] = {}
        self.baseline = {name: self.outcome("fault-free", name).run for name in self.specs}

    def outages(self, pattern: str, scheme: str) -> list[Outage]:
        make = PATTERNS[pattern]
        if getattr(make, "reads_scenario", False):
            directory = self.directory / pattern
            directory.mkdir(exist_ok=True)
            return make(None, directory)
        baseline = None if pattern == "fault-free" else self.baseline[scheme]
        return merge(make(baseline))

    def outcome(self, pattern: str, scheme: str) -> Outcome:
        key = (pattern, scheme)
        if key not in self._outcomes:
            outages = self.outages(pattern, scheme)
            self._outcomes[key] = self.execute(self.prepared, scheme, outages)
        return self._outcomes[key]

    def execute(self, prepared: Any, scheme: str, outages: list[Outage]) -> Outcome:
        with silence_watch() as seen:
            run = run_scheme(
                self.loaded, dataclasses.replace(prepared, outages=outages), self.specs[scheme]
            )
        return Outcome(run, outages, seen["stderr"], seen["warnings"], seen["unraisable"])


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    gc.collect()
    gc.freeze()  # a full collection after each run would cost more than the run
    try:
        yield World(tmp_path_factory.mktemp("fault-contract"))
    finally:
        gc.unfreeze()


@pytest.fixture(scope="module")
def fresh_preparation(world: World) -> Any:
    """A second, independent data preparation for the reruns."""
    return prepare(world.loaded)


CASES = [(pattern, scheme) for pattern in PATTERNS for scheme in sorted(SCHEMES)]


def spans(run: Run, device: str | None = None, kind: str | None = None) -> list[Span]:
    return [
        s
        for s in run["timeline"]
        if (device is None or s[0] == device) and (kind is None or s[1] == kind)
    ]


# ---------------------------------------------------------------------- the contract


def test_the_contract_covers_every_registered_scheme(world: World):
    assert set(world.specs) == set(SCHEMES)


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_the_registry_flags_describe_the_run(world: World, scheme: str):
    """What the registry says of a scheme is what its fault-free run shows."""
    info, run = SCHEMES[scheme], world.baseline[scheme]
    curves = {c["model"] for c in run["curves"]}
    assert ("small" in curves) == info.uses_small_model
    assert ("staleness_total" in run["counters"]) == info.asynchronous
    assert bool(spans(run, "server")) == info.needs_server
    if info.global_model:
        assert run["primary_curve"] == "global" and "global" in curves
    else:
        assert {f"device:{c}" for c in CLIENTS} <= curves


def test_the_silence_watch_sees_what_it_must():
    """The stderr check can fail: it sees fd 2, sys.stderr, warnings, and a generator
    whose ``finally`` raises when it is garbage-collected after the run."""

    def suspended():
        try:
            yield
        finally:
            raise RuntimeError("raised while being closed")

    with silence_watch() as seen:
        os.write(2, b"from C\n")
        print("from Python", file=sys.stderr)
        warnings.warn("a warning", UserWarning, stacklevel=1)
        cycle: list[Any] = [suspended()]
        next(cycle[0])
        cycle.append(cycle)  # only the collector can free it
        del cycle
    assert "from C" in seen["stderr"] and "from Python" in seen["stderr"]
    assert seen["warnings"] == ["UserWarning: a warning"]
    assert len(seen["unraisable"]) == 1 and "raised while being closed" in seen["unraisable"][0]


@pytest.mark.parametrize(("pattern", "scheme"), CASES)
def test_run_finishes_with_a_monotone_clock(world: World, pattern: str, scheme: str):
    run = world.outcome(pattern, scheme).run
    end = run["sim_time_s"]
    assert 0 < end < math.inf
    may_stall = pattern in NEVER_BACK and scheme in WAIT_FOR_EVERY_CLIENT
    if may_stall:
        assert run["stalled"] is not None and run["stalled"]["at_s"] == end
        assert end > LEAVES_AT  # it stopped when nothing was left, not when nano-1 left
        assert "nano-1" in run["stalled"]["reason"]
    else:
        assert run["stalled"] is None
    starts = [s[2] for s in run["timeline"]]
    assert starts == sorted(starts)
    assert all(0 <= start <= stop <= end for _, _, start, stop, _ in run["timeline"])
    for curve in run["curves"]:
        times = [t for t, _ in curve["points"]]
        assert times == sorted(times) and all(0 <= t <= end for t in times), curve["model"]
    times, sent = zip(*run["bytes_curve"], strict=True) if run["bytes_curve"] else ((), ())
    assert list(times) == sorted(times) and list(sent) == sorted(sent)
    assert all(t <= end for t in times)


@pytest.mark.parametrize(("pattern", "scheme"), CASES)
def test_device_states_partition_the_run(world: World, pattern: str, scheme: str):
    run = world.outcome(pattern, scheme).run
    for device, states in run["devices"].items():
        assert min(states[s] for s in STATES) >= 0, device
        assert sum(states[s] for s in STATES) == pytest.approx(run["sim_time_s"], abs=1e-5)
        assert states["lost_work_s"] + states["background_s"] <= states["compute_s"] + 1e-5


@pytest.mark.parametrize(("pattern", "scheme"), CASES)
def test_nothing_happens_on_a_device_while_it_is_down(world: World, pattern: str, scheme: str):
    outcome = world.outcome(pattern, scheme)
    run = outcome.run
    for device in run["devices"]:
        downs = [(s[2], s[3]) for s in spans(run, device, "down")]
        # The down spans are exactly the device's outages, cut at the end of the run.
        expected = [
            (round(o.start, 6), round(min(o.end, run["sim_time_s"]), 6))
            for o in outcome.outages
            if o.target == device and o.start < run["sim_time_s"]
        ]
        assert downs == expected, device
        assert run["devices"][device]["down_s"] == pytest.approx(
            sum(b - a for a, b in expected), abs=1e-5
        )
        for span in spans(run, device):
            if span[1] == "down":
                continue
            _, kind, start, end, detail = span
            for down_start, down_end in downs:
                overlap = min(end, down_end) - max(start, down_start)
                inside = down_start < start < down_end  # also catches spans of no length
                assert overlap <= 1e-9 and not inside, (device, span, (down_start, down_end))


def in_progress(baseline: Run, device: str, at: float) -> set[str]:
    """The kinds of work ``device`` was doing at ``at`` in the fault-free run."""
    return {s[1] for s in spans(baseline, device) if s[1] in WORK_KINDS and s[2] < at < s[3]}


def pi_transfers_at(baseline: Run, at: float) -> bool:
    return any(s[2] < at < s[3] for s in spans(baseline, "pi") if s[1] in {"send", "recv"})


ASYNCHRONOUS = {name: ("lost_updates",) for name, info in SCHEMES.items() if info.asynchronous}
"""An asynchronous client hit by a failure loses its update, whoever is down."""

# What each scheme counts when a client's work is cut by its failure (any of them > 0).
# Sync rounds drop the client from the round; async clients lose their update;
# deep-edge re-allocates a worker's steps or, hit while profiling, has it rejoin;
# the others retry the epoch or transfer once the client is back.
CLIENT_FAILURE_COUNTERS = {
    **ASYNCHRONOUS,
    "local": ("retries",),
    "centralized": ("retries",),
    "handoff": ("retries",),
    "ecavg": ("retries",),
    "fedavg": ("dropped_clients",),
    "distill-fl": ("dropped_clients",),
    "async-distill-fl": ("dropped_clients",),
    "gear": ("dropped_clients",),
    "deep-edge": ("reallocations", "rejoins"),
    "fedcs": ("dropped_clients",),
    "oort": ("dropped_clients",),
    "tifl": ("dropped_clients",),
    "fedprox": ("dropped_clients",),
    "fedavg-partial": ("dropped_clients",),
}
# ... and when the server is down from 0.05 s to 0.25 s. The outage is longer than any
# client's training between two exchanges with the server, so every scheme but local
# meets it: a round in progress is lost (and run again); an upload or pull that finds
# the server down is retried when it is back (fedasync/fedbuff: that update is lost).
SERVER_FAILURE_COUNTERS = {
    **ASYNCHRONOUS,
    "centralized": ("retries",),  # the server was training at 0.05 s: that epoch again
    "handoff": ("retries",),
    "ecavg": ("retries",),
    "deep-edge": ("retries",),
    "fedavg": ("lost_rounds",),
    "distill-fl": ("lost_rounds",),
    "async-distill-fl": ("lost_rounds",),
    "gear": ("lost_rounds",),
    "fedcs": ("lost_rounds",),
    "oort": ("lost_rounds",),
    "tifl": ("lost_rounds",),
    "fedprox": ("lost_rounds",),
    "fedavg-partial": ("lost_rounds",),
}

MID_WORK = (
    "client-down-mid-compute",
    "client-down-mid-upload",
    "ap-uplink-down-mid-transfer",
    "server-down-mid-run",
    "all-clients-down",
)
NOT_MID_WORK = {
    # (pattern, scheme): why the fault cannot land mid-work there, checked on the run
    ("client-down-mid-compute", "centralized"): "compute",  # its clients never compute
    ("client-down-mid-upload", "local"): "send",  # nothing is ever sent
    ("ap-uplink-down-mid-transfer", "local"): "send",
    **{  # the server has no part in it
        ("server-down-mid-run", name): "server"
        for name, info in SCHEMES.items()
        if not info.needs_server
    },
    ("all-clients-down", "centralized"): "uploads",  # the clients' uploads end by 0.05 s
}


def any_positive(counters: dict[str, float], names: tuple[str, ...]) -> bool:
    return any(counters.get(name, 0) > 0 for name in names)


@pytest.mark.parametrize(("pattern", "scheme"), [(p, s) for p in MID_WORK for s in sorted(SCHEMES)])
def test_a_fault_mid_work_loses_that_work(world: World, pattern: str, scheme: str):
    """What the fault-free run was doing when the fault struck is lost, aborted or redone."""
    outcome = world.outcome(pattern, scheme)
    run, counters = outcome.run, outcome.run["counters"]
    baseline = world.baseline[scheme]
    at = min(o.start for o in outcome.outages)
    struck = [o.target for o in outcome.outages if o.start == at]
    hit = {t: in_progress(baseline, t, at) for t in struck if t in run["devices"]}
    if "ap-uplink" in struck:
        hit["ap-uplink"] = {"send"} if pi_transfers_at(baseline, at) else set()
    why = NOT_MID_WORK.get((pattern, scheme))
    if why == "compute":
        assert not [s for s in baseline["timeline"] if s[0] in CLIENTS and s[1] == "compute"]
    elif why == "send":
        assert not spans(baseline, kind="send") and run["bytes"]["total"] == 0
    elif why == "server":
        assert not [s for s in spans(run, "server") if s[1] != "down"]
    elif why == "uploads":
        assert not any(hit.values())
    if why:
        assert counters.get("aborted_transfers", 0) == 0
        return
    for target, doing in hit.items():
        if "compute" in doing:
            assert run["devices"][target]["lost_work_s"] > 0, target
            assert counters["lost_work_s"] + counters.get("abandoned_work_s", 0) > 0
        if doing & {"send", "recv"}:
            assert counters["aborted_transfers"] >= 1, target
    if pattern == "server-down-mid-run":
        assert any_positive(counters, SERVER_FAILURE_COUNTERS[scheme])
        return
    assert any(hit.values()), "the fault time was meant to land mid-work"
    if pattern == "ap-uplink-down-mid-transfer":
        # A link failure takes no device down: the Pi's transfer is redone or dropped.
        assert all(d["down_s"] == 0 for d in run["devices"].values())
        assert any_positive(counters, ("retries", "dropped_clients", "lost_updates", "rejoins"))
    if pattern in {"client-down-mid-compute", "client-down-mid-upload"}:
        assert any_positive(counters, CLIENT_FAILURE_COUNTERS[scheme])


@pytest.mark.parametrize(("pattern", "scheme"), CASES)
def test_no_output_on_stderr_and_no_warnings(world: World, pattern: str, scheme: str):
    outcome = world.outcome(pattern, scheme)
    assert outcome.stderr == ""
    assert outcome.warnings == []
    assert outcome.unraisable == []


RERUN = ("client-down-mid-upload", "server-down-mid-run", "random-churn-correlated")
"""Every scheme is rerun under an aborted transfer, a lost round or update, and the mix
of random, churn and correlated outages (all patterns would double the file's time)."""


@pytest.mark.parametrize(("pattern", "scheme"), [(p, s) for p in RERUN for s in sorted(SCHEMES)])
def test_a_rerun_is_byte_identical(world: World, fresh_preparation, pattern: str, scheme: str):
    first = world.outcome(pattern, scheme)
    again = world.execute(fresh_preparation, scheme, world.outages(pattern, scheme))
    assert again.outages == first.outages
    assert json.dumps(again.run) == json.dumps(first.run)


@pytest.mark.parametrize(
    ("pattern", "scheme"),
    [(p, s) for p in PATTERNS for s in sorted(REQUESTED_ROUNDS)],
)
def test_every_requested_round_completes(world: World, pattern: str, scheme: str):
    run = world.outcome(pattern, scheme).run
    if run["stalled"] is not None:
        pytest.skip("stalled by design (checked above): it could not finish its rounds")
    assert run["counters"]["rounds"] == REQUESTED_ROUNDS[scheme]


# ---------------------------------------------------------------------- exact protocol traces
#
# The server is down from 0.05 s to 0.25 s (pattern "server-down-mid-run"). Each trace
# is read off the timeline and compared with values reasoned out below; durations that
# do not depend on the fault (a round, a server epoch, a transfer with the same
# contention) are read from the fault-free run, and the reasoning says why they recur.

ABS = 3e-6  # timeline times are rounded to 1e-6; sums of a few of them drift by that


def shifted(timeline: list[Span], by: float, since: float = 0.0) -> list[Span]:
    return [
        [d, k, round(s + by, 6), round(e + by, 6), x] for d, k, s, e, x in timeline if s >= since
    ]


def close(got: list[tuple[float, ...]], want: list[tuple[float, ...]], tol: float = ABS) -> None:
    """Equal lists of time tuples, each time to within ``tol`` (approx does not nest)."""
    assert len(got) == len(want)
    assert [t for row in got for t in row] == pytest.approx(
        [t for row in want for t in row], abs=tol
    )


def same_spans(got: list[Span], want: list[Span]) -> None:
    key = lambda s: (s[2], s[0], s[1], s[4])  # noqa: E731 — one order for both
    got, want = sorted(got, key=key), sorted(want, key=key)
    assert [(d, k, x) for d, k, _, _, x in got] == [(d, k, x) for d, k, _, _, x in want]
    close([(s, e) for _, _, s, e, _ in got], [(s, e) for _, _, s, e, _ in want])


def fedavg_rounds(run: Run) -> list[tuple[int, float, float, int]]:
    """[(round, start, end, updates received), ...]: the server's waits on its clients."""
    trace = []
    for _, _, start, end, detail in spans(run, "server", "wait"):
        if detail.endswith(": clients training"):
            number = int(detail.split()[1].rstrip(":"))
            updates = sum(
                1
                for s in spans(run, "server", "recv")
                if s[4].startswith(f"round {number} update ")
                and s[4].endswith(" B")  # arrived: not aborted, abandoned or unfinished
                and start <= s[2]
                and s[3] <= end
            )
            trace.append((number, start, end, updates))
    return trace


def test_fedavg_runs_the_round_the_server_lost_again_and_completes_every_round(world: World):
    run, base = world.outcome("server-down-mid-run", "fedavg").run, world.baseline["fedavg"]
    down, up = SERVER_DOWN
    fault_free = fedavg_rounds(base)
    # Fault-free: 4 rounds back to back from 0, each averaging all 3 clients.
    assert [(n, u) for n, _, _, u in fault_free] == [(1, 3), (2, 3), (3, 3), (4, 3)]
    assert fault_free[0][1] == 0 and all(
        a[2] == b[1] for a, b in zip(fault_free, fault_free[1:], strict=False)
    )
    durations = [end - start for _, start, end, _ in fault_free]
    # Round 1 starts at 0 and is lost at 0.05 s with no update in: the fastest client
    # (the Pi, 11 steps) would only have finished at ~0.07 s. It is run again the moment
    # the server is back, from the same global weights on the same 3 clients; a lost
    # round draws no batches (work is charged before the batches are taken), so every
    # round lasts exactly as long as without the fault, and rounds follow back to back.
    expected, t = [(1, 0.0, down, 0)], up
    for number, duration in enumerate(durations, start=1):
        expected.append((number, t, t + duration, 3))
        t += duration
    trace = fedavg_rounds(run)
    assert [(n, u) for n, _, _, u in trace] == [(n, u) for n, _, _, u in expected]
    close([(s, e) for _, s, e, _ in trace], [(s, e) for _, s, e, _ in expected])
    counters = run["counters"]
    assert counters["rounds"] == 4 and counters["lost_rounds"] == 1
    assert counters["rounds_delayed_by_server"] == 1 and counters["client_updates"] == 12
    assert run["sim_time_s"] == pytest.approx(up + base["sim_time_s"], abs=ABS)
    # The clients stopped at once at 0.05 s: each abandoned its round-1 training so far.
    first_compute = {s[0]: s[2] for s in reversed(spans(base, kind="compute"))}
    assert counters["abandoned_work_s"] == pytest.approx(
        sum(down - first_compute[c] for c in CLIENTS), abs=ABS
    )
    assert not [s for s in run["timeline"] if s[1] != "down" and down < s[3] and s[2] < up]
    # After the outage the run is the fault-free one, 0.25 s later, to the same model.
    same_spans([s for s in run["timeline"] if s[2] >= up], shifted(base["timeline"], up))
    assert run["final_accuracy"] == base["final_accuracy"]


def arrivals(run: Run) -> list[tuple[float, str]]:
    """[(time, client), ...]: each update that reached the server."""
    return sorted(
        (s[3], s[0])
        for s in spans(run, kind="send")
        if s[0] in CLIENTS and s[4].startswith("update from v") and s[4].endswith(" B")
    )


def test_fedbuff_loses_the_updates_of_the_outage_and_resumes_as_from_the_start(world: World):
    run, base = world.outcome("server-down-mid-run", "fedbuff").run, world.baseline["fedbuff"]
    down, up = SERVER_DOWN
    counters = run["counters"]
    # Every client pulled v0 at 0 and trains 11 steps (Pi ~0.07 s, Nanos ~0.095 s): all
    # three finish while the server is down, so each push finds it down. Nothing was in
    # flight at 0.05 s and a push to a down server never starts: 3 lost updates, 3
    # retries, no aborted transfer; each client waits from then until 0.25 s exactly.
    trained = {s[0]: s[3] for s in reversed(spans(base, kind="compute"))}  # first ends
    assert all(down < trained[c] < up for c in CLIENTS)
    assert counters["lost_updates"] == 3 and counters["retries"] == 3
    assert "aborted_transfers" not in counters
    waits = sorted((s[0], s[2], s[3]) for s in spans(run, kind="wait"))
    assert waits == [(c, trained[c], up) for c in sorted(CLIENTS)]
    # At 0.25 s all three pull v0 together, as at 0: from then on the run is the
    # fault-free one shifted by 0.25 s (an update is one epoch, 11 steps, so the lost
    # updates leave every batch stream at an epoch boundary, with the same step times).
    same_spans(
        [s for s in run["timeline"] if s[2] >= up and s[1] != "wait"],
        [s for s in shifted(base["timeline"], up) if s[1] != "wait"],
    )
    got, want = arrivals(run), [(t + up, c) for t, c in arrivals(base)]
    assert [c for _, c in got] == [c for _, c in want]
    assert [t for t, _ in got] == pytest.approx([t for t, _ in want], abs=ABS)
    # The server steps on every 3rd buffered delta: at the 3rd, 6th, 9th, 12th arrival.
    steps = [t for t, _ in got][2::3][:4]
    assert steps == pytest.approx([t + up for t, _ in arrivals(base)][2::3][:4], abs=ABS)
    assert run["sim_time_s"] == pytest.approx(steps[-1], abs=ABS)
    assert counters["server_updates"] == 4 and counters["client_updates"] == 12
    assert counters["staleness_total"] == base["counters"]["staleness_total"]
    # The three lost updates were trained in full (the clients were up), never applied.
    assert counters["train_steps"] == base["counters"]["train_steps"] + 3 * 11


def handoffs(run: Run) -> dict[str, tuple[float, float, float, float]]:
    """device → (checkpoint sent, arrived at the server, sent back, back on the device)."""
    out, back = {}, {}
    for _, _, start, end, detail in spans(run, "server", "recv"):
        if detail.startswith("checkpoint ") and detail.endswith(" B"):
            out[detail.split()[1].split("→")[0]] = (start, end)
    for _, _, start, end, detail in spans(run, "server", "send"):
        if detail.startswith("checkpoint back ") and detail.endswith(" B"):
            back[detail.split()[2].split("→")[1]] = (start, end)
    return {d: (*out[d], *back[d]) for d in sorted(out)}


def fifo_epochs(
    arrivals: dict[str, float], epoch_s: float, epochs: int
) -> list[tuple[str, int, float, float]]:
    """[(device, epoch, start, end), ...] on one first-come-first-served accelerator."""
    order = sorted(arrivals, key=lambda d: (arrivals[d], d))
    asks = [(arrivals[d], order.index(d), d, 1) for d in order]
    done, free = [], 0.0
    while asks:
        asks.sort()
        asked, rank, device, k = asks.pop(0)
        start = max(asked, free)
        free = start + epoch_s
        done.append((device, k, start, free))
        if k < epochs:
            asks.append((free, rank, device, k + 1))
    return done


def test_handoff_retries_each_checkpoint_the_moment_the_server_is_back(world: World):
    run, base = world.outcome("server-down-mid-run", "handoff").run, world.baseline["handoff"]
    down, up = SERVER_DOWN
    fault_free = handoffs(base)
    # The clients' local epochs do not involve the server: each hands off when it would
    # have (the Pi at ~0.135 s, the Nanos at ~0.188 s) and finds the server down. Its
    # upload is retried at exactly 0.25 s, and the device trains no more epochs while the
    # server is down: both wait from the hand-off to 0.25 s.
    assert all(down < sent < up for sent, *_ in fault_free.values())
    waits = sorted((s[0], s[2], s[3], s[4]) for s in spans(run, kind="wait"))
    assert waits == sorted(
        (d, fault_free[d][0], up, why)
        for d in CLIENTS
        for why in ("retry after failure", "hand-off 1: the server is down")
    )
    assert run["counters"]["retries"] == 3 and "aborted_transfers" not in run["counters"]
    # The three checkpoints leave together at 0.25 s: three equal payloads starting
    # together on symmetric links take as long as fedavg's round-1 model downloads.
    download = {
        s[0]: s[3] - s[2]
        for s in spans(world.baseline["fedavg"], kind="recv")
        if s[0] in CLIENTS and s[4].startswith("round 1 model")
    }
    trace = handoffs(run)
    assert [trace[d][0] for d in CLIENTS] == [up] * 3
    assert [trace[d][1] for d in CLIENTS] == pytest.approx(
        [up + download[d] for d in CLIENTS], abs=ABS
    )
    # The server's one accelerator serves epochs first come, first served: a
    # checkpoint asks for its first epoch when it arrives and for its second when the
    # first ends; every epoch lasts as long as in the fault-free run. A reference queue
    # of that rule gives each epoch's start and end.
    epoch = [e - s for *_, s, e, _ in spans(base, "server", "compute")]
    assert max(epoch) - min(epoch) <= ABS
    expected = fifo_epochs({d: trace[d][1] for d in CLIENTS}, epoch[0], epochs=2)
    computed = spans(run, "server", "compute")
    assert [x for *_, x in computed] == [f"{d}'s checkpoint, epoch {k}" for d, k, _, _ in expected]
    close([(s, e) for *_, s, e, _ in computed], [(s, e) for *_, s, e in expected], 2 * ABS)
    # Each checkpoint goes back when its last epoch ends, with nothing else leaving the
    # server meanwhile (checked; incoming traffic uses the links' other direction): as
    # long as the same payload on the same route took alone in the fault-free run.
    transfers = spans(run, "server", "send")
    lone = lone_checkpoint_transfers(base)
    for device in CLIENTS:
        sent_back = next(e for d, k, _, e in expected if d == device and k == 2)
        start, end = trace[device][2:]
        assert [t for t in transfers if t[2] < end and start < t[3]] == [
            t for t in transfers if (t[2], t[3]) == (start, end)
        ]
        close([trace[device][2:]], [(sent_back, sent_back + lone[route_of(device)])])


def route_of(device: str) -> str:
    """The Nanos' routes to the server are alike (same link profile), the Pi's its own."""
    return device.split("-")[0]


def lone_checkpoint_transfers(run: Run) -> dict[str, float]:
    """Route → seconds of a checkpoint transfer that no other server transfer overlapped.

    Either direction serves: the links are symmetric. Asserts each route has one.
    """
    moving = [s for s in spans(run, "server") if s[1] in {"send", "recv"}]
    lone: dict[str, float] = {}
    for span in moving:
        overlapped = any(o is not span and o[2] < span[3] and span[2] < o[3] for o in moving)
        if span[4].startswith("checkpoint ") and not overlapped:
            device = next(d for d in span[4].split()[-3].split("→") if d != "server")
            lone.setdefault(route_of(device), span[3] - span[2])
    assert set(lone) == {route_of(d) for d in CLIENTS}
    return lone


# ---------------------------------------------------------------------- the server leaves


def server_leaves(world: World, horizon_s: float | None) -> Callable[[str], Run]:
    """Each scheme with the server gone for good at 0.05 s (optionally up to a horizon)."""
    data = base_scenario()
    data["horizon_s"] = horizon_s
    path = world.directory / f"server-leaves-{horizon_s}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    loaded = load_scenario(path)
    outages = [Outage(LEAVES_AT, math.inf, "server")]
    specs = {spec.scheme: spec for spec in loaded.scenario.schemes}
    prepared = dataclasses.replace(world.prepared, outages=outages)
    return lambda scheme: run_scheme(loaded, prepared, specs[scheme])


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_no_scheme_works_on_for_ever_once_the_server_has_left(world: World, scheme: str):
    """Regression: handoff's devices trained "while the server trains" without end when
    the server never came back, so the run never ended. Under a horizon such a run
    only shows as work going on up to the horizon: nothing may happen after 1 s."""
    run = server_leaves(world, horizon_s=3.0)(scheme)
    serverless = not SCHEMES[scheme].needs_server
    assert run["sim_time_s"] == (world.baseline[scheme]["sim_time_s"] if serverless else 3)
    assert max((s[3] for s in run["timeline"] if s[1] in WORK_KINDS), default=0) < 1.0


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_every_scheme_that_needs_the_server_stalls_once_it_has_left(world: World, scheme: str):
    run = server_leaves(world, horizon_s=None)(scheme)
    if not SCHEMES[scheme].needs_server:  # local: the server has no part in it
        assert run["stalled"] is None
        assert run["sim_time_s"] == world.baseline[scheme]["sim_time_s"]
        return
    assert run["stalled"] is not None and "server" in run["stalled"]["reason"]
    assert LEAVES_AT <= run["stalled"]["at_s"] == run["sim_time_s"] < 1.0
    assert run["devices"]["server"]["down_s"] == pytest.approx(run["sim_time_s"] - LEAVES_AT)


def test_the_stall_warning_names_the_time_the_run_stalled(world: World, caplog):
    with caplog.at_level("WARNING", logger="edgesim.runner"):
        run = server_leaves(world, horizon_s=None)("fedavg")
    assert run["stalled"]["at_s"] == LEAVES_AT  # the round it was in ended with the server
    assert f"stalled at {LEAVES_AT:g} s" in caplog.text
