"""Loaders read real formats, split deterministically and reject bad files clearly."""

from __future__ import annotations

import gzip
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from edgesim.errors import EdgesimError
from edgesim.learning import datasets
from edgesim.learning.datasets import DATASETS, Dataset, load_dataset


def assert_same(a: Dataset, b: Dataset) -> None:
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)


def assert_standardised(data: Dataset) -> None:
    per_channel = data.x.transpose(0, 1).flatten(1).double()
    zeros = torch.zeros(len(per_channel), dtype=torch.float64)
    assert torch.allclose(per_channel.mean(1), zeros, atol=1e-5)
    assert torch.allclose(per_channel.std(1, correction=0), zeros + 1, atol=1e-4)


# --------------------------------------------------------------------------- digits, synthetic


def test_digits_split_shapes_and_dtypes():
    splits = load_dataset("digits")
    train, test = splits.train, splits.test
    assert len(train) + len(test) == 1797
    assert len(test) == pytest.approx(0.2 * 1797, abs=10)
    assert train.input_shape == test.input_shape == (1, 8, 8)
    assert train.x.dtype == torch.float32 and train.y.dtype == torch.int64
    assert train.num_classes == 10 and train.raw_bytes_per_sample == 65
    assert test.raw_bytes() == len(test) * 65
    assert set(test.y.tolist()) == set(range(10))  # stratified: every class in test
    assert_standardised(train)


def test_digits_read_directly_equal_scikit_learns_loader():
    from sklearn.datasets import load_digits

    reference = load_digits()
    pixels, labels = datasets.read_digits()
    assert pixels.shape == (1797, 1, 8, 8) and pixels.dtype == np.uint8
    assert np.array_equal(pixels[:, 0], reference.images)
    assert np.array_equal(labels, reference.target)


def test_digits_is_deterministic_per_seed():
    first, again, other = (
        load_dataset("digits"),
        load_dataset("digits"),
        load_dataset("digits", seed=1),
    )
    assert_same(first.train, again.train)
    assert_same(first.test, again.test)
    assert not torch.equal(first.test.y, other.test.y)


def test_subset_selects_rows():
    train = load_dataset("digits").train
    part = train.subset(np.array([5, 0, 7]))
    assert len(part) == 3 and part.name == train.name and part.num_classes == 10
    assert torch.equal(part.x[1], train.x[0]) and part.y.tolist() == train.y[[5, 0, 7]].tolist()


def test_synthetic_shape_classes_and_determinism():
    kwargs = dict(num_samples=300, num_classes=5, shape=(3, 4, 4), seed=3)
    splits = load_dataset("synthetic", **kwargs)
    assert len(splits.train) + len(splits.test) == 300
    assert splits.train.input_shape == (3, 4, 4) and splits.train.num_classes == 5
    assert splits.train.raw_bytes_per_sample == 3 * 4 * 4 + 1
    assert set(splits.train.y.tolist()) == set(range(5))
    assert_standardised(splits.train)
    assert_same(splits.train, load_dataset("synthetic", **kwargs).train)
    assert not torch.equal(
        splits.train.x, load_dataset("synthetic", **{**kwargs, "seed": 4}).train.x
    )


def test_unknown_dataset_suggests_a_name():
    with pytest.raises(EdgesimError, match="did you mean 'mnist'"):
        load_dataset("mnits")
    assert "digits" in DATASETS


@pytest.mark.parametrize("name", ["mnist", "cifar10", "image-folder"])
def test_file_datasets_need_a_directory(name, tmp_path):
    with pytest.raises(EdgesimError, match="needs a path"):
        load_dataset(name)
    with pytest.raises(EdgesimError, match="not a directory"):
        load_dataset(name, path=tmp_path / "missing")


# --------------------------------------------------------------------------- mnist


def idx_bytes(array: np.ndarray, magic_type: int = 0x08) -> bytes:
    header = bytes([0, 0, magic_type, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(root: Path, compress: bool, n_train: int = 20, n_test: int = 10) -> dict:
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.arange(n_train, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test, dtype=np.uint8) * 3) % 10,
    }
    for name, array in arrays.items():
        if compress:
            (root / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(array)))
        else:
            (root / name).write_bytes(idx_bytes(array))
    return arrays


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_round_trip(tmp_path, compress):
    arrays = write_mnist(tmp_path, compress)
    splits = load_dataset("mnist", path=tmp_path, test_fraction=0.5)  # own split kept
    assert len(splits.train) == 20 and len(splits.test) == 10
    assert splits.train.input_shape == (1, 28, 28) and splits.train.raw_bytes_per_sample == 785
    assert splits.train.y.tolist() == arrays["train-labels-idx1-ubyte"].tolist()
    assert splits.test.y.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()
    # standardisation is monotone per channel, so pixel order is preserved exactly
    for data, pixels in (
        (splits.train, "train-images-idx3-ubyte"),
        (splits.test, "t10k-images-idx3-ubyte"),
    ):
        flat = data.x.flatten()
        source = torch.from_numpy(arrays[pixels].astype(np.int64)).flatten()
        assert torch.equal(torch.argsort(flat, stable=True), torch.argsort(source, stable=True))
    assert_standardised(splits.train)


