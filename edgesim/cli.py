"""``edgesim`` command line: run, validate, schema, profiles, report.

Exit codes: 0 success, 2 a user error (bad file, unknown name) shown as one
short message without a traceback, 1 anything else (a bug in edgesim);
130 Ctrl-C (``run`` first writes the schemes that finished), 141 stdout closed
early (``edgesim schema | head -1``), quietly.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Column, Table

import edgesim
from edgesim.config.loading import checked
from edgesim.config.names import Name, PathText, Reference
from edgesim.config.numbers import MAX_JOBS, BatchSize
from edgesim.errors import EdgesimError
from edgesim.io import claim_outputs, write_json_atomic
from edgesim.report import fmt

if TYPE_CHECKING:
    from edgesim.progress import SchemeProgress

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_HELP = "what the library logs (default warning; info: a line per scheme and round)"
FORCE_HELP = "replace output files edgesim did not write (never an input)"
CSV_HELP = "also write summary.csv, curves.csv, devices.csv, timeline.csv (docs/python-api.md)"


class _Console(Console):
    """rich's console, but a closed stdout is left to :func:`main` (one exit status for it)."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


# Emoji codes stay text: a file named ":x:.yaml" is printed as it is written.
console = _Console(stderr=True, emoji=False)
out = _Console(emoji=False)


def _out(args: argparse.Namespace) -> Path | None:
    """``--out``, once it is a path the operating system can take (no NUL, no over-long part)."""
    return None if args.out is None else Path(checked("--out", PathText, args.out))


def cmd_run(args: argparse.Namespace) -> int:
    from edgesim.config import load_scenario
    from edgesim.runner import Interrupted, run_scenario
    from edgesim.tables import claim_csv, csv_paths

    loaded = load_scenario(args.scenario, seed=args.seed, timing_only=args.timing_only)
    _quiet_runner(args)  # its stall warnings: printed below, once
    out_dir = _out(args) or Path("reports") / loaded.scenario.name
    claim_outputs(
        [out_dir / "results.json", out_dir / "report.html"], (Path(args.scenario),), args.force
    )
    claim_csv(csv_paths(out_dir) if args.csv else [], (Path(args.scenario),), args.force)
    with _scheme_progress(args.quiet) as (on_progress, on_run_done):
        try:
            results = run_scenario(
                loaded,
                schemes=args.scheme,
                torch_device=args.device,
                on_progress=on_progress,
                on_run_done=on_run_done,
                batch_clients=args.batch_clients,
            )
        except Interrupted as stop:
            results = stop.results
    interrupted = results["meta"].get("interrupted", False)
    if interrupted and not results["runs"]:
        console.print("interrupted before any scheme finished: nothing written")
        return 130
    _write_run(results, out_dir, args)
    if interrupted:
        missing = ", ".join(results["meta"]["missing"])
        console.print(
            f"[bold yellow]interrupted:[/] results of the schemes that finished were written "
            f"(meta.interrupted); not finished: {escape(missing)}",
            highlight=False,
            soft_wrap=True,
        )
        return 130
    return 0


def _write_run(results: dict[str, Any], out_dir: Path, args: argparse.Namespace) -> None:
    """``results.json``, ``report.html`` (and CSV with ``--csv``), then the summary."""
    from edgesim.report.html import render_report
    from edgesim.tables import write_run_csv
    from edgesim.terminal import summary_view

    results_path = write_json_atomic(out_dir / "results.json", results)
    report_path = render_report(results, out_dir / "report.html")
    csv_files = write_run_csv(results, out_dir) if args.csv else []
    if not args.quiet:
        out.print(summary_view(results, out))
    out.print(f"results: {escape(str(results_path))}\nreport:  {escape(str(report_path))}")
    for path in csv_files:
        out.print(f"table:   {escape(str(path))}")


