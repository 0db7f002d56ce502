"""A sweep's datasets, loaded once by the driver and handed to Ray tasks by reference.

Fashion-MNIST standardised is 220 MB of float32; a thousand runs that each read
and parse it, or a thousand tasks that each carry it, would move it a thousand
times. Instead the driver loads each distinct dataset once, puts it in Ray's
object store (``ray.put``) and passes the reference: Ray copies an object to a
node the first time a task there needs it, and every later task on that node
reads the node's copy from shared memory.

Runs share a dataset when they load the same thing: the same arguments to
``load_dataset`` (:func:`edgesim.runner.dataset_arguments`), which a sweep can
vary per point (``data.dataset``, ``data.path``, …) and per seed (the seed
draws the train/test split) — except for datasets that keep their published
split, whose seed and test fraction change nothing. :func:`data_key` is that
identity; it never merges two runs whose data would differ.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from edgesim.config import LoadedScenario, from_model, validate_scenario
from edgesim.learning.datasets import Dataset, DataSplits
from edgesim.runner import dataset_arguments
from edgesim.sweep.spec import RunTask

PUBLISHED_SPLITS = ("mnist", "fashion-mnist", "cifar10")
"""Datasets loaded with their own train/test split (see ``load_dataset``): the seed and
``test_fraction`` do not change what is loaded."""


def loaded_task(task: RunTask) -> LoadedScenario:
    """The task's scenario, validated and resolved as its worker will (already checked)."""
    base_dir = Path(task.base_dir)
    scenario = validate_scenario(task.scenario, task.source, base_dir)
    return from_model(scenario, task.source, base_dir)


def data_key(arguments: dict[str, Any]) -> str:
    """Canonical JSON of what determines the data ``load_dataset(**arguments)`` gives."""
    if arguments["name"] in PUBLISHED_SPLITS:
        arguments = {k: v for k, v in arguments.items() if k not in ("seed", "test_fraction")}
    return json.dumps(arguments, sort_keys=True, separators=(",", ":"))


def data_keys(tasks: Sequence[RunTask]) -> dict[str, str]:
    """Task id → :func:`data_key`, each grid point resolved once (its seeds differ only in seed).

    Resolving a scenario takes about a millisecond; a 1 000-run sweep of 100
    points resolves 100.
    """
    per_point: dict[str, dict[str, Any]] = {}
    keys = {}
    for task in tasks:
        if task.point.id not in per_point:
            per_point[task.point.id] = dataset_arguments(loaded_task(task))
        keys[task.id] = data_key({**per_point[task.point.id], "seed": task.seed})
    return keys


def by_data(tasks: Sequence[RunTask], keys: dict[str, str]) -> Iterator[tuple[str, list[RunTask]]]:
    """The tasks grouped by data key, in the order each key first appears (stable within).

    Submitting one group after another lets the driver drop each dataset once its
    last task is submitted, so only the datasets of the runs in flight stay in the
    object store, however many distinct ones the sweep has.
    """
    groups: dict[str, list[RunTask]] = {}
    for task in tasks:
        groups.setdefault(keys[task.id], []).append(task)
    yield from groups.items()


def pack(splits: DataSplits) -> dict[str, Any]:
    """The splits as numpy arrays and plain values, which Ray stores without pickling them."""
    train, test = splits.train, splits.test
    return {
        "name": train.name,
        "num_classes": train.num_classes,
        "raw_bytes_per_sample": train.raw_bytes_per_sample,
        "arrays": [t.numpy() for t in (train.x, train.y, test.x, test.y)],
    }


def unpack(packed: dict[str, Any]) -> DataSplits:
    """:func:`pack`'s splits again, bit for bit, in this process's own memory.

    Ray hands out its shared copy read-only; the copy made here keeps a run from
    ever writing into memory other tasks on the node read.
    """
    train_x, train_y, test_x, test_y = (torch.from_numpy(np.array(a)) for a in packed["arrays"])
    facts = (packed["num_classes"], packed["raw_bytes_per_sample"])
    train = Dataset(packed["name"], train_x, train_y, *facts)
    return DataSplits(train, Dataset(packed["name"], test_x, test_y, *facts))
