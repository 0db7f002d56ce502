"""References to user code (a file, a module, an entry point); its errors are the user's."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from edgesim import plugins
from edgesim.plugins import PluginError, absolute, blame, find, is_reference


def _write(path: Path, code: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return path


def test_what_is_a_reference() -> None:
    assert is_reference("nets.py:Net") and is_reference("pkg.mod:make.net")
    assert not is_reference("cnn-small") and not is_reference(":x") and not is_reference("x:")


def test_a_file_reference_is_made_absolute_against_the_scenario_folder(tmp_path) -> None:
    assert absolute("models/net.py:Net", tmp_path) == f"{tmp_path / 'models/net.py'}:Net"
    assert absolute("/abs/net.py:Net", tmp_path) == "/abs/net.py:Net"
    assert absolute("pkg.mod:Net", tmp_path) == "pkg.mod:Net"
    assert absolute("cnn-small", tmp_path) == "cnn-small"


def test_a_file_is_imported_once_and_its_attribute_found(tmp_path) -> None:
    file = _write(tmp_path / "net.py", "COUNT = [0]\nCOUNT[0] += 1\nclass Net:\n    pass\n")
    first = find(f"{file}:Net", "model")
    again = find(f"{file}:Net", "model")
    assert first is again and first.__name__ == "Net"
    assert find(f"{file}:COUNT", "model") == [1]


def test_a_module_reference(tmp_path, monkeypatch) -> None:
    _write(tmp_path / "userpkg" / "__init__.py", "")
    _write(tmp_path / "userpkg" / "nets.py", "def build(shape, classes):\n    return shape\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert find("userpkg.nets:build", "model")((1, 2, 3), 4) == (1, 2, 3)


def test_an_entry_point_of_an_installed_package(tmp_path, monkeypatch) -> None:
    _write(tmp_path / "epkg.py", "def net(shape, classes):\n    return 'built'\n")
    dist = tmp_path / "epkg-1.0.dist-info"
    _write(dist / "METADATA", "Metadata-Version: 2.1\nName: epkg\nVersion: 1.0\n")
    _write(dist / "entry_points.txt", "[edgesim.models]\ntiny = epkg:net\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "tiny" in plugins.registered("model")
    assert find("tiny", "model")(None, None) == "built"
    assert find("tiny", "dataset") is None  # another group
    assert find("no-such-name", "model") is None


@pytest.mark.parametrize(
    "code, reference, words",
    [
        (None, "missing.py:Net", ["missing.py:Net", "no such Python file"]),
        ("class Net:\n    pass\n", "net.py:Nett", ["has no attribute 'Nett'"]),
        ("def broken(:\n", "net.py:Net", ["net.py:1: SyntaxError"]),
        (
            "x = 1\nraise RuntimeError('cannot start')\n",
            "net.py:Net",
            ["net.py:2: RuntimeError: cannot start"],
        ),
        ("import no_such_dependency\n", "net.py:Net", ["ModuleNotFoundError", "net.py:1"]),
        (None, "no_such_package.sub:Net", ["no module named 'no_such_package.sub'"]),
    ],
    ids=["no-file", "no-attribute", "syntax", "raises-on-import", "bad-import", "no-module"],
)
def test_a_broken_reference_is_the_users_error(tmp_path, code, reference, words) -> None:
    if code is not None:
        _write(tmp_path / "net.py", code)
    if ".py:" in reference:
        reference = absolute(reference, tmp_path)
    with pytest.raises(PluginError) as caught:
        find(reference, "model")
    for word in words:
        assert word in str(caught.value)


def test_an_error_raised_later_in_user_code_is_blamed_on_it(tmp_path) -> None:
    file = _write(tmp_path / "net.py", "def forward(x):\n    return x / 0\n")
    forward = find(f"{file}:forward", "model")
    with pytest.raises(ZeroDivisionError) as caught:
        forward(1)
    assert blame(caught.value) == f"{file}:forward: {file}:2: ZeroDivisionError: division by zero"
    with pytest.raises(ZeroDivisionError) as ours:
        _ = 1 / 0
    assert blame(ours.value) is None  # not raised in user code: a bug in edgesim
