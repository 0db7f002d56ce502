"""Max-min fair flow model: progressive filling and the SimPy engine, on simulated time."""

from __future__ import annotations

import math
import random

import pytest
import simpy

from edgesim.cluster.flows import (
    FlowRequest,
    FlowSolver,
    TransferAborted,
    max_min_rates,
    simulate_flows,
)

TIME = {"rel": 1e-9, "abs": 1e-9}


def assert_max_min_fair(capacity, routes, rates):
    """Feasible, and every flow has a saturated bottleneck on which no flow gets more."""
    for res, cap in capacity.items():
        load = sum(rates[f] for f, r in routes.items() if res in r)
        assert load <= cap * (1 + 1e-9), f"{res} overloaded: {load} > {cap}"
    for flow, route in routes.items():
        if not route:
            assert rates[flow] == math.inf
            continue
        bottlenecks = [
            res
            for res in route
            if sum(rates[f] for f, r in routes.items() if res in r) >= capacity[res] * (1 - 1e-9)
            and all(rates[f] <= rates[flow] * (1 + 1e-9) for f, r in routes.items() if res in r)
        ]
        assert bottlenecks, f"flow {flow} at {rates[flow]} has no bottleneck link"


# --- max_min_rates ------------------------------------------------------------------------------


def test_single_bottleneck_is_shared_equally():
    routes = {f: ("link",) for f in "abc"}
    rates = max_min_rates({"link": 12.0}, routes)
    assert rates == {"a": 4.0, "b": 4.0, "c": 4.0}


def test_flow_capped_by_slowest_link_leaves_the_rest_to_others():
    capacity = {"slow": 2.0, "fast": 10.0}
    routes = {"long": ("slow", "fast"), "x": ("fast",), "y": ("fast",)}
    rates = max_min_rates(capacity, routes)
    assert rates["long"] == pytest.approx(2.0)
    assert rates["x"] == pytest.approx(4.0)
    assert rates["y"] == pytest.approx(4.0)
    assert_max_min_fair(capacity, routes, rates)


def test_parking_lot_equal_capacities():
    """Bertsekas & Gallager's parking lot: one long flow over 3 links, one short flow per link."""
    capacity = {"l1": 1.0, "l2": 1.0, "l3": 1.0}
    routes = {"long": ("l1", "l2", "l3"), "s1": ("l1",), "s2": ("l2",), "s3": ("l3",)}
    rates = max_min_rates(capacity, routes)
    assert rates == pytest.approx({"long": 0.5, "s1": 0.5, "s2": 0.5, "s3": 0.5})
    assert_max_min_fair(capacity, routes, rates)


def test_parking_lot_unequal_capacities():
    """l1 is the long flow's bottleneck (1/2); the short flows take what it leaves elsewhere."""
    capacity = {"l1": 1.0, "l2": 2.0, "l3": 3.0}
    routes = {"long": ("l1", "l2", "l3"), "s1": ("l1",), "s2": ("l2",), "s3": ("l3",)}
    rates = max_min_rates(capacity, routes)
    assert rates == pytest.approx({"long": 0.5, "s1": 0.5, "s2": 1.5, "s3": 2.5})
    assert_max_min_fair(capacity, routes, rates)


def test_bottleneck_on_second_link():
    """Two flows on l2 make it the bottleneck (1/3 each); the flow alone on l1 gets 2/3."""
    capacity = {"l1": 1.0, "l2": 1.0}
    routes = {"long": ("l1", "l2"), "a": ("l1",), "b": ("l2",), "c": ("l2",)}
    rates = max_min_rates(capacity, routes)
    assert rates == pytest.approx({"long": 1 / 3, "a": 2 / 3, "b": 1 / 3, "c": 1 / 3})
    assert_max_min_fair(capacity, routes, rates)


