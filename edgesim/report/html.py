"""The comparison report of a results dict: which scheme, on this fleet, and why.

The page, top to bottom, follows the questions a reader brings: what was simulated
and the verdict; the numbers side by side; accuracy over time and over bytes; the
timeline of every device (stragglers and waiting); where each device's time went;
the network and its traffic; energy; and, when runs from several files are
combined, each metric across settings and seeds. Every part is built from the
results dict alone (docs/results.md); :mod:`edgesim.report.page` makes it one
self-contained, escaped, byte-stable file.

Two kinds of run change the page. A timing-only run has no accuracy: the page says
so at the top, and leaves out the accuracy charts and columns rather than drawing
them empty. Above :data:`edgesim.report.facts.AGGREGATE_ABOVE` devices a row or bar
per device would be thinner than a pixel and the page megabytes long, so per-device
views become per-group ones (:func:`edgesim.report.facts.device_groups`): how many
of a group's devices did what over time, its mean device, and the spread of its
devices as boxes; the page then grows with the number of groups, not of devices.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from edgesim.report import aggregate, facts, fmt, pareto
from edgesim.report.colours import profile_colours
from edgesim.report.figures.accuracy import accuracy_bytes_figure, accuracy_time_figure
from edgesim.report.figures.breakdown import breakdown_figure
from edgesim.report.figures.distribution import ENERGY, TIME_QUANTITIES, distribution_figure
from edgesim.report.figures.energy import energy_by_profile_figure, energy_per_device_figure
from edgesim.report.figures.network import link_traffic_figure, topology, topology_figure
from edgesim.report.figures.pareto import pareto_figure
from edgesim.report.figures.spread import Metric, Point, spread_figure
from edgesim.report.figures.timeline import (
    ACTIVITY_BINS,
    activity_figure,
    group_activity,
    idle_spans,
    spans_of,
    timeline_figure,
    timeline_spans,
)
from edgesim.report.page import Section, assemble_page, figure_html, note, text, write_page
from edgesim.report.summary import aggregate_table, stall_tag, summary_table
from edgesim.report.verdict import target_name, verdict


def render_report(results: dict, path: str | Path) -> Path:
    """Write the HTML report of ``results`` (loaded results.json) to ``path``, atomically."""
    return write_page(path, report_page(results))


def report_page(results: dict) -> str:
    scenario = results.get("scenario") or {}
    runs = results.get("runs") or []
    names = facts.run_names(runs)
    detailed = _detailed(scenario, runs)
    detail_runs = [runs[i] for i in detailed]
    detail_names = [names[i] for i in detailed]
    if aggregate.seeds_of_one_scenario(scenario, runs):
        summary = aggregate_table(scenario, runs) + (
            "<details><summary>Every run</summary>\n"
            + summary_table(scenario, runs, names)
            + "\n</details>"
        )
    else:
        summary = summary_table(scenario, runs, names)
    sections = [Section("summary", "Summary", summary)]
    if not facts.all_timing_only(scenario, runs):
        sections.append(Section("accuracy", "Accuracy", _accuracy(scenario, runs, names)))
    sections += [
        Section("timeline", "Timeline", _timelines(scenario, detail_runs, detail_names)),
        Section("time", "Where time goes", _breakdown(scenario, detail_runs, detail_names)),
        Section("network", "Network", _network(scenario, detail_runs, detail_names)),
        Section("energy", "Energy", _energy(scenario, detail_runs, detail_names)),
    ]
    if len(detailed) < len(runs):
        sections.append(Section("across", "Across runs", _across(scenario, runs)))
    title = f"edgesim report: {scenario.get('name', '')}"
    return assemble_page(title, _header(results, names), sections)


def _detailed(scenario: dict, runs: Sequence[dict]) -> list[int]:
    """Runs shown in per-device views: those of the first file when several are combined."""
    if not runs:
        return []
    first = facts.origin_key(runs[0], scenario)
    return [i for i, run in enumerate(runs) if facts.origin_key(run, scenario) == first]


def _big(scenario: dict) -> bool:
    return len(scenario.get("devices") or []) > facts.AGGREGATE_ABOVE


def _header(results: dict, names: Sequence[str]) -> str:
    """The first screen: what was simulated, the decision, the trade-off chart; details folded."""
    scenario = results.get("scenario") or {}
    runs = results.get("runs") or []
    timed = facts.all_timing_only(scenario, runs)
    seeds = aggregate.seeds_of_one_scenario(scenario, runs)
    if seeds:
        summaries = aggregate.by_scheme(scenario, runs)
        candidates = [s.candidate() for s in summaries]
        findings = _seed_findings(summaries, runs)
    else:
        candidates = [pareto.candidate(run, name) for run, name in zip(runs, names, strict=True)]
        findings = " ".join(verdict(scenario, runs, names))
    keys = [c.name for c in candidates] if seeds else [facts.base_label(run) for run in runs]
    return (
        f"<header>\n<h1>{text(scenario.get('name', 'unnamed scenario'))}</h1>\n"
        f'<p class="description">{text(scenario.get("description") or "")}</p>\n'
        + _timing_only_note(scenario, runs, names)
        + decision_html(candidates, timed, _budget_note(scenario))
        + figure_html("fig-pareto", pareto_figure(candidates, timed, keys))
        + note(
            "Every scheme a point"
            + (" (its mean over seeds)" if seeds else "")
            + "; grey: dominated, another scheme is at least as good on every axis "
            + (
                "(less simulated time, bytes, energy and raw data moved)"
                if timed
                else "(accuracy, simulated time, bytes, energy and raw data moved)"
            )
            + " and better on one. Hover a point for its figures."
        )
        + f'<p class="verdict"><strong>Findings.</strong> {text(findings)}</p>\n'
        + _metadata(results, names)
        + "</header>"
    )


def decision_html(candidates: Sequence[pareto.Candidate], timing_only: bool, budget: str) -> str:
    """The recommendation under each stated constraint, as a list the tests can read.

    Each item carries ``data-constraint`` and ``data-scheme`` (the pick) so a test (and
    a script) can check the pick against the summary table without parsing sentences.
    """
    items = "\n".join(
        f'<li class="choice" data-constraint="{text(c.constraint.key)}" '
        f'data-scheme="{text(c.pick.name if c.pick else "")}">{text(c.sentence)}</li>'
        for c in pareto.decide(candidates, timing_only)
    )
    rule = pareto.TIMING_RULE if timing_only else pareto.RULE
    return (
        f'<div class="decision"><strong>Verdict.</strong>\n<ul>\n{items}\n</ul>\n'
        + note(f"Recommended: {text(rule)}; stalled runs are never picked. {text(budget)}")
        + "</div>\n"
    )


def _budget_note(scenario: dict) -> str:
    """Which limits the verdict could weigh: only raw data today (scenarios set no budget)."""
    return (
        "Raw data leaving a device is read off each run's raw-data bytes. The scenario "
        "sets no traffic or energy budget, so none is applied."
    )


def _seed_findings(summaries: Sequence[aggregate.SchemeSummary], runs: Sequence[dict]) -> str:
    """What the seeds say beyond the means: how many runs each scheme had, and stalls."""
    seeds = len({facts.origin_key(run, {}) for run in runs})
    parts = [f"Means over {fmt.plural(seeds, 'seed')} of one scenario, one row per scheme below."]
    stalled = [f"{s.name} ({s.stalled} of {s.runs})" for s in summaries if s.stalled]
    if stalled:
        parts.append("Stalled runs, left out of every mean: " + ", ".join(stalled) + ".")
    missed = [
        f"{s.name} reached {target_name(float(key.removeprefix('time_to_')))} in "
        f"{spread.n} of {spread.of} runs"
        for s in summaries
        for key, spread in s.spreads.items()
        if key.startswith("time_to_") and spread.n < spread.of
    ]
    if missed:
        parts.append("Not every seed reached every target: " + "; ".join(missed) + ".")
    return " ".join(parts)


def _metadata(results: dict, names: Sequence[str]) -> str:
    """Fleet, data, training, versions: folded, since a reader opens them to check a run."""
    scenario = results.get("scenario") or {}
    runs = results.get("runs") or []
    meta = results.get("meta") or {}
    devices = scenario.get("devices") or []
    links = scenario.get("links") or []
    roles = Counter(str(d.get("role", "?")) for d in devices)
    link_profiles = Counter(str(link.get("profile", "?")) for link in links)
    switches = scenario.get("switches") or []
    facts_rows = [
        (
            "Fleet",
            f"{fmt.plural(len(devices), 'device')}: {facts.fleet_summary(scenario)}"
            if devices
            else "—",
        ),
        ("Roles", ", ".join(fmt.plural(n, role) for role, n in roles.items()) or "—"),
        (
            "Links",
            f"{len(links)}: " + ", ".join(f"{n} × {p}" for p, n in link_profiles.items())
            if links
            else "—",
        ),
        ("Switches", ", ".join(str(s) for s in switches) or "—"),
        ("Data", _describe(facts.data_settings(scenario.get("data") or {}))),
        ("Training", _describe(scenario.get("training") or {})),
        ("Model update", facts.update_sizes(scenario)),
        ("Model size", facts.model_sizes(scenario)),
        ("Seed", scenario.get("seed", "—")),
        ("Targets", _targets(scenario, runs)),
        ("Runs", ", ".join(names) or "—"),
        ("edgesim", meta.get("edgesim_version", "?")),
        ("torch", f"{meta.get('torch_version', '?')} on {meta.get('torch_device', '?')}"),
    ]
    notes = meta.get("accuracy_notes") or []
    if notes:
        facts_rows.append(("Accuracy notes", "; ".join(str(n) for n in notes)))
    sources = results.get("sources") or []
    if len(sources) > 1:
        facts_rows.append(
            (
                "Combined from",
                "; ".join(f"{s['file']} ({s['scenario']}, seed {s['seed']})" for s in sources),
            )
        )
    rows = "\n".join(f"<dt>{text(k)}</dt><dd>{text(v)}</dd>" for k, v in facts_rows)
    accuracy_note = (
        note("Accuracy is not bit-identical across devices: " + text("; ".join(map(str, notes))))
        if notes
        else ""
    )
    return (
        f'{accuracy_note}<details class="meta"><summary>Scenario, fleet and versions'
        f'</summary>\n<dl class="facts">\n{rows}\n</dl>\n</details>\n'
    )


def _timing_only_names(scenario: dict, runs: Sequence[dict], names: Sequence[str]) -> list[str]:
    return [n for n, run in zip(names, runs, strict=True) if facts.timing_only(run, scenario)]


def _timing_only_note(scenario: dict, runs: Sequence[dict], names: Sequence[str]) -> str:
    """The banner of a page with timing-only runs: why there is no accuracy to read."""
    timed = _timing_only_names(scenario, runs, names)
    if not timed:
        return ""
    which = (
        "Every run here is timing-only"
        if len(timed) == len(runs)
        else f"Timing-only: {', '.join(timed)}"
    )
    return (
        f'<p class="timing-only"><strong>No accuracy recorded.</strong> {text(which)}: '
        "its protocol ran on the same clock, cost model, network, failures and energy "
        "as a real run, but took no torch step, so there are no accuracy curves or "
        "targets; it is judged on simulated time, traffic, waiting and energy.</p>\n"
    )


def _targets(scenario: dict, runs: Sequence[dict]) -> str:
    if facts.all_timing_only(scenario, runs):
        return "none judged (timing-only: no accuracy)"
    return ", ".join(f"{float(t):g}" for t in scenario.get("targets") or []) or "—"


def _describe(settings: dict, prefix: str = "") -> str:
    """``key value`` pairs of a settings block, nested keys dotted, empty ones left out."""
    parts = []
    for key, value in settings.items():
        if isinstance(value, dict):
            inner = _describe(value, f"{prefix}{key}.")
            if inner:
                parts.append(inner)
        elif value is not None:
            parts.append(f"{prefix}{key} {value}")
    return ", ".join(parts)


def _accuracy(scenario: dict, runs: Sequence[dict], names: Sequence[str]) -> str:
    """Accuracy charts; timing-only runs are named and drawn nowhere (they have no curve)."""
    targets = facts.targets(scenario, runs)
    timed = _timing_only_names(scenario, runs, names)
    over_time = accuracy_time_figure(runs, names, targets, per_device=not _big(scenario))
    over_bytes, left_out = accuracy_bytes_figure(runs, names, targets)
    parts = (
        [note(f"Not drawn, timing-only (no accuracy): {text(', '.join(timed))}.")] if timed else []
    )
    parts += [
        "<h3>Over simulated time</h3>",
        figure_html("fig-accuracy", over_time),
        note(
            "Solid: the global model; dashed: the mean of the models in use on the devices "
            "(schemes without one global model, e.g. local). Dotted lines: accuracy targets. "
            "Click a legend entry &ldquo;each device&rdquo; to show every device's model."
        ),
        "<h3>Over bytes sent</h3>",
        figure_html("fig-accuracy-bytes", over_bytes),
        note(
            "Each observation placed at the traffic sent so far in its run: what an accuracy "
            "costs on the network. Not drawn: " + text(", ".join(left_out))
            if left_out
            else "Each observation placed at the traffic sent so far in its run."
        ),
    ]
    return "\n".join(parts)


def _timelines(scenario: dict, runs: Sequence[dict], names: Sequence[str]) -> str:
    order = [str(d.get("id")) for d in scenario.get("devices") or []]
    big = _big(scenario)
    parts = []
    if big:
        parts.append(
            note(
                f"{len(order)} devices: more than {facts.AGGREGATE_ABOVE}, so each group of "
                "devices (a profile, split by access link where that differs) is one panel "
                "showing how many of its devices were in each activity over time, in "
                f"{ACTIVITY_BINS} bins (a device training while it transfers counts in both)."
            )
        )
    else:
        parts.append(
            note(
                "One row per device. Thin bars: sends and receives (a device may train while "
                "a transfer runs). Pale: idle (up, nothing to do). Hover a bar for what "
                "happened; drag to zoom."
            )
        )
    for i, (run, name) in enumerate(zip(runs, names, strict=True)):
        parts.append(f"<h3>{text(name)}{stall_tag(run)}</h3>")
        spans = spans_of(run.get("timeline") or [])
        if not spans:
            parts.append(
                note(
                    "No timeline events recorded"
                    + (
                        "; the per-group boxes under “Where time goes” are the devices' totals."
                        if big
                        else "."
                    )
                )
            )
            continue
        end = max(float(run.get("sim_time_s") or 0.0), max(s.end for s in spans))
        if big:
            groups = facts.device_groups(scenario)
            devices = {d: groups.get(d, "?") for d in order or (run.get("devices") or {})}
            centres, activity = group_activity(spans, devices, end)
            counts = Counter(devices.values())
            parts.append(
                figure_html(f"fig-timeline-{i}", activity_figure(centres, activity, counts))
            )
            continue
        drawn, simplified = timeline_spans([*idle_spans(spans, order, end), *spans])
        if simplified:
            parts.append(note(f"Simplified for speed: {text(simplified)}"))
        parts.append(figure_html(f"fig-timeline-{i}", timeline_figure(drawn, order)))
    return "\n".join(parts)


def _breakdown(scenario: dict, runs: Sequence[dict], names: Sequence[str]) -> str:
    groups = facts.device_groups(scenario) if _big(scenario) else None
    parts = [
        figure_html("fig-breakdown", breakdown_figure(runs, names, groups)),
        note(
            "Each device's run split into the state it was in, as shares of the run, one "
            "group per run"
            + (
                " (the mean device of each group, its number of devices in brackets)"
                if groups
                else ""
            )
            + ". A "
            "device is in one state at a time, the first that applies of down, compute, send, "
            "receive, wait and idle, so a bar adds up to the whole run; compute is split into "
            "useful work, work lost (to failures or deadlines) and background tasks. Hover "
            "for seconds."
        ),
    ]
    if groups:
        parts += [
            "<h3>Spread within each group</h3>",
            figure_html(
                "fig-distribution", distribution_figure(runs, names, groups, TIME_QUANTITIES)
            ),
            note(
                "Seconds each device of a group spent in a state, one box per group and run: "
                "lowest to highest (whiskers), the middle half (box) and the median (dark "
                "line); the number of devices is in brackets. A state no device was in is left "
                "out. Hover a box for its numbers and the mean."
            ),
        ]
    return "\n".join(parts)


def page_profiles(scenario: dict) -> dict[str, str]:
    """One colour per device profile for the whole page (topology and energy agree),
    then one per group of a big fleet that is not a plain profile ("nano on wifi-5")."""
    profiles = facts.group_order(facts.profiles(scenario))
    groups = facts.group_order(facts.device_groups(scenario))
    return profile_colours([*profiles, *groups])


def _network(scenario: dict, runs: Sequence[dict], names: Sequence[str]) -> str:
    if not scenario.get("links"):
        return note("The scenario lists no links.")
    top = topology(scenario, collapse=_big(scenario))
    return "\n".join(
        [
            figure_html("fig-topology", topology_figure(top, runs, names, page_profiles(scenario))),
            note(
                "Nodes coloured by device profile (switches and access points grey), the "
                "same colours as the energy chart. Link width: the bytes a link carried in "
                "the run the buttons select (one scale for all runs). Hover a link's "
                "midpoint for its traffic in every run."
                + (
                    " Leaf devices sharing a neighbour and profile are drawn as one node."
                    if _big(scenario)
                    else ""
                )
            ),
            "<h3>Traffic per link</h3>",
            figure_html("fig-links", link_traffic_figure(top, runs, names)),
        ]
    )


def _energy(scenario: dict, runs: Sequence[dict], names: Sequence[str]) -> str:
    big = _big(scenario)
    device_group = facts.device_groups(scenario) if big else facts.profiles(scenario)
    groups = facts.group_order(device_group, [d for run in runs for d in run.get("devices") or {}])
    totals = ", ".join(
        f"{name} {fmt.energy(value)}"
        for name, run in zip(names, runs, strict=True)
        if (value := facts.total_energy(run)) is not None
    )
    per_device = (
        distribution_figure(runs, names, device_group, [ENERGY])
        if big
        else energy_per_device_figure(runs, names)
    )
    return "\n".join(
        [
            figure_html(
                "fig-energy",
                energy_by_profile_figure(
                    runs, names, device_group, groups, page_profiles(scenario)
                ),
            ),
            figure_html("fig-energy-devices", per_device),
            note(
                "Energy integrates each profile's idle, compute and transmit power over the "
                "timeline (a down device draws nothing)."
                + (" Below it, how device energy spreads within each group." if big else "")
                + f" Totals: {text(totals) or '—'}."
            ),
        ]
    )


SPREAD_METRICS = (
    Metric("final_accuracy", "final accuracy", tick_format=".0%"),
    Metric("time_to_first_target", "time to the first target (s)"),
    Metric("bytes_total", "bytes sent", tick_suffix="B"),
    Metric("mean_wait_share", "mean client waiting share", tick_format=".0%"),
    Metric("energy_j", "energy (J)"),
    Metric("sim_time_s", "simulated time (s)"),
)


def spread_points(scenario: dict, runs: Sequence[dict]) -> list[Point]:
    """One point per run for :func:`spread_figure`: x is the run's scenario name."""
    first_target = (facts.targets(scenario, runs) or [None])[0]
    points = []
    for run in runs:
        name, seed = facts.origin_key(run, scenario)
        values = {
            "final_accuracy": run.get("final_accuracy"),
            "time_to_first_target": None
            if first_target is None
            else facts.time_to_target(run, first_target),
            "bytes_total": (run.get("bytes") or {}).get("total"),
            "mean_wait_share": facts.mean_wait_share(run, scenario),
            "energy_j": facts.total_energy(run),
            "sim_time_s": run.get("sim_time_s"),
        }
        found = facts.stall(run)
        points.append(
            Point(facts.base_label(run), name, seed, values, found.phrase() if found else "")
        )
    return points


