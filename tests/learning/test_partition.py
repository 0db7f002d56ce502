"""Partitions cover every sample once and have the label skew each kind promises."""

from __future__ import annotations

import numpy as np
import pytest

from edgesim.errors import EdgesimError
from edgesim.learning.partition import PARTITIONERS, partition, train_validation_split

DEVICES = [f"d{i}" for i in range(10)]
LABELS = np.repeat(np.arange(10), 100)  # 1000 samples, 100 per class


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def assert_is_partition(parts: dict[str, np.ndarray], n: int) -> None:
    everything = np.concatenate(list(parts.values()))
    assert len(everything) == n and np.array_equal(np.sort(everything), np.arange(n))
    for part in parts.values():
        assert part.dtype == np.int64 and np.all(np.diff(part) > 0)  # sorted, no repeats


def mean_classes_per_device(parts: dict[str, np.ndarray], labels: np.ndarray) -> float:
    return float(np.mean([len(np.unique(labels[part])) for part in parts.values()]))


@pytest.mark.parametrize("kind", sorted(PARTITIONERS))
def test_every_kind_is_a_partition(kind):
    parts = partition(LABELS, DEVICES, kind=kind, rng=rng())
    assert sorted(parts) == sorted(DEVICES)
    assert_is_partition(parts, len(LABELS))


@pytest.mark.parametrize("kind", sorted(PARTITIONERS))
def test_same_seed_same_split(kind):
    first = partition(LABELS, DEVICES, kind=kind, rng=rng(7))
    again = partition(LABELS, DEVICES, kind=kind, rng=rng(7))
    other = partition(LABELS, DEVICES, kind=kind, rng=rng(8))
    assert all(np.array_equal(first[d], again[d]) for d in DEVICES)
    assert not all(np.array_equal(first[d], other[d]) for d in DEVICES)


def test_iid_sizes_differ_by_at_most_one():
    parts = partition(LABELS[:997], DEVICES, kind="iid", rng=rng())
    sizes = [len(part) for part in parts.values()]
    assert max(sizes) - min(sizes) <= 1
    assert mean_classes_per_device(parts, LABELS) == 10


def mean_top_class_share(parts: dict[str, np.ndarray], labels: np.ndarray) -> float:
    return float(np.mean([np.bincount(labels[p]).max() / len(p) for p in parts.values()]))


def test_dirichlet_small_alpha_is_skewed():
    iid = partition(LABELS, DEVICES, kind="iid", rng=rng())
    skewed = partition(LABELS, DEVICES, kind="dirichlet", alpha=0.1, rng=rng())
    broad = partition(LABELS, DEVICES, kind="dirichlet", alpha=100.0, rng=rng())
    # the most common label fills ~15 % of an iid device but most of a Dir(0.1) one
    assert mean_top_class_share(iid, LABELS) < 0.2 and mean_top_class_share(broad, LABELS) < 0.2
    assert mean_top_class_share(skewed, LABELS) > 0.4
    assert mean_classes_per_device(skewed, LABELS) <= mean_classes_per_device(iid, LABELS) - 3


def test_dirichlet_respects_min_samples():
    parts = partition(LABELS, DEVICES, kind="dirichlet", alpha=0.1, min_samples=20, rng=rng())
    assert min(len(part) for part in parts.values()) >= 20
    with pytest.raises(EdgesimError, match="raise alpha or use fewer devices"):
        partition(LABELS[:30], DEVICES, kind="dirichlet", alpha=0.01, min_samples=3, rng=rng())


def test_shards_are_equal_and_few_labelled():
    parts = partition(LABELS, DEVICES, kind="shards", shards_per_device=2, rng=rng())
    assert {len(part) for part in parts.values()} == {100}
    assert all(len(np.unique(LABELS[part])) <= 4 for part in parts.values())
    assert mean_classes_per_device(parts, LABELS) <= 2


