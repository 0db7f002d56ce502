"""Hostile results files: every one ends in exit 2 naming the file, promptly, input untouched.

``edgesim report`` reads files a user points it at. A folder, a device, a pipe, binary
or UTF-16 bytes, a huge file, JSON nested 100 000 deep or results-shaped JSON with
wrong types must each be one error naming the file (and the key), never a hang, a
memory blow-up, a traceback or exit 1.
"""

from __future__ import annotations

import copy
import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from edgesim.cli import main
from edgesim.report import load
from edgesim.report.load import MAX_DEPTH, read_results

from .conftest import small_results, stalled_results


def refused(capsys, tmp_path: Path, path: Path, *words: str) -> str:
    """Run ``edgesim report path``: exit 2, no traceback, no report, the file as it was."""
    before = path.read_bytes() if path.is_file() else None
    out = tmp_path / "out" / "report.html"
    assert main(["report", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert path.name in err
    for word in words:
        assert word in err, err
    assert not out.exists()
    if before is not None:
        assert path.read_bytes() == before
    return err


def accepted(capsys, tmp_path: Path, path: Path) -> None:
    out = tmp_path / "accepted" / "report.html"
    assert main(["report", str(path), "--out", str(out)]) == 0, capsys.readouterr().err
    assert out.stat().st_size > 0


def write_json(tmp_path: Path, data: object, name: str = "results.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --- what is read: a regular file, not a folder, a device or a pipe --------------------------


def test_a_directory_is_named_as_such(tmp_path, capsys):
    folder = tmp_path / "results.json"
    folder.mkdir()
    refused(capsys, tmp_path, folder, "is a directory, expected a JSON results file")


@pytest.mark.timeout(30)
def test_a_pipe_is_refused_without_opening_it(tmp_path, capsys):
    fifo = tmp_path / "results.json"
    os.mkfifo(fifo)  # opening it for reading would block until a writer came
    refused(capsys, tmp_path, fifo, "not a regular file")


@pytest.mark.timeout(30)
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_dev_zero_is_refused_without_reading_it(tmp_path, capsys):
    refused(capsys, tmp_path, Path("/dev/zero"), "not a regular file")


def test_a_missing_file_keeps_its_message(tmp_path, capsys):
    refused(capsys, tmp_path, tmp_path / "nope.json", "results file not found")


# --- bytes: UTF-8 text only ------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, words",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["not UTF-8", "byte 0"]),
        ('{"name": "caf\xe9"}'.encode("latin-1"), ["not UTF-8", "0xe9"]),
        (json.dumps(small_results()).encode("utf-16"), ["UTF-16", "save it as UTF-8"]),
        (b'{"runs": [], "scenario": {}, \x00\x00}', ["not valid JSON (line 1)"]),
    ],
    ids=["binary", "latin-1", "utf-16", "nul-bytes"],
)
def test_bytes_that_are_not_utf8_json_are_named(tmp_path, capsys, content, words):
    path = tmp_path / "results.json"
    path.write_bytes(content)
    refused(capsys, tmp_path, path, *words)


def test_a_utf8_bom_is_skipped(tmp_path, capsys):
    path = tmp_path / "results.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(small_results()).encode("utf-8"))
    accepted(capsys, tmp_path, path)


# --- size ------------------------------------------------------------------------------------


def test_a_file_over_the_size_bound_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(load, "MAX_RESULTS_BYTES", 1024 * 1024)
    path = write_json(tmp_path, {"pad": "x" * (1024 * 1024), **small_results()})
    refused(capsys, tmp_path, path, "larger than 1 MiB")


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and sparse files as on Linux")
def test_a_huge_file_is_refused_within_2_gib_of_memory(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(300 * 1024 * 1024)  # sparse: no disk used
    done = subprocess.run(
        [sys.executable, "-m", "edgesim.cli", "report", str(path), "--out", str(tmp_path / "r")],
        preexec_fn=_limit_memory,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "huge.json" in done.stderr and "larger than 256 MiB" in done.stderr
    assert "Traceback" not in done.stderr


# --- JSON: nesting, syntax, numbers ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000, "[" * 100_000],
    ids=["arrays", "objects", "unclosed"],
)
def test_deep_nesting_is_refused_before_decoding(tmp_path, capsys, text):
    path = tmp_path / "results.json"
    path.write_text(text, encoding="utf-8")
    refused(capsys, tmp_path, path, f"nested deeper than {MAX_DEPTH} levels")


def _nested(levels: int) -> dict:
    inner: dict = {"x": 1}
    for _ in range(levels):
        inner = {"x": inner}
    return inner


def test_nesting_inside_a_results_file_counts_and_the_bound_is_what_it_says(tmp_path, capsys):
    data = small_results()
    data["scenario"]["data"] = _nested(MAX_DEPTH - 3)  # results > scenario > data > …: 64 deep
    accepted(capsys, tmp_path, write_json(tmp_path, data, "ok.json"))
    data["scenario"]["data"] = _nested(MAX_DEPTH - 2)
    refused(capsys, tmp_path, write_json(tmp_path, data), "nested deeper than 64 levels")


def test_brackets_inside_strings_are_not_nesting(tmp_path, capsys):
    data = small_results()
    data["scenario"]["description"] = '[{"\\' * 1000
    accepted(capsys, tmp_path, write_json(tmp_path, data))


def test_truncated_json_names_the_line(tmp_path, capsys):
    path = tmp_path / "results.json"
    text = json.dumps(small_results(), indent=1)
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    refused(capsys, tmp_path, path, "not valid JSON (line ")


def test_an_integer_of_thousands_of_digits_is_refused(tmp_path, capsys):
    path = tmp_path / "results.json"
    path.write_text('{"scenario": {}, "runs": [], "seed": ' + "9" * 10_000 + "}", encoding="utf-8")
    refused(capsys, tmp_path, path, "integer with too many digits")


# --- shape: what the report reads, with the right types and bounds ---------------------------

Edit = Callable[[dict], None]


def _set(*keys: str | int, value: object) -> Edit:
    def edit(data: dict) -> None:
        target = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit


def _drop(*keys: str | int) -> Edit:
    def edit(data: dict) -> None:
        target = data
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return edit


DEVICE = "nano-0"
BAD_SHAPES: dict[str, tuple[Edit, str]] = {
    "time-as-string": (
        _set("runs", 0, "sim_time_s", value="10"),
        "runs[0].sim_time_s: Input should be a valid number",
    ),
    "time-nan": (_set("runs", 0, "sim_time_s", value=float("nan")), "finite number"),
    "time-infinite": (_set("runs", 1, "sim_time_s", value=float("inf")), "runs[1].sim_time_s"),
    "negative-wait": (
        _set("runs", 0, "devices", DEVICE, "wait_s", value=-1.0),
        f"runs[0].devices.{DEVICE}.wait_s: Input should be greater than or equal to 0",
    ),
    "missing-label": (_drop("runs", 0, "label"), "runs[0].label: required field is missing"),
    "missing-energy": (
        _drop("runs", 1, "devices", DEVICE, "energy_j"),
        f"runs[1].devices.{DEVICE}.energy_j: required field is missing",
    ),
    "missing-meta": (_drop("meta"), "meta: required field is missing"),
    "runs-not-a-list": (_set("runs", value={"a": 1}), "runs: Input should be a valid list"),
    "scenario-not-an-object": (_set("scenario", value=[1]), "scenario: Input should be"),
    "devices-not-an-object": (_set("runs", 0, "devices", value=[]), "runs[0].devices: Input"),
    "device-id-a-number": (
        _set("scenario", "devices", 0, "id", value=7),
        "scenario.devices[0].id: Input should be a valid string",
    ),
    "target-as-string": (
        _set("scenario", "targets", value=["0.8"]),
        "scenario.targets[0]: Input should be a valid number",
    ),
    "bytes-a-boolean": (
        _set("runs", 0, "bytes", "total", value=True),
        "runs[0].bytes.total: Input should be a valid number",
    ),
    "accuracy-above-one": (
        _set("runs", 0, "final_accuracy", value=2),
        "runs[0].final_accuracy: Input should be less than or equal to 1",
    ),
    "curve-point-short": (
        _set("runs", 0, "curves", 0, "points", 1, value=[4.0]),
        "runs[0].curves[0].points[1][1]: required field is missing",
    ),
    "span-backwards": (
        _set("runs", 0, "timeline", 0, value=[DEVICE, "compute", 2.0, 1.0, ""]),
        "runs[0].timeline[0]: a span ends (1.0) before it starts (2.0)",
    ),
    "span-not-a-list": (_set("runs", 0, "timeline", 3, value="x"), "runs[0].timeline[3]"),
    "stall-a-string": (_set("runs", 0, "stalled", value="yes"), "runs[0].stalled: Input"),
    "stall-without-time": (
        _set("runs", 0, "stalled", value={"reason": "?"}),
        "runs[0].stalled.at_s: required field is missing",
    ),
    "target-key-not-a-number": (
        _set("runs", 0, "time_to_accuracy_s", value={"soon": 1.0}),
        "runs[0].time_to_accuracy_s: key 'soon' is not an accuracy target",
    ),
    "counter-as-string": (
        _set("runs", 0, "counters", "deadline_misses", value="2"),
        "runs[0].counters.deadline_misses: Input should be a valid number",
    ),
    "link-bytes-negative": (
        _set("runs", 0, "bytes_per_link", "server--switch", value=-5),
        "runs[0].bytes_per_link.server--switch: Input should be greater than or equal to 0",
    ),
}


@pytest.mark.parametrize("edit, words", BAD_SHAPES.values(), ids=BAD_SHAPES.keys())
def test_a_wrong_type_missing_key_or_bad_number_names_file_and_key(tmp_path, capsys, edit, words):
    data = small_results()
    edit(data)
    err = refused(capsys, tmp_path, write_json(tmp_path, data), words)
    assert "not the results file edgesim writes" in err


def test_every_problem_is_counted_but_only_the_first_few_shown_each_cut_short(tmp_path, capsys):
    data = small_results()
    data["runs"][0]["sim_time_s"] = "x" * 100_000
    data["runs"][0]["timeline"] = [["d", "compute", "soon", 1.0, ""]] * 5_000
    err = refused(capsys, tmp_path, write_json(tmp_path, data), "runs[0].sim_time_s: Input")
    assert "runs[0].timeline[0][2]: Input should be a valid number" in err
    assert f"… and {5_001 - load.MAX_PROBLEMS} more" in err
    problems = err.splitlines()[1:]
    assert len(problems) == load.MAX_PROBLEMS + 1
    assert max(len(line) for line in problems) <= 210


@pytest.mark.parametrize(
    "version", [2, "1", None, "x" * 10_000], ids=["newer", "string", "null", "long"]
)
def test_an_unsupported_schema_version_is_named(tmp_path, capsys, version):
    data = small_results()
    data["schema_version"] = version
    err = refused(capsys, tmp_path, write_json(tmp_path, data), "is not supported")
    assert len(err) < 500


def test_json_that_is_not_results_keeps_its_message(tmp_path, capsys):
    path = write_json(tmp_path, [1, 2, 3])
    refused(capsys, tmp_path, path, "not an edgesim results file")


# --- what stays accepted ---------------------------------------------------------------------


@pytest.mark.parametrize("legacy", [False, True], ids=["stalled-object", "legacy-counter"])
def test_nulls_and_keys_older_results_lack_stay_accepted(tmp_path, capsys, legacy):
    data = stalled_results(legacy=legacy)
    data["runs"][0].update(final_accuracy=None, time_to_accuracy_s={"0.8": None, "0.9": None})
    data["runs"][1].update(stalled=None)
    for run in data["runs"]:
        del run["bytes_curve"]
        for stats in run["devices"].values():
            del stats["background_s"]
    data["runs"][0]["future_key"] = {"anything": [1, "two"]}  # more than the report reads
    accepted(capsys, tmp_path, write_json(tmp_path, data))


def test_the_synthetic_results_of_the_report_tests_validate(tmp_path):
    data = copy.deepcopy(stalled_results())
    assert read_results(write_json(tmp_path, data)) == data
