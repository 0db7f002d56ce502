"""The configuration side of the CLI: ``edgesim validate``, ``schema`` and ``profiles``."""

from __future__ import annotations

import json
from pathlib import Path

from edgesim.cli import main
from edgesim.schemes import SCHEMES

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "heterogeneous.yaml"


def flat(text: str) -> str:
    """Undo rich's line wrapping."""
    return " ".join(text.split())


def test_validate_a_good_scenario(capsys) -> None:
    assert main(["validate", str(SCENARIO)]) == 0
    captured = capsys.readouterr()
    assert "heterogeneous.yaml: ok" in flat(captured.out)
    assert captured.err == ""


def test_validate_a_bad_scenario_exits_2_without_traceback(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        SCENARIO.read_text(encoding="utf-8").replace("jetson-nano", "jetson-nan"),
        encoding="utf-8",
    )
    assert main(["validate", str(bad)]) == 2
    captured = capsys.readouterr()
    err = flat(captured.err)
    assert err.startswith("error: invalid configuration in")
    assert "devices[1].profile: unknown device profile 'jetson-nan'" in err
    assert "(did you mean 'jetson-nano'?)" in err
    assert "Traceback" not in captured.err + captured.out
    assert "ok" not in captured.out


def test_validate_reports_unknown_dataset(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        SCENARIO.read_text(encoding="utf-8").replace("dataset: digits", "dataset: digts"),
        encoding="utf-8",
    )
    assert main(["validate", str(bad)]) == 2
    err = flat(capsys.readouterr().err)
    assert "data.dataset: unknown dataset 'digts' (did you mean 'digits'?)" in err


def test_validate_missing_file(tmp_path: Path, capsys) -> None:
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    captured = capsys.readouterr()
    assert "file not found" in flat(captured.err)
    assert "Traceback" not in captured.err


def test_validate_several_files(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [\n", encoding="utf-8")
    assert main(["validate", str(SCENARIO), str(bad)]) == 2
    captured = capsys.readouterr()
    assert "heterogeneous.yaml: ok" in flat(captured.out)
    assert "not valid YAML (line 2" in flat(captured.err)


def test_schema_is_json_schema_with_every_scheme(capsys) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Scenario"
    assert schema["additionalProperties"] is False
    assert {"name", "devices", "network", "schemes"} <= set(schema["required"])
    assert schema["properties"]["targets"]["items"]["maximum"] == 1
    # Every registered scheme, and nothing else, can be written in a scenario.
    mapping = schema["properties"]["schemes"]["items"]["discriminator"]["mapping"]
    assert set(mapping) == set(SCHEMES)


def test_profiles_step_times_as_json(capsys) -> None:
    argv = ["profiles", "--json", "--model", "cnn-small", "--dataset", "digits"]
    assert main([*argv, "--batch-size", "32"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["model"], report["dataset"], report["batch_size"]) == (
        "cnn-small",
        "digits",
        32,
    )
    times = report["train_step_s"]
    assert set(times) == {p.stem for p in (ROOT / "edgesim" / "device_profiles").glob("*.yaml")}
    assert all(t > 0 for t in times.values())
    assert 10 <= times["jetson-nano"] / times["rtx-2080ti"] <= 20
