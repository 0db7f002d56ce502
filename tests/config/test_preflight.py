"""What ``edgesim run`` rejects, ``edgesim validate`` rejects first, naming the file and the field.

Each case is a scenario that loads (schema and references are fine) but that
``run`` used to reject only once it got to it — in ``prepare`` or inside a
scheme, after the schemes before it had run. Each is checked three ways:
the run without the pre-flight still fails (so the check mirrors a real
failure), ``validate`` exits 2 naming file and field, and ``run_scenario``
raises before it prepares data or starts any scheme.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from edgesim import preflight, runner
from edgesim.cli import main
from edgesim.config import load_scenario
from edgesim.errors import ConfigError, EdgesimError

BASE: dict[str, Any] = {
    "name": "preflight",
    "devices": [
        {"id": "server", "profile": "rtx-2080ti", "role": "server"},
        {"id": "nano", "profile": "jetson-nano", "count": 2},
    ],
    "network": {
        "nodes": ["switch"],
        "links": [
            {"between": ["server", "switch"], "profile": "ethernet-1g"},
            {"between": ["nano", "switch"], "profile": "ethernet-1g"},
        ],
    },
    "data": {"dataset": "digits"},
    "training": {"model": "mlp"},
    "schemes": [{"scheme": "fedavg", "rounds": 1}],
}

Change = Callable[[dict[str, Any], Path], None]


def _data(**fields: Any) -> Change:
    return lambda s, _dir: s["data"].update(fields)


def _partition(**fields: Any) -> Change:
    return lambda s, _dir: s["data"].setdefault("partition", {}).update(fields)


def _first_scheme(scheme: dict[str, Any]) -> Change:
    """The offending scheme first, so the unchecked run reaches it at once."""
    return lambda s, _dir: s.update(schemes=[scheme, {"scheme": "local", "epochs": 1}])


def _empty_mnist(s: dict[str, Any], folder: Path) -> None:
    (folder / "mnist").mkdir()
    (folder / "mnist" / "train-images-idx3-ubyte").write_bytes(b"")
    s["data"].update(dataset="mnist", path="mnist")


def _npz(**arrays: Any) -> Change:
    def change(s: dict[str, Any], folder: Path) -> None:
        import numpy as np

        np.savez(folder / "data.npz", **arrays)
        s["data"].update(dataset="npz", path="data.npz")

    return change


def _synthetic(**sizes: Any) -> Change:
    return lambda s, _dir: s["data"].update(dataset="synthetic", synthetic=sizes)


def _image_folder(per_class: list[int]) -> Change:
    def change(s: dict[str, Any], folder: Path) -> None:
        from PIL import Image

        for label, count in enumerate(per_class):
            (folder / "faces" / f"c{label}").mkdir(parents=True)
            for i in range(count):
                Image.new("RGB", (6, 6), (label * 40, i, 0)).save(
                    folder / "faces" / f"c{label}/{i}.png"
                )
        s["data"].update(dataset="image-folder", path="faces", image_size=4)

    return change


def _trace(text: str) -> Change:
    def change(s: dict[str, Any], folder: Path) -> None:
        (folder / "trace.csv").write_text(text, encoding="utf-8")
        s["failures"] = {"trace": "trace.csv"}

    return change


def _departures_with_background(s: dict[str, Any], _dir: Path) -> None:
    s["failures"] = {"departures": [{"targets": ["nano"], "fraction": 0.5, "at_s": 0.01}]}
    s["background"] = [{"device": "nano", "period_s": 0.05, "compute_s": 0.01, "deadline_s": 0.05}]


def _only_a_server(s: dict[str, Any], _dir: Path) -> None:
    s["devices"] = s["devices"][:1]
    s["network"]["links"] = s["network"]["links"][:1]


def _no_server(s: dict[str, Any], _dir: Path) -> None:
    s["devices"] = s["devices"][1:]
    s["network"]["links"] = s["network"]["links"][1:]
    s["schemes"] = [{"scheme": "local", "epochs": 1}]
    s["data"]["partition"] = {"server_share": 0.2}


CASES: dict[str, tuple[Change, str]] = {
    "dataset-needs-path": (
        _data(dataset="cifar10"),
        "data.path: dataset 'cifar10' needs a path to the CIFAR-10 batches",
    ),
    "path-not-a-folder": (_data(dataset="mnist", path="nowhere"), "data.path: "),
    "mnist-files-missing": (_empty_mnist, "data.path: missing "),
    "cifar-batches-missing": (_data(dataset="cifar10", path="."), "data.path: "),
    "fashion-mnist-files-missing": (
        _data(dataset="fashion-mnist", path="."),
        "data.path: missing ",
    ),
    "npz-needs-path": (_data(dataset="npz"), "data.path: dataset 'npz' needs a path to a .npz"),
    "npz-not-a-file": (_data(dataset="npz", path="."), "data.path: "),
    "npz-no-labels": (_npz(x=[[[0]]] * 10), "data.npz: no array 'y' (it holds: x)"),
    "synthetic-no-test-sample": (
        _synthetic(samples=10, classes=5),
        "data.test_fraction: dataset 'synthetic' would have no test sample (10 samples)",
    ),
    "synthetic-personal-class-beyond-its-classes": (
        lambda s, d: (_synthetic(classes=3)(s, d), _partition(personal_class=["nano-0", 5])(s, d)),
        "data.partition.personal_class[1]: no training sample has label 5 (labels: 0..2)",
    ),
    "image-class-empty": (_image_folder([3, 0]), "class folder holds no images"),
    "image-no-test-sample": (_image_folder([1, 1]), "data.test_fraction: "),
    "small-model-name": (
        lambda s, _dir: s["training"].update(small_model="cnn-tiny"),
        "training.small_model: unknown model 'cnn-tiny'",
    ),
    "distillation-needs-server-data": (
        _first_scheme({"scheme": "distill-fl", "rounds": 1}),
        "schemes[0]: scheme 'distill-fl' distils on the server's data",
    ),
    "gear-needs-server-data": (
        _first_scheme({"scheme": "gear", "rounds": 1}),
        "schemes[0]: scheme 'gear' distils on the server's data",
    ),
    "tifl-needs-validation-data": (
        lambda s, d: (
            _data(validation_fraction=0.0)(s, d),
            _first_scheme({"scheme": "tifl", "rounds": 1})(s, d),
        ),
        "schemes[0]: scheme 'tifl' validates on the clients' own data: "
        "set data.validation_fraction > 0",
    ),
    "unknown-distillation-server": (
        lambda s, d: (
            _partition(server_share=0.2)(s, d),
            _first_scheme({"scheme": "async-distill-fl", "distillation_server": "nan-0"})(s, d),
        ),
        "schemes[0].distillation_server: unknown device 'nan-0' (did you mean 'nano-0'?)",
    ),
    "subset-label-not-in-test-set": (
        lambda s, _dir: s.update(observe={"subsets": {"faces": {"labels": [42]}}}),
        "observe.subsets.faces.labels[0]: no test sample has label 42",
    ),
    "personal-class-not-in-data": (
        _partition(personal_class=["nano-0", 10]),
        "data.partition.personal_class[1]: no training sample has label 10",
    ),
    "too-many-shards": (
        _partition(kind="shards", shards_per_device=1000),
        "data.partition: cannot cut ",
    ),
    "server-share-without-server": (
        _no_server,
        "data.partition.server_share: > 0 needs a device with role: server",
    ),
    "no-client": (_only_a_server, "devices: no client to hold training data"),
    "trace-missing": (
        lambda s, _dir: s.update(failures={"trace": "missing.csv"}),
        "failures.trace: failure trace not found: ",
    ),
    "trace-bad-row": (
        _trace("target,down_at_s,up_at_s\nnano-0,soon,2\n"),
        "failures.trace: ",
    ),
    "trace-unknown-target": (
        _trace("target,down_at_s,up_at_s\nnano-7,1,2\n"),
        "failures.trace: trace.csv: unknown device or link 'nano-7'",
    ),
    "departures-with-background-need-horizon": (
        _departures_with_background,
        "horizon_s: failures.departures with background tasks needs a horizon_s",
    ),
}


def _write(tmp_path: Path, change: Change) -> Path:
    scenario = copy.deepcopy(BASE)
    change(scenario, tmp_path)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
    return path


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def no_scheme_may_start(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("reached past the pre-flight")

    monkeypatch.setattr(runner, "prepare", unreachable)
    monkeypatch.setattr(runner, "run_scheme", unreachable)


@pytest.mark.parametrize("case", CASES)
def test_run_without_the_preflight_fails_too(case: str, tmp_path: Path, monkeypatch) -> None:
    change, _ = CASES[case]
    loaded = load_scenario(_write(tmp_path, change))
    monkeypatch.setattr(preflight, "check", lambda _loaded: None)
    with pytest.raises(EdgesimError):
        runner.run_scenario(loaded, schemes=[loaded.scenario.schemes[0].scheme])


@pytest.mark.parametrize("case", CASES)
def test_validate_names_file_and_field(case: str, tmp_path: Path, capsys) -> None:
    change, expected = CASES[case]
    path = _write(tmp_path, change)
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    err = _flat(captured.err)
    assert err.startswith(f"error: invalid configuration in {path}:")
    assert expected in err
    assert "Traceback" not in captured.err + captured.out


@pytest.mark.parametrize("case", CASES)
def test_run_rejects_before_any_scheme(case: str, tmp_path: Path, no_scheme_may_start) -> None:
    change, expected = CASES[case]
    path = _write(tmp_path, change)
    with pytest.raises(ConfigError) as caught:
        runner.run_scenario(load_scenario(path))
    assert caught.value.source == str(path)
    assert any(expected in p for p in caught.value.problems), caught.value.problems


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    def many(s: dict[str, Any], folder: Path) -> None:
        s["data"].update(dataset="cifar10")
        s["training"]["model"] = "resnet"
        s["failures"] = {"trace": "missing.csv"}
        s["schemes"].append({"scheme": "distill-fl"})

    with pytest.raises(ConfigError) as caught:
        preflight.check(load_scenario(_write(tmp_path, many)))
    fields = [p.split(":")[0] for p in caught.value.problems]
    assert fields == ["training.model", "data.path", "schemes[1]", "failures.trace"]


def test_every_subset_label_must_be_in_the_test_set(tmp_path: Path) -> None:
    """As documented: a typo beside a good label is not silently ignored (run would observe 3)."""
    path = _write(tmp_path, lambda s, _d: s.update(observe={"subsets": {"x": {"labels": [3, 42]}}}))
    with pytest.raises(ConfigError) as caught:
        preflight.check(load_scenario(path))
    assert caught.value.problems == [
        "observe.subsets.x.labels[1]: no test sample has label 42 (labels: 0..9)"
    ]


def test_validate_checks_every_file_and_reports_each(tmp_path: Path, capsys) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(BASE), encoding="utf-8")
    bad = _write(tmp_path, _data(dataset="cifar10"))
    assert main(["validate", str(bad), str(good)]) == 2
    captured = capsys.readouterr()
    assert f"invalid configuration in {bad}" in _flat(captured.err)
    assert "good.yaml: ok" in _flat(captured.out)


def test_data_on_disk_that_is_complete_passes(tmp_path: Path) -> None:
    """The checks accept what the loaders accept: an image folder, a fake MNIST."""
    import numpy as np

    _image_folder([3, 3])(scenario := copy.deepcopy(BASE), tmp_path)
    path = tmp_path / "faces.yaml"
    path.write_text(yaml.safe_dump(scenario), encoding="utf-8")
    preflight.check(load_scenario(path))

    mnist = tmp_path / "mnist"
    mnist.mkdir()
    for prefix, count in (("train", 40), ("t10k", 10)):
        labels = np.arange(count, dtype=np.uint8) % 10
        header = b"\x00\x00\x08\x01" + count.to_bytes(4, "big")
        (mnist / f"{prefix}-labels-idx1-ubyte").write_bytes(header + labels.tobytes())
        header = b"\x00\x00\x08\x03" + b"".join(n.to_bytes(4, "big") for n in (count, 2, 2))
        (mnist / f"{prefix}-images-idx3-ubyte").write_bytes(header + bytes(4 * count))
    scenario = copy.deepcopy(BASE)
    scenario["data"] = {"dataset": "mnist", "path": "mnist"}
    scenario["observe"] = {"subsets": {"nines": {"labels": [9]}}}
    path.write_text(yaml.safe_dump(scenario), encoding="utf-8")
    preflight.check(load_scenario(path))
    runner.prepare(load_scenario(path))  # and so does the loader


def test_fashion_mnist_missing_package_says_how_to_install(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(preflight, "FASHION_MNIST_DIR", tmp_path / "missing")
    path = _write(tmp_path, _data(dataset="fashion-mnist"))
    assert main(["validate", str(path)]) == 2
    assert (
        f"data.path: dataset 'fashion-mnist' reads {tmp_path / 'missing'} by default, which is "
        "missing: install it (apt-get install -y dataset-fashion-mnist) or set data.path"
    ) in _flat(capsys.readouterr().err)


def test_fashion_mnist_package_passes_from_its_headers(tmp_path) -> None:
    """Debian's package, as a scenario without data.path reads it: labels known, none loaded."""
    if not preflight.FASHION_MNIST_DIR.is_dir():
        pytest.skip("apt-get install -y dataset-fashion-mnist to run this test")
    path = _write(tmp_path, _data(dataset="fashion-mnist"))
    facts, found = preflight.data_files(load_scenario(path))
    assert found == [] and facts is not None
    assert facts.classes == 10 and facts.train == {c: 6000 for c in range(10)}
    assert facts.test == frozenset(range(10))