def test_server_share_is_stratified():
    parts = partition(LABELS, DEVICES, kind="iid", server_id="server", server_share=0.23, rng=rng())
    assert_is_partition(parts, len(LABELS))
    counts = np.bincount(LABELS[parts["server"]], minlength=10)
    assert np.all(np.abs(counts - 23) <= 1)
    no_share = partition(LABELS, DEVICES, kind="iid", server_id="server", rng=rng())
    assert "server" not in no_share


@pytest.mark.parametrize("kind", sorted(PARTITIONERS))
def test_personal_class_stays_on_its_device(kind):
    parts = partition(
        LABELS,
        DEVICES,
        kind=kind,
        personal_class=("d3", 7),
        server_id="server",
        server_share=0.2,
        rng=rng(),
    )
    assert_is_partition(parts, len(LABELS))
    holders = [key for key, part in parts.items() if np.any(LABELS[part] == 7)]
    assert holders == ["d3"]
    assert np.sum(LABELS[parts["d3"]] == 7) == 100


def test_input_errors():
    with pytest.raises(EdgesimError, match=r"alpha\(=0"):
        partition(LABELS, DEVICES, kind="dirichlet", alpha=0.0, rng=rng())
    with pytest.raises(EdgesimError, match="did you mean 'dirichlet'"):
        partition(LABELS, DEVICES, kind="dirichlett", rng=rng())
    with pytest.raises(EdgesimError, match="'phone' is not a device"):
        partition(LABELS, DEVICES, kind="iid", personal_class=("phone", 1), rng=rng())
    with pytest.raises(EdgesimError, match="label 42 does not occur"):
        partition(LABELS, DEVICES, kind="iid", personal_class=("d1", 42), rng=rng())
    with pytest.raises(EdgesimError, match=r"server_share\(=1"):
        partition(LABELS, DEVICES, kind="iid", server_id="s", server_share=1.0, rng=rng())
    with pytest.raises(EdgesimError, match="needs a server_id"):
        partition(LABELS, DEVICES, kind="iid", server_share=0.1, rng=rng())
    with pytest.raises(EdgesimError, match="cannot split 5 samples over 10 devices"):
        partition(LABELS[:5], DEVICES, kind="iid", rng=rng())
    with pytest.raises(EdgesimError, match="into 20 shards"):
        partition(LABELS[:15], DEVICES, kind="shards", rng=rng())


def test_train_validation_split():
    indices = np.arange(100, 150, dtype=np.int64)
    train, validation = train_validation_split(indices, 0.2, rng())
    assert len(validation) == 10 and len(train) == 40
    assert np.array_equal(np.sort(np.concatenate([train, validation])), indices)
    assert np.all(np.diff(train) > 0) and np.all(np.diff(validation) > 0)
    train, validation = train_validation_split(indices, 0.0, rng())
    assert len(validation) == 0 and np.array_equal(train, indices)
    train, validation = train_validation_split(np.array([5]), 0.9, rng())
    assert train.tolist() == [5] and len(validation) == 0
    with pytest.raises(EdgesimError, match="must be in"):
        train_validation_split(indices, 1.0, rng())


def test_server_copies_holds_the_same_samples_as_the_device_but_not_its_personal_class():
    parts = partition(LABELS, ["a", "b"], kind="iid", rng=rng(), server_id="s", server_copies="a")
    assert np.array_equal(parts["s"], parts["a"])
    assert_is_partition({k: v for k, v in parts.items() if k != "s"}, len(LABELS))
    personal = partition(
        LABELS, ["a", "b"], kind="iid", rng=rng(), server_id="s", server_copies="a",
        personal_class=("a", 9),
    )  # fmt: skip
    assert not np.isin(9, LABELS[personal["s"]])
    assert np.array_equal(personal["s"], personal["a"][LABELS[personal["a"]] != 9])


def test_server_copies_errors():
    with pytest.raises(EdgesimError, match="did you mean 'a'"):
        partition(LABELS, ["a", "b"], kind="iid", rng=rng(), server_id="s", server_copies="aa")
    with pytest.raises(EdgesimError, match="exclude each other"):
        partition(
            LABELS, ["a"], kind="iid", rng=rng(), server_id="s", server_copies="a",
            server_share=0.2,
        )  # fmt: skip
