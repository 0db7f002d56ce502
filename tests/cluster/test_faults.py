"""Failures: random MTBF/MTTR outages, CSV traces, merging, and injection on the clock."""

from __future__ import annotations

import math
import os
import statistics
from pathlib import Path

import pytest
import simpy

from edgesim.cli import main
from edgesim.cluster.device import Device
from edgesim.cluster.faults import Outage, inject, merge, random_outages, read_trace
from edgesim.config.profiles import builtin_device_profiles
from edgesim.errors import EdgesimError
from edgesim.metrics.recorder import Recorder

# --- random_outages -----------------------------------------------------------------------------


def test_random_outages_are_deterministic_per_seed_and_differ_across_seeds():
    args = (["a", "b", "link"], 100.0, 10.0, 5_000.0)
    first = random_outages(*args, seed=1)
    assert first == random_outages(*args, seed=1)
    assert first  # 3 targets × ~45 expected outages each
    assert random_outages(*args, seed=2) != first
    assert {o.target for o in first} == {"a", "b", "link"}


def test_random_outages_respect_the_horizon_and_do_not_overlap():
    horizon = 2_000.0
    outages = random_outages(["a", "b"], 50.0, 20.0, horizon, seed=5)
    assert outages
    for target in ("a", "b"):
        mine = [o for o in outages if o.target == target]
        assert mine == sorted(mine)
        for outage in mine:
            assert 0 < outage.start < horizon
            assert outage.end > outage.start
        for earlier, later in zip(mine, mine[1:], strict=False):
            assert earlier.end <= later.start


def test_random_outages_none_when_mtbf_far_exceeds_horizon():
    assert random_outages(["a"], 1e12, 1.0, 10.0, seed=0) == []
    assert random_outages([], 1.0, 1.0, 10.0, seed=0) == []


def test_random_outages_of_a_target_do_not_depend_on_later_targets():
    alone = random_outages(["a"], 100.0, 10.0, 2_000.0, seed=9)
    with_more = random_outages(["a", "b", "c"], 100.0, 10.0, 2_000.0, seed=9)
    assert [o for o in with_more if o.target == "a"] == alone


def test_random_outages_mean_down_and_up_times_match_mttr_and_mtbf():
    mtbf, mttr = 100.0, 10.0
    outages = random_outages(["x"], mtbf, mttr, 1_000_000.0, seed=2024)
    assert len(outages) > 5_000  # ≈ 1e6 / 110 ≈ 9 000
    downs = [o.end - o.start for o in outages]
    ups = [later.start - earlier.end for earlier, later in zip(outages, outages[1:], strict=False)]
    # Standard error of the mean ≈ MTTR/√9000 ≈ 1 %: ±10 % is generous.
    assert statistics.fmean(downs) == pytest.approx(mttr, rel=0.1)
    assert statistics.fmean(ups) == pytest.approx(mtbf, rel=0.1)
    assert len(outages) == pytest.approx(1_000_000.0 / (mtbf + mttr), rel=0.1)


# --- read_trace ---------------------------------------------------------------------------------