def test_mnist_bad_magic_names_the_file(tmp_path):
    write_mnist(tmp_path, compress=False)
    bad = tmp_path / "train-images-idx3-ubyte"
    bad.write_bytes(b"\x12\x34" + bad.read_bytes()[2:])
    with pytest.raises(EdgesimError, match="train-images-idx3-ubyte.*magic"):
        load_dataset("mnist", path=tmp_path)


def test_mnist_wrong_dtype_code(tmp_path):
    write_mnist(tmp_path, compress=False)
    labels = tmp_path / "t10k-labels-idx1-ubyte"
    labels.write_bytes(idx_bytes(np.zeros(10, np.uint8), magic_type=0x0D))
    with pytest.raises(EdgesimError, match="t10k-labels-idx1-ubyte.*0x0d"):
        load_dataset("mnist", path=tmp_path)


def test_mnist_count_mismatch_names_the_file(tmp_path):
    write_mnist(tmp_path, compress=True)
    labels = tmp_path / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(idx_bytes(np.zeros(19, np.uint8))))
    with pytest.raises(EdgesimError, match="train-labels-idx1-ubyte.gz: 19 labels but"):
        load_dataset("mnist", path=tmp_path)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip-bomb"])
def test_mnist_reads_at_most_its_bound(tmp_path, monkeypatch, compress):
    """A gzip of zeros is tiny on disk and huge once inflated: reading stops at the bound."""
    monkeypatch.setattr(datasets, "MAX_IDX_BYTES", 1024**2)
    write_mnist(tmp_path, compress)
    name = "train-images-idx3-ubyte" + (".gz" if compress else "")
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 6000, 28, 28)
    payload = header + bytes(6000 * 28 * 28)
    (tmp_path / name).write_bytes(gzip.compress(payload) if compress else payload)
    if compress:  # small on disk, over the bound once inflated
        assert (tmp_path / name).stat().st_size < 64 * 1024
    with pytest.raises(EdgesimError, match=f"{name}: more than"):
        load_dataset("mnist", path=tmp_path)


def test_mnist_truncated_and_missing_files(tmp_path):
    write_mnist(tmp_path, compress=False)
    images = tmp_path / "t10k-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-5])
    with pytest.raises(EdgesimError, match="t10k-images-idx3-ubyte: header says"):
        load_dataset("mnist", path=tmp_path)
    images.unlink()
    with pytest.raises(EdgesimError, match="missing .*t10k-images-idx3-ubyte"):
        load_dataset("mnist", path=tmp_path)


# --------------------------------------------------------------------------- fashion-mnist


def test_fashion_mnist_reads_a_given_copy_like_mnist(tmp_path):
    arrays = write_mnist(tmp_path, compress=True)
    splits = load_dataset("fashion-mnist", path=tmp_path)
    assert splits.train.name == "fashion-mnist" and splits.train.input_shape == (1, 28, 28)
    assert splits.train.y.tolist() == arrays["train-labels-idx1-ubyte"].tolist()
    assert splits.test.y.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()


def test_fashion_mnist_defaults_to_the_debian_folder(tmp_path, monkeypatch):
    write_mnist(tmp_path, compress=True)
    monkeypatch.setattr(datasets, "FASHION_MNIST_DIR", tmp_path)
    assert len(load_dataset("fashion-mnist").train) == 20
    monkeypatch.setattr(datasets, "FASHION_MNIST_DIR", tmp_path / "missing")
    with pytest.raises(EdgesimError, match="missing; .*apt-get install -y dataset-fashion-mnist"):
        load_dataset("fashion-mnist")


def test_debian_package_holds_the_files_read():
    """Debian's file names are MNIST's, gzipped; a changed package fails here, not in a run."""
    if not datasets.FASHION_MNIST_DIR.is_dir():
        pytest.skip(f"{datasets.FASHION_MNIST_INSTALL} to run this test")
    names = sorted(f.name for f in datasets.FASHION_MNIST_DIR.iterdir())
    assert names == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    ]