def test_empty_route_is_unlimited_and_no_flows_is_empty():
    assert max_min_rates({"l": 1.0}, {"local": ()}) == {"local": math.inf}
    assert max_min_rates({"l": 1.0}, {}) == {}
    rates = max_min_rates({"l": 4.0}, {"local": (), "net": ("l",)})
    assert rates == {"local": math.inf, "net": 4.0}


def test_unused_links_do_not_matter():
    rates = max_min_rates({"used": 6.0, "idle": 0.001}, {"a": ("used",), "b": ("used",)})
    assert rates == {"a": 3.0, "b": 3.0}


def test_random_instances_are_max_min_fair():
    rng = random.Random(20240601)
    for _ in range(200):
        links = [f"l{i}" for i in range(rng.randint(1, 5))]
        capacity = {res: rng.uniform(0.5, 100.0) for res in links}
        routes = {
            f"f{i}": tuple(rng.sample(links, rng.randint(1, len(links))))
            for i in range(rng.randint(1, 8))
        }
        assert_max_min_fair(capacity, routes, max_min_rates(capacity, routes))


# --- simulate_flows -----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 5])
def test_n_simultaneous_flows_finish_at_latency_plus_n_s_over_c(n):
    size, cap, latency = 1_000_000.0, 125_000.0, 0.01
    times = simulate_flows(
        {"l": cap}, [FlowRequest(("l",), size, latency=latency)] * n, model="max-min"
    )
    assert times == pytest.approx([latency + n * size / cap] * n, **TIME)


def test_flow_joining_midway_slows_the_other_exactly():
    # C = 100 B/s. A (1000 B) alone for 4 s: 600 B left. B (300 B) joins: 50 B/s each,
    # B done at 4 + 300/50 = 10; A has 300 B left, alone again: 10 + 3 = 13 (not 10).
    times = simulate_flows(
        {"l": 100.0},
        [FlowRequest(("l",), 1000.0), FlowRequest(("l",), 300.0, start=4.0)],
        model="max-min",
    )
    assert times == pytest.approx([13.0, 10.0], **TIME)


def test_multi_hop_flow_is_limited_by_slower_link_and_others_take_the_rest():
    capacity = {"a": 100.0, "b": 25.0}
    times = simulate_flows(
        capacity,
        [FlowRequest(("a", "b"), 100.0), FlowRequest(("a",), 150.0)],
        model="max-min",
    )
    # The two-hop flow runs at 25 B/s (link b) → 4 s; the other gets 75 B/s on a → 2 s.
    assert times == pytest.approx([4.0, 2.0], **TIME)


def test_latency_is_paid_before_joining_the_solver():
    assert simulate_flows(
        {"l": 100.0}, [FlowRequest(("l",), 200.0, latency=0.5)], model="max-min"
    ) == (pytest.approx([2.5], **TIME))
    # B pays 5 s of latency and does not slow A until then: A has 500 B left at 5 s,
    # both at 50 B/s, B done at 7; A has 400 B left, alone: 7 + 4 = 11.
    times = simulate_flows(
        {"l": 100.0},
        [FlowRequest(("l",), 1000.0), FlowRequest(("l",), 100.0, latency=5.0)],
        model="max-min",
    )
    assert times == pytest.approx([11.0, 7.0], **TIME)


def test_start_and_latency_add_up():
    times = simulate_flows(
        {"l": 10.0}, [FlowRequest(("l",), 20.0, start=3.0, latency=0.25)], model="max-min"
    )
    assert times == pytest.approx([5.25], **TIME)


def test_zero_size_flow_finishes_after_its_latency():
    times = simulate_flows(
        {"l": 10.0},
        [FlowRequest(("l",), 0.0), FlowRequest(("l",), 0.0, start=1.0, latency=2.0)],
        model="max-min",
    )
    assert times == [0.0, 3.0]


@pytest.mark.timeout(10)  # used to hang
def test_empty_route_is_not_limited_by_the_network():
    # A flow with no link to cross is done as soon as it has paid its latency
    # (before the fix in FlowSolver._resolve, a non-zero size here looped forever).
    times = simulate_flows(
        {"l": 10.0},
        [FlowRequest((), 5.0, start=1.0), FlowRequest((), 5.0, latency=0.5)],
        model="max-min",
    )
    assert times == [1.0, 0.5]


