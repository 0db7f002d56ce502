"""Pre-flight: everything ``edgesim run`` would reject, found before the first scheme starts.

``load_scenario`` checks the schema and the references inside the file; what
is left can only be known by looking outside it — the learning layer's names,
the data folder, the labels in the data, the trace file — or across sections
(a scheme that needs data the partition does not give the server). Without
this pass ``run`` would find such a mistake minutes in, after other schemes,
in a message that names no field. Every check here is cheap: data folders are
listed and label files read, never whole datasets; every problem is reported
at once, each at its YAML path, as one :class:`ConfigError`.

``edgesim validate`` and :func:`edgesim.runner.run_scenario` both call :func:`check`.
"""

from __future__ import annotations

import dataclasses
import gzip
import math
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from edgesim.cluster.faults import read_trace
from edgesim.config import LoadedScenario
from edgesim.config.scenario import Scenario, Synthetic
from edgesim.config.schemes import SCHEMES
from edgesim.errors import ConfigError, EdgesimError, did_you_mean
from edgesim.learning.datasets import (
    DATASETS,
    FASHION_MNIST_DIR,
    FASHION_MNIST_INSTALL,
    IMAGE_EXTENSIONS,
    npz_labels,
    read_digits,
    user_dataset,
)
from edgesim.learning.models import model_info
from edgesim.learning.partition import scenario_partition
from edgesim.plugins import absolute

DATA_ON_DISK = {
    "mnist": "the MNIST IDX files",
    "fashion-mnist": "the Fashion-MNIST IDX files",
    "cifar10": "the CIFAR-10 batches",
    "image-folder": "a folder of one sub-folder of images per class",
    "npz": "a .npz file of arrays x and y",
}
"""Datasets read from ``data.path``, and what that path must hold."""

TEN_CLASSES = ("mnist", "fashion-mnist", "cifar10")

MAX_OUTAGES = 1_000_000
"""Most outages one random failure model (random, a churn or a correlated entry) may draw."""


@dataclass(frozen=True)
class LabelFacts:
    """What the data holds, learnt without loading samples; ``None`` where that is not cheap."""

    classes: int
    train: Counter[int] | None  # training samples per label
    test: frozenset[int] | None  # labels present in the test set


def check(loaded: LoadedScenario) -> None:
    """Raise one ConfigError listing every problem ``run`` would otherwise hit late."""
    found = problems(loaded)
    if found:
        raise ConfigError(loaded.source, found)


def problems(loaded: LoadedScenario) -> list[str]:
    """Every problem as ``yaml.path: what is wrong``; empty if the scenario can run."""
    found = names(loaded)
    facts: LabelFacts | None = None
    if loaded.scenario.data.dataset in DATASETS:
        facts, data_problems = data_files(loaded)
        found += data_problems
    found += placement(loaded, facts)
    found += schemes(loaded)
    found += failures(loaded)
    return found


def names(loaded: LoadedScenario) -> list[str]:
    """Dataset and model names, which live in the learning layer's registries."""
    scenario = loaded.scenario
    found = []
    dataset = scenario.data.dataset
    if dataset not in DATASETS:
        try:  # a user's loader is imported (not run) here
            user_dataset(absolute(dataset, loaded.base_dir))
        except EdgesimError as exc:
            found.append(f"data.dataset: {exc}")
    for field in ("model", "small_model"):
        try:  # a user's model is imported here, so validate finds its mistakes too
            model_info(absolute(getattr(scenario.training, field), loaded.base_dir))
        except EdgesimError as exc:
            found.append(f"training.{field}: {exc}")
    return found


# --------------------------------------------------------------------------- data folder


def data_files(loaded: LoadedScenario) -> tuple[LabelFacts | None, list[str]]:
    """The data folder holds what the dataset's loader reads; and the labels, where cheap."""
    data = loaded.scenario.data
    if data.dataset == "digits":
        return _digits(data.test_fraction), []
    if data.dataset == "synthetic":
        return _split(_synthetic_labels(data.synthetic), data.test_fraction, "synthetic")
    facts, found = _on_disk(data.dataset, data.path, loaded.base_dir, data.test_fraction)
    if facts is None and data.dataset in TEN_CLASSES:  # the labels' range is known anyway
        facts = LabelFacts(10, None, None)
    return facts, found


