"""Seed 004 (gear FL): the paper's numbers beside edgesim's.

``section(results)`` receives {scenario file stem: results.json dict} for the
``scenarios/seeds/seed004-*.yaml`` files and returns a Markdown section.
"""

from __future__ import annotations

from typing import Any

MB = 1e6
PAPER = {
    # label: (MB per round, s per round, max accuracy %, time to 90 % of 81.2 (s),
    #         accuracy after 500 MB (%))
    "12-12": ("28.63", "19.8", 76.3, 2238, 48.1),
    "C50000": ("28.63", "31.6", 81.2, 1759, 57.8),
    "12-6": ("3.03", "12.9", 72.1, None, 71.3),
    "Gear20": ("3.03→28.63", "", 77.0, 2174, 52.1),
    "Gear40": ("3.03→28.63", "", 78.6, 1322, 68.2),
    "Gear60": ("3.03→28.63", "", 79.1, 1242, 71.6),
    "Gear80": ("3.03→28.63", "", 79.0, 1315, 72.2),
}
PAPER_BYTES_BUDGET_ROUNDS = 500 / 28.63
"""The paper's "accuracy after 500 MB" is 17.5 rounds of 12-12 traffic; scaled the same here."""


def _curve(run: dict[str, Any], name: str = "global") -> list[list[float]]:
    return next((c["points"] for c in run["curves"] if c["model"] == name), [])


def _time_to(points: list[list[float]], target: float) -> float | None:
    return next((t for t, acc in points if acc >= target), None)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _bytes_curve(run: dict[str, Any]) -> list[tuple[float, int]]:
    if run.get("bytes_curve"):
        return [(t, b) for t, b in run["bytes_curve"]]
    sends = sorted((e[3], int(e[4].split()[-2])) for e in run["timeline"] if e[1] == "send")
    total, curve = 0, []
    for end, nbytes in sends:
        total += nbytes
        curve.append((end, total))
    return curve


def _accuracy_after(run: dict[str, Any], budget: float) -> str:
    points = _curve(run)
    reached = next((t for t, b in _bytes_curve(run) if b >= budget), None)
    if reached is None:
        return f"{points[-1][1]:.3f} (sent only {run['bytes']['total'] / MB:.0f} MB)"
    return f"{max((a for t, a in points if t <= reached), default=0.0):.3f}"


def _ratio(run: dict[str, Any], other: dict[str, Any]) -> float:
    """Seconds per round of ``run`` over ``other`` (both without a gear switch)."""
    return float(_per_round(run)[1]) / float(_per_round(other)[1])


def _transfer_share(run: dict[str, Any]) -> float:
    """Share of the run the server spends sending or receiving (its results' partition)."""
    server = run["devices"]["server"]
    return (server["send_s"] + server["recv_s"]) / run["sim_time_s"]


def _per_round(run: dict[str, Any]) -> tuple[str, str]:
    """MB per round and simulated seconds per round (each gear separately for gear)."""
    counters, rounds = run["counters"], run["counters"].get("rounds", 0) or 1
    if run["scheme"] != "gear":
        return f"{run['bytes']['total'] / rounds / MB:.2f}", f"{run['sim_time_s'] / rounds:.3f}"
    small = counters["small_round_bytes"] / counters["small_rounds"] / MB
    if not counters.get("large_rounds"):
        return f"{small:.2f}", f"{run['sim_time_s'] / rounds:.3f}"
    large = counters["large_round_bytes"] / counters["large_rounds"] / MB
    switch_t, switch_r = counters["switch_time_s"], counters["switch_round"]
    late = (run["sim_time_s"] - switch_t) / (rounds - switch_r)
    return f"{small:.2f}→{large:.2f}", f"{switch_t / switch_r:.3f}→{late:.3f}"