# --------------------------------------------------------------------------- npz


def write_npz(path: Path, compress: bool = False, **arrays: np.ndarray) -> Path:
    (np.savez_compressed if compress else np.savez)(path, **arrays)
    return path


def test_npz_grayscale_uint8_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (50, 6, 5), dtype=np.uint8)
    y = np.arange(50) % 5
    file = write_npz(tmp_path / "data.npz", x=x, y=y)
    splits = load_dataset("npz", path=file, seed=1, test_fraction=0.2)
    assert len(splits.train) == 40 and len(splits.test) == 10
    assert sorted(splits.test.y.tolist()) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]  # stratified
    assert splits.train.input_shape == (1, 6, 5) and splits.train.num_classes == 5
    assert splits.train.raw_bytes_per_sample == 31
    assert_standardised(splits.train)
    assert_same(splits.train, load_dataset("npz", path=file, seed=1).train)
    assert not torch.equal(splits.test.y, load_dataset("npz", path=file, seed=2).test.y)


def test_npz_float_pixels_are_rounded_to_8_bits(tmp_path):
    """Floats in [0, 1] give the same samples as their uint8 pixels; an upload costs floats."""
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (30, 3, 4, 4), dtype=np.uint8)
    y = np.arange(30, dtype=np.int32) % 3
    as_float = write_npz(tmp_path / "f.npz", True, x=(pixels / 255).astype(np.float32), y=y)
    as_uint8 = write_npz(tmp_path / "u.npz", x=pixels, y=y)
    floats, ints = load_dataset("npz", path=as_float), load_dataset("npz", path=as_uint8)
    assert_same(floats.train, ints.train)
    assert floats.train.input_shape == (3, 4, 4) and floats.train.y.dtype == torch.int64
    assert floats.train.raw_bytes_per_sample == 4 * 48 + 1
    assert ints.train.raw_bytes_per_sample == 48 + 1


def test_npz_classes_reach_the_largest_label(tmp_path):
    file = write_npz(tmp_path / "d.npz", x=np.zeros((8, 2, 2), np.uint8), y=np.array([0, 3] * 4))
    assert load_dataset("npz", path=file, test_fraction=0.5).train.num_classes == 4


def test_npz_needs_a_regular_file(tmp_path):
    with pytest.raises(EdgesimError, match="'npz' needs a path"):
        load_dataset("npz")
    with pytest.raises(EdgesimError, match=f"{tmp_path}: not a regular file"):
        load_dataset("npz", path=tmp_path)
    (tmp_path / "plain.npy").write_bytes(b"\x93NUMPY not a zip")
    with pytest.raises(EdgesimError, match="plain.npy: not a .npz file"):
        load_dataset("npz", path=tmp_path / "plain.npy")


GOOD_X, GOOD_Y = np.zeros((10, 2, 2), np.uint8), np.arange(10) % 2


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x": GOOD_X}, r"d.npz: no array 'y' \(it holds: x\)"),
        ({"y": GOOD_Y, "z": GOOD_X}, r"no array 'x' \(it holds: y, z\)"),
        ({"x": GOOD_X[:, 0], "y": GOOD_Y}, r"'x' has shape \(10, 2\); expected N×C×H×W"),
        ({"x": np.zeros((10, 2, 0), np.uint8), "y": GOOD_Y}, "'x' has shape"),
        ({"x": GOOD_X.astype(bool), "y": GOOD_Y}, "'x' has dtype bool"),
        ({"x": GOOD_X.astype(np.int16) - 1, "y": GOOD_Y}, "integers outside 0..255"),
        ({"x": GOOD_X + 1.5, "y": GOOD_Y}, r"floats outside \[0, 1\]"),
        ({"x": GOOD_X * np.nan, "y": GOOD_Y}, r"floats outside \[0, 1\]"),
        ({"x": GOOD_X, "y": GOOD_Y[:9]}, "'y' has 9 labels but 'x' has 10 samples"),
        ({"x": GOOD_X, "y": GOOD_Y * 0.5}, "'y' has shape .* of float64; expected one integer"),
        ({"x": GOOD_X, "y": GOOD_Y * 0}, "fewer than two classes"),
        ({"x": GOOD_X, "y": GOOD_Y - 1}, r"labels -1..0; expected 0..999"),
        ({"x": GOOD_X, "y": GOOD_Y * 1000}, r"labels 0..1000; expected 0..999"),
    ],
)
def test_npz_errors_name_file_and_key(tmp_path, arrays, message):
    file = write_npz(tmp_path / "d.npz", **arrays)
    with pytest.raises(EdgesimError, match=message):
        load_dataset("npz", path=file)