@contextmanager
def _scheme_progress(quiet: bool) -> Iterator[tuple[Any, Any]]:
    """A progress line per scheme: rounds, updates or steps done / total, ETA, primary accuracy.

    The ETA is rich's: host time so far, scaled by the simulated progress left
    (:mod:`edgesim.progress`); a scheme with no known total gets no bar or ETA.
    """
    progress = Progress(
        TextColumn(  # labels are the user's text; a long one folds onto a second line
            "{task.description}", markup=False, table_column=Column(max_width=28, overflow="fold")
        ),
        BarColumn(bar_width=10),
        TextColumn("{task.fields[done]} sim {task.fields[sim]} acc {task.fields[acc]}"),
        TimeRemainingColumn(elapsed_when_finished=True),
        console=console,
        disable=quiet,
    )
    tasks: dict[str, Any] = {}

    def on_progress(state: SchemeProgress) -> None:
        if state.label not in tasks:
            tasks[state.label] = progress.add_task(state.label, total=None, done="", sim="", acc="")
        progress.update(
            tasks[state.label],
            total=None if state.fraction is None else 1.0,
            completed=state.fraction or 0.0,
            done=_done(state),
            sim=fmt.seconds(state.sim_time_s),
            acc=fmt.percent(state.accuracy),
        )

    def on_run_done(run: dict[str, Any]) -> None:
        if run.get("stalled"):
            stall = run["stalled"]
            progress.console.print(
                f"[bold yellow]warning:[/] {escape(run['label'])} stalled at "
                f"{fmt.seconds(stall['at_s'])} before finishing: {escape(stall['reason'])}",
                highlight=False,
            )

    with progress:
        yield on_progress, on_run_done


def _done(state: SchemeProgress) -> str:
    if state.total is None:
        return ""
    if state.unit == "s":
        return f"{fmt.seconds(state.done)}/{fmt.seconds(state.total)}"
    return f"{state.done:,.0f}/{state.total:,.0f} {state.unit}"


def cmd_validate(args: argparse.Namespace) -> int:
    """Every check ``run`` makes before it starts (:mod:`edgesim.preflight`), on every file."""
    failed = 0
    for path in args.scenarios:
        try:
            verdict = _validated(Path(path))
        except EdgesimError as exc:  # report it, and go on to the next file
            failed += 1
            message = f"[bold red]error:[/] {escape(str(exc))}"
            console.print(message, highlight=False, soft_wrap=True)
            continue
        out.print(f"{escape(str(path))}: ok — {verdict}", soft_wrap=True)
    return 2 if failed else 0


def _validated(path: Path) -> str:
    """Check a scenario or a sweep file (told apart by their keys) as ``run`` or ``sweep`` would."""
    from edgesim import preflight
    from edgesim.config import looks_like_sweep, scenario_from_yaml
    from edgesim.config.yaml_files import load_yaml
    from edgesim.sweep import load_sweep

    data = load_yaml(path)
    if looks_like_sweep(data):
        sweep = load_sweep(path)
        return (
            f"sweep of {fmt.plural(len(sweep.points), 'point')} × "
            f"{fmt.plural(len(sweep.seeds), 'seed')} "
            "(this is a sweep file: run it with edgesim sweep)"
        )
    loaded = scenario_from_yaml(data, path)
    preflight.check(loaded)
    fleet = loaded.fleet
    return (
        f"{fmt.plural(len(fleet.devices), 'device')}, {fmt.plural(len(fleet.links), 'link')}, "
        f"{fmt.plural(len(loaded.scenario.schemes), 'scheme')}"
    )


def cmd_schema(args: argparse.Namespace) -> int:
    from edgesim.config.scenario import Scenario

    print(json.dumps(Scenario.model_json_schema(), indent=2))
    return 0


def cmd_profiles(args: argparse.Namespace) -> int:
    from edgesim.config.profiles import builtin_device_profiles

    profiles = builtin_device_profiles()
    if args.model or args.dataset or args.batch_size is not None:
        return _profile_step_times(args, profiles)
    if args.json:
        listed = {
            name: p.model_dump(mode="json", exclude_none=True) for name, p in profiles.items()
        }
        print(json.dumps(listed, indent=2))
        return 0
    table = Table(title="device profiles")
    columns = ("name", "peak FP32", "efficiency", "saturation", "step overhead", "memory BW")
    for column in (*columns, "power (W)"):
        table.add_column(column)
    for p in profiles.values():
        table.add_row(
            p.name,
            f"{p.peak_flops / 1e12:.3g} TFLOP/s",
            f"{p.efficiency:.2f}",
            f"{p.saturation_flops / 1e9:.3g} GFLOP" if p.saturation_flops else "-",
            f"{p.step_overhead_s * 1000:.2f} ms",
            f"{p.memory_bandwidth / 1e9:.3g} GB/s",
            f"{p.power_w.compute:g}/{p.power_w.transmit:g}/{p.power_w.idle:g}",
        )
    out.print(table)
    return 0


