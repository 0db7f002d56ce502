"""Which scheme to pick: the candidates, who dominates whom, and the recommendation.

A reader brings one question to the report: on this fleet, which scheme, and why.
The answer depends on what the deployment allows, so the page states the
constraints and answers under each (:func:`decide`): raw data may leave the devices
or it may not (a scheme that uploads training samples, ``bytes.raw_data`` > 0 in
its results, such as centralized or ecavg, is then out). The choice under a
constraint follows one stated rule (:data:`RULE`): the most accurate at the end,
where schemes within :data:`TIE_PP` percentage points count as equally accurate
and the one that reached the highest target they all reached soonest wins (else
the one done sooner), then the one that sent less. The target decides when the
schemes were all stopped at one simulated horizon, where "done sooner" would say
nothing. Timing-only runs have no
accuracy: the shortest makespan wins, then the least traffic.

A candidate is one run, or one scheme's mean over seeds
(:mod:`edgesim.report.aggregate`), so a run report and a multi-seed report decide
the same way. The Pareto view (:func:`dominated`) greys the candidates that another
one beats or equals on every axis: more accurate, sooner, fewer bytes, less energy,
no more raw data moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edgesim.report import facts, fmt

TIE_PP = 1.0
"""Final accuracies this many percentage points apart count as a tie (seed noise)."""

RULE = (
    f"the most accurate at the end; schemes within {TIE_PP:g} percentage point of it count "
    "as tied, and of those the one that reached the highest target they all reached soonest "
    "wins (if they share none, the one done in less simulated time), then the one that "
    "sent fewer bytes"
)
TIMING_RULE = "the shortest simulated time, then the fewest bytes sent"


@dataclass(frozen=True)
class Candidate:
    """A scheme's figures as the decision reads them (a run's, or a mean over seeds)."""

    name: str
    accuracy: float | None
    time_s: float | None
    bytes: float | None
    energy_j: float | None
    raw_bytes: float
    stalled: bool = False
    reached: tuple[tuple[float, float], ...] = ()
    """``(target accuracy, simulated seconds to reach it)`` for each target it reached."""


@dataclass(frozen=True)
class Constraint:
    """A condition the deployment sets; ``key`` names it in the page's markup."""

    key: str
    phrase: str


RAW_DATA_MAY_LEAVE = Constraint("raw-data-may-leave", "If raw data may leave the devices")
RAW_DATA_STAYS = Constraint("raw-data-stays", "If raw data may not leave the devices")
NO_RAW_DATA = Constraint("raw-data-stays", "No scheme here moves raw data off the devices; pick")


@dataclass(frozen=True)
class Choice:
    """The recommendation under one constraint: the pick, the runner-up and why."""

    constraint: Constraint
    pick: Candidate | None
    runner_up: Candidate | None
    sentence: str


def candidate(run: dict, name: str) -> Candidate:
    """One run as a candidate."""
    sent = run.get("bytes") or {}
    return Candidate(
        name=name,
        accuracy=run.get("final_accuracy"),
        time_s=run.get("sim_time_s"),
        bytes=sent.get("total"),
        energy_j=facts.total_energy(run),
        raw_bytes=float(sent.get("raw_data") or 0.0),
        stalled=facts.stall(run) is not None,
        reached=tuple(
            sorted(
                (float(target), float(seconds))
                for target, seconds in (run.get("time_to_accuracy_s") or {}).items()
                if seconds is not None
            )
        ),
    )


def ranked(candidates: Sequence[Candidate], timing_only: bool) -> list[Candidate]:
    """Finished candidates, best first, by :data:`RULE` (or :data:`TIMING_RULE`)."""
    finished = [c for c in candidates if not c.stalled]
    if timing_only:
        return sorted(finished, key=lambda c: (_or_inf(c.time_s), _or_inf(c.bytes), c.name))
    scored = [c for c in finished if c.accuracy is not None]
    if not scored:
        return []
    best = max(float(c.accuracy or 0.0) for c in scored)
    tied = [c for c in scored if (best - float(c.accuracy or 0.0)) * 100 <= TIE_PP + 1e-9]
    rest = [c for c in scored if c not in tied]
    common = set.intersection(*(set(dict(c.reached)) for c in tied))
    deciding = max(common, default=None)

    def speed(c: Candidate) -> tuple:
        to_target = dict(c.reached)[deciding] if deciding is not None else 0.0
        return (to_target, _or_inf(c.time_s), _or_inf(c.bytes), c.name)

    return sorted(tied, key=speed) + sorted(rest, key=lambda c: (-float(c.accuracy or 0.0), c.name))