def test_npz_refuses_pickled_objects(tmp_path, capsys):
    """An object array is a pickle: refused from its header, so nothing is unpickled."""
    x = np.array([Payload()] * 10, dtype=object)
    file = write_npz(tmp_path / "d.npz", x=x, y=GOOD_Y)
    with pytest.raises(EdgesimError, match="'x' holds Python objects"):
        load_dataset("npz", path=file)
    assert "pwned" not in capsys.readouterr().out


def test_npz_header_claiming_more_than_the_data_is_refused_before_allocating(tmp_path):
    """A header may claim a terabyte over a few bytes of data: the sizes must agree first."""
    header = "{'descr': '|u1', 'fortran_order': False, 'shape': (1000000000000, 1, 1), }"
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + bytes(40)
    lying = tmp_path / "lying.npz"
    with zipfile.ZipFile(lying, "w") as archive:
        archive.writestr("x.npy", npy)
    with pytest.raises(EdgesimError, match=r"lying.npz: array 'x' header says \(1000000000000"):
        load_dataset("npz", path=lying)


def test_npz_reads_at_most_its_bound(tmp_path, monkeypatch):
    """Both on disk and once inflated: a compressed array of zeros is tiny on disk."""
    monkeypatch.setattr(datasets, "MAX_NPZ_BYTES", 64 * 1024)
    arrays = {"x": np.zeros((200, 20, 20), np.uint8), "y": np.arange(200) % 2}
    big = write_npz(tmp_path / "big.npz", **arrays)
    with pytest.raises(EdgesimError, match="big.npz: 82,.* bytes; at most 65,536 are read"):
        load_dataset("npz", path=big)
    bomb = write_npz(tmp_path / "bomb.npz", True, **arrays)
    assert bomb.stat().st_size < 64 * 1024
    with pytest.raises(EdgesimError, match="bomb.npz: array 'x' is 80,.* bytes once inflated"):
        load_dataset("npz", path=bomb)


def test_npz_corrupt_member_names_the_key(tmp_path):
    file = write_npz(tmp_path / "d.npz", x=GOOD_X, y=GOOD_Y)
    with zipfile.ZipFile(file) as archive:
        y = archive.read("y.npy")
    with zipfile.ZipFile(tmp_path / "bad.npz", "w") as archive:
        archive.writestr("x.npy", b"not an npy array at all")
        archive.writestr("y.npy", y)
    with pytest.raises(EdgesimError, match="bad.npz: array 'x' is not a .npy array"):
        load_dataset("npz", path=tmp_path / "bad.npz")


# --------------------------------------------------------------------------- cifar10


def write_batch(path: Path, n: int, seed: int) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, n)]
    with path.open("wb") as file:
        pickle.dump({b"batch_label": b"test", b"data": data, b"labels": labels}, file)
    return data, labels


@pytest.mark.parametrize("nested", [False, True])
def test_cifar10_round_trip(tmp_path, nested):
    root = tmp_path / "cifar-10-batches-py" if nested else tmp_path
    root.mkdir(exist_ok=True)
    data1, labels1 = write_batch(root / "data_batch_1", 6, seed=1)
    data3, labels3 = write_batch(root / "data_batch_3", 4, seed=3)
    _, test_labels = write_batch(root / "test_batch", 5, seed=9)
    splits = load_dataset("cifar10", path=tmp_path)
    assert len(splits.train) == 10 and len(splits.test) == 5
    assert splits.train.input_shape == (3, 32, 32) and splits.train.raw_bytes_per_sample == 3073
    assert splits.train.y.tolist() == labels1 + labels3 and splits.test.y.tolist() == test_labels
    # channel planes: row 0's red plane is its first 1024 bytes, ordered the same way
    red = torch.from_numpy(data1[0, :1024].astype(np.int64))
    assert torch.equal(
        torch.argsort(splits.train.x[0, 0].flatten(), stable=True), torch.argsort(red, stable=True)
    )
    gray = load_dataset("cifar10", path=tmp_path, grayscale=True)
    assert gray.train.input_shape == (1, 32, 32)