ACCURACY_METRICS = ("final_accuracy", "time_to_first_target")


def _across(scenario: dict, runs: Sequence[dict]) -> str:
    points = spread_points(scenario, runs)
    settings = len({p.x for p in points})
    seeds = len({p.seed for p in points})
    stalled = sum(1 for p in points if p.stalled)
    metrics = [
        m
        for m in SPREAD_METRICS
        if not (facts.all_timing_only(scenario, runs) and m.key in ACCURACY_METRICS)
    ]
    by_scheme = settings == 1
    fig = spread_figure(points, metrics, "scenario" if settings > 1 else "", by_scheme=by_scheme)
    return figure_html("fig-across", fig) + note(
        f"{fmt.plural(len(runs), 'run')} from {fmt.plural(settings, 'scenario')} and "
        f"{fmt.plural(seeds, 'seed')}"
        + (f", {stalled} of them stalled" if stalled else "")
        + (". One column per scheme" if by_scheme else ". One line per scheme")
        + "; marker: the mean over seeds; bar: lowest to highest; dots: each seed"
        + ("; crosses: stalled runs, left out of the mean and the bar" if stalled else "")
        + ". Where some seeds never reached the target, the mean is over those that did and "
        "the label says how many (k of n reached)."
        + " The per-device views above show the runs of the first file."
    )