def write(tmp_path, text, name="trace.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_trace_parses_rows(tmp_path):
    path = write(
        tmp_path,
        "target,down_at_s,up_at_s\nnano-0,10,25.5\n\n ap-uplink ,0,1e3\nnano-0,30.25,31\n",
    )
    assert read_trace(path) == [
        Outage(10.0, 25.5, "nano-0"),
        Outage(0.0, 1000.0, "ap-uplink"),
        Outage(30.25, 31.0, "nano-0"),
    ]


def test_read_trace_accepts_extra_columns_in_any_order(tmp_path):
    path = write(tmp_path, "up_at_s,note,target,down_at_s\n5,reboot,pi,2\n")
    assert read_trace(path) == [Outage(2.0, 5.0, "pi")]


def test_read_trace_header_only_is_empty(tmp_path):
    assert read_trace(write(tmp_path, "target,down_at_s,up_at_s\n")) == []


def test_read_trace_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(EdgesimError, match="failure trace not found") as info:
        read_trace(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("text", ["target,down_at_s\npi,1\n", "", "device,down_at_s,up_at_s\n"])
def test_read_trace_missing_column(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(EdgesimError, match="expected a header with columns") as info:
        read_trace(path)
    message = str(info.value)
    assert str(path) in message
    assert "down_at_s, target, up_at_s" in message


@pytest.mark.parametrize("value", ["soon", "", "1,5"])
def test_read_trace_non_numeric_value_names_file_and_line(tmp_path, value):
    path = write(tmp_path, f'target,down_at_s,up_at_s\npi,1,2\npi,"{value}",9\n')
    with pytest.raises(EdgesimError, match="must be numbers") as info:
        read_trace(path)
    assert str(info.value).startswith(f"{path}:3: ")


INTERVAL = "need 0 <= down_at_s < up_at_s"
BOUND = "times are at most 1e[+]09 s"  # every simulated time is


@pytest.mark.parametrize(
    "row, problem",
    [
        ("pi,5,5", INTERVAL),
        ("pi,6,5", INTERVAL),
        ("pi,-1,5", INTERVAL),
        ("pi,nan,5", INTERVAL),
        ("pi,1e300,inf", BOUND),
        ("pi,5,1e300", BOUND),
        ("pi,1000000001,1000000002", BOUND),
    ],
)
def test_read_trace_rejects_bad_intervals(tmp_path, row, problem):
    path = write(tmp_path, f"target,down_at_s,up_at_s\n{row}\n")
    with pytest.raises(EdgesimError, match=problem) as info:
        read_trace(path)
    assert str(info.value).startswith(f"{path}:2: ")


def test_read_trace_a_target_may_leave_for_good(tmp_path):
    path = write(tmp_path, "target,down_at_s,up_at_s\npi,5,inf\n")
    assert read_trace(path) == [Outage(5.0, math.inf, "pi")]


def test_read_trace_short_row_is_a_clear_error(tmp_path):
    # Used to escape as a TypeError (float(None)) instead of an EdgesimError.
    path = write(tmp_path, "target,down_at_s,up_at_s\npi,1,2\npi,4\n")
    with pytest.raises(EdgesimError, match="expected a value in each of 3 columns") as info:
        read_trace(path)
    assert str(info.value).startswith(f"{path}:3: ")


def test_read_trace_line_numbers_count_blank_lines(tmp_path):
    # Used to count records, not lines: the bad row is on line 5 of the file.
    path = write(tmp_path, "target,down_at_s,up_at_s\n\npi,1,2\n\npi,x,3\n")
    with pytest.raises(EdgesimError) as info:
        read_trace(path)
    assert str(info.value).startswith(f"{path}:5: ")


# --- merge --------------------------------------------------------------------------------------


def test_merge_overlapping_and_touching_intervals_per_target():
    outages = [
        Outage(3.0, 8.0, "a"),
        Outage(0.0, 5.0, "a"),
        Outage(8.0, 10.0, "a"),  # touches: merged
        Outage(1.0, 2.0, "a"),  # contained
        Outage(12.0, 13.0, "a"),  # separate
        Outage(4.0, 20.0, "b"),  # overlaps a's times but is another target
    ]
    assert merge(outages) == [
        Outage(0.0, 10.0, "a"),
        Outage(4.0, 20.0, "b"),
        Outage(12.0, 13.0, "a"),
    ]


def test_merge_is_sorted_by_start_and_keeps_disjoint_ones():
    outages = [Outage(5.0, 6.0, "x"), Outage(1.0, 2.0, "y"), Outage(3.0, 4.0, "x")]
    assert merge(outages) == sorted(outages)
    assert merge([]) == []


def test_merge_of_random_outages_changes_nothing():
    outages = random_outages(["a", "b"], 10.0, 5.0, 500.0, seed=3)
    assert merge(outages) == sorted(outages)


# --- inject -------------------------------------------------------------------------------------


def test_inject_takes_targets_down_and_up_at_exact_times():
    env = simpy.Environment()
    events = []
    outages = [Outage(1.5, 4.25, "a"), Outage(2.0, 3.0, "link"), Outage(6.0, 6.5, "a")]
    inject(
        env,
        outages,
        lambda target: events.append((env.now, "down", target)),
        lambda target: events.append((env.now, "up", target)),
    )
    env.run()
    assert events == [
        (1.5, "down", "a"),
        (2.0, "down", "link"),
        (3.0, "up", "link"),
        (4.25, "up", "a"),
        (6.0, "down", "a"),
        (6.5, "up", "a"),
    ]


def test_inject_drives_a_device():
    env = simpy.Environment()
    recorder = Recorder()
    device = Device(env, "pi", builtin_device_profiles()["raspberry-pi-4"], recorder)
    states = []

    def watch():
        for _ in range(8):
            states.append((env.now, device.up))
            yield env.timeout(1.0)

    inject(env, [Outage(2.5, 5.5, "pi")], lambda _t: device.go_down(), lambda _t: device.come_up())
    env.process(watch())
    env.run()
    assert [up for _, up in states] == [True, True, True, False, False, False, True, True]
    assert [(s.kind, s.start, s.end) for s in recorder.spans] == [("down", 2.5, 5.5)]


# --- hostile trace files, through the CLI -------------------------------------------------------
# A scenario's failures.trace names any path: a folder, a device, a pipe, binary or UTF-16
# bytes, an over-long field, non-finite times. `edgesim validate` and `edgesim run` (which
# reads the trace before its first scheme) must exit 2 naming the trace, never hang or
# print a traceback, and leave the files as they were.

HEADER = "target,down_at_s,up_at_s\n"


def scenario_with_trace(write_scenario, tiny_scenario, trace: str) -> Path:
    tiny_scenario["failures"] = {"trace": trace}
    return write_scenario(tiny_scenario)


def refused_trace(capsys, scenario: Path, trace: Path, *words: str, command: str = "validate"):
    """Run ``edgesim <command>``: exit 2, no traceback, the trace named, both files untouched."""
    files = [p for p in (scenario, trace) if p.is_file()]
    before = [p.read_bytes() for p in files]
    args = [command, str(scenario)]
    if command == "run":
        args += ["--out", str(scenario.parent / "out"), "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert trace.name in err
    for word in words:
        assert word in err, err
    assert [p.read_bytes() for p in files] == before
    return err


def test_a_trace_that_is_a_directory_is_named_as_such(
    tmp_path, write_scenario, tiny_scenario, capsys
):
    (tmp_path / "traces").mkdir()
    scenario = scenario_with_trace(write_scenario, tiny_scenario, "traces")
    refused_trace(
        capsys, scenario, tmp_path / "traces", "is a directory, expected a CSV failure trace"
    )


@pytest.mark.timeout(60)
def test_a_trace_that_is_a_pipe_is_refused_without_opening_it(
    tmp_path, write_scenario, tiny_scenario, capsys
):
    os.mkfifo(tmp_path / "trace.csv")  # opening it for reading would block until a writer came
    scenario = scenario_with_trace(write_scenario, tiny_scenario, "trace.csv")
    refused_trace(capsys, scenario, tmp_path / "trace.csv", "not a regular file")


@pytest.mark.timeout(60)
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_dev_zero_as_a_trace_is_refused_without_reading_it(write_scenario, tiny_scenario, capsys):
    scenario = scenario_with_trace(write_scenario, tiny_scenario, "/dev/zero")
    refused_trace(capsys, scenario, Path("/dev/zero"), "not a regular file")


BAD_TRACES = {
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["not UTF-8", "byte 0"]),
    "latin-1": ((HEADER + "caf\xe9,1,2\n").encode("latin-1"), ["not UTF-8", "0xe9"]),
    "utf-16": ((HEADER + "nano-0,1,2\n").encode("utf-16"), ["UTF-16"]),
    "over-long-field": (
        (HEADER + "nano-0," + "1" * 200_000 + ",2\n").encode(),
        ["trace.csv:2: not readable as CSV", "field larger than field limit"],
    ),
    "over-long-quoted-field": (
        (HEADER + '"' + "x" * 200_000 + '",1,2\n').encode(),
        ["trace.csv:2: not readable as CSV"],
    ),
    "nul-in-target": ((HEADER + "nano-0\x00,1,2\n").encode(), ["trace.csv:2: target must be"]),
    "nul-in-number": ((HEADER + "nano-0,1\x00,2\n").encode(), ["trace.csv:2: down_at_s and"]),
    "empty-target": ((HEADER + "nano-0,1,2\n ,3,4\n").encode(), ["trace.csv:3: target must be"]),
    "escape-in-target": (
        (HEADER + "\x1b[31mnano-0,1,2\n").encode(),
        ["trace.csv:2: target must be", "\\x1b"],
    ),
    "nan-down": ((HEADER + "nano-0,nan,2\n").encode(), ["trace.csv:2: need 0 <= down_at_s"]),
    "nan-up": ((HEADER + "nano-0,1,NaN\n").encode(), ["trace.csv:2: need 0 <= down_at_s"]),
    "inf-down": ((HEADER + "nano-0,inf,inf\n").encode(), ["trace.csv:2: need 0 <= down_at_s"]),
    "minus-inf-down": ((HEADER + "nano-0,-inf,2\n").encode(), ["trace.csv:2: need 0 <="]),
}


@pytest.mark.parametrize("content, words", BAD_TRACES.values(), ids=BAD_TRACES.keys())
def test_a_bad_trace_names_file_and_line(
    tmp_path, write_scenario, tiny_scenario, capsys, content, words
):
    (tmp_path / "trace.csv").write_bytes(content)
    scenario = scenario_with_trace(write_scenario, tiny_scenario, "trace.csv")
    refused_trace(capsys, scenario, tmp_path / "trace.csv", "failures.trace: ", *words)


def test_a_trace_over_the_size_bound_is_refused(tmp_path, write_scenario, tiny_scenario, capsys):
    (tmp_path / "trace.csv").write_text(HEADER + "nano-0,1,2\n" * 800_000)  # 8.8 MB
    scenario = scenario_with_trace(write_scenario, tiny_scenario, "trace.csv")
    refused_trace(capsys, scenario, tmp_path / "trace.csv", "larger than 8 MiB")


def test_run_refuses_a_bad_trace_before_its_first_scheme(
    tmp_path, write_scenario, tiny_scenario, capsys
):
    (tmp_path / "trace.csv").write_bytes((HEADER + "nano-0,1,2\n").encode("utf-16"))
    scenario = scenario_with_trace(write_scenario, tiny_scenario, "trace.csv")
    refused_trace(capsys, scenario, tmp_path / "trace.csv", "UTF-16", command="run")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "content",
    [b"\xef\xbb\xbf" + (HEADER + "nano-0,1,2\n").encode(), (HEADER + "nano-0,1,2\r\n").encode()],
    ids=["utf-8-bom", "crlf"],
)
def test_a_trace_with_a_bom_or_crlf_lines_is_read(
    tmp_path, write_scenario, tiny_scenario, capsys, content
):
    (tmp_path / "trace.csv").write_bytes(content)
    assert (
        main(["validate", str(scenario_with_trace(write_scenario, tiny_scenario, "trace.csv"))])
        == 0
    )
    assert read_trace(tmp_path / "trace.csv") == [Outage(1.0, 2.0, "nano-0")]


def test_an_infinite_up_time_is_a_target_that_never_returns(tmp_path):
    path = write(tmp_path, HEADER + "nano-0,1.5,inf\n")
    assert read_trace(path) == [Outage(1.5, math.inf, "nano-0")]