def test_cifar10_grayscale_matches_pillow(tmp_path):
    data, _ = write_batch(tmp_path / "data_batch_1", 3, seed=1)
    write_batch(tmp_path / "test_batch", 2, seed=2)
    gray = load_dataset("cifar10", path=tmp_path, grayscale=True).train.x[:, 0]
    image = Image.fromarray(data[0].reshape(3, 32, 32).transpose(1, 2, 0), "RGB")
    luma = torch.from_numpy(np.asarray(image.convert("L"), dtype=np.int64)).flatten()
    assert torch.equal(
        torch.argsort(gray[0].flatten(), stable=True), torch.argsort(luma, stable=True)
    )


class Payload:
    """Unpickling this calls ``print``: a stand-in for ``os.system`` in a tampered file."""

    def __reduce__(self):
        return (print, ("pwned",))


class Plain:
    """An ordinary object: its class is not a numpy array either."""


def test_cifar10_refuses_foreign_globals(tmp_path, capsys):
    write_batch(tmp_path / "test_batch", 2, seed=2)
    with (tmp_path / "data_batch_1").open("wb") as file:
        pickle.dump({b"data": Payload(), b"labels": [0]}, file)
    with pytest.raises(EdgesimError, match="data_batch_1: refusing to load builtins.print"):
        load_dataset("cifar10", path=tmp_path)
    with (tmp_path / "data_batch_1").open("wb") as file:
        pickle.dump({b"data": Plain(), b"labels": [0]}, file)
    with pytest.raises(EdgesimError, match=r"refusing to load .*\.Plain"):
        load_dataset("cifar10", path=tmp_path)
    assert "pwned" not in capsys.readouterr().out


def test_cifar10_malformed_batches(tmp_path):
    with pytest.raises(EdgesimError, match="no CIFAR-10 data_batch"):
        load_dataset("cifar10", path=tmp_path)
    write_batch(tmp_path / "data_batch_1", 2, seed=1)
    with pytest.raises(EdgesimError, match="missing .*test_batch"):
        load_dataset("cifar10", path=tmp_path)
    (tmp_path / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(EdgesimError, match="test_batch: not a CIFAR-10 python batch"):
        load_dataset("cifar10", path=tmp_path)
    with (tmp_path / "test_batch").open("wb") as file:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, file)
    with pytest.raises(EdgesimError, match=r"test_batch: b'data' must be"):
        load_dataset("cifar10", path=tmp_path)


# --------------------------------------------------------------------------- image folder


def write_image_folder(root: Path, counts: dict[str, int]) -> None:
    rng = np.random.default_rng(0)
    for name, count in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            pixels = rng.integers(0, 256, (10, 14, 3), dtype=np.uint8)
            Image.fromarray(pixels, "RGB").save(root / name / f"{i}.png")


def test_image_folder_classes_and_resizing(tmp_path):
    write_image_folder(tmp_path, {"carol": 5, "alice": 5, "bob": 5})
    (tmp_path / "bob" / "notes.txt").write_text("not an image")
    splits = load_dataset("image-folder", path=tmp_path, image_size=6, test_fraction=0.2)
    assert splits.train.num_classes == 3
    assert len(splits.train) == 12 and len(splits.test) == 3
    assert sorted(splits.test.y.tolist()) == [0, 1, 2]  # one of each, stratified
    assert splits.train.input_shape == (3, 6, 6) and splits.train.raw_bytes_per_sample == 109
    gray = load_dataset("image-folder", path=tmp_path, image_size=8, grayscale=True)
    assert gray.train.input_shape == (1, 8, 8) and gray.train.raw_bytes_per_sample == 65
    assert_same(
        gray.train, load_dataset("image-folder", path=tmp_path, image_size=8, grayscale=True).train
    )


def test_image_folder_labels_follow_sorted_folder_names(tmp_path):
    write_image_folder(tmp_path, {"b": 2, "a": 4})
    splits = load_dataset("image-folder", path=tmp_path, image_size=4, test_fraction=0.5)
    labels = splits.train.y.tolist() + splits.test.y.tolist()
    assert labels.count(0) == 4 and labels.count(1) == 2


def test_image_folder_errors(tmp_path):
    with pytest.raises(EdgesimError, match="no class sub-folders"):
        load_dataset("image-folder", path=tmp_path)
    write_image_folder(tmp_path, {"alice": 2})
    (tmp_path / "empty").mkdir()
    with pytest.raises(EdgesimError, match="empty: class folder holds no images"):
        load_dataset("image-folder", path=tmp_path)
    (tmp_path / "empty" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(EdgesimError, match="broken.jpg: unreadable image"):
        load_dataset("image-folder", path=tmp_path)