def _synthetic_labels(spec: Synthetic) -> Counter[int]:
    """Samples per class of the synthetic set: ``samples`` dealt round the classes in turn."""
    per_class, extra = divmod(spec.samples, spec.classes)
    return Counter({c: per_class + (c < extra) for c in range(spec.classes)})


def _on_disk(
    dataset: str, path: str | None, base_dir: Path, test_fraction: float
) -> tuple[LabelFacts | None, list[str]]:
    if path is None and dataset == "fashion-mnist":
        if not FASHION_MNIST_DIR.is_dir():
            return None, [
                f"data.path: dataset 'fashion-mnist' reads {FASHION_MNIST_DIR} by default, "
                f"which is missing: install it ({FASHION_MNIST_INSTALL}) or set data.path to a copy"
            ]
        return _mnist(FASHION_MNIST_DIR)
    if path is None:
        return None, [f"data.path: dataset '{dataset}' needs a path to {DATA_ON_DISK[dataset]}"]
    root = (base_dir / path).resolve()
    if dataset == "npz":
        return _npz(root, test_fraction)
    if not root.is_dir():
        return None, [f"data.path: {root} is not a directory (dataset '{dataset}')"]
    if dataset in ("mnist", "fashion-mnist"):
        return _mnist(root)
    if dataset == "cifar10":
        return _cifar10(root)
    return _image_folder(root, test_fraction)


@cache
def _digits(test_fraction: float) -> LabelFacts:
    return _split(Counter(read_digits()[1].tolist()), test_fraction, "digits")[0]


def _split(
    per_class: Counter[int], test_fraction: float, name: str
) -> tuple[LabelFacts, list[str]]:
    """The loader's stratified split (each class keeps one training sample), by counts."""
    test = {
        c: min(math.floor(test_fraction * n + 0.5), max(n - 1, 0)) for c, n in per_class.items()
    }
    train = Counter({c: n - test[c] for c, n in per_class.items()})
    facts = LabelFacts(len(per_class), train, frozenset(c for c, n in test.items() if n))
    if not sum(test.values()):
        return facts, [
            f"data.test_fraction: dataset '{name}' would have no test sample "
            f"({sum(per_class.values())} samples); use more samples or a larger test_fraction"
        ]
    return facts, []


def _mnist(root: Path) -> tuple[LabelFacts | None, list[str]]:
    found, labels = [], {}
    for prefix in ("train", "t10k"):
        files = {}
        for kind, ndim in (("images", 3), ("labels", 1)):
            name = f"{prefix}-{kind}-idx{ndim}-ubyte"
            file = next((f for f in (root / name, root / f"{name}.gz") if f.is_file()), None)
            if file is None:
                found.append(f"data.path: missing {root / name} (or {name}.gz)")
                continue
            try:
                files[kind] = _idx_header(file, ndim)
            except EdgesimError as exc:
                found.append(f"data.path: {exc}")
        if len(files) == 2 and files["images"][0][0] != files["labels"][0][0]:
            found.append(
                f"data.path: {prefix} has {files['labels'][0][0]} labels "
                f"but {files['images'][0][0]} images"
            )
        if "labels" in files:
            labels[prefix] = files["labels"][1]
    if found:
        return None, found
    train = Counter(labels["train"].tolist())
    return LabelFacts(10, train, frozenset(labels["t10k"].tolist())), []


