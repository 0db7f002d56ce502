"""Real datasets as tensors, loaded the same way on every run.

edgesim trains real models, so the data must be real and its preparation
reproducible: every loader reads uint8 pixels (the source encoding, whose size is
what a raw-data upload costs) and integer labels, splits train/test, and then
standardises per channel with statistics of the *train* split only, so nothing
about the test set leaks into training. Statistics come from exact per-channel
pixel histograms, so the same arguments give bit-identical tensors.

Sources: scikit-learn's bundled ``digits`` (the default, no download), MNIST and
Fashion-MNIST IDX files (the latter from Debian's ``dataset-fashion-mnist`` package
unless a path is given), CIFAR-10 python batches, a folder of images per class
(e.g. LFW faces, as in seed 000), any arrays saved with ``numpy.savez``, and a
seeded synthetic set for scale tests. Nothing is downloaded. CIFAR-10 batches are
pickles; they are read with an unpickler that only builds numpy arrays, so a
tampered file cannot run code; a ``.npz`` file is read without pickles at all.
"""

from __future__ import annotations

import codecs
import gzip
import importlib.util
import inspect
import io
import math
import pickle
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from edgesim import plugins
from edgesim.config.scenario import MAX_CLASSES, MAX_SAMPLE_VALUES
from edgesim.errors import EdgesimError, did_you_mean
from edgesim.learning.partition import stratified_sample
from edgesim.plugins import PluginError

try:
    from numpy._core.multiarray import _reconstruct
    from numpy._core.numeric import _frombuffer
except ImportError:  # numpy < 2
    from numpy.core.multiarray import _reconstruct
    from numpy.core.numeric import _frombuffer

DATASETS: dict[str, str] = {
    "digits": "scikit-learn's bundled 8x8 handwritten digits, 1797 samples, 10 classes",
    "synthetic": "seeded Gaussian blobs around class prototypes, any shape and size",
    "mnist": "MNIST IDX files (optionally .gz) from --path, 28x28, 10 classes",
    "fashion-mnist": "Zalando's Fashion-MNIST IDX files, 28x28, 10 classes; from Debian's "
    "dataset-fashion-mnist package unless --path is given",
    "cifar10": "CIFAR-10 python batches from --path, 3x32x32, 10 classes",
    "image-folder": "one sub-folder of images per class under --path (e.g. LFW), resized",
    "npz": "arrays x (N×C×H×W or N×H×W pixels) and y (integer labels) of a .npz file at --path",
}

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
"""Where Debian's ``dataset-fashion-mnist`` package puts the four IDX files (gzipped)."""

FASHION_MNIST_INSTALL = "apt-get install -y dataset-fashion-mnist"

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm"})

_SYNTHETIC_NOISE = 2.5  # noise std relative to prototype std: learnable, not trivially so
_SYNTHETIC_CHUNK = 4096  # samples generated at a time, bounding float memory


@dataclass(frozen=True, eq=False)
class Dataset:
    """Normalised samples ``x`` (float32, N×C×H×W) with labels ``y`` (int64, N)."""

    name: str
    x: torch.Tensor
    y: torch.Tensor
    num_classes: int
    raw_bytes_per_sample: int

    def __post_init__(self) -> None:
        if self.x.dim() != 4 or self.y.dim() != 1 or len(self.x) != len(self.y):
            raise ValueError(f"x {tuple(self.x.shape)} and y {tuple(self.y.shape)} do not match")

    def __len__(self) -> int:
        return len(self.y)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        channels, height, width = self.x.shape[1:]
        return (channels, height, width)

    def subset(self, indices: np.ndarray | Sequence[int]) -> Dataset:
        """The selected rows, in the given order, as a new dataset."""
        rows = torch.as_tensor(np.asarray(indices, dtype=np.int64))
        return Dataset(
            self.name, self.x[rows], self.y[rows], self.num_classes, self.raw_bytes_per_sample
        )

    def raw_bytes(self) -> int:
        """Bytes these samples take in their source encoding (what a raw upload sends)."""
        return len(self) * self.raw_bytes_per_sample


