"""Who holds which samples: splitting a training set over the devices of a cluster.

Schemes are compared on the same data placement, so the split is a pure function
of the labels and a seeded ``np.random.Generator``. Three placements are offered:

* ``iid`` — every device sees a uniform random sample, the optimistic baseline;
* ``dirichlet`` — per class, device shares drawn from Dir(alpha), the standard
  non-IID split of Hsu, Qi & Brown, "Measuring the effects of non-identical data
  distribution for federated visual classification" (2019); small alpha means
  each device sees few classes;
* ``shards`` — the pathological non-IID split of McMahan et al., "Communication-
  efficient learning of deep networks from decentralized data" (AISTATS 2017):
  sort by label, cut into shards, deal each device a few shards.

Three extras model the seeds: a *server-held share* (a stratified fraction kept by
the server, as in the edge-cloud schemes that fine-tune on server data), a
*personal class* (seed 000, exp. 3: a device owner's photos form a class that
only that device holds, which the server and the other devices never see), and
a *server copy* of one device's samples (seed 000, exp. 1: the same data on both).
Every function returns sorted ``np.int64`` index arrays into the label array.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from edgesim.config import LoadedScenario
from edgesim.errors import EdgesimError, did_you_mean

PARTITIONERS: dict[str, str] = {
    "iid": "uniform random split, sizes equal to within one sample",
    "dirichlet": "per-class shares ~ Dir(alpha) across devices (Hsu et al. 2019)",
    "shards": "sort by label, deal each device a few label shards (McMahan et al. 2017)",
}

_DIRICHLET_ATTEMPTS = 100


def stratified_sample(
    labels: np.ndarray, fraction: float, rng: np.random.Generator, *, keep_per_class: int = 0
) -> np.ndarray:
    """Positions of a random ``fraction`` of each class (rounded half up per class).

    At most ``len(class) - keep_per_class`` positions are taken from each class, so a
    caller can guarantee that every class keeps some samples on the other side.
    """
    labels = np.asarray(labels)
    taken = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        count = min(
            math.floor(fraction * len(members) + 0.5), max(len(members) - keep_per_class, 0)
        )
        taken.append(rng.permutation(members)[:count])
    return np.sort(np.concatenate(taken, dtype=np.int64)) if taken else np.empty(0, np.int64)


def partition(
    labels: np.ndarray,
    device_ids: Sequence[str],
    *,
    kind: str,
    rng: np.random.Generator,
    alpha: float = 0.5,
    shards_per_device: int = 2,
    server_id: str | None = None,
    server_share: float = 0.0,
    personal_class: tuple[str, int] | None = None,
    server_copies: str | None = None,
    min_samples: int = 1,
) -> dict[str, np.ndarray]:
    """Split the indices of ``labels`` into one part per device (and the server).

    The personal class is set aside first, then the server's stratified share of
    what remains, then the rest is divided among ``device_ids`` by ``kind``.
    Every index lands in exactly one part, except with ``server_copies``: then
    the server holds a copy of that device's part (without its personal class,
    which the server never sees) — seed 000's exp. 1, the same data on both.
    The server key is present only if the server received samples; every
    device key is always present.
    """
    labels = np.asarray(labels)
    devices = list(device_ids)
    _validate(labels, devices, kind, alpha, shards_per_device, server_id, server_share, min_samples)

    pool = np.arange(len(labels), dtype=np.int64)
    personal: tuple[str, np.ndarray] | None = None
    if personal_class is not None:
        owner, label = personal_class
        if owner not in devices:
            raise EdgesimError(
                f"personal_class device {owner!r} is not a device{did_you_mean(owner, devices)}"
            )
        own = labels == label
        if not own.any():
            raise EdgesimError(f"personal_class label {label} does not occur in the data")
        personal = (owner, pool[own])
        pool = pool[~own]

    parts: dict[str, np.ndarray] = {}
    if server_share > 0:
        to_server = stratified_sample(labels[pool], server_share, rng)
        if len(to_server):
            parts[server_id] = pool[to_server]
            pool = np.delete(pool, to_server)

    if len(pool) < len(devices):
        raise EdgesimError(
            f"cannot split {len(pool)} samples over {len(devices)} devices; "
            "use fewer devices, more data, or a smaller server_share"
        )
    if kind == "iid":
        shares = _iid(pool, len(devices), rng)
    elif kind == "dirichlet":
        shares = _dirichlet(pool, labels[pool], len(devices), alpha, min_samples, rng)
    else:
        shares = _shards(pool, labels[pool], len(devices), shards_per_device, rng)
    parts.update(zip(devices, shares, strict=True))
    if server_copies is not None:
        _check_copy(server_copies, devices, server_id, server_share)
        parts[server_id] = parts[server_copies].copy()

    if personal is not None:
        owner, own_indices = personal
        parts[owner] = np.concatenate([parts[owner], own_indices])
    return {key: np.sort(part).astype(np.int64) for key, part in parts.items()}


def scenario_partition(loaded: LoadedScenario, labels: np.ndarray) -> dict[str, np.ndarray]:
    """The scenario's split of ``labels``, drawn from its seed: what a run and its check use."""
    scenario, fleet = loaded.scenario, loaded.fleet
    spec = scenario.data.partition
    return partition(
        labels,
        fleet.clients,
        kind=spec.kind,
        rng=np.random.default_rng([scenario.seed, 0xDA7A]),
        alpha=spec.alpha,
        shards_per_device=spec.shards_per_device,
        server_id=fleet.server,
        server_share=spec.server_share,
        personal_class=spec.personal_class,
        server_copies=spec.server_copies,
    )


