"""Careless and hostile input: each a clear exit 2 naming file and field, bounded, nothing lost.

Every case below is a command line a user (or an attacker) could type, run in
one child process under a memory limit (:mod:`tests.bounded`). Each must exit
2 without a traceback, in a message of one screen that names the file and
the field, and leave every file in the folder byte-identical. The classes are
those of the issue: numbers out of any sane range, command-line overrides,
names that clash once groups expand, and messages that must say where.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from PIL import Image

from tests.bounded import Outcome, fingerprint, run_cli_bounded
from tests.conftest import TINY

Edit = Callable[[dict[str, Any]], object]


def _scenario(edit: Edit | None = None) -> dict[str, Any]:
    data = copy.deepcopy(TINY)
    if edit is not None:
        edit(data)
    return data


def _link(**numbers: float) -> Edit:
    def edit(d: dict[str, Any]) -> None:
        link = d["network"]["links"][0]
        link.pop("profile")
        link.update({"up_bps": 1e9, "down_bps": 1e9, "latency_s": 0.001, **numbers})

    return edit


def _many_groups(count: int, clash: bool = True) -> Edit:
    """``count`` one-device groups on one switch; one more clashing with the first if ``clash``."""

    def edit(d: dict[str, Any]) -> None:
        d["devices"] += [{"id": f"d{i}", "profile": "jetson-nano"} for i in range(count)]
        if clash:
            d["devices"].append({"id": "d0", "profile": "jetson-nano"})
        d["network"]["links"] += [
            {"between": [f"d{i}", "switch"], "profile": "wifi-5"} for i in range(count)
        ]

    return edit


def _png(seed: int) -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(seed).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _image_folder(last: bytes) -> dict[str, Any]:
    """Two classes of ten images each; the last image of class b is ``last``."""
    files: dict[str, Any] = {f"img/{c}/{i}.png": _png(i) for c in "ab" for i in range(10)}
    files["img/b/9.png"] = last
    data = {"dataset": "image-folder", "path": "img", "partition": {"server_share": 0.2}}
    files["s.yaml"] = _scenario(
        lambda d: d.update(data=data, schemes=[{"scheme": "local", "epochs": 1}])
    )
    return files


SWEEP = {"name": "what-if", "base": "base.yaml", "vary": {"training.lr": [0.05, 0.1]}}

# id: (files to write, command line, words the message must hold besides the file's name)
CASES: dict[str, tuple[dict[str, Any], list[str], list[str]]] = {
    # ---------------------------------------------------------------- numbers
    "batch-size-huge": (
        {"s.yaml": _scenario(lambda d: d["training"].update(batch_size=10**9))},
        ["validate", "s.yaml"],
        ["training.batch_size", "4096"],
    ),
    "seed-huge": (
        {"s.yaml": _scenario(lambda d: d.update(seed=10**23))},
        ["validate", "s.yaml"],
        ["seed:", "4294967295"],
    ),
    "epochs-huge": (
        {"s.yaml": _scenario(lambda d: d["schemes"][2].update(local_epochs=10**12))},
        ["validate", "s.yaml"],
        ["schemes[2].local_epochs", "10000"],
    ),
    "rounds-huge": (
        {"s.yaml": _scenario(lambda d: d["schemes"][2].update(rounds=10**15))},
        ["validate", "s.yaml"],
        ["schemes[2].rounds"],
    ),
    "image-size-huge": (
        {"s.yaml": _scenario(lambda d: d["data"].update(image_size=10**6))},
        ["validate", "s.yaml"],
        ["data.image_size", "512"],
    ),
    "bandwidth-tiny": (
        {"s.yaml": _scenario(_link(up_bps=1e-300))},
        ["validate", "s.yaml"],
        ["network.links[0].up_bps"],
    ),
    "latency-huge": (
        {"s.yaml": _scenario(_link(latency_s=1e300))},
        ["validate", "s.yaml"],
        ["network.links[0].latency_s", "3600"],
    ),
    "horizon-huge": (
        {"s.yaml": _scenario(lambda d: d.update(horizon_s=1e300))},
        ["validate", "s.yaml"],
        ["horizon_s"],
    ),
    "fleet-huge": (
        {"s.yaml": _scenario(lambda d: [g.update(count=60_000) for g in d["devices"][1:]])},
        ["validate", "s.yaml"],
        ["devices:", "120,001 devices", "100,000"],
    ),
    "targets-many": (
        {"s.yaml": _scenario(lambda d: d.update(targets=[0.5] * 100))},
        ["validate", "s.yaml"],
        ["targets:", "32"],
    ),
    "label-huge": (
        {"s.yaml": _scenario(lambda d: d["schemes"][0].update(label="x" * 100_000))},
        ["validate", "s.yaml"],
        ["schemes[0].label", "100"],
    ),
    "outage-bomb": (
        {
            "s.yaml": _scenario(
                lambda d: d["failures"].update(
                    random={"targets": ["nano"], "mtbf_s": 1e-6, "mttr_s": 1e-6, "horizon_s": 1e9}
                )
            )
        },
        ["validate", "s.yaml"],
        ["failures.random", "1,000,000"],
    ),
    "churn-bomb": (
        {
            "s.yaml": _scenario(
                lambda d: d["failures"].update(
                    churn=[
                        {
                            "targets": ["pi"],
                            "availability": 0.5,
                            "mean_down_s": 1e-6,
                            "horizon_s": 1e6,
                        }
                    ]
                )
            )
        },
        ["validate", "s.yaml"],
        ["failures.churn[0]"],
    ),
    "background-every-nanosecond": (
        {
            "s.yaml": _scenario(
                lambda d: d.update(
                    background=[
                        {"device": "pi", "period_s": 1e-9, "compute_s": 1e-10, "deadline_s": 1}
                    ]
                )
            )
        },
        ["validate", "s.yaml"],
        ["background[0].period_s"],
    ),
    "boolean-for-a-number": (
        {"s.yaml": yaml.safe_dump(TINY).replace("lr: 0.1", "lr: on")},  # YAML's true
        ["validate", "s.yaml"],
        ["training:", "lr must be a number, got true", "YAML reads"],
    ),
    # ---------------------------------------------------------------- command-line overrides
    "cli-seed-negative": (
        {"s.yaml": _scenario()},
        ["run", "s.yaml", "--seed", "-3", "--out", "out", "--quiet"],
        ["--seed -3", "seed:", "greater than or equal to 0"],
    ),
    "cli-seed-huge": (
        {"s.yaml": _scenario()},
        ["run", "s.yaml", "--seed", str(10**23), "--out", "out", "--quiet"],
        ["--seed", "4294967295"],
    ),
    "cli-batch-size-zero": ({}, ["profiles", "--batch-size", "0"], ["--batch-size", "(got 0)"]),
    "cli-batch-size-negative": ({}, ["profiles", "--batch-size", "-5"], ["--batch-size"]),
    "cli-batch-size-huge": ({}, ["profiles", "--batch-size", "99999999"], ["--batch-size"]),
    "cli-jobs-zero": (
        {"sweep.yaml": SWEEP, "base.yaml": _scenario()},
        ["sweep", "sweep.yaml", "--jobs", "0", "--out", "out"],
        ["--jobs"],
    ),
    "sweep-grid-huge": (
        {
            "sweep.yaml": {
                **SWEEP,
                "vary": {
                    f"training.{field}": [round(0.001 * (i + 1), 3) for i in range(100)]
                    for field in ("lr", "momentum", "weight_decay", "lr2", "lr3")
                },
            },
            "base.yaml": _scenario(),
        },
        ["sweep", "sweep.yaml", "--out", "out"],
        ["vary:", "10,000,000,000 points", "10,000"],
    ),
    "sweep-runs-huge": (
        {
            "sweep.yaml": {**SWEEP, "seeds": list(range(60_000))},
            "base.yaml": _scenario(),
        },
        ["validate", "sweep.yaml"],
        ["seeds:", "120,000 runs", "100,000"],
    ),
    "sweep-copies-huge": (
        {
            "sweep.yaml": {**SWEEP, "vary": {}, "seeds": list(range(60_000))},
            "base.yaml": _scenario(_many_groups(1_000, clash=False)),
        },
        ["validate", "sweep.yaml"],
        ["base:", "60,000 runs", "GB"],
    ),
    "sweep-seed-twice": (
        {"sweep.yaml": {**SWEEP, "seeds": [1, 2, 1]}, "base.yaml": _scenario()},
        ["validate", "sweep.yaml"],
        ["seeds:", "1 is given twice"],
    ),
    # ---------------------------------------------------------------- identity
    "id-member-clash": (
        {"s.yaml": _scenario(lambda d: d["devices"].append({"id": "nano-1", "profile": "phone"}))},
        ["validate", "s.yaml"],
        ["devices[3].id", "'nano-1'", "devices[1]"],
    ),
    "id-twice": (
        {"s.yaml": _scenario(lambda d: d["devices"].append({"id": "pi", "profile": "phone"}))},
        ["validate", "s.yaml"],
        ["devices[3].id", "'pi'", "devices[2]"],
    ),
    "id-node-is-member": (
        {"s.yaml": _scenario(lambda d: d["network"]["nodes"].append("nano-0"))},
        ["validate", "s.yaml"],
        ["network.nodes[1]", "'nano-0'"],
    ),
    "id-clash-in-20000-groups": (
        {"s.yaml": _scenario(_many_groups(20_000))},
        ["validate", "s.yaml"],
        ["devices[20003].id", "'d0'", "devices[3]"],
    ),
    # ---------------------------------------------------------------- messages
    "enum-typo": (
        {"s.yaml": _scenario(lambda d: d["data"]["partition"].update(kind="diriclet"))},
        ["validate", "s.yaml"],
        ["data.partition.kind", "did you mean 'dirichlet'"],
    ),
    "enum-typo-in-scheme": (
        {"s.yaml": _scenario(lambda d: d["schemes"][6].update(switch="autoo"))},
        ["validate", "s.yaml"],
        ["schemes[6].switch", "did you mean 'auto'"],
    ),
    "profile-is-a-private-file": (
        {
            "s.yaml": _scenario(lambda d: d["devices"][2].update(profile="./secret.txt")),
            "secret.txt": "password=hunter2 token=SECRET-VALUE\n",
        },
        ["validate", "s.yaml"],
        ["devices[2].profile", "secret.txt", "a mapping"],
    ),
    "sweep-given-to-run": (
        {"sweep.yaml": SWEEP, "base.yaml": _scenario()},
        ["run", "sweep.yaml", "--out", "out"],
        ["sweep file", "edgesim sweep"],
    ),
    "scenario-given-to-sweep": (
        {"s.yaml": _scenario()},
        ["sweep", "s.yaml", "--out", "out"],
        ["scenario file", "edgesim run"],
    ),
    "sweep-base-missing": (
        {"sweep.yaml": {**SWEEP, "base": "gone.yaml"}},
        ["sweep", "sweep.yaml", "--out", "out"],
        ["base:", "gone.yaml", "not found"],
    ),
    "sweep-base-is-a-folder": (
        {"sweep.yaml": {**SWEEP, "base": "."}},
        ["validate", "sweep.yaml"],
        ["base:", "directory"],
    ),
    "sweep-base-invalid": (
        {
            "sweep.yaml": SWEEP,
            "base.yaml": _scenario(lambda d: d["training"].update(lr=-1)),
        },
        ["sweep", "sweep.yaml", "--out", "out"],
        ["base.yaml (base of", "training.lr"],
    ),
    "sweep-base-is-a-sweep": (
        {"sweep.yaml": {**SWEEP, "base": "sweep.yaml"}},
        ["validate", "sweep.yaml"],
        ["base:", "is a sweep file"],
    ),
    "data-folder-missing": (
        {"s.yaml": _scenario(lambda d: d["data"].update(dataset="mnist", path="nowhere"))},
        ["validate", "s.yaml"],
        ["data.path", "nowhere", "not a directory"],
    ),
    "data-image-not-an-image": (
        _image_folder(b"not an image at all"),
        ["validate", "s.yaml"],
        ["data.path", "9.png", "not a readable image"],
    ),
    "data-image-truncated": (  # its header reads, so only loading it finds out
        _image_folder(_png(0)[:60]),
        ["run", "s.yaml", "--out", "out", "--quiet"],
        ["data.path", "9.png", "unreadable image"],
    ),
    "path-with-nul": (
        {"s.yaml": _scenario(lambda d: d["data"].update(dataset="mnist", path="a\x00b"))},
        ["validate", "s.yaml"],
        ["data.path", "NUL"],
    ),
    "path-part-too-long": (
        {"s.yaml": _scenario(lambda d: d["failures"].update(trace="t" * 300 + ".csv"))},
        ["validate", "s.yaml"],
        ["failures.trace", "255 bytes"],
    ),
    "cli-out-part-too-long": (
        {"s.yaml": _scenario()},
        ["run", "s.yaml", "--out", "o" * 300, "--quiet"],
        ["--out", "255 bytes"],
    ),
    "cli-path-part-too-long": (
        {},
        ["profiles", "--dataset", "mnist", "--path", "p" * 1000],
        ["--path", "255 bytes"],
    ),
    "cli-model-name-huge": ({}, ["profiles", "--model", "m" * 100_000], ["--model", "200"]),
    "scheme-name-huge": (
        {"s.yaml": _scenario(lambda d: d["schemes"][0].update(scheme="x" * 100_000))},
        ["validate", "s.yaml"],
        ["schemes[0]", "unknown scheme"],
    ),
    "personal-class-of-nobody": (
        {"s.yaml": _scenario(lambda d: d["data"]["partition"].update(personal_class=["x", 1]))},
        ["validate", "s.yaml"],
        ["data.partition.personal_class[0]", "'x' is not a client"],
    ),
    "personal-class-label-not-a-number": (
        {
            "s.yaml": _scenario(
                lambda d: d["data"]["partition"].update(personal_class=["pi", "three"])
            )
        },
        ["validate", "s.yaml"],
        ["data.partition.personal_class[1]", "integer"],
    ),
    "long-target-name": (
        {"s.yaml": _scenario(lambda d: d["failures"]["scheduled"][0].update(target="y" * 100_000))},
        ["validate", "s.yaml"],
        ["failures.scheduled[0].target"],
    ),
}


def _write(root: Path, files: dict[str, Any]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
            path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Outcome, bool]]:
    """Every case run once, each in a folder of its own: (outcome, its files unchanged)."""
    root = tmp_path_factory.mktemp("hostile")
    before = {}
    for case, (files, _, _) in CASES.items():
        (root / case).mkdir()
        _write(root / case, files)
        before[case] = fingerprint(root / case)
    results = run_cli_bounded([(root / case, argv) for case, (_, argv, _) in CASES.items()])
    return {
        case: (outcome, fingerprint(root / case) == before[case])
        for case, outcome in zip(CASES, results, strict=True)
    }


@pytest.mark.parametrize("case", CASES)
def test_a_clear_error_naming_file_and_field(outcomes, case: str) -> None:
    outcome, unchanged = outcomes[case]
    files, argv, words = CASES[case]
    assert outcome.code == 2, outcome
    assert "Traceback" not in outcome.err
    lines = outcome.err.strip().splitlines()
    assert lines[0].startswith("error:"), outcome.err
    assert len(lines) <= 25 and len(outcome.err) < 4000, "more than a screen"
    if not case.startswith("cli-"):  # a flag's error names the flag, not the file
        assert argv[1] in outcome.err
    for word in words:
        assert word in outcome.err
    assert unchanged, "a user's file was changed"


def test_a_private_file_named_as_a_profile_is_not_echoed(outcomes) -> None:
    outcome, _ = outcomes["profile-is-a-private-file"]
    assert "hunter2" not in outcome.err and "SECRET" not in outcome.err


def test_no_output_folder_is_made_for_a_refused_run(outcomes) -> None:
    for case in ("cli-seed-negative", "sweep-given-to-run", "scenario-given-to-sweep"):
        outcome, unchanged = outcomes[case]
        assert outcome.code == 2 and unchanged  # fingerprint counts files: no out/ was written