def concat(parts: Sequence[Dataset]) -> Dataset:
    """Several holders' samples as one dataset (what a server holds after raw uploads)."""
    if not parts:
        raise ValueError("nothing to concatenate")
    first = parts[0]
    return Dataset(
        first.name,
        torch.cat([p.x for p in parts]),
        torch.cat([p.y for p in parts]),
        first.num_classes,
        first.raw_bytes_per_sample,
    )


@dataclass(frozen=True, eq=False)
class DataSplits:
    train: Dataset
    test: Dataset


def load_dataset(
    name: str,
    *,
    path: str | Path | None = None,
    seed: int = 0,
    test_fraction: float = 0.2,
    image_size: int = 32,
    grayscale: bool = False,
    num_samples: int = 2000,
    num_classes: int = 10,
    shape: tuple[int, int, int] = (1, 8, 8),
) -> DataSplits:
    """Load dataset ``name`` (a key of :data:`DATASETS`) as normalised train/test splits.

    ``seed`` and ``test_fraction`` drive the stratified split of datasets without
    one of their own (digits, synthetic, image-folder, npz); mnist, fashion-mnist and
    cifar10 keep their published split. ``path`` is required by mnist, cifar10,
    image-folder and npz (a file); fashion-mnist defaults to :data:`FASHION_MNIST_DIR`.
    ``num_samples``, ``num_classes`` and ``shape`` size the synthetic set.
    """
    if not 0 < test_fraction < 1:
        raise EdgesimError(f"test_fraction(={test_fraction}) must be in (0, 1)")
    rng = np.random.default_rng(seed)
    if name not in DATASETS:
        return _user_dataset(name, user_dataset(name), seed, test_fraction, rng)

    if name in ("mnist", "fashion-mnist"):
        if name == "fashion-mnist" and path is None:
            directory = _fashion_mnist_dir()
        else:
            directory = _directory(name, path)
        return _finish(name, *_read_mnist(directory), num_classes=10, max_value=255)
    if name == "cifar10":
        train_x, train_y, test_x, test_y = _read_cifar10(_directory(name, path))
        if grayscale:
            train_x, test_x = _luma(train_x), _luma(test_x)
        # A raw upload sends the source sample, 3072 RGB bytes, whatever is trained on.
        return _finish(
            name,
            train_x,
            train_y,
            test_x,
            test_y,
            num_classes=10,
            max_value=255,
            raw_bytes_per_sample=3 * 32 * 32 + 1,
        )

    raw_bytes_per_sample = None
    if name == "digits":
        pixels, labels = read_digits()
        classes, max_value = 10, 16
    elif name == "synthetic":
        pixels, labels = _make_synthetic(num_samples, num_classes, shape, rng)
        classes, max_value = num_classes, 255
    elif name == "npz":
        if path is None:
            raise EdgesimError("dataset 'npz' needs a path to its .npz file")
        pixels, labels, classes, raw_bytes_per_sample = _read_npz(Path(path))
        max_value = 255
    else:
        if image_size < 1:
            raise EdgesimError(f"image_size(={image_size}) must be >= 1")
        root = _directory(name, path)
        pixels, labels, classes = _read_image_folder(root, image_size, grayscale)
        max_value = 255
    test = stratified_sample(labels, test_fraction, rng, keep_per_class=1)
    train = np.setdiff1d(np.arange(len(labels)), test)
    return _finish(
        name,
        pixels[train],
        labels[train],
        pixels[test],
        labels[test],
        num_classes=classes,
        max_value=max_value,
        raw_bytes_per_sample=raw_bytes_per_sample,
    )