def section(results: dict[str, dict]) -> str:
    runs = {r["label"]: r for res in results.values() for r in res["runs"]}
    needed = ["12-12", "12-6", "C50000"]
    if any(label not in runs for label in needed):
        return f"## Seed 004\n\nMissing runs among {', '.join(needed)}.\n"
    gears = sorted(
        (label for label, r in runs.items() if r["scheme"] == "gear"),
        key=lambda label: runs[label]["counters"].get("switch_round", 1e9),
    )
    order = ["12-12", "C50000", "12-6", *gears]
    reference = max(a for _, a in _curve(runs["C50000"]))
    fractions = [0.6, 0.7, 0.8, 0.9]
    large_round = runs["12-12"]["bytes"]["total"] / runs["12-12"]["counters"]["rounds"]
    budget = PAPER_BYTES_BUDGET_ROUNDS * large_round
    lines = [
        "## Seed 004 — staged model size (gear) FL",
        "",
        "Paper (CIFAR-10, 200 rounds):",
        "",
        "| run | MB / round | s / round | max accuracy (%) | time to 90 % of 81.2 (s) "
        "| accuracy after 500 MB (%) |",
        "|---|---|---|---|---|---|",
    ]
    for label, (mb, sec, best, t90, after) in PAPER.items():
        lines.append(f"| {label} | {mb} | {sec} | {best} | {t90 or '—'} | {after} |")
    lines += [
        "",
        f"edgesim (digits, 30 rounds, switch points scaled 20/40/60/80 of 200 → 3/6/9/12 of "
        f"30; targets are fractions of C50000's best accuracy, {reference:.3f}; the byte "
        f"budget is 17.5 rounds of 12-12 traffic = {budget / MB:.0f} MB, as 500 MB is in the "
        "paper):",
        "",
        "| run | switch after round | MB / round | s / round | final | max | "
        + " | ".join(f"time to {f:.0%} of C50000 max (s)" for f in fractions)
        + " | accuracy after the byte budget | total MB | sim time (s) |",
        "|---" * (9 + len(fractions)) + "|",
    ]
    for label in order:
        run = runs[label]
        points = _curve(run)
        mb, sec = _per_round(run)
        switch = run["counters"].get("switch_round")
        switch_text = f"{switch:.0f}" if switch else ("—" if run["scheme"] != "gear" else "never")
        lines.append(
            f"| {label} | {switch_text} | {mb} | {sec} | {points[-1][1]:.3f} | "
            f"{max(a for _, a in points):.3f} | "
            + " | ".join(_fmt(_time_to(points, f * reference)) for f in fractions)
            + f" | {_accuracy_after(run, budget)} | {run['bytes']['total'] / MB:.1f} | "
            f"{run['sim_time_s']:.3f} |"
        )
    best = {label: max(a for _, a in _curve(runs[label])) for label in order}
    high = 0.9 * reference
    t_large = _time_to(_curve(runs["12-12"]), high)
    lines += ["", "Shape checks:", ""]
    for label in gears:
        t_gear = _time_to(_curve(runs[label]), high)
        more = best[label] > best["12-6"]
        sooner = t_gear is not None and (t_large is None or t_gear < t_large)
        lines.append(
            f"- {label}: best {best[label]:.3f} vs 12-6 {best['12-6']:.3f} — "
            f"{'more accurate' if more else 'NOT more accurate'}; 90 % of C50000's best at "
            f"{_fmt(t_gear)} s vs 12-12 {_fmt(t_large)} s — "
            f"{'sooner' if sooner else 'NOT sooner'}"
        )
    lines += [
        f"- 12-6 sends {_per_round(runs['12-6'])[0]} MB per round vs 12-12's "
        f"{_per_round(runs['12-12'])[0]} (paper 3.03 vs 28.63: ×9.4; here the state-dict "
        "ratio of cnn-large to cnn-small on 8×8 inputs is ×12.9).",
        "",
        "Notes:",
        "",
        f"- Plateaus: 12-6's global model peaks at {best['12-6']:.3f}, 12-12 at "
        f"{best['12-12']:.3f} and C50000 at {reference:.3f} (paper 72.1 / 76.3 / 81.2 %): the "
        "small model limits what reverse distillation can teach the large one, which is the "
        "gap gear closes by switching to the large model.",
        f"- Seconds per round: 12-6 {_per_round(runs['12-6'])[1]} vs 12-12 "
        f"{_per_round(runs['12-12'])[1]} (paper 12.9 vs 19.8 s) and C50000 "
        f"{_per_round(runs['C50000'])[1]} (paper 31.6 s), ×"
        f"{_ratio(runs['12-12'], runs['12-6']):.2f} between 12-12 and 12-6 (paper ×1.53): "
        "here the server's link is busy "
        f"{100 * _transfer_share(runs['12-12']):.0f} % of a 12-12 run, sending 2.2 MB models "
        "to 3 clients over the server's one Gigabit link and taking them back, a cost "
        "that does not grow with the clients' data, so C50000's round is only ×"
        f"{_ratio(runs['C50000'], runs['12-12']):.2f} longer than 12-12's (paper ×1.6, "
        "in proportion to the clients' data).",
        "- gear-auto switches when the small model's accuracy on the server's own validation "
        "split (≈57 samples, charged to the server) has not improved by 1 point within 3 "
        "rounds; it never reads the test set.",
    ]
    return "\n".join(lines) + "\n"