@pytest.mark.timeout(10)  # used to hang
def test_flows_far_from_time_zero_finish_without_stalling_the_clock():
    # At now ≈ 3e6 s, float rounding of now + wait can leave a few bytes that no timeout
    # can drain; the solver used to wake forever at one instant (a hang).
    cap = 9.4e8
    requests = [
        FlowRequest(("b",), 76096244.7302951, start=3000006.5159297273, latency=7.887e-4),
        FlowRequest(("b",), 2834748.6238531545, start=3000004.327670679, latency=7.623e-4),
    ]
    times = simulate_flows({"b": cap}, requests, model="max-min")
    expected = [r.start + r.latency + r.size / cap for r in requests]
    assert times == pytest.approx(expected, rel=1e-12, abs=1e-6)


def test_work_conserving_on_one_link():
    rng = random.Random(7)
    sizes = [rng.uniform(1e3, 1e6) for _ in range(10)]
    cap = 12_500.0
    times = simulate_flows({"l": cap}, [FlowRequest(("l",), s) for s in sizes], model="max-min")
    assert max(times) == pytest.approx(sum(sizes) / cap, rel=1e-9)
    # Equal shares: a smaller flow never finishes after a larger one.
    order = sorted(range(len(sizes)), key=lambda i: sizes[i])
    assert [times[i] for i in order] == sorted(times)


def test_simulate_flows_is_deterministic():
    requests = [
        FlowRequest(("a", "b"), 1234.5, start=0.1 * i, latency=0.01 * i) for i in range(6)
    ] + [FlowRequest(("b",), 999.0, start=0.05 * i) for i in range(4)]
    capacity = {"a": 300.0, "b": 450.0}
    assert simulate_flows(capacity, requests) == simulate_flows(capacity, requests)


# --- FlowSolver directly ------------------------------------------------------------------------


def test_abort_frees_bandwidth_and_fails_the_waiter():
    env = simpy.Environment()
    solver = FlowSolver(env, {"l": 100.0}, model="max-min")
    outcome = {}

    def wait(name, flow):
        try:
            outcome[name] = yield flow.done
        except TransferAborted as exc:
            outcome[name] = ("aborted", env.now, str(exc))

    a = solver.start(("l",), 1000.0)
    b = solver.start(("l",), 1000.0)
    env.process(wait("a", a))
    env.process(wait("b", b))

    def abort_a():
        yield env.timeout(4.0)
        solver.abort(a, "test")

    env.process(abort_a())
    env.run()
    # 4 s at 50 B/s each: a sent 200 B; b has 800 B left, alone at 100 B/s → 4 + 8 = 12.
    assert outcome["a"] == ("aborted", 4.0, "test")
    assert a.remaining == pytest.approx(800.0)
    assert outcome["b"] == pytest.approx(12.0, **TIME)
    assert solver.active == []


def test_abort_during_latency_never_joins():
    env = simpy.Environment()
    solver = FlowSolver(env, {"l": 100.0}, model="max-min")
    pending = solver.start(("l",), 1000.0, latency=2.0)
    other = solver.start(("l",), 500.0)
    solver.abort(pending, "gone")
    env.run()
    assert not pending.done.ok
    assert pending.remaining == 1000.0
    assert other.done.value == pytest.approx(5.0, **TIME)  # never shared its link


def test_abort_of_finished_flow_is_a_no_op():
    env = simpy.Environment()
    solver = FlowSolver(env, {"l": 100.0}, model="max-min")
    flow = solver.start(("l",), 100.0)
    env.run()
    solver.abort(flow, "late")
    assert flow.done.ok
    assert flow.done.value == pytest.approx(1.0, **TIME)


# --- the fast solver against a straightforward one ----------------------------------------------


