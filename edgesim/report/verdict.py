"""A plain-language verdict written from the numbers: who wins on what, and by how much.

Each sentence answers one question a reader brings to the page (fastest to each
target, least traffic, least waiting, most accurate at the end, what failures cost)
and names the runner-up or the other extreme so the size of the win is visible. The
sentences are plain text; the page escapes them.

Timing-only runs have no accuracy, so no target to be fastest to: their verdict
starts with the shortest makespan instead, and a run alone is described by its own
time, traffic, waiting and energy, since there is nothing to compare it with.

Runs that stalled come first, with when and why; they take no part in any
comparison after that (a run cut short sends less and spends less energy than one
that finished), so every superlative is about runs that finished.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from edgesim.report import facts, fmt


def target_name(target: float) -> str:
    return f"{target:.0%}" if abs(target * 100 - round(target * 100)) < 1e-9 else f"{target:g}"


def verdict(scenario: dict, runs: Sequence[dict], names: Sequence[str]) -> list[str]:
    """The verdict's sentences, in the order a reader asks the questions."""
    if not runs:
        return ["No runs to compare."]
    named = list(zip(names, runs, strict=True))
    finished = [(name, run) for name, run in named if facts.stall(run) is None]
    sentences = [_stalled(named)]
    if facts.all_timing_only(scenario, runs):
        sentences += [_shortest(finished), _alone(finished, scenario)]
    else:
        sentences += [_fastest(finished, named, t) for t in facts.targets(scenario, runs)]
    sentences += [
        _least_traffic(finished),
        _raw_data(named),
        _least_waiting(finished, scenario),
        _most_accurate(finished),
        _energy(finished),
        _lost_work(named),
    ]
    return [s for s in sentences if s]


def _stalled(named: Sequence[tuple[str, dict]]) -> str:
    stalls = [(name, found) for name, run in named if (found := facts.stall(run)) is not None]
    if not stalls:
        return ""
    parts = _and(
        [
            f"{name} at {fmt.seconds(found.at_s)}" + (f" ({found.reason})" if found.reason else "")
            for name, found in stalls
        ]
    )
    rest = (
        "No run finished, so none is compared."
        if len(stalls) == len(named)
        else "The comparisons below leave stalled runs out."
    )
    return f"Stalled before finishing what was asked: {parts}. {rest}"


def _ranked(
    named: Sequence[tuple[str, dict]], value: Callable[[dict], float | None], highest: bool = False
) -> list[tuple[str, float]]:
    scored = [(name, v) for name, run in named if (v := value(run)) is not None]
    return sorted(scored, key=lambda nv: -nv[1] if highest else nv[1])


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _fastest(
    finished: Sequence[tuple[str, dict]], named: Sequence[tuple[str, dict]], target: float
) -> str:
    """The fastest finished run to ``target``; ``missed`` names every run that never got there."""
    goal = target_name(target)
    reached = _ranked(finished, lambda r: facts.time_to_target(r, target))
    missed = [name for name, run in named if facts.time_to_target(run, target) is None]
    if not reached:
        finishing = "that finished " if len(finished) < len(named) else ""
        return f"No run {finishing}reached {goal} accuracy."
    name, first = reached[0]
    sentence = f"Fastest to {goal} accuracy: {name}, after {fmt.seconds(first)} of simulated time"
    if len(reached) > 1:
        other, second = reached[1]
        sentence += (
            f" ({_times(second, first)} sooner than {other}, {fmt.seconds(second)})"
            if first > 0
            else f" (next: {other}, {fmt.seconds(second)})"
        )
    sentence += "."
    if missed:
        sentence += f" Never got there: {_and(missed)}."
    return sentence


def _shortest(finished: Sequence[tuple[str, dict]]) -> str:
    """The run whose protocol finished soonest, against the one that took longest."""
    ranked = _ranked(finished, lambda r: r.get("sim_time_s"))
    if len(ranked) < 2:
        return ""
    (first, low), (last, high) = ranked[0], ranked[-1]
    if low == high:
        return f"Every run took the same simulated time ({fmt.seconds(low)})."
    return (
        f"Shortest: {first}, done after {fmt.seconds(low)} of simulated time "
        f"({_times(high, low)} sooner than {last}, {fmt.seconds(high)})."
    )