def _finish(
    name: str,
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    *,
    num_classes: int,
    max_value: int,
    raw_bytes_per_sample: int | None = None,
) -> DataSplits:
    """Scale uint8 pixels (0..max_value) to [0, 1] and standardise with train statistics.

    ``raw_bytes_per_sample`` defaults to the uint8 sample plus one label byte.
    """
    if len(train_y) == 0 or len(test_y) == 0:
        raise EdgesimError(
            f"dataset {name!r} has {len(train_y)} train and {len(test_y)} test samples; "
            "both must be non-empty (use more samples or another test_fraction)"
        )
    tables = _normalisation_tables(train_x, max_value)
    if raw_bytes_per_sample is None:
        raw_bytes_per_sample = math.prod(train_x.shape[1:]) + 1

    def to_dataset(pixels: np.ndarray, labels: np.ndarray) -> Dataset:
        x = np.empty(pixels.shape, dtype=np.float32)
        for channel, table in enumerate(tables):
            x[:, channel] = table[pixels[:, channel]]
        y = torch.from_numpy(labels.astype(np.int64))
        return Dataset(name, torch.from_numpy(x), y, num_classes, raw_bytes_per_sample)

    return DataSplits(to_dataset(train_x, train_y), to_dataset(test_x, test_y))


def _normalisation_tables(pixels: np.ndarray, max_value: int) -> list[np.ndarray]:
    """Per channel, a lookup table from pixel value to its standardised float32.

    Mean and std come from the exact value histogram in float64, so they do not
    depend on summation order.
    """
    values = np.arange(256, dtype=np.float64) / max_value
    tables = []
    for channel in range(pixels.shape[1]):
        counts = np.bincount(pixels[:, channel].ravel(), minlength=256).astype(np.float64)
        total = counts.sum()
        mean = (counts * values).sum() / total
        std = math.sqrt((counts * (values - mean) ** 2).sum() / total) or 1.0
        tables.append(((values - mean) / std).astype(np.float32))
    return tables


def _directory(name: str, path: str | Path | None) -> Path:
    if path is None:
        raise EdgesimError(f"dataset {name!r} needs a path to its data directory")
    directory = Path(path)
    if not directory.is_dir():
        raise EdgesimError(f"dataset {name!r}: {directory} is not a directory")
    return directory


def _fashion_mnist_dir() -> Path:
    """Debian's copy: a package manager, not edgesim, fetches data (so nothing is downloaded)."""
    if not FASHION_MNIST_DIR.is_dir():
        raise EdgesimError(
            f"dataset 'fashion-mnist': {FASHION_MNIST_DIR} is missing; install Debian's package "
            f"({FASHION_MNIST_INSTALL}) or give a path to a copy of the IDX files"
        )
    return FASHION_MNIST_DIR


def _luma(rgb: np.ndarray) -> np.ndarray:
    """RGB → one channel with Pillow's ITU-R 601-2 integer formula (as ``convert("L")``)."""
    r, g, b = (rgb[:, c].astype(np.uint32) for c in range(3))
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)[:, None]


# --- digits -------------------------------------------------------------------------------


DIGITS_FILE = "datasets/data/digits.csv.gz"
"""scikit-learn's bundled copy of the UCI digits, inside its installed package."""


def read_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1 797 digits as ``N × 1 × 8 × 8`` uint8 pixels (values 0..16) and int64 labels.

    Read straight from scikit-learn's bundled CSV (64 pixel columns, then the
    label) instead of through ``sklearn.datasets.load_digits``: importing
    scikit-learn costs about a second and a half, a large share of a short or
    timing-only run. ``find_spec`` locates the installed package without
    importing it.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        raise EdgesimError("dataset 'digits' needs scikit-learn (pip install scikit-learn)")
    path = Path(spec.origin).parent / DIGITS_FILE
    with gzip.open(path, "rt") as rows:
        table = np.loadtxt(rows, delimiter=",", dtype=np.int64)
    pixels = table[:, :-1].astype(np.uint8).reshape(-1, 1, 8, 8)
    return pixels, table[:, -1]


# --- synthetic ----------------------------------------------------------------------------