def _profile_step_times(args: argparse.Namespace, profiles: dict) -> int:
    from edgesim.cluster.costs import step_time
    from edgesim.learning.datasets import load_dataset
    from edgesim.learning.flops import workload_of

    model = checked("--model", Reference, args.model or "cnn-small")
    dataset = checked("--dataset", Reference, args.dataset or "digits")
    batch_size = (
        32 if args.batch_size is None else checked("--batch-size", BatchSize, args.batch_size)
    )
    path = None if args.path is None else checked("--path", PathText, args.path)
    test = load_dataset(dataset, path=path).test
    work = workload_of(model, test.input_shape, test.num_classes, batch_size)
    times = {
        name: step_time(p, work.train_step_flops, work.train_step_bytes)
        for name, p in profiles.items()
    }
    if args.json:
        print(
            json.dumps(
                {
                    "model": model,
                    "dataset": dataset,
                    "batch_size": batch_size,
                    "train_step_flops": work.train_step_flops,
                    "train_step_bytes": work.train_step_bytes,
                    "update_bytes": work.update_bytes,
                    "train_step_s": times,
                },
                indent=2,
            )
        )
        return 0
    table = Table(
        title=f"{model} on {dataset}, batch {batch_size}: {work.train_step_flops:,} FLOP/step, "
        f"{work.update_bytes:,} B/update"
    )
    table.add_column("profile")
    table.add_column("train step", justify="right")
    for name, seconds in sorted(times.items(), key=lambda kv: kv[1]):
        table.add_row(name, f"{seconds * 1000:.3f} ms")
    out.print(table)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """What a scenario can name: schemes, models, datasets, device and link profiles."""
    from edgesim.config.profiles import builtin_device_profiles, builtin_link_profiles
    from edgesim.config.schemes import SCHEMES
    from edgesim.learning.datasets import DATASETS
    from edgesim.learning.models import MODELS
    from edgesim.plugins import registered

    sections = {
        "schemes": {name: f"{i.description} ({_flags(i)})" for name, i in SCHEMES.items()},
        "models": {name: info.description for name, info in MODELS.items()},
        "datasets": dict(DATASETS),
        "device profiles": {n: p.description for n, p in builtin_device_profiles().items()},
        "link profiles": {n: p.description for n, p in builtin_link_profiles().items()},
    }
    for kind, section in (("scheme", "schemes"), ("model", "models"), ("dataset", "datasets")):
        for name, entry in registered(kind).items():  # installed packages' plugins
            sections[section].setdefault(name, f"plugin {entry.value}")
    wanted = [args.what] if args.what else list(sections)
    for title in wanted:
        table = Table(title=title, title_justify="left")
        table.add_column("name")
        table.add_column("description")
        for name, description in sections[title].items():
            table.add_row(escape(name), escape(description))
        out.print(table)
    return 0


def _flags(info: Any) -> str:
    flags = [
        "server" if info.needs_server else "no server",
        "async" if info.asynchronous else "sync",
    ]
    if info.uses_small_model:
        flags.append("small model")
    if info.trains_on_server_data or info.distils_on_server_data:
        flags.append("server data")
    return ", ".join(flags)