def _check_copy(
    copied: str, devices: list[str], server_id: str | None, server_share: float
) -> None:
    if copied not in devices:
        raise EdgesimError(
            f"server_copies device {copied!r} is not a device{did_you_mean(copied, devices)}"
        )
    if server_id is None:
        raise EdgesimError("server_copies needs a server_id to hold the copy")
    if server_share > 0:
        raise EdgesimError("server_copies and server_share > 0 exclude each other")


def train_validation_split(
    indices: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split a device's indices into (train, validation), both sorted.

    The validation part is ``fraction`` of the samples rounded half up, but at least
    one sample always stays for training; ``fraction == 0`` gives an empty validation.
    """
    if not 0 <= fraction < 1:
        raise EdgesimError(f"validation fraction (={fraction}) must be in [0, 1)")
    shuffled = rng.permutation(np.asarray(indices, dtype=np.int64))
    count = min(math.floor(fraction * len(shuffled) + 0.5), max(len(shuffled) - 1, 0))
    return np.sort(shuffled[count:]), np.sort(shuffled[:count])


def _validate(
    labels: np.ndarray,
    devices: list[str],
    kind: str,
    alpha: float,
    shards_per_device: int,
    server_id: str | None,
    server_share: float,
    min_samples: int,
) -> None:
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise EdgesimError(f"labels must be a 1-D integer array, got {labels.dtype} {labels.shape}")
    if kind not in PARTITIONERS:
        raise EdgesimError(f"unknown partitioner {kind!r}{did_you_mean(kind, PARTITIONERS)}")
    if not devices:
        raise EdgesimError("partition needs at least one device")
    if len(set(devices)) != len(devices):
        raise EdgesimError(f"device ids must be unique, got {devices}")
    if not (math.isfinite(alpha) and alpha > 0):
        raise EdgesimError(f"alpha(={alpha}) must be > 0")
    if shards_per_device < 1:
        raise EdgesimError(f"shards_per_device(={shards_per_device}) must be >= 1")
    if min_samples < 0:
        raise EdgesimError(f"min_samples(={min_samples}) must be >= 0")
    if not 0 <= server_share < 1:
        raise EdgesimError(f"server_share(={server_share}) must be in [0, 1)")
    if server_share > 0 and server_id is None:
        raise EdgesimError("server_share > 0 needs a server_id to hold the share")
    if server_id is not None and server_id in devices:
        raise EdgesimError(f"server id {server_id!r} is also listed as a device")


def _iid(pool: np.ndarray, n_devices: int, rng: np.random.Generator) -> list[np.ndarray]:
    return np.array_split(rng.permutation(pool), n_devices)


def _dirichlet(
    pool: np.ndarray,
    pool_labels: np.ndarray,
    n_devices: int,
    alpha: float,
    min_samples: int,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    for _ in range(_DIRICHLET_ATTEMPTS):
        shares: list[list[np.ndarray]] = [[] for _ in range(n_devices)]
        for label in np.unique(pool_labels):
            members = rng.permutation(pool[pool_labels == label])
            proportions = rng.dirichlet(np.full(n_devices, alpha))
            cuts = (np.cumsum(proportions)[:-1] * len(members)).astype(np.int64)
            for device, piece in enumerate(np.split(members, cuts)):
                shares[device].append(piece)
        parts = [np.concatenate(pieces) for pieces in shares]
        if min(len(part) for part in parts) >= min_samples:
            return parts
    raise EdgesimError(
        f"dirichlet split with alpha={alpha} left a device with fewer than {min_samples} "
        f"samples in {_DIRICHLET_ATTEMPTS} attempts; raise alpha or use fewer devices"
    )


def _shards(
    pool: np.ndarray,
    pool_labels: np.ndarray,
    n_devices: int,
    shards_per_device: int,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    n_shards = n_devices * shards_per_device
    if len(pool) < n_shards:
        raise EdgesimError(
            f"cannot cut {len(pool)} samples into {n_shards} shards "
            f"({n_devices} devices x {shards_per_device}); lower shards_per_device"
        )
    shuffled = rng.permutation(len(pool))
    by_label = shuffled[np.argsort(pool_labels[shuffled], kind="stable")]
    shards = np.array_split(pool[by_label], n_shards)
    dealt = rng.permutation(n_shards).reshape(n_devices, shards_per_device)
    return [np.concatenate([shards[s] for s in row]) for row in dealt]
