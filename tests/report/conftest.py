"""Synthetic results dicts for report tests: no simulation, every key the report reads."""

from __future__ import annotations

import pytest

EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'

PLOT_IDS = [
    "fig-pareto",
    "fig-accuracy",
    "fig-accuracy-bytes",
    "fig-timeline-0",
    "fig-timeline-1",
    "fig-breakdown",
    "fig-topology",
    "fig-links",
    "fig-energy",
    "fig-energy-devices",
]
"""The plot containers of a two-run report, in page order."""


SIM_TIME_S = 10.0
"""Every synthetic run's makespan."""


def device_summary(
    *,
    wait_s: float,
    down_s: float = 0.0,
    lost_work_s: float = 0.0,
    background_s: float = 0.0,
    energy_j: float = 1000.0,
    compute_s: float = 3.0,
    sim_time_s: float = SIM_TIME_S,
) -> dict:
    """A device's ``runs[].devices`` entry that partitions the run (docs/results.md).

    Idle is what the other states leave of the run, so the six states add up to
    ``sim_time_s``; lost work and background computing are parts of compute.
    """
    states = {"compute_s": compute_s, "send_s": 1.0, "recv_s": 0.5, "wait_s": wait_s}
    states["down_s"] = down_s
    idle = sim_time_s - sum(states.values())
    assert idle >= 0 and lost_work_s + background_s <= compute_s, "not a partition"
    return {
        **states,
        "idle_s": idle,
        "lost_work_s": lost_work_s,
        "background_s": background_s,
        "energy_j": energy_j,
    }


def make_run(
    scheme: str,
    label: str,
    devices: list[str],
    *,
    global_curve: bool,
    scale: float = 1.0,
    spans_per_device: int = 4,
) -> dict:
    """A run over ``devices`` (the first is the server) with timeline, curves and traffic."""
    clients = devices[1:]
    curves = [{"model": f"device:{d}", "points": [[0.0, 0.1], [5.0, 0.5]]} for d in clients]
    if global_curve:
        curves.insert(0, {"model": "global", "points": [[0.0, 0.1], [4.0, 0.7], [9.0, 0.85]]})
    else:
        curves.append({"model": "devices-mean", "points": [[0.0, 0.1], [5.0, 0.5]]})
    kinds = ["compute", "send", "wait", "recv"]
    timeline = [
        [d, kinds[i % 4], float(i), i + 0.8, f"step {i} of {d}"]
        for d in devices
        for i in range(spans_per_device)
    ]
    timeline.append([clients[0], "down", 6.0, 7.5, "failure"])
    timeline.append([clients[0], "lost", 5.5, 6.0, "lost: epoch 3"])
    timeline.sort(key=lambda e: (e[2], e[0]))
    return {
        "scheme": scheme,
        "label": label,
        "primary_curve": "global" if global_curve else "devices-mean",
        "sim_time_s": SIM_TIME_S,
        "final_accuracy": 0.85 if global_curve else 0.5,
        "time_to_accuracy_s": {"0.8": 9.0 if global_curve else None, "0.9": None},
        "bytes": {
            "total": int(3_000_000 * scale),
            "up": int(1_000_000 * scale),
            "down": int(2_000_000 * scale),
            "raw_data": 0,
        },
        "bytes_per_link": {f"{d}--switch": int(1234 * scale) for d in devices},
        "bytes_curve": [[1.0, int(1_000_000 * scale)], [8.0, int(3_000_000 * scale)]],
        "devices": {
            d: device_summary(
                wait_s=2.0 * scale if d != devices[0] else 5.0,
                down_s=1.5 if d == clients[0] else 0.0,
                lost_work_s=0.5 if d == clients[0] else 0.0,
                energy_j=1500.0 * scale,
            )
            for d in devices
        },
        "curves": curves,
        "timeline": timeline,
        "counters": {"rounds": 3, "deadline_misses": 2 if global_curve else 0},
    }


def make_results(devices: list[tuple[str, str]], runs: list[dict], name: str = "hetero") -> dict:
    """Results of a star network: every device on its own link to one switch."""
    return {
        "schema_version": 1,
        "scenario": {
            "name": name,
            "description": "synthetic results & an evil device",
            "seed": 0,
            "devices": [
                {"id": d, "profile": p, "role": "server" if i == 0 else "client"}
                for i, (d, p) in enumerate(devices)
            ],
            "links": [
                {
                    "name": f"{d}--switch",
                    "edge_side": d,
                    "core_side": "switch",
                    "profile": "ethernet-1g",
                    "up_bps": 9.4e8,
                    "down_bps": 9.4e8,
                    "latency_s": 0.0002,
                }
                for d, _ in devices
            ],
            "switches": ["switch"],
            "data": {"dataset": "digits", "partition": {"kind": "dirichlet", "alpha": 0.5}},
            "training": {"model": "mlp", "batch_size": 32},
            "targets": [0.8, 0.9],
        },
        "runs": runs,
        "meta": {"edgesim_version": "0.1.0", "torch_version": "2.3.0", "wall_time_s": 1.0},
    }


SMALL_FLEET = [
    ("server", "rtx-2080ti"),
    ("nano-0", "jetson-nano"),
    (EVIL, "jetson-nano"),
    ("pi-0", "raspberry-pi-4"),
]


def small_results() -> dict:
    """Two runs on a four-device fleet, one device named like markup."""
    ids = [d for d, _ in SMALL_FLEET]
    runs = [
        make_run("fedavg", "FedAvg & friends", ids, global_curve=True, scale=2.0),
        make_run("local", "Local only", ids, global_curve=False, scale=0.5),
    ]
    return make_results(SMALL_FLEET, runs, name="hetero <b>&</b>")


@pytest.fixture
def results() -> dict:
    return small_results()


STALL_REASON = "waits for devices that never return: nano-0"


def stalled_run(devices: list[str], *, legacy: bool = False) -> dict:
    """A run that stalled at 3.2 s and, cut short, looks best in every column.

    ``legacy`` records the stall as older results do: only ``counters.stalled``.
    """
    run = make_run("handoff", "Handoff", devices, global_curve=True, scale=0.1)
    run.update(
        sim_time_s=3.2,
        final_accuracy=0.99,
        time_to_accuracy_s={"0.8": 2.0, "0.9": 3.0},
        timeline=[event for event in run["timeline"] if event[3] <= 3.2],
        devices={
            d: device_summary(wait_s=0.1, compute_s=1.5, energy_j=10.0, sim_time_s=3.2)
            for d in devices
        },
        counters={"rounds": 1, "deadline_misses": 0},
    )
    if legacy:
        run["counters"]["stalled"] = 1
    else:
        run["stalled"] = {"at_s": 3.2, "reason": STALL_REASON}
    return run


def stalled_results(*, legacy: bool = False) -> dict:
    """The small results plus a third run that stalled."""
    data = small_results()
    data["runs"].append(stalled_run([d for d, _ in SMALL_FLEET], legacy=legacy))
    return data
