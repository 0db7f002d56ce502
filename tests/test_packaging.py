"""The built wheel is a working edgesim on its own: profiles and a tiny run, outside the checkout.

An editable install reads files straight from the checkout, so a file left out
of the wheel (the device profiles once were) only shows on a real install —
e.g. a Ray worker's. This test builds the wheel from a snapshot of the
sources, installs it into a fresh venv that borrows the system's torch & co.
(``--system-site-packages``, ``--no-deps``: nothing is downloaded), and runs the
installed ``edgesim`` from a directory outside the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

TINY = {
    "name": "tiny",
    "devices": [
        {"id": "server", "profile": "rtx-2080ti", "role": "server"},
        {"id": "nano", "profile": "jetson-nano", "count": 2},
    ],
    "network": {"links": [{"between": ["nano", "server"], "profile": "ethernet-1g"}]},
    "data": {"dataset": "digits"},
    "training": {"model": "mlp"},
    "schemes": [{"scheme": "fedavg", "rounds": 2}],
}


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A venv holding only the wheel built from this checkout (plus the system's packages)."""
    work = tmp_path_factory.mktemp("packaging")
    # Build from a snapshot: an in-tree build would write build/ into the shared checkout.
    source = work / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "edgesim", source / "edgesim", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["COLUMNS"] = "200"  # rich tables unwrapped
    wheels = work / "dist"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    _run([*pip_wheel, "--no-index", "-w", str(wheels), str(source)], work, env)
    (wheel,) = wheels.glob("edgesim-*.whl")

    prefix = work / "venv"
    venv.create(prefix, system_site_packages=True, with_pip=False)
    python = prefix / "bin" / "python"
    pip_install = [str(python), "-m", "pip", "install", "--no-deps", "--no-index"]
    _run([*pip_install, "--ignore-installed", "--no-warn-script-location", str(wheel)], work, env)
    outside = work / "elsewhere"
    outside.mkdir()
    return {"wheel": wheel, "prefix": prefix, "python": python, "cwd": outside, "env": env}


def test_wheel_holds_every_profile_file(installed: dict[str, Path]) -> None:
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    expected = {p.relative_to(ROOT).as_posix() for p in (ROOT / "edgesim").rglob("*.yaml")}
    assert "edgesim/device_profiles/jetson-nano.yaml" in expected
    assert "edgesim/cluster/link_profiles.yaml" in expected
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)}"


def test_installed_edgesim_is_the_wheel_not_the_checkout(installed: dict[str, Path]) -> None:
    code = "import edgesim; print(edgesim.__file__)"
    where = _run([str(installed["python"]), "-c", code], installed["cwd"], installed["env"])
    location = Path(where.stdout.strip()).resolve()
    assert location.is_relative_to(installed["prefix"].resolve()), location
    assert not location.is_relative_to(ROOT), location


def test_installed_edgesim_lists_profiles_and_runs_a_scenario(installed: dict[str, Path]) -> None:
    cwd, env = installed["cwd"], installed["env"]
    edgesim = str(installed["prefix"] / "bin" / "edgesim")
    listed = _run([edgesim, "profiles"], cwd, env).stdout
    for name in ("jetson-nano", "rtx-2080ti", "raspberry-pi-4"):
        assert name in listed

    (cwd / "tiny.yaml").write_text(yaml.safe_dump(TINY), encoding="utf-8")
    _run([edgesim, "validate", "tiny.yaml"], cwd, env)
    _run([edgesim, "run", "tiny.yaml", "--out", "out", "--quiet"], cwd, env)
    results = json.loads((cwd / "out" / "results.json").read_text(encoding="utf-8"))
    (run,) = results["runs"]
    assert run["scheme"] == "fedavg"
    assert run["final_accuracy"] is not None
    assert (cwd / "out" / "report.html").stat().st_size > 0