def _or_inf(value: float | None) -> float:
    return float("inf") if value is None else float(value)


def decide(candidates: Sequence[Candidate], timing_only: bool) -> list[Choice]:
    """The recommendation under each constraint that tells the candidates apart."""
    moving = [c for c in candidates if c.raw_bytes > 0]
    if not moving:
        return [_choice(NO_RAW_DATA, candidates, timing_only)]
    keeping = [c for c in candidates if c.raw_bytes == 0]
    return [
        _choice(RAW_DATA_MAY_LEAVE, candidates, timing_only),
        _choice(RAW_DATA_STAYS, keeping, timing_only),
    ]


def _choice(constraint: Constraint, candidates: Sequence[Candidate], timing_only: bool) -> Choice:
    order = ranked(candidates, timing_only)
    if not order:
        return Choice(constraint, None, None, f"{constraint.phrase}: no scheme here qualifies.")
    pick = order[0]
    runner = order[1] if len(order) > 1 else None
    sentence = f"{constraint.phrase}: {pick.name}, {figures(pick)}."
    if runner is not None:
        sentence += f" Runner-up: {runner.name}, {figures(runner)}: {trade_off(pick, runner)}."
    return Choice(constraint, pick, runner, sentence)


def figures(c: Candidate) -> str:
    """``96.7 %, 2.1 s, 81 MB``: accuracy (when there is one), time and traffic."""
    parts = [] if c.accuracy is None else [fmt.percent(c.accuracy)]
    parts += [fmt.seconds(c.time_s), fmt.nbytes(c.bytes)]
    if c.raw_bytes > 0:
        share = "all" if c.raw_bytes == c.bytes else fmt.nbytes(c.raw_bytes)
        parts.append(f"{share} of it raw data")
    return ", ".join(parts)


def trade_off(pick: Candidate, other: Candidate) -> str:
    """What ``other`` gives up and gains against ``pick``, in the reader's words."""
    gains, losses = [], []
    if pick.accuracy is not None and other.accuracy is not None:
        gap = (other.accuracy - pick.accuracy) * 100
        if abs(gap) >= 0.05:
            (gains if gap > 0 else losses).append(f"{abs(gap):.1f} pp {_more(gap)} accurate")
    for value, mine, better, worse in (
        (other.time_s, pick.time_s, "sooner", "slower"),
        (other.bytes, pick.bytes, "less traffic", "more traffic"),
        (other.energy_j, pick.energy_j, "less energy", "more energy"),
    ):
        if value is None or mine is None or value == mine:
            continue
        factor = max(value, mine) / min(value, mine) if min(value, mine) > 0 else None
        if factor is not None and fmt.ratio(factor) == fmt.ratio(1.0):
            continue  # "1× more energy" says nothing
        said = f"{fmt.ratio(factor)} " if factor is not None else ""
        (gains if value < mine else losses).append(said + (better if value < mine else worse))
    if pick.raw_bytes > 0 and other.raw_bytes == 0:
        gains.append("keeps raw data on the devices")
    elif pick.raw_bytes == 0 and other.raw_bytes > 0:
        losses.append("moves raw data off the devices")
    if not gains and not losses:
        return "the same figures"
    if not gains:
        return ", ".join(losses)
    if not losses:
        return ", ".join(gains)
    return f"{', '.join(gains)}, but {', '.join(losses)}"


def _more(gap: float) -> str:
    return "more" if gap > 0 else "less"


def dominated(candidates: Sequence[Candidate], timing_only: bool) -> set[str]:
    """Names of candidates another one equals or beats on every axis, and beats on one.

    Axes: final accuracy (higher is better; left out for timing-only), simulated time,
    bytes, energy and raw data moved (lower is better): a scheme that keeps raw data
    on the devices is never beaten by one that moves it. A missing figure counts as
    the worst; stalled candidates are always dominated (their figures are those of a
    run cut short).
    """

    def axes(c: Candidate) -> tuple[float, ...]:
        lower = (_or_inf(c.time_s), _or_inf(c.bytes), _or_inf(c.energy_j), c.raw_bytes)
        return lower if timing_only else (-_or_inf_low(c.accuracy), *lower)

    out = {c.name for c in candidates if c.stalled}
    finished = [c for c in candidates if not c.stalled]
    for c in finished:
        mine = axes(c)
        for other in finished:
            theirs = axes(other)
            better = all(t <= m for t, m in zip(theirs, mine, strict=True))
            if other is not c and better and theirs != mine:
                out.add(c.name)
                break
    return out


def _or_inf_low(value: float | None) -> float:
    return float("-inf") if value is None else float(value)