def _alone(finished: Sequence[tuple[str, dict]], scenario: dict) -> str:
    """One finished run's own figures, when there is no other run to compare it with."""
    if len(finished) != 1:
        return ""
    ((name, run),) = finished
    sentence = (
        f"{name} took {fmt.seconds(float(run.get('sim_time_s') or 0.0))} of simulated time "
        f"and sent {fmt.nbytes(float((run.get('bytes') or {}).get('total') or 0))}"
    )
    mean = facts.mean_wait_share(run, scenario)
    worst = facts.worst_wait(run, scenario)
    if mean is not None and worst is not None:
        sentence += (
            f"; its clients spent {fmt.percent(mean)} of the run blocked on others on "
            f"average, {worst[0]} the most ({fmt.percent(worst[1])})"
        )
    energy = facts.total_energy(run)
    if energy is not None:
        sentence += f"; its devices used {fmt.energy(energy)}"
    return sentence + "."


def _times(larger: float, smaller: float) -> str:
    return fmt.ratio(larger / smaller) if smaller > 0 else "far"


def _least_traffic(named: Sequence[tuple[str, dict]]) -> str:
    ranked = _ranked(named, lambda r: (r.get("bytes") or {}).get("total"))
    if len(ranked) < 2:
        return ""
    (most, high) = ranked[-1]
    if ranked[0][1] == high:
        return f"Every run sent the same traffic ({fmt.nbytes(high)})."
    silent = [name for name, nbytes in ranked if nbytes == 0]
    sending = [(name, nbytes) for name, nbytes in ranked if nbytes > 0]
    least, low = sending[0]
    if silent:
        sentence = f"Sent nothing over the network: {_and(silent)}. Least traffic otherwise: "
    else:
        sentence = "Least traffic: "
    sentence += f"{least} ({fmt.nbytes(low)}"
    if least != most:
        sentence += f", {_times(high, low)} less than {most}'s {fmt.nbytes(high)}"
    return sentence + ")."


def _raw_data(named: Sequence[tuple[str, dict]]) -> str:
    leaking = [(n, b) for n, r in named if (b := (r.get("bytes") or {}).get("raw_data") or 0) > 0]
    if not leaking:
        return "No run moved raw training data off the devices."
    moved = _and([f"{name} ({fmt.nbytes(nbytes)})" for name, nbytes in leaking])
    only = "Only " if len(leaking) < len(named) else ""
    return f"{only}{moved} moved raw training data off the devices."


def _least_waiting(named: Sequence[tuple[str, dict]], scenario: dict) -> str:
    ranked = _ranked(named, lambda r: facts.mean_wait_share(r, scenario))
    if len(ranked) < 2 or ranked[0][1] == ranked[-1][1]:
        return ""
    (least, low), (most, high) = ranked[0], ranked[-1]
    sentence = (
        f"Least waiting: {least} (clients spent {fmt.percent(low)} of the run blocked on others, "
        f"on average); most: {most} ({fmt.percent(high)}"
    )
    worst = facts.worst_wait(dict(named)[most], scenario)
    if worst is not None:
        sentence += f"; {worst[0]} waited {fmt.percent(worst[1])}"
    return sentence + ")."


def _most_accurate(named: Sequence[tuple[str, dict]]) -> str:
    ranked = _ranked(named, lambda r: r.get("final_accuracy"), highest=True)
    if not ranked:
        return ""
    name, best = ranked[0]
    sentence = f"Most accurate at the end: {name} ({fmt.percent(best)})"
    if len(ranked) > 1:
        sentence += f", then {ranked[1][0]} ({fmt.percent(ranked[1][1])})"
    if len(ranked) > 2:
        sentence += f"; least: {ranked[-1][0]} ({fmt.percent(ranked[-1][1])})"
    return sentence + "."


def _energy(named: Sequence[tuple[str, dict]]) -> str:
    ranked = _ranked(named, facts.total_energy)
    if len(ranked) < 2 or ranked[0][1] == ranked[-1][1]:
        return ""
    (least, low), (most, high) = ranked[0], ranked[-1]
    return (
        f"Least energy: {least} ({fmt.energy(low)} over all devices); "
        f"most: {most} ({fmt.energy(high)})."
    )


def _lost_work(named: Sequence[tuple[str, dict]]) -> str:
    lost = [(name, seconds) for name, run in named if (seconds := facts.lost_work(run)) > 0]
    if not lost:
        return ""
    parts = _and([f"{fmt.seconds(seconds)} in {name}" for name, seconds in lost])
    return f"Failures and deadlines threw away compute: {parts}."