def cmd_report(args: argparse.Namespace) -> int:
    from edgesim.report.html import render_report
    from edgesim.report.load import load_results

    target = _out(args) or Path(args.results[0]).with_name("report.html")
    claim_outputs([target], tuple(Path(p) for p in args.results), args.force)
    results = load_results([Path(p) for p in args.results])
    out.print(f"report: {escape(str(render_report(results, target)))}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from edgesim.api import sweep_table
    from edgesim.report.sweep import render_sweep_report
    from edgesim.sweep import default_jobs, load_sweep, run_sweep, summarize
    from edgesim.sweep.driver import pending_tasks
    from edgesim.tables import SWEEP_CSV, claim_csv, write_csv

    if args.jobs is not None:
        checked("--jobs", Annotated[int, Field(ge=1, le=MAX_JOBS)], args.jobs)
    if args.address and args.backend != "ray":
        raise EdgesimError("--address is for --backend ray")
    _quiet_runner(args)  # stalls are in the counters
    sweep = load_sweep(args.sweep)
    out_dir = _out(args) or Path("reports") / sweep.spec.name
    claim_outputs(
        [out_dir / "sweep.json", out_dir / "report.html"], (Path(args.sweep),), args.force
    )
    claim_csv([out_dir / SWEEP_CSV] if args.csv else [], (Path(args.sweep),), args.force)
    jobs = args.jobs if args.jobs or args.backend == "ray" else default_jobs()
    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(bar_width=30),
        TextColumn("{task.completed}/{task.total} runs"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=args.quiet,
    ) as progress:
        bar = progress.add_task(f"sweep {sweep.spec.name}", total=len(sweep.tasks))

        def on_progress(_task: Any, _ok: bool) -> None:
            progress.advance(bar)

        pending = pending_tasks(sweep, out_dir)
        progress.update(bar, completed=len(sweep.tasks) - len(pending))
        try:
            outcome = run_sweep(
                sweep, out_dir, args.backend, jobs, args.address, on_progress, pending
            )
        except KeyboardInterrupt:
            kept = len(sweep.tasks) - len(pending_tasks(sweep, out_dir))
            progress.console.print(
                f"interrupted: {fmt.plural(kept, 'finished run')} of {len(sweep.tasks)} kept in "
                f"{escape(str(out_dir / 'runs'))}; run the same command again to finish the rest",
                highlight=False,
                soft_wrap=True,
            )
            return 130
    if outcome.skipped:
        out.print(
            f"{outcome.skipped} runs were already finished in {escape(str(out_dir))}/runs (skipped)"
        )
    summary = summarize(sweep, out_dir)
    report_path = render_sweep_report(summary, out_dir / "report.html")
    out.print(
        f"sweep:   {escape(str(out_dir / 'sweep.json'))}\nreport:  {escape(str(report_path))}"
    )
    if args.csv:
        table = write_csv(out_dir / SWEEP_CSV, sweep_table(sweep, out_dir))
        out.print(f"table:   {escape(str(table))}")
    if not outcome.failed:
        return 0
    failed = ", ".join(f.task_id for f in outcome.failed)
    summary = f"{len(outcome.failed)} of {outcome.total} runs failed ({failed})"
    if outcome.bugs:  # a bug in edgesim, not in the sweep file: exit 1, as the CLI does
        first = outcome.bugs[0]
        for bug in outcome.bugs if args.debug else ():
            console.print(f"run {bug.task_id}:\n{bug.traceback}", markup=False, highlight=False)
        console.print(
            f"[bold red]internal error[/] (a bug in edgesim): {escape(summary)}; run "
            f"{escape(first.task_id)}: {escape(first.message)}"
            + ("" if args.debug else "; rerun with --debug for tracebacks"),
            highlight=False,
            soft_wrap=True,
        )
        return 1
    first = outcome.failed[0]
    raise EdgesimError(
        f"{summary}; rerun to retry only those. First error, {first.task_id}: {first.message}"
    )


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Measure this machine's training steps and write a device profile (docs/calibrate.md)."""
    from edgesim.calibrate import Power, calibrate, parse_shape
    from edgesim.config.numbers import MAX_WATTS, Watts
    from edgesim.plugins import absolute, is_reference

    out_path = _out(args)
    models = [absolute(checked("--model", Reference, m), Path.cwd()) for m in args.model or []]
    shapes = [parse_shape(s) for s in args.input_shape or []]
    batches = [checked("--batch-size", BatchSize, b) for b in args.batch_size or []]
    peak = None
    if args.peak_flops is not None:
        peak = checked("--peak-flops", Annotated[float, Field(gt=0, le=1e18)], args.peak_flops)
    drawn = Annotated[float, Field(gt=0, le=MAX_WATTS)]  # as power_w.compute in a profile
    power = Power(
        compute=None
        if args.power_compute is None
        else checked("--power-compute", drawn, args.power_compute),
        transmit=None
        if args.power_transmit is None
        else checked("--power-transmit", drawn, args.power_transmit),
        idle=None if args.power_idle is None else checked("--power-idle", Watts, args.power_idle),
    )
    if out_path.suffix not in (".yaml", ".yml"):
        raise EdgesimError(f"--out: a profile is a .yaml file (got {out_path})")
    user_files = [Path(m.rpartition(":")[0]) for m in models if is_reference(m)]
    claim_outputs([out_path], tuple(p for p in user_files if p.suffix == ".py"), args.force)
    profile = calibrate(
        out_path,
        device=args.device,
        models=models,
        shapes=shapes,
        batches=batches,
        quick=args.quick,
        peak_flops=peak,
        power=power,
        name=args.name and checked("--name", Name, args.name),
        on_progress=None if args.quiet else lambda m: console.print(escape(m), highlight=False),
    )
    errors = [abs(w.predicted_s / w.measured_s - 1) for w in profile.calibration.workloads]
    saturation = profile.saturation_flops
    out.print(
        f"profile: {escape(str(out_path))} — {profile.peak_flops * profile.efficiency / 1e9:.3g} "
        f"GFLOP/s sustained"
        + (f" from {saturation / 1e9:.3g} GFLOP a step on" if saturation else "")
        + f", {profile.step_overhead_s * 1000:.3g} ms per step"
        + ("; charged layer by layer (layer_costs)" if profile.layer_costs else "")
        + f"; fit median error {statistics.median(errors):.1%}, worst {max(errors):.1%}"
    )
    return 0


def _one_screen(message: str, lines: int = 40, chars: int = 3000) -> str:
    """A message cut to one screen: its first ``lines`` lines and ``chars`` characters."""
    kept = message[:chars].splitlines()[:lines]
    cut = "\n".join(kept)
    return cut if cut == message else cut + " …"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgesim", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"edgesim {edgesim.__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks (and debug logs, unless --log-level)"
    )
    parser.add_argument("--log-level", choices=LOG_LEVELS, help=LOG_HELP)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the schemes of a scenario and write results + report")
    run.add_argument("scenario")
    run.add_argument("--out", help="output folder (default reports/<scenario name>)")
    run.add_argument(
        "--scheme",
        action="extend",
        nargs="+",
        metavar="NAME",
        help="run only these schemes (names or labels; repeat or list several)",
    )
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where torch runs")
    run.add_argument(
        "--batch-clients",
        action="store_true",
        help="train clients of one model together (torch.func.vmap, meant for cuda): accuracies "
        "within float rounding of the default, not bit for bit (docs/results.md)",
    )
    run.add_argument(
        "--timing-only",
        action="store_true",
        help="same clock, bytes and energy, but no torch steps and no accuracy (docs/scenario.md)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bars or summary table")
    run.add_argument("--force", action="store_true", help=FORCE_HELP)
    run.add_argument("--csv", action="store_true", help=CSV_HELP)
    _late_global_options(run)
    run.set_defaults(handler=cmd_run)

    validate = sub.add_parser("validate", help="check scenario or sweep files without running them")
    validate.add_argument("scenarios", nargs="+")
    validate.set_defaults(handler=cmd_validate)

    schema = sub.add_parser("schema", help="print the scenario JSON Schema (for editors)")
    schema.set_defaults(handler=cmd_schema)

    profiles = sub.add_parser("profiles", help="list device profiles, or step times of a workload")
    profiles.add_argument("--model")
    profiles.add_argument("--dataset")
    profiles.add_argument("--path", help="data folder for datasets read from disk")
    profiles.add_argument("--batch-size", type=int)
    profiles.add_argument("--json", action="store_true")
    profiles.set_defaults(handler=cmd_profiles)

    listing = sub.add_parser(
        "list", help="schemes, models, datasets and profiles a scenario can name"
    )
    listing.add_argument(
        "what",
        nargs="?",
        choices=("schemes", "models", "datasets", "device profiles", "link profiles"),
    )
    listing.set_defaults(handler=cmd_list)

    report = sub.add_parser("report", help="build a report from results.json files")
    report.add_argument("results", nargs="+")
    report.add_argument("--out", help="output HTML file")
    report.add_argument("--force", action="store_true", help=FORCE_HELP)
    report.set_defaults(handler=cmd_report)

    sweep = sub.add_parser(
        "sweep", help="run a what-if grid (scenario fields × seeds), resumable; see docs/sweeps.md"
    )
    sweep.add_argument("sweep", help="a sweep file")
    sweep.add_argument("--jobs", type=int, help="runs at once (local default: all cores)")
    sweep.add_argument("--backend", choices=("local", "ray"), default="local")
    sweep.add_argument("--address", help="Ray cluster: auto, or ray://host:10001")
    sweep.add_argument("--out", help="output folder (default reports/<sweep name>)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument("--force", action="store_true", help=FORCE_HELP)
    sweep.add_argument(
        "--csv", action="store_true", help="also write runs.csv: one row per run and scheme"
    )
    _late_global_options(sweep)
    sweep.set_defaults(handler=cmd_sweep)

    calib = sub.add_parser(
        "calibrate", help="measure this machine and write a device profile (docs/calibrate.md)"
    )
    calib.add_argument("--out", required=True, help="the profile to write, e.g. my-host.yaml")
    calib.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="what to measure")
    calib.add_argument(
        "--model",
        action="append",
        help="time this model (name or nets.py:Net) instead of the suite",
    )
    calib.add_argument("--input-shape", action="append", help="CxHxW for --model, e.g. 3x32x32")
    calib.add_argument("--batch-size", action="append", type=int, help="batch size for --model")
    calib.add_argument("--quick", action="store_true", help="fewer workloads and repeats (~1 min)")
    calib.add_argument("--peak-flops", type=float, help="FP32 peak FLOP/s from the spec sheet")
    calib.add_argument("--power-compute", type=float, help="watts while training")
    calib.add_argument("--power-transmit", type=float, help="watts while sending")
    calib.add_argument("--power-idle", type=float, help="watts while idle")
    calib.add_argument("--name", help="the profile's name (default: the file's stem)")
    calib.add_argument("--quiet", action="store_true", help="no progress messages")
    calib.add_argument("--force", action="store_true", help="replace an existing file at --out")
    calib.set_defaults(handler=cmd_calibrate)
    return parser


def _late_global_options(command: argparse.ArgumentParser) -> None:
    """``--debug`` and ``--log-level`` after the command too (``edgesim run x.yaml --debug``)."""
    command.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    command.add_argument(
        "--log-level", choices=LOG_LEVELS, default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )


def _configure_logging(args: argparse.Namespace) -> None:
    """edgesim's log records at the level asked for, on stderr above the progress bars.

    A level asked for is set on the ``edgesim`` logger only: ``--log-level debug``
    is edgesim's detail, not every library's (torch, asyncio).
    """
    handler = RichHandler(console=console, show_time=False, show_path=False, markup=False)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s", handlers=[handler])
    level = args.log_level or ("debug" if args.debug else None)
    if level is not None:
        logging.getLogger("edgesim").setLevel(level.upper())


def _quiet_runner(args: argparse.Namespace) -> None:
    """The runner's warnings only with a level asked for: ``run`` and ``sweep`` report stalls."""
    explicit = args.log_level is not None or args.debug
    logging.getLogger("edgesim.runner").setLevel(logging.NOTSET if explicit else logging.ERROR)


def _quiet_broken_pipe() -> int:
    """stdout was closed early (``edgesim schema | head -1``): stop quietly, as Unix tools do.

    Python's documented remedy: point stdout at /dev/null so the flush at exit
    does not raise again. 141 is a shell's status for a process killed by SIGPIPE.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args)
    try:
        code = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's flush at exit
        return code
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except EdgesimError as exc:
        if args.debug:
            console.print_exception()
        console.print(
            f"[bold red]error:[/] {escape(_one_screen(str(exc)))}", highlight=False, soft_wrap=True
        )
        return 2
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130
    except Exception as exc:
        from edgesim.plugins import blame

        if args.debug:
            console.print_exception()
        if (yours := blame(exc)) is not None:  # raised in a user's model, dataset or scheme
            console.print(f"[bold red]error in your code:[/] {escape(yours)}", highlight=False)
            return 2
        if not args.debug:
            console.print(
                "[bold red]internal error[/] (a bug in edgesim; rerun with --debug for a traceback)"
            )
        return 1


if __name__ == "__main__":
    sys.exit(main())
