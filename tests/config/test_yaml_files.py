"""Hostile and mistaken YAML files end in a clear error naming the file, within bounds."""

from __future__ import annotations

import os

import pytest

from edgesim.cli import main
from edgesim.config import yaml_files
from edgesim.config.yaml_files import MAX_DEPTH, load_yaml
from edgesim.errors import EdgesimError

BILLION_LAUGHS = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(8)]
)
"""Nine levels of ten aliases each: 10⁹ values once expanded, a few hundred bytes to parse."""


def refused(path, *words):
    with pytest.raises(EdgesimError) as info:
        load_yaml(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message, message
    return message


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "text, words",
    [
        (BILLION_LAUGHS, ["aliases are expanded"]),
        ("a: &a [*a]", ["nested deeper"]),  # a recursive alias
        ("[" * 100_000 + "]" * 100_000, ["nest"]),  # ours, or a newer libyaml's own limit
        ("{a: " * 70 + "1" + "}" * 70, [f"deeper than {MAX_DEPTH}"]),
        ("deep: &d " + "[" * 40 + "]" * 40 + "\n" + "x: " + "[" * 30 + "*d" + "]" * 30, ["deeper"]),
        ("name: a\nseed: 1\nname: b\n", ["duplicate key 'name'", "line 1", "line 3"]),
        ("data:\n  dataset: digits\n  dataset: mnist\n", ["duplicate key 'dataset'", "line 3"]),
        ("a: [1, 2\n", ["not valid YAML", "line"]),
    ],
    ids=[
        "alias-bomb",
        "recursive-alias",
        "deep-list",
        "deep-map",
        "alias-used-deep",
        "dup-top",
        "dup-nested",
        "unclosed",
    ],
)
def test_hostile_documents_are_refused(tmp_path, text, words):
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    refused(path, *words)


def test_merge_keys_may_override_and_shared_aliases_within_bounds_are_fine(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nmany: [*b, *b, *b]\n")
    data = load_yaml(path)
    assert data["use"] == {"x": 1, "y": 3}
    assert data["many"] == [{"x": 1, "y": 2}] * 3


@pytest.mark.parametrize(
    "content, words",
    [
        ("name: x\n".encode("utf-16"), ["UTF-16", "UTF-8"]),
        (b"name: \xff\xfe\x00binary\x80", ["not UTF-8", "byte 6"]),
    ],
    ids=["utf-16", "binary"],
)
def test_text_that_is_not_utf8_is_named(tmp_path, content, words):
    path = tmp_path / "bytes.yaml"
    path.write_bytes(content)
    refused(path, *words)


@pytest.mark.timeout(30)
def test_devices_pipes_and_directories_are_not_read(tmp_path):
    refused(tmp_path, "is a directory")
    if os.path.exists("/dev/zero"):
        with pytest.raises(EdgesimError, match="not a regular file"):
            load_yaml("/dev/zero")
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    refused(fifo, "not a regular file")
    refused(tmp_path / "missing.yaml", "not found")


def test_a_file_over_the_size_bound_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(yaml_files, "MAX_FILE_BYTES", 1024)
    path = tmp_path / "big.yaml"
    path.write_text("devices:\n" + "  - {id: d, profile: jetson-nano}\n" * 100)
    refused(path, "larger than")


def test_the_cli_exits_2_naming_the_file_and_leaves_it_untouched(tmp_path, capsys):
    path = tmp_path / "bomb.yaml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    before = path.read_bytes()
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bomb.yaml" in err and "aliases are expanded" in err
    assert "Traceback" not in err
    assert path.read_bytes() == before