def reference_rates(capacity, routes, weights, bounds):
    """Weighted progressive filling, the plain way: raise one level, freeze what saturates."""
    rates, unfrozen, left = {}, set(routes), dict(capacity)
    while unfrozen:
        share = {
            res: left[res] / sum(weights[f] for f in unfrozen if res in routes[f])
            for res in capacity
            if any(res in routes[f] for f in unfrozen)
        }
        level = min([*share.values(), *(bounds[f] / weights[f] for f in unfrozen)])
        for flow in [f for f in unfrozen if bounds[f] / weights[f] <= level]:
            rates[flow] = bounds[flow]
        for res in [r for r, s in share.items() if s <= level]:
            for flow in [f for f in unfrozen if res in routes[f] and f not in rates]:
                rates[flow] = level * weights[flow]
        for flow in [f for f in unfrozen if f in rates]:
            unfrozen.discard(flow)
            for res in routes[flow]:
                left[res] -= rates[flow]
    return rates


@pytest.mark.parametrize(
    "seed, sets, links, flows, bounded",
    [
        (2013, 300, (1, 8), (1, 15), 0.4),  # small random sets
        (2024, 20, (5, 20), (20, 60), 0.5),  # bottleneck chains: levels saturate in turn
    ],
    ids=["random", "chains"],
)
def test_fast_solver_matches_the_reference(seed, sets, links, flows, bounded):
    rng = random.Random(seed)
    for _ in range(sets):
        names = [f"l{i}" for i in range(rng.randint(*links))]
        capacity = {res: 10 ** rng.uniform(0, 3) for res in names}
        ids = [f"f{i}" for i in range(rng.randint(*flows))]
        routes = {f: tuple(rng.sample(names, rng.randint(1, min(4, len(names))))) for f in ids}
        weights = {f: 10 ** rng.uniform(-2, 2) for f in ids}
        bounds = {f: 10 ** rng.uniform(-1, 3) if rng.random() < bounded else math.inf for f in ids}
        expected = reference_rates(capacity, routes, weights, bounds)
        assert max_min_rates(capacity, routes, weights, bounds) == pytest.approx(expected, rel=1e-9)


# --- LV08 and CM02: closed forms -----------------------------------------------------------------


def test_cm02_two_flows_on_one_link_share_in_inverse_ratio_of_their_latencies():
    # L1 = 0.01 s, L2 = 0.04 s: flow 1 alone on C = 1e6 B/s from 0.01 to 0.04 (30 kB), then
    # shares ∝ 1/L: 0.8 C and 0.2 C. 830 kB → flow 1 done at 0.04 + 0.8e6/0.8e6 = 1.04 s,
    # when flow 2 has sent 0.2 MB; its last 1 MB alone at C → 2.04 s.
    times = simulate_flows(
        {"l": 1e6},
        [FlowRequest(("l",), 830_000, latency=0.01), FlowRequest(("l",), 1_200_000, latency=0.04)],
        model="cm02",
    )
    assert times == pytest.approx([1.04, 2.04], **TIME)


def test_cm02_rates_are_in_ratio_l2_to_l1():
    env = simpy.Environment()
    solver = FlowSolver(env, {"l": 900.0}, model="cm02")
    slow = solver.start(("l",), 1e9, latency=0.002)
    fast = solver.start(("l",), 1e9, latency=0.001)
    env.run(until=0.01)
    assert (slow.rate, fast.rate) == pytest.approx((300.0, 600.0), rel=1e-12)


def test_lv08_single_flow_pays_13_01_latencies_and_gets_97_percent_of_the_link():
    size, bandwidth, latency = 1_000_000.0, 1.25e6, 0.01
    times = simulate_flows({"l": bandwidth}, [FlowRequest(("l",), size, latency=latency)])
    assert times == pytest.approx([13.01 * latency + size / (0.97 * bandwidth)], **TIME)