def _idx_header(path: Path, ndim: int) -> tuple[tuple[int, ...], np.ndarray | None]:
    """An IDX file's sizes, and its data if it is a (small) label file."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            head = handle.read(4 + 4 * ndim)
            if len(head) < 4 + 4 * ndim or head[:2] != b"\x00\x00" or head[2] != 0x08:
                raise EdgesimError(f"{path}: not an IDX file of uint8 (header {head[:4].hex()})")
            if head[3] != ndim:
                raise EdgesimError(f"{path}: {head[3]} dimensions, expected {ndim}")
            dims = tuple(int(d) for d in np.frombuffer(head, ">u4", count=ndim, offset=4))
            data = np.frombuffer(handle.read(), np.uint8) if ndim == 1 else None
    except (OSError, EOFError) as exc:
        raise EdgesimError(f"{path}: cannot read ({exc})") from None
    if path.suffix != ".gz" and path.stat().st_size != len(head) + math.prod(dims):
        raise EdgesimError(
            f"{path}: header says {dims} = {math.prod(dims)} bytes of data, "
            f"file holds {path.stat().st_size - len(head)}"
        )
    if data is not None and len(data) != dims[0]:
        raise EdgesimError(f"{path}: header says {dims[0]} labels, file holds {len(data)}")
    if data is not None and data.size and data.max() > 9:
        raise EdgesimError(f"{path}: label {data.max()} outside 0..9")
    return dims, data


def _npz(file: Path, test_fraction: float) -> tuple[LabelFacts | None, list[str]]:
    """Labels read and ``x`` checked by its header: what the loader reads, but the pixels."""
    try:
        labels = npz_labels(file)
    except EdgesimError as exc:
        return None, [f"data.path: {exc}"]
    values, counts = np.unique(labels, return_counts=True)
    per_class = Counter({int(v): int(n) for v, n in zip(values, counts, strict=True)})
    facts, found = _split(per_class, test_fraction, "npz")
    # The model has a class per label up to the largest, present or not.
    return dataclasses.replace(facts, classes=int(labels.max()) + 1), found


def _cifar10(root: Path) -> tuple[LabelFacts | None, list[str]]:
    if (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"
    found = []
    if not any((root / f"data_batch_{i}").is_file() for i in range(1, 6)):
        found.append(f"data.path: {root}: no CIFAR-10 data_batch_1..5 found")
    if not (root / "test_batch").is_file():
        found.append(f"data.path: missing {root / 'test_batch'}")
    # The labels sit inside 30 MB pickles: not cheap, so only their range is known.
    return (None if found else LabelFacts(10, None, None)), found


def _image_folder(root: Path, test_fraction: float) -> tuple[LabelFacts | None, list[str]]:
    classes = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        return None, [f"data.path: {root}: no class sub-folders (expected {root}/<class>/<image>)"]
    found, per_class = [], Counter()
    for label, folder in enumerate(classes):
        images = [
            f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS
        ]
        if not images:
            found.append(f"data.path: {folder}: class folder holds no images")
        found += [f"data.path: {image}: {why}" for image in images if (why := _unreadable(image))]
        per_class[label] = len(images)
    if found:
        return None, found
    return _split(per_class, test_fraction, "image-folder")


def _unreadable(image: Path) -> str | None:
    """Why an image file cannot be read, from its header alone (``Image.open`` is lazy)."""
    try:
        with Image.open(image):
            return None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        return f"not a readable image ({error.__class__.__name__})"


# --------------------------------------------------------------------------- who holds what


def placement(loaded: LoadedScenario, facts: LabelFacts | None) -> list[str]:
    """The partition can be made, and every label the scenario names is in the data."""
    scenario, fleet = loaded.scenario, loaded.fleet
    spec = scenario.data.partition
    found = []
    if not fleet.clients:
        found.append("devices: no client to hold training data (every device is the server)")
    if fleet.server is None:
        if spec.server_share > 0:
            found.append("data.partition.server_share: > 0 needs a device with role: server")
        if spec.server_copies is not None:
            found.append("data.partition.server_copies: needs a device with role: server")
    if facts is None:
        return found
    labels = range(facts.classes)
    for name, subset in sorted(scenario.observe.subsets.items()):
        present = facts.test if facts.test is not None else labels
        for i, label in enumerate(subset.labels):
            if label not in present:
                found.append(
                    f"observe.subsets.{name}.labels[{i}]: no test sample has label {label} "
                    f"(labels: 0..{facts.classes - 1})"
                )
    if spec.personal_class is not None:
        label = spec.personal_class[1]
        trained = set(labels) if facts.train is None else {c for c, n in facts.train.items() if n}
        if label not in trained:
            found.append(
                f"data.partition.personal_class[1]: no training sample has label {label} "
                f"(labels: 0..{facts.classes - 1})"
            )
    if found or facts.train is None:
        return found
    # The real split on labels of the same counts: sizes (and so every error) are the same.
    train = np.repeat(np.array(sorted(facts.train)), [facts.train[c] for c in sorted(facts.train)])
    try:
        scenario_partition(loaded, train)
    except EdgesimError as exc:
        found.append(f"data.partition: {exc}")
    return found


# --------------------------------------------------------------------------- schemes


def schemes(loaded: LoadedScenario) -> list[str]:
    """What a scheme needs from the rest of the scenario, beyond the fleet's checks.

    Its registry flags say whether it distils on the server's data and whether its
    timing is accuracy's (refused in a timing-only run); a ``distillation_server``
    setting must name a device that leaves a client to train.
    """
    scenario, fleet = loaded.scenario, loaded.fleet
    spec = scenario.data.partition
    server_has_data = spec.server_share > 0 or spec.server_copies is not None
    found = []
    for i, scheme in enumerate(scenario.schemes):
        why_not = SCHEMES[scheme.scheme].why_not_timing_only(scheme)
        if scenario.timing_only and why_not:
            found.append(
                f"schemes[{i}]: scheme '{scheme.scheme}' cannot run timing-only: {why_not} "
                "(or run it with timing_only: false)"
            )
        if fleet.server is None:
            continue  # reported by the fleet: every scheme but local needs a server
        validates = SCHEMES[scheme.scheme].validates_on_client_data
        if validates and scenario.data.validation_fraction == 0:
            found.append(
                f"schemes[{i}]: scheme '{scheme.scheme}' validates on the clients' own data: "
                "set data.validation_fraction > 0 (e.g. 0.1)"
            )
        if SCHEMES[scheme.scheme].distils_on_server_data and not server_has_data:
            found.append(
                f"schemes[{i}]: scheme '{scheme.scheme}' distils on the server's data: "
                "set data.partition.server_share > 0 (or server_copies)"
            )
        if hasattr(scheme, "distillation_server"):
            distiller = scheme.distillation_server or fleet.server
            devices = [d.id for d in fleet.devices]
            if distiller not in devices:
                found.append(
                    f"schemes[{i}].distillation_server: unknown device '{distiller}'"
                    f"{did_you_mean(distiller, devices)}"
                )
            elif not [c for c in fleet.clients if c != distiller]:
                found.append(
                    f"schemes[{i}].distillation_server: no FL client is left besides "
                    f"the distillation server '{distiller}'"
                )
    return found


# --------------------------------------------------------------------------- failures


def failures(loaded: LoadedScenario) -> list[str]:
    """The trace file parses and names known targets; departures that would never end.

    Random outages are drawn before the run, so a mean time between failures
    tiny next to the horizon (``mtbf_s: 1e-9``, ``horizon_s: 1e9``) would draw
    for ever: the expected number is bounded by :data:`MAX_OUTAGES`.
    """
    scenario = loaded.scenario
    found = [
        f"{field}: about {expected:,.0f} outages expected (horizon_s over the mean cycle, "
        f"for each target); at most {MAX_OUTAGES:,}: raise the mean times or shorten horizon_s"
        for field, expected in _expected_outages(scenario)
        if expected > MAX_OUTAGES
    ]
    if scenario.failures.departures and scenario.background and scenario.horizon_s is None:
        found.append(
            "horizon_s: failures.departures with background tasks needs a horizon_s (the tasks "
            "of the devices still up never stop, so a scheme waiting for a device that left "
            "never ends)"
        )
    trace = scenario.failures.trace
    if trace is None:
        return found
    try:
        outages = read_trace((loaded.base_dir / trace).resolve())
    except EdgesimError as exc:
        return [*found, f"failures.trace: {exc}"]
    known = set(scenario.device_ids()) | {g.id for g in scenario.devices}
    known |= {link.name for link in loaded.fleet.links}
    unknown = sorted({o.target for o in outages} - known)
    found += [
        f"failures.trace: {trace}: unknown device or link '{target}'{did_you_mean(target, known)}"
        for target in unknown
    ]
    return found


def _expected_outages(scenario: Scenario) -> list[tuple[str, float]]:
    """(field, expected number of outages drawn) of each random failure model."""
    failures = scenario.failures
    expected = []
    if failures.random:
        spec = failures.random
        count = sum(len(scenario.members(t)) for t in spec.targets)
        expected.append(("failures.random", count * spec.horizon_s / (spec.mtbf_s + spec.mttr_s)))
    for i, spec in enumerate(failures.churn):
        count = sum(len(scenario.members(t)) for t in spec.targets)
        cycle_s = spec.mean_down_s / (1 - spec.availability)
        expected.append((f"failures.churn[{i}]", count * spec.horizon_s / cycle_s))
    for i, spec in enumerate(failures.correlated):
        cycle_s = spec.mtbf_s + spec.mttr_s
        expected.append((f"failures.correlated[{i}]", len(spec.targets) * spec.horizon_s / cycle_s))
    return expected
