"""Which runs share a dataset, and what the driver puts in Ray's object store for them."""

from __future__ import annotations

import torch

from edgesim.learning.datasets import load_dataset
from edgesim.runner import dataset_arguments, load_data
from edgesim.sweep import load_sweep
from edgesim.sweep.backends import _submissions
from edgesim.sweep.shared import by_data, data_key, data_keys, loaded_task, pack, unpack
from tests.learning.test_datasets import assert_same, write_mnist


class FakeStore:
    """Ray's ``put`` without a cluster: records what the driver stores."""

    def __init__(self) -> None:
        self.objects: list[object] = []

    def put(self, value: object) -> int:
        self.objects.append(value)
        return len(self.objects) - 1


def test_seeds_draw_their_own_split_so_they_do_not_share(sweep_file):
    sweep = load_sweep(sweep_file(seeds=[0, 1]))  # 2 points (a failure fraction) × 2 seeds
    keys = data_keys(sweep.tasks)
    by_seed = {task.seed: keys[task.id] for task in sweep.tasks}
    assert len(set(keys.values())) == 2 and by_seed[0] != by_seed[1]
    for task in sweep.tasks:  # the per-point shortcut gives the key the task's own scenario has
        assert keys[task.id] == data_key(dataset_arguments(loaded_task(task)))


def test_a_varied_dataset_gives_each_point_its_own_data(sweep_file):
    sweep = load_sweep(sweep_file(vary={"data.dataset": ["digits", "synthetic"]}, seeds=[0]))
    assert len(set(data_keys(sweep.tasks).values())) == 2


def test_a_published_split_is_shared_across_seeds_and_test_fractions(tmp_path):
    write_mnist(tmp_path, compress=False)
    arguments = {**dataset_arguments_of("mnist", tmp_path), "seed": 0, "test_fraction": 0.2}
    other = {**arguments, "seed": 7, "test_fraction": 0.5}
    assert data_key(arguments) == data_key(other)
    a, b = load_dataset(**arguments), load_dataset(**other)
    assert_same(a.train, b.train)
    assert_same(a.test, b.test)
    assert data_key(arguments) != data_key({**arguments, "path": str(tmp_path / "elsewhere")})


def dataset_arguments_of(name: str, path) -> dict:
    return {
        "name": name,
        "path": str(path),
        "image_size": 32,
        "grayscale": False,
        "num_samples": 2000,
        "num_classes": 10,
        "shape": (1, 8, 8),
    }


def test_tasks_are_grouped_by_data_in_first_seen_order(sweep_file):
    sweep = load_sweep(sweep_file(seeds=[0, 1]))
    groups = list(by_data(sweep.tasks, data_keys(sweep.tasks)))
    assert [[(t.point.id, t.seed) for t in group] for _, group in groups] == [
        [(p.id, 0) for p in sweep.points],
        [(p.id, 1) for p in sweep.points],
    ]


def test_packed_data_comes_back_bit_for_bit_and_writable(sweep_file):
    splits = load_data(loaded_task(load_sweep(sweep_file()).tasks[0]))
    packed = pack(splits)
    for array in packed["arrays"]:
        array.flags.writeable = False  # as Ray hands it out
    again = unpack(packed)
    assert_same(again.train, splits.train)
    assert_same(again.test, splits.test)
    assert again.train.raw_bytes_per_sample == splits.train.raw_bytes_per_sample
    again.train.x.add_(1.0)  # the run's own copy
    assert not torch.equal(again.train.x, splits.train.x)


def test_the_driver_puts_each_dataset_once(sweep_file):
    sweep = load_sweep(sweep_file(seeds=[0, 1]))
    store = FakeStore()
    submitted = list(_submissions(store, sweep.tasks, lambda task, outcome: None))
    assert len(store.objects) == 2  # one per seed; both points use it
    assert [ref for _, ref in submitted] == [0, 0, 1, 1]
    assert sorted(t.id for t, _ in submitted) == sorted(t.id for t in sweep.tasks)


def test_a_dataset_that_fails_to_load_fails_each_of_its_runs(sweep_file, tmp_path):
    path = sweep_file(seeds=[0])
    (tmp_path / "data.py").write_text("def load():\n    raise OSError('disk gone')\n")
    (tmp_path / "base.yaml").write_text(
        (tmp_path / "base.yaml").read_text().replace("digits", "data.py:load")
    )
    sweep = load_sweep(path)
    failed = []
    store = FakeStore()
    submitted = list(_submissions(store, sweep.tasks, lambda t, o: failed.append((t.id, o))))
    assert (submitted, store.objects) == ([], [])
    assert [task_id for task_id, _ in failed] == [t.id for t in sweep.tasks]
    assert all("disk gone" in outcome["error"] for _, outcome in failed)