def test_lv08_weight_s_penalises_flows_over_slow_links():
    # Penalties L + 20537 / B over each link: a over l only, b over l and the slow link s.
    capacity, latency = {"l": 1e6, "s": 5e5}, 0.001
    env = simpy.Environment()
    solver = FlowSolver(env, capacity, model="lv08")
    a = solver.start(("l",), 1e12, latency)
    b = solver.start(("l", "s"), 1e12, latency)
    env.run(until=1.0)
    pa, pb = latency + 20537 / 1e6, latency + 20537 / 1e6 + 20537 / 5e5
    assert a.rate / b.rate == pytest.approx(pb / pa, rel=1e-12)
    assert a.rate + b.rate == pytest.approx(0.97 * 1e6, rel=1e-12)


@pytest.mark.parametrize("model, factor_b, factor_l", [("cm02", 1.0, 1.0), ("lv08", 0.97, 13.01)])
def test_tcp_window_bounds_a_flow_at_gamma_over_twice_its_latency(model, factor_b, factor_l):
    # 2^22 B / (2 × 0.05 s) = 41.9 MB/s, far below the 1.25 GB/s link.
    latency, size = 0.05, 41_943_040.0
    times = simulate_flows({"l": 1.25e9}, [FlowRequest(("l",), size, latency=latency)], model)
    gamma_rate = factor_b * 4194304 / (2 * latency)
    assert times == pytest.approx([factor_l * latency + size / gamma_rate], **TIME)
    assert simulate_flows(
        {"l": 1.25e9}, [FlowRequest(("l",), size, latency=latency)], "max-min"
    ) == pytest.approx([latency + size / 1.25e9], **TIME)


def test_zero_latency_flow_shares_with_penalty_one_as_in_simgrid():
    # SimGrid creates a flow without latency phase with penalty 1 (network_cm02.cpp,
    # comm_action_set_variable), not with its (zero) latency: against L = 0.5 s it gets 1/3.
    env = simpy.Environment()
    solver = FlowSolver(env, {"l": 3.0}, model="cm02")
    zero = solver.start(("l",), 1e9)
    half = solver.start(("l",), 1e9, latency=0.5)
    env.run(until=1.0)
    assert (zero.rate, half.rate) == pytest.approx((1.0, 2.0), rel=1e-12)


def test_rates_stay_max_min_fair_as_flows_join_and_leave_in_any_order():
    # Removal moves the last flow into the freed row: the rows must stay consistent
    # (more than the first allocation of 16 rows, and a longer route joining later).
    rng = random.Random(11)
    capacity = {f"l{i}": rng.uniform(10.0, 100.0) for i in range(8)}
    env = simpy.Environment()
    solver = FlowSolver(env, capacity, model="max-min")
    flows = [
        solver.start(tuple(rng.sample(list(capacity), rng.randint(1, 2 if i < 30 else 5))), 1e12)
        for i in range(40)
    ]
    for victim in rng.sample(flows, 25):
        env.run(until=env.now + 1.0)
        solver.abort(victim, "test")
        env.run(until=env.now + 1.0)
        active = solver.active
        routes = {f: f.route for f in active}
        expected = max_min_rates(capacity, routes)
        assert {f: f.rate for f in active} == pytest.approx(expected, rel=1e-12)
        assert all(f.remaining < 1e12 for f in active)
    assert len(solver.active) == 15


def test_flows_ending_at_one_instant_finish_in_the_order_they_joined():
    # The first flow ends at 1 s and the last one to join takes its place in the arrays.
    env = simpy.Environment()
    solver = FlowSolver(env, {f"l{i}": 50.0 for i in range(6)}, model="max-min")
    order = []

    def wait(name, flow):
        yield flow.done
        order.append((name, env.now))

    for i, size in ((5, 50.0), (3, 100.0), (0, 100.0), (4, 100.0), (1, 100.0), (2, 100.0)):
        env.process(wait(i, solver.start((f"l{i}",), size)))
    env.run()
    assert order == [(5, 1.0), (3, 2.0), (0, 2.0), (4, 2.0), (1, 2.0), (2, 2.0)]
