"""Sweep files: grid expansion, stable point ids, validation of every point before running."""

from __future__ import annotations

import pytest
import yaml

from edgesim.errors import ConfigError, EdgesimError
from edgesim.sweep import load_sweep
from edgesim.sweep.spec import point_id


def test_grid_is_the_product_of_the_varied_values_times_the_seeds(sweep_file):
    sweep = load_sweep(
        sweep_file(
            vary={"failures.departures[0].fraction": [0.0, 0.5], "schemes[fedavg].rounds": [1, 2]},
            seeds=[4, 5, 6],
        )
    )
    assert [p.values for p in sweep.points] == [
        {"failures.departures[0].fraction": f, "schemes[fedavg].rounds": r}
        for f in (0.0, 0.5)
        for r in (1, 2)
    ]
    assert len(sweep.tasks) == 12
    task = sweep.tasks[-1]
    assert task.scenario["seed"] == 6 and task.scenario["schemes"][0]["rounds"] == 2
    assert task.scenario["failures"]["departures"][0]["fraction"] == 0.5
    assert task.id == f"{sweep.points[-1].id}-6"


def test_point_ids_are_stable_and_filesystem_safe():
    values = {"network.links[uplink].profile": "lte"}
    assert point_id(3, 12, values) == point_id(3, 12, dict(values))
    assert point_id(3, 12, values).startswith("p03-") and len(point_id(3, 12, values)) == 12
    assert point_id(3, 12, values) != point_id(3, 12, {"network.links[uplink].profile": "5g"})
    assert point_id(7, 150, values).startswith("p007-")


def test_bad_path_is_an_error_naming_the_nearest_valid_one(sweep_file):
    path = sweep_file(vary={"failures.departures[0].fractoin": [0.1]})
    with pytest.raises(EdgesimError) as error:
        load_sweep(path)
    assert "vary 'failures.departures[0].fractoin'" in str(error.value)
    assert "nearest valid path: 'failures.departures[0].fraction'" in str(error.value)


def test_every_point_is_validated_as_a_scenario(sweep_file):
    path = sweep_file(
        vary={
            "failures.departures[0].fraction": [0.5, 1.5],
            "devices[nano].profile": ["jetson-nano", "jetson-nan"],
        }
    )
    with pytest.raises(ConfigError) as error:
        load_sweep(path)
    problems = "\n".join(error.value.problems)
    assert "failures.departures[0].fraction: Input should be less than or equal to 1" in problems
    assert "unknown device profile 'jetson-nan'" in problems
    assert "failures.departures[0].fraction=1.5" in problems  # which point


def test_sweep_file_schema_errors_are_listed(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"name": "x", "base": "b.yaml", "seeds": [1, 1], "vari": {}}))
    with pytest.raises(ConfigError) as error:
        load_sweep(path)
    problems = "\n".join(error.value.problems)
    assert "vari: unknown key 'vari' (did you mean 'vary'?)" in problems
    assert "seeds: seeds must be distinct" in problems


@pytest.mark.parametrize(
    ("install", "words"),
    [
        ("conda", "install 'conda': expected 'pip' or the path of a .whl file"),
        ("dist/missing.whl", "install: no file .*missing.whl; build the wheel with"),
        ("edgesim-0.0.1-py3-none-any.whl", "is not a wheel of edgesim .* begin edgesim-"),
        ("other-{v}-py3-none-any.whl", "other-.*is not a wheel of edgesim"),
    ],
)
def test_install_names_pip_or_a_wheel_of_this_edgesim(sweep_file, install, words):
    import edgesim

    path = sweep_file()
    install = install.format(v=edgesim.__version__)
    if not install.startswith("dist/"):
        (path.parent / install).write_bytes(b"")
    path.write_text(path.read_text() + f"install: {install}\n")
    with pytest.raises(EdgesimError, match=words):
        load_sweep(path)
