"""The command line: outputs, exit codes, and no tracebacks for user mistakes."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from edgesim.cli import build_parser, main


def _small(tiny_scenario):
    tiny_scenario["schemes"] = [
        {"scheme": "fedavg", "rounds": 2},
        {"scheme": "local", "epochs": 1, "label": "alone"},
    ]
    return tiny_scenario


def test_run_writes_results_and_report(tmp_path, write_scenario, tiny_scenario, capsys):
    out = tmp_path / "out"
    code = main(["run", str(write_scenario(_small(tiny_scenario))), "--out", str(out), "--quiet"])
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert [run["label"] for run in results["runs"]] == ["fedavg", "alone"]
    assert (out / "report.html").stat().st_size > 1_000_000  # plotly.js embedded
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "results.json"]


def test_two_runs_are_byte_identical_apart_from_meta(tmp_path, write_scenario, tiny_scenario):
    path = str(write_scenario(_small(tiny_scenario)))
    texts = []
    for name in ("a", "b"):
        assert main(["run", path, "--out", str(tmp_path / name), "--quiet"]) == 0
        data = json.loads((tmp_path / name / "results.json").read_text())
        data.pop("meta")
        texts.append(json.dumps(data))
    assert texts[0] == texts[1]


def test_seed_and_scheme_options(tmp_path, write_scenario, tiny_scenario):
    path = str(write_scenario(_small(tiny_scenario)))
    out = tmp_path / "o"
    options = ["--quiet", "--scheme", "alone", "--seed", "7"]
    assert main(["run", path, "--out", str(out), *options]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["scenario"]["seed"] == 7
    assert [run["label"] for run in results["runs"]] == ["alone"]


def test_unknown_scheme_is_a_user_error(tmp_path, write_scenario, tiny_scenario, capsys):
    path = str(write_scenario(_small(tiny_scenario)))
    assert main(["run", path, "--out", str(tmp_path), "--scheme", "fedavgg"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'fedavg'" in err
    assert "Traceback" not in err


def test_bad_yaml_is_a_user_error_without_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndevices: [\n")
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "not valid YAML" in err
    assert "Traceback" not in err


def test_cuda_request_without_cuda_is_a_user_error(tmp_path, write_scenario, tiny_scenario):
    import torch

    if torch.cuda.is_available():
        return
    path = str(write_scenario(_small(tiny_scenario)))
    assert main(["run", path, "--out", str(tmp_path), "--device", "cuda", "--quiet"]) == 2


def test_report_combines_results_files(tmp_path, write_scenario, tiny_scenario, capsys):
    path = str(write_scenario(_small(tiny_scenario)))
    assert main(["run", path, "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert main(["run", path, "--out", str(tmp_path / "b"), "--quiet", "--seed", "4"]) == 0
    target = tmp_path / "combined.html"
    files = [str(tmp_path / "a" / "results.json"), str(tmp_path / "b" / "results.json")]
    assert main(["report", *files, "--out", str(target)]) == 0
    page = target.read_text()
    assert "seed 4]" in page and "seed 3]" in page


def test_report_of_a_non_results_file_is_a_user_error(tmp_path, capsys):
    other = tmp_path / "x.json"
    other.write_text('{"a": 1}')
    assert main(["report", str(other)]) == 2
    assert "not an edgesim results file" in capsys.readouterr().err


def test_a_stalled_run_is_warned_about_and_marked(tmp_path, write_scenario, tiny_scenario, capsys):
    scenario = _small(tiny_scenario)
    every_client_leaves = {"targets": ["nano", "pi"], "fraction": 1.0, "at_s": 0.01, "spread_s": 0}
    scenario["failures"] = {"departures": [every_client_leaves]}
    code = main(["run", str(write_scenario(scenario)), "--out", str(tmp_path / "o")])
    captured = capsys.readouterr()
    assert code == 0
    results = json.loads((tmp_path / "o" / "results.json").read_text())
    stalled = {run["label"]: run["stalled"] for run in results["runs"]}
    assert stalled["alone"]["at_s"] == 0.01
    assert "nano-0" in stalled["alone"]["reason"]
    assert "warning:" in captured.err and "alone stalled at 0.01 s" in captured.err
    assert "stalled" in captured.out  # marked in the summary table (wrapped at 80 columns)


def test_user_strings_are_printed_as_written_never_as_markup(
    tmp_path, write_scenario, tiny_scenario, capsys
):
    scenario = _small(tiny_scenario)
    scenario["schemes"][1]["label"] = "[/]alone[red] :x:"
    out = tmp_path / "o[seed1]:x:"
    code = main(["run", str(write_scenario(scenario)), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    assert (out / "results.json").exists()
    assert f"results: {out / 'results.json'}" in captured.out.replace("\n", "")
    assert "[/]alone[red] :x:" in captured.err  # its progress line


def test_outputs_never_replace_an_input_or_a_file_edgesim_did_not_write(
    tmp_path, write_scenario, tiny_scenario, capsys
):
    scenario = _small(tiny_scenario)
    scenario["schemes"] = scenario["schemes"][:1]
    path = str(write_scenario(scenario))
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "results.json"
    mine.write_text("my own notes\n")
    # Refused before any work: no report appears, the user's file is byte-identical.
    assert main(["run", path, "--out", str(out), "--quiet"]) == 2
    assert "was not written by edgesim" in capsys.readouterr().err
    assert mine.read_text() == "my own notes\n"
    assert not (out / "report.html").exists()
    # --out naming a regular file, not a folder.
    assert main(["run", path, "--out", str(mine), "--quiet"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    # With --force it is replaced; edgesim's own files are replaced on a rerun without it.
    assert main(["run", path, "--out", str(out), "--quiet", "--force"]) == 0
    assert json.loads(mine.read_text())["schema_version"] == 1
    assert main(["run", path, "--out", str(out), "--quiet"]) == 0
    # A report never replaces one of its inputs, even with --force.
    before = mine.read_bytes()
    assert main(["report", str(mine), "--out", str(mine), "--force"]) == 2
    assert "is one of the inputs" in capsys.readouterr().err
    assert mine.read_bytes() == before


def test_debug_before_or_after_the_subcommand_is_kept():
    parser = build_parser()
    for command in ("run", "sweep"):
        assert parser.parse_args(["--debug", command, "x.yaml"]).debug is True
        assert parser.parse_args([command, "x.yaml", "--debug"]).debug is True
        assert parser.parse_args([command, "x.yaml"]).debug is False


def test_list_names_every_scheme_model_dataset_and_profile(capsys):
    from edgesim.config.profiles import builtin_device_profiles, builtin_link_profiles
    from edgesim.config.schemes import SCHEMES
    from edgesim.learning.datasets import DATASETS
    from edgesim.learning.models import MODELS

    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    names = [*SCHEMES, *MODELS, *DATASETS, *builtin_device_profiles(), *builtin_link_profiles()]
    assert [n for n in names if n not in listed] == []
    assert main(["list", "schemes"]) == 0
    assert (
        "fedbuff" in (only_schemes := capsys.readouterr().out) and "cnn-small" not in only_schemes
    )


def test_version(capsys):
    import edgesim

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"edgesim {edgesim.__version__}"


def test_scheme_takes_several_names_after_one_flag_or_repeated(
    tmp_path, write_scenario, tiny_scenario
):
    scenario = _small(tiny_scenario)
    scenario["schemes"].append({"scheme": "fedasync", "updates": 4})
    path = str(write_scenario(scenario))
    for n, options in enumerate(
        (["--scheme", "alone", "fedasync"], ["--scheme", "alone", "--scheme", "fedasync"])
    ):
        out = tmp_path / str(n)
        assert main(["run", path, "--out", str(out), "--quiet", *options]) == 0
        results = json.loads((out / "results.json").read_text())
        assert [run["label"] for run in results["runs"]] == ["alone", "fedasync"]


@pytest.mark.parametrize("command", [["schema"], ["list"], ["profiles"]])
def test_a_closed_stdout_ends_quietly(command):
    """``edgesim schema | head -1``: the reader is gone before edgesim writes."""
    process = subprocess.Popen(
        [sys.executable, "-m", "edgesim.cli", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait() == 141  # a shell's status for a writer whose pipe was closed
    assert err == ""


def test_validate_names_the_kind_of_file_with_counts_that_agree(
    tmp_path, write_scenario, tiny_scenario, capsys
):
    tiny_scenario["schemes"] = [{"scheme": "fedavg", "rounds": 2}]
    scenario = write_scenario(tiny_scenario)
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("name: s\nbase: scenario.yaml\nvary:\n  training.lr: [0.1, 0.2]\nseeds: [1]\n")
    assert main(["validate", str(scenario), str(sweep)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("ok — 4 devices, 4 links, 1 scheme")
    assert lines[1].endswith(
        "ok — sweep of 2 points × 1 seed (this is a sweep file: run it with edgesim sweep)"
    )


def test_profiles_json_without_a_model_lists_the_profiles(capsys):
    from edgesim.config.profiles import builtin_device_profiles

    assert main(["profiles", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(listed) == sorted(builtin_device_profiles())
    assert (
        listed["jetson-nano"]["peak_flops"] == builtin_device_profiles()["jetson-nano"].peak_flops
    )


def test_log_level_info_logs_a_line_per_round(tmp_path, write_scenario, tiny_scenario, caplog):
    tiny_scenario["schemes"] = [{"scheme": "fedavg", "rounds": 3}]
    path = str(write_scenario(tiny_scenario))
    with caplog.at_level(logging.INFO, logger="edgesim"):
        assert (
            main(["run", path, "--out", str(tmp_path / "o"), "--quiet", "--log-level", "info"]) == 0
        )
    rounds = [r.getMessage() for r in caplog.records if r.name == "edgesim.schemes.rounds"]
    assert [m.split(" done")[0] for m in rounds] == [f"fedavg: round {n}" for n in (1, 2, 3)]
    assert build_parser().parse_args(["run", "x.yaml", "--log-level", "debug"]).log_level == "debug"


@pytest.mark.parametrize(
    ("options", "level"),
    [(["--log-level", "error"], logging.ERROR), (["--debug"], logging.DEBUG), ([], logging.NOTSET)],
)
def test_log_level_and_debug_set_edgesims_level(options, level, capsys):
    edgesim_log = logging.getLogger("edgesim")
    edgesim_log.setLevel(logging.NOTSET)  # as a fresh process starts
    try:
        assert main([*options, "list", "models"]) == 0
        assert edgesim_log.level == level
    finally:
        edgesim_log.setLevel(logging.NOTSET)


def test_ctrl_c_writes_the_schemes_that_finished_and_exits_130(
    tmp_path, write_scenario, tiny_scenario, monkeypatch, capsys
):
    import edgesim.runner

    real = edgesim.runner.run_scheme

    def interrupted_after_the_first(loaded, prepared, spec, *args, **kwargs):
        if spec.scheme != "fedavg":
            raise KeyboardInterrupt
        return real(loaded, prepared, spec, *args, **kwargs)

    monkeypatch.setattr(edgesim.runner, "run_scheme", interrupted_after_the_first)
    out = tmp_path / "o"
    assert main(["run", str(write_scenario(_small(tiny_scenario))), "--out", str(out)]) == 130
    results = json.loads((out / "results.json").read_text())
    assert [run["label"] for run in results["runs"]] == ["fedavg"]
    assert results["meta"]["interrupted"] is True and results["meta"]["missing"] == ["alone"]
    assert (out / "report.html").stat().st_size > 1_000_000
    assert "interrupted:" in capsys.readouterr().err
    # The partial file is a results file like any other.
    assert main(["report", str(out / "results.json"), "--out", str(tmp_path / "again.html")]) == 0


def test_ctrl_c_before_any_scheme_finished_writes_nothing(
    tmp_path, write_scenario, tiny_scenario, monkeypatch, capsys
):
    import edgesim.runner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(edgesim.runner, "run_scheme", interrupted)
    out = tmp_path / "o"
    assert main(["run", str(write_scenario(_small(tiny_scenario))), "--out", str(out)]) == 130
    assert not out.exists() or not any(out.iterdir())
    assert "nothing written" in capsys.readouterr().err


def test_ctrl_c_during_a_sweep_says_what_is_kept(
    tmp_path, write_scenario, tiny_scenario, monkeypatch, capsys
):
    import edgesim.sweep

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(edgesim.sweep, "run_sweep", interrupted)
    tiny_scenario["schemes"] = [{"scheme": "fedavg", "rounds": 1}]
    write_scenario(tiny_scenario)
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("name: s\nbase: scenario.yaml\nvary:\n  training.lr: [0.1, 0.2]\nseeds: [1]\n")
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "o")]) == 130
    err = capsys.readouterr().err
    assert "interrupted: 0 finished runs of 2 kept in" in err
