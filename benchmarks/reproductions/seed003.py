"""Seed 003 (async FL with distillation): the paper's numbers beside edgesim's.

``section(results)`` receives {scenario file stem: results.json dict} for the
``scenarios/seeds/seed003-*.yaml`` files and returns a Markdown section.
"""

from __future__ import annotations

from typing import Any

PAPER_TIME_TO_60 = {
    "sync-forward": 436.0,
    "sync-no-forward": 406.0,
    "async-per-round": 308.0,
    "async-continuous": 244.0,
}
"""Seconds for the global model to reach 60 % on CIFAR-10 (seeds.md, seed 003)."""

ORDER = ["async-continuous", "async-per-round", "sync-no-forward", "sync-forward"]


def _curve(run: dict[str, Any], name: str) -> list[list[float]]:
    return next((c["points"] for c in run["curves"] if c["model"] == name), [])


def _time_to(points: list[list[float]], target: float) -> float | None:
    return next((t for t, acc in points if acc >= target), None)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _client_wait(run: dict[str, Any]) -> float:
    clients = [d for name, d in run["devices"].items() if name != "server"]
    return sum(d["wait_s"] for d in clients) / max(len(clients), 1)


def _pair(runs: dict[str, Any], slow: str, fast: str, target: float) -> str:
    a = _time_to(_curve(runs[slow], "global"), target)
    b = _time_to(_curve(runs[fast], "global"), target)
    return _fmt(a / b, 2) if a is not None and b else "—"


def _ratio(runs: dict[str, Any], label: str, target: float) -> str:
    base = _time_to(_curve(runs["async-continuous"], "global"), target)
    mine = _time_to(_curve(runs[label], "global"), target)
    return _fmt(mine / base, 2) if mine is not None and base else "—"


def section(results: dict[str, dict]) -> str:
    runs = {r["label"]: r for res in results.values() for r in res["runs"]}
    missing = [label for label in ORDER if label not in runs]
    if missing:
        return f"## Seed 003\n\nMissing runs: {', '.join(missing)}.\n"
    targets = sorted({float(t) for r in runs.values() for t in r["time_to_accuracy_s"]})
    lines = [
        "## Seed 003 — asynchronous FL with distillation",
        "",
        "Digits in place of CIFAR-10; 3 Jetson Xavier NX clients, both servers on one "
        "RTX 2080 Ti PC, cnn-large global / cnn-small small model, server 40 % of the data "
        "(distillation only), 30 rounds. Times are simulated seconds; the global (large) "
        "model's curve is the one judged.",
        "",
        "| scheme | paper: time to 60 % (s) | paper ratio to continuous | "
        + " | ".join(f"edgesim: time to {t:.0%} (s)" for t in targets)
        + " | edgesim ratio to continuous (first target) | final global | best global "
        "| final small | sim time (s) | mean client wait (s) | distill steps |",
        "|---" * (10 + len(targets)) + "|",
    ]
    first = targets[0]
    base = _time_to(_curve(runs["async-continuous"], "global"), first)
    for label in reversed(ORDER):
        run = runs[label]
        glob, small = _curve(run, "global"), _curve(run, "small")
        times = [_time_to(glob, t) for t in targets]
        ratio = times[0] / base if times[0] is not None and base else None
        lines.append(
            f"| {label} | {PAPER_TIME_TO_60[label]:.0f} | "
            f"{PAPER_TIME_TO_60[label] / PAPER_TIME_TO_60['async-continuous']:.2f} | "
            + " | ".join(_fmt(t) for t in times)
            + f" | {_fmt(ratio, 2)} | {_fmt(glob[-1][1])} | {_fmt(max(a for _, a in glob))} | "
            f"{_fmt(small[-1][1])} | {run['sim_time_s']:.3f} | {_client_wait(run):.3f} | "
            f"{run['counters'].get('distill_steps', 0):.0f} |"
        )
    lines += ["", "Shape checks (time for the global model to reach each target):", ""]
    for target in targets:
        times = {label: _time_to(_curve(runs[label], "global"), target) for label in ORDER}
        known = [times[label] for label in ORDER]
        holds = None not in known and known[0] < known[1] < known[2] and (known[2] <= known[3])
        chain = " < ".join(f"{label} {_fmt(times[label])}" for label in ORDER[:3])
        lines.append(
            f"- {target:.0%}: {chain} ≤ sync-forward {_fmt(times['sync-forward'])} — "
            f"{'holds' if holds else 'does NOT hold'}"
        )
    fwd, nofwd = runs["sync-forward"], runs["sync-no-forward"]
    same_values = [a for _, a in _curve(runs["async-per-round"], "global")] == [
        a for _, a in _curve(nofwd, "global")
    ]
    best = {label: max(a for _, a in _curve(runs[label], "global")) for label in ORDER}
    lines += [
        "",
        "Notes:",
        "",
        "- The paper's drawback — without forward distillation the global model ends less "
        "accurate — "
        + (
            "appears here"
            if fwd["final_accuracy"] > nofwd["final_accuracy"]
            else "does not appear here: forward distillation from a still-weak global model "
            "pulls the small model back (final small model: with "
            f"{_curve(fwd, 'small')[-1][1]:.3f}, without {_curve(nofwd, 'small')[-1][1]:.3f}), "
            "so the global model it teaches ends lower too"
        )
        + f" (final global: with {fwd['final_accuracy']:.3f}, without "
        f"{nofwd['final_accuracy']:.3f}; best: with {best['sync-forward']:.3f}, without "
        f"{best['sync-no-forward']:.3f}).",
        "- Async per-round performs the computations of sync without forward distillation "
        "(same batches, same order), only earlier: clients never wait for the reverse "
        "distillation, which runs on the shared PC while they train. Its global accuracies, "
        "round by round, are "
        + ("identical to" if same_values else "NOT identical to")
        + " the sync run's — the curve is shifted in time "
        f"(mean client wait: sync {_client_wait(nofwd):.3f} s, async "
        f"{_client_wait(runs['async-per-round']):.3f} s).",
        f"- Magnitudes: sync with forward / async per-round is "
        f"×{_pair(runs, 'sync-forward', 'async-per-round', first)} here vs ×1.42 in the paper, "
        f"but async per-round / continuous is ×{_ratio(runs, 'async-per-round', first)} vs "
        "×1.26: continuous mode gains far more here — with 518 server samples the large model "
        "learns quickly from the many extra distillation steps it takes while the clients "
        "train; first crossings of a noisy curve also exaggerate differences.",
        "- Continuous mode distils many more steps from each (fresher) small model in the "
        "time a round takes, which is why the global model catches up with the small one "
        "sooner.",
        "- Digits' global curve is noisy (pure distillation of a 12-layer CNN at lr 0.05 on "
        "518 server samples); targets are judged at the first crossing.",
    ]
    return "\n".join(lines) + "\n"