def _make_synthetic(
    num_samples: int, num_classes: int, shape: tuple[int, int, int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Balanced classes, each a Gaussian blob around a random prototype, quantised to uint8."""
    if num_classes < 2:
        raise EdgesimError(f"num_classes(={num_classes}) must be >= 2")
    if num_samples < 2 * num_classes:
        raise EdgesimError(
            f"num_samples(={num_samples}) must be >= 2 * num_classes (={2 * num_classes})"
        )
    if len(shape) != 3 or min(shape) < 1:
        raise EdgesimError(f"shape(={shape}) must be three positive sizes (C, H, W)")
    shape = tuple(int(size) for size in shape)
    prototypes = rng.standard_normal((num_classes, *shape)).astype(np.float32)
    labels = rng.permutation(np.arange(num_samples) % num_classes).astype(np.int64)
    scale = 127.5 / (4 * math.sqrt(1 + _SYNTHETIC_NOISE**2))  # ±4 std fits in 0..255
    pixels = np.empty((num_samples, *shape), dtype=np.uint8)
    for start in range(0, num_samples, _SYNTHETIC_CHUNK):
        chunk = labels[start : start + _SYNTHETIC_CHUNK]
        noise = rng.standard_normal((len(chunk), *shape), dtype=np.float32)
        values = prototypes[chunk] + _SYNTHETIC_NOISE * noise
        pixels[start : start + len(chunk)] = np.clip(np.rint(127.5 + scale * values), 0, 255)
    return pixels, labels


# --- MNIST (IDX) --------------------------------------------------------------------------


def _read_mnist(directory: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    splits = []
    for prefix in ("train", "t10k"):
        images_file = _find_file(directory, f"{prefix}-images-idx3-ubyte")
        labels_file = _find_file(directory, f"{prefix}-labels-idx1-ubyte")
        images = _read_idx(images_file, ndim=3)
        labels = _read_idx(labels_file, ndim=1)
        if len(images) != len(labels):
            raise EdgesimError(
                f"{labels_file}: {len(labels)} labels but {images_file} has {len(images)} images"
            )
        if labels.size and labels.max() > 9:
            raise EdgesimError(f"{labels_file}: label {labels.max()} outside 0..9")
        splits.append((images[:, None], labels.astype(np.int64)))
    (train_x, train_y), (test_x, test_y) = splits
    return train_x, train_y, test_x, test_y


def _find_file(directory: Path, name: str) -> Path:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise EdgesimError(f"missing {directory / name} (or {name}.gz)")


MAX_IDX_BYTES = 1024**3
"""Largest IDX file read, after decompression (1 GiB; MNIST's training images are 47 MB)."""


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    """Parse an IDX file: 0x0000, dtype code, dim count, big-endian uint32 sizes, data."""
    try:
        with gzip.open(path) if path.suffix == ".gz" else path.open("rb") as file:
            data = file.read(MAX_IDX_BYTES + 1)  # a gzip bomb stops here too
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise EdgesimError(f"{path}: cannot read ({error})") from error
    if len(data) > MAX_IDX_BYTES:
        raise EdgesimError(f"{path}: more than {MAX_IDX_BYTES // 1024**3} GiB of data")
    if len(data) < 4 or data[:2] != b"\x00\x00":
        raise EdgesimError(f"{path}: not an IDX file (bad magic number {data[:4].hex()})")
    if data[2] != 0x08:
        raise EdgesimError(f"{path}: IDX dtype code 0x{data[2]:02x}, expected 0x08 (uint8)")
    if data[3] != ndim:
        raise EdgesimError(f"{path}: IDX file has {data[3]} dimensions, expected {ndim}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise EdgesimError(f"{path}: truncated IDX header")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    if len(data) - header != math.prod(dims):
        raise EdgesimError(
            f"{path}: header says {dims} = {math.prod(dims)} bytes of data, "
            f"file holds {len(data) - header}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


# --- a user's dataset (a reference or an entry point) --------------------------------------


def user_dataset(name: str) -> Callable[..., Any]:
    """The loader a reference (``data.py:load``) or an ``edgesim.datasets`` entry point names.

    It returns ``(x, y)`` — split here into train and test like ``digits`` — or
    ``(train_x, train_y, test_x, test_y)``, as numpy arrays or torch tensors: ``x`` holds
    N×C×H×W or N×H×W pixels (integers 0..255, or floats in [0, 1]), ``y`` integer labels.
    It is given the scenario's seed if it takes a ``seed`` argument.
    """
    found = plugins.find(name, "dataset")
    if found is None:
        known = [*DATASETS, *plugins.registered("dataset")]
        raise EdgesimError(
            f"unknown dataset {name!r}{did_you_mean(name, known)}, or a reference such as "
            "data.py:load"
        )
    if not callable(found):
        raise PluginError(f"{name}: expected a function returning arrays, got {type(found)}")
    return found


def _user_dataset(
    name: str,
    load: Callable[..., Any],
    seed: int,
    test_fraction: float,
    rng: np.random.Generator,
) -> DataSplits:
    takes_seed = "seed" in inspect.signature(load).parameters
    try:
        arrays = load(seed=seed) if takes_seed else load()
    except Exception as exc:  # the user's code: say where
        why = plugins.blame(exc) or f"{type(exc).__name__}: {exc}"
        raise PluginError(f"{name}: loading the data failed: {why}") from None
    if not isinstance(arrays, tuple) or len(arrays) not in (2, 4):
        raise PluginError(f"{name}: expected (x, y) or (train_x, train_y, test_x, test_y)")
    arrays = tuple(np.asarray(a) for a in arrays)
    for x in arrays[::2]:
        _check_pixels(x.shape, x.dtype, name)
    raw_bytes = math.prod(arrays[0].shape[1:]) * arrays[0].dtype.itemsize + 1
    xs = [_to_uint8(x, name) for x in arrays[::2]]
    ys = [_npz_labels(y, len(x), name) for x, y in zip(xs, arrays[1::2], strict=True)]
    classes = int(max(y.max() for y in ys)) + 1
    if len(xs) == 2:
        return _finish(
            name,
            xs[0],
            ys[0],
            xs[1],
            ys[1],
            num_classes=classes,
            max_value=255,
            raw_bytes_per_sample=raw_bytes,
        )
    test = stratified_sample(ys[0], test_fraction, rng, keep_per_class=1)
    train = np.setdiff1d(np.arange(len(ys[0])), test)
    return _finish(
        name,
        xs[0][train],
        ys[0][train],
        xs[0][test],
        ys[0][test],
        num_classes=classes,
        max_value=255,
        raw_bytes_per_sample=raw_bytes,
    )


# --- arrays (.npz) ------------------------------------------------------------------------

MAX_NPZ_BYTES = 1024**3
"""Largest .npz file read, and largest array in it once inflated (1 GiB, as for IDX files)."""

_NPY_HEADERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Pixels (uint8, N×C×H×W), labels, class count and raw bytes per sample of ``path``.

    A raw upload sends the sample as stored: float32 pixels cost four bytes each.
    """
    with _open_npz(path) as archive:
        labels = _checked_labels(archive, path)
        x = _npz_array(archive, path, "x")
    raw_bytes = math.prod(x.shape[1:]) * x.dtype.itemsize + 1
    return _to_uint8(x, path), labels, int(labels.max()) + 1, raw_bytes


def npz_labels(path: Path) -> np.ndarray:
    """The labels of a .npz dataset, with ``x`` checked from its header alone (cheap)."""
    with _open_npz(path) as archive:
        return _checked_labels(archive, path)


def _checked_labels(archive: zipfile.ZipFile, path: Path) -> np.ndarray:
    """``y`` read and checked against ``x``'s header, before ``x`` itself is read."""
    shape, dtype = _npz_header(archive, path, "x")
    _check_pixels(shape, dtype, path)
    return _npz_labels(_npz_array(archive, path, "y"), shape[0], path)


def _open_npz(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise EdgesimError(f"{path}: not a regular file (dataset 'npz' reads one .npz file)")
    size = path.stat().st_size
    if size > MAX_NPZ_BYTES:
        raise EdgesimError(f"{path}: {size:,} bytes; at most {MAX_NPZ_BYTES:,} are read")
    try:
        return zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise EdgesimError(f"{path}: not a .npz file ({error})") from error


def _npz_header(archive: zipfile.ZipFile, path: Path, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of array ``key``, from its .npy header, checked against its size.

    The check comes before any array is allocated: a header may claim any shape.
    """
    try:
        info = archive.getinfo(f"{key}.npy")
    except KeyError:
        held = ", ".join(sorted(n.removesuffix(".npy") for n in archive.namelist())) or "nothing"
        raise EdgesimError(f"{path}: no array '{key}' (it holds: {held})") from None
    if info.file_size > MAX_NPZ_BYTES:
        raise EdgesimError(
            f"{path}: array '{key}' is {info.file_size:,} bytes once inflated; "
            f"at most {MAX_NPZ_BYTES:,} are read"
        )
    try:
        with archive.open(info) as member:
            read_header = _NPY_HEADERS.get(np.lib.format.read_magic(member))
            if read_header is None:
                raise ValueError("unsupported .npy format version")
            shape, _, dtype = read_header(member)
            header_bytes = member.tell()
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise EdgesimError(f"{path}: array '{key}' is not a .npy array ({error})") from error
    if dtype.hasobject:
        raise EdgesimError(
            f"{path}: array '{key}' holds Python objects (dtype {dtype}); only numbers are read"
        )
    data_bytes = math.prod(shape) * dtype.itemsize
    if header_bytes + data_bytes != info.file_size:
        raise EdgesimError(
            f"{path}: array '{key}' header says {shape} of {dtype} = {data_bytes:,} bytes, "
            f"it holds {info.file_size - header_bytes:,}"
        )
    return shape, dtype


def _npz_array(archive: zipfile.ZipFile, path: Path, key: str) -> np.ndarray:
    _npz_header(archive, path, key)  # sizes agree: reading allocates what the file holds
    try:
        with archive.open(f"{key}.npy") as member:
            return np.lib.format.read_array(member, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise EdgesimError(f"{path}: array '{key}' cannot be read ({error})") from error


def _check_pixels(shape: tuple[int, ...], dtype: np.dtype, path: str | Path) -> None:
    if len(shape) not in (3, 4) or 0 in shape[1:]:
        raise EdgesimError(
            f"{path}: array 'x' has shape {shape}; expected N×C×H×W or N×H×W samples"
        )
    if math.prod(shape[1:]) > MAX_SAMPLE_VALUES:
        raise EdgesimError(
            f"{path}: array 'x' has {math.prod(shape[1:]):,} values per sample; "
            f"at most {MAX_SAMPLE_VALUES:,}"
        )
    if not (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)):
        raise EdgesimError(
            f"{path}: array 'x' has dtype {dtype}; expected uint8 pixels or floats in [0, 1]"
        )


def _to_uint8(x: np.ndarray, path: str | Path) -> np.ndarray:
    """Integers 0..255 as they are, floats in [0, 1] rounded to 0..255: the other loaders' scale."""
    pixels = x if x.ndim == 4 else x[:, None]
    if np.issubdtype(x.dtype, np.floating):
        if x.size and not (x.min() >= 0 and x.max() <= 1):  # NaN fails both
            raise EdgesimError(f"{path}: array 'x' holds floats outside [0, 1]")
        return np.rint(pixels * 255).astype(np.uint8)
    if x.size and (x.min() < 0 or x.max() > 255):
        raise EdgesimError(f"{path}: array 'x' holds integers outside 0..255")
    return pixels.astype(np.uint8)


def _npz_labels(y: np.ndarray, samples: int, path: str | Path) -> np.ndarray:
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise EdgesimError(
            f"{path}: array 'y' has shape {y.shape} of {y.dtype}; expected one integer label "
            "per sample"
        )
    if len(y) != samples:
        raise EdgesimError(f"{path}: array 'y' has {len(y)} labels but 'x' has {samples} samples")
    if len(np.unique(y)) < 2:
        raise EdgesimError(f"{path}: array 'y' holds fewer than two classes")
    if y.min() < 0 or y.max() >= MAX_CLASSES:
        raise EdgesimError(
            f"{path}: array 'y' has labels {y.min()}..{y.max()}; expected 0..{MAX_CLASSES - 1}"
        )
    return y.astype(np.int64)


# --- CIFAR-10 (python pickles) ------------------------------------------------------------


class _ArrayUnpickler(pickle.Unpickler):
    """Builds only numpy arrays, dtypes and bytes; any other global is refused."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy.core.numeric", "_frombuffer"): _frombuffer,
        ("numpy._core.numeric", "_frombuffer"): _frombuffer,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): codecs.encode,
    }

    def __init__(self, file: io.BufferedIOBase, source: Path):
        super().__init__(file, encoding="bytes")
        self.source = source

    def find_class(self, module: str, name: str) -> object:
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise EdgesimError(
                f"{self.source}: refusing to load {module}.{name}; a CIFAR-10 batch "
                "holds only numpy arrays and lists"
            ) from None


def _read_cifar10(directory: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if (directory / "cifar-10-batches-py").is_dir():
        directory = directory / "cifar-10-batches-py"
    train_files = [directory / f"data_batch_{i}" for i in range(1, 6)]
    train_files = [file for file in train_files if file.is_file()]
    if not train_files:
        raise EdgesimError(f"{directory}: no CIFAR-10 data_batch_1..5 found")
    test_file = directory / "test_batch"
    if not test_file.is_file():
        raise EdgesimError(f"missing {test_file}")
    batches = [_read_cifar_batch(file) for file in train_files]
    train_x = np.concatenate([x for x, _ in batches])
    train_y = np.concatenate([y for _, y in batches])
    return (train_x, train_y, *_read_cifar_batch(test_file))


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with path.open("rb") as file:
            batch = _ArrayUnpickler(file, path).load()
    except EdgesimError:
        raise
    except Exception as error:  # any malformed pickle, whatever the unpickler raises
        raise EdgesimError(f"{path}: not a CIFAR-10 python batch ({error})") from error
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise EdgesimError(f"{path}: expected a dict with b'data' and b'labels'")
    data, labels = batch[b"data"], np.asarray(batch[b"labels"])
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.shape[1:] != (3072,):
        raise EdgesimError(f"{path}: b'data' must be a uint8 array of shape (n, 3072)")
    if labels.shape != (len(data),) or not np.issubdtype(labels.dtype, np.integer):
        raise EdgesimError(f"{path}: b'labels' must hold one integer per row of b'data'")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise EdgesimError(f"{path}: labels must be in 0..9")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


# --- image folder -------------------------------------------------------------------------


def _read_image_folder(
    root: Path, image_size: int, grayscale: bool
) -> tuple[np.ndarray, np.ndarray, int]:
    """Every image under ``root/<class>/``, classes in sorted folder order."""
    class_dirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not class_dirs:
        raise EdgesimError(f"{root}: no class sub-folders (expected {root}/<class>/<image>)")
    mode = "L" if grayscale else "RGB"
    images, labels = [], []
    for label, class_dir in enumerate(class_dirs):
        files = sorted(
            f for f in class_dir.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS
        )
        if not files:
            extensions = ", ".join(sorted(IMAGE_EXTENSIONS))
            raise EdgesimError(f"{class_dir}: class folder holds no images ({extensions})")
        for file in files:
            images.append(_read_image(file, mode, image_size))
            labels.append(label)
    return np.stack(images), np.asarray(labels, dtype=np.int64), len(class_dirs)


def _read_image(path: Path, mode: str, size: int) -> np.ndarray:
    try:
        with Image.open(path) as image:
            resized = image.convert(mode).resize((size, size), Image.Resampling.BILINEAR)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise EdgesimError(f"{path}: unreadable image ({error})") from error
    pixels = np.asarray(resized, dtype=np.uint8)
    return pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
