"""The command line: outputs, exit codes, and no tracebacks for user mistakes."""

from __future__ import annotations

import json

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