def test_npz_facts_are_the_loaders_split(tmp_path) -> None:
    """Labels 0 and 3 only: four classes for the model; a subset of label 2 has no sample."""
    import numpy as np

    change = _npz(x=np.zeros((20, 2, 2), np.uint8), y=np.array([0, 3] * 10))
    path = _write(tmp_path, change)
    facts, found = preflight.data_files(load_scenario(path))
    assert found == [] and facts == preflight.LabelFacts(4, {0: 8, 3: 8}, frozenset({0, 3}))
    prepared = runner.prepare(load_scenario(path))
    assert len(prepared.test) == 4 and prepared.test.num_classes == 4
    twos = {"subsets": {"twos": {"labels": [2]}}}
    path = _write(tmp_path, lambda s, d: (change(s, d), s.update(observe=twos)))
    with pytest.raises(ConfigError) as caught:
        preflight.check(load_scenario(path))
    assert caught.value.problems == [
        "observe.subsets.twos.labels[0]: no test sample has label 2 (labels: 0..3)"
    ]


def test_synthetic_sizes_reach_the_loader_and_the_checks(tmp_path) -> None:
    """The checks count the labels the loader will make, from the same data.synthetic."""
    path = _write(tmp_path, _synthetic(samples=31, classes=3, shape=[2, 3, 4]))
    facts, found = preflight.data_files(load_scenario(path))
    assert found == [] and facts.classes == 3
    assert facts.train == {0: 9, 1: 8, 2: 8}  # 11, 10, 10 samples, a fifth of each held out
    prepared = runner.prepare(load_scenario(path))
    held = [len(h.train) + len(h.validation) for h in prepared.holdings.values()]
    assert sum(held) == 25 and len(prepared.test) == 6
    assert prepared.test.input_shape == (2, 3, 4) and prepared.test.num_classes == 3


def test_synthetic_sizes_only_with_the_synthetic_dataset(tmp_path, capsys) -> None:
    path = _write(tmp_path, lambda s, _dir: s["data"].update(synthetic={"samples": 100}))
    assert main(["validate", str(path)]) == 2
    assert "data.synthetic: only for dataset: synthetic (dataset is 'digits')" in _flat(
        capsys.readouterr().err
    )
