"""FedAvg through edgesim beside the same FedAvg written as a plain torch loop, in one process.

Issue 11's goal (b): a simulated FedAvg run — which also yields simulated time, bytes,
waiting and energy — should take at most 1.15 × the wall time of the loop a
researcher would write without a simulator, on the same clients, rounds, model
and data, with the same initial weights and the same batch order, one thread
each. Both run here alternately, after one untimed run of each (imports, the
first optimizer), so the ratio is meaningful on a shared, noisy machine;
edgesim's time is all of ``run_scenario`` (checks, data loading, partition,
FLOP counting, the clock, the network, results), the loop's only its training,
averaging and evaluation. Both end with the same weights, bit for bit, and the
same accuracy after every round (checked here; ``tests/schemes/test_fedavg_plain_torch.py``
checks it on a small fleet).

    python benchmarks/plain_torch.py [--rounds R] [--repeats N]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import nn

from edgesim.config import LoadedScenario, from_model, validate_scenario
from edgesim.config.yaml_files import load_yaml
from edgesim.learning import flops
from edgesim.learning.datasets import Dataset
from edgesim.runner import prepare, run_scenario
from edgesim.schemes.runtime import Runtime

HETEROGENEOUS = Path(__file__).resolve().parent.parent / "scenarios" / "heterogeneous.yaml"
State = dict[str, torch.Tensor]


def scenario(rounds: int, local_epochs: float = 2.0) -> dict[str, Any]:
    """heterogeneous.yaml's fleet, data and model; FedAvg on every client, nobody failing.

    Without failures and a deadline every client trains every round, as in the loop.
    """
    data = load_yaml(HETEROGENEOUS)
    data.pop("failures", None)
    data["schemes"] = [{"scheme": "fedavg", "rounds": rounds, "local_epochs": local_epochs}]
    return data


def loaded_scenario(data: dict[str, Any]) -> LoadedScenario:
    here = HETEROGENEOUS.parent
    return from_model(validate_scenario(data, "<plain-torch>", here), "<plain-torch>", here)


def batch_generator(seed: int, holder: str) -> torch.Generator:
    """The generator of ``holder``'s batches, derived as ``Runtime.generator_for`` does."""
    digest = hashlib.sha256(f"{seed}/{holder}/batches".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))


def batches(data: Dataset, batch_size: int, generator: torch.Generator) -> Iterator[tuple]:
    """Endless mini-batches, a new permutation each epoch (edgesim's BatchStream)."""
    while True:
        order = torch.randperm(len(data), generator=generator)
        for start in range(0, len(data), batch_size):
            picked = order[start : start + batch_size]
            yield data.x[picked], data.y[picked]


@torch.no_grad()
def accuracy(model: nn.Module, test: Dataset) -> float:
    model.eval()
    correct = 0
    for start in range(0, len(test), 1024):
        logits = model(test.x[start : start + 1024])
        correct += int((logits.argmax(dim=1) == test.y[start : start + 1024]).sum())
    return correct / len(test)


def plain_fedavg(
    initial: nn.Module,
    clients: list[Dataset],
    generators: list[torch.Generator],
    test: Dataset,
    rounds: int,
    local_epochs: float,
    batch_size: int,
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
) -> tuple[State, list[float]]:
    """FedAvg as a plain loop: the final global weights and the accuracy after each round.

    Every client trains from the round's global weights with a fresh SGD and
    returns its weights; the server averages them weighted by sample count (in
    float64, as ``weighted_average`` does).
    """
    global_model, worker = copy.deepcopy(initial), copy.deepcopy(initial)
    streams = [batches(d, batch_size, g) for d, g in zip(clients, generators, strict=True)]
    curve = [accuracy(global_model, test)]
    total = sum(len(d) for d in clients)
    for _ in range(rounds):
        start = {k: v.clone() for k, v in global_model.state_dict().items()}
        summed = {k: torch.zeros_like(v, dtype=torch.float64) for k, v in start.items()}
        for data, stream in zip(clients, streams, strict=True):
            worker.load_state_dict(start)
            worker.train()
            opt = torch.optim.SGD(
                worker.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay
            )
            steps = max(1, round(local_epochs * -(-len(data) // batch_size)))
            loss_sum = 0.0
            for _ in range(steps):
                x, y = next(stream)
                opt.zero_grad(set_to_none=True)
                loss = nn.functional.cross_entropy(worker(x), y)
                loss.backward()
                opt.step()
                loss_sum += loss.item()
            for key, value in worker.state_dict().items():
                summed[key] += value.to(torch.float64) * (len(data) / total)
        global_model.load_state_dict({k: v.to(start[k].dtype) for k, v in summed.items()})
        curve.append(accuracy(global_model, test))
    return global_model.state_dict(), curve


@contextmanager
def watching_global() -> Iterator[dict[str, Any]]:
    """What edgesim's FedAvg observed: its global weights when last forced, its accuracy curve."""
    seen: dict[str, Any] = {}
    observe = Runtime.observe

    def watch(self: Runtime, name: str, model: nn.Module, force: bool = False) -> None:
        observe(self, name, model, force)
        if name == "global":
            seen["curve"] = [accuracy for _, accuracy in self.recorder.curves[name]]
            if force:
                seen["weights"] = {k: v.detach().clone() for k, v in model.state_dict().items()}

    Runtime.observe = watch
    try:
        yield seen
    finally:
        Runtime.observe = observe


def run_edgesim(loaded: LoadedScenario) -> tuple[State, list[float], dict[str, Any]]:
    """edgesim's FedAvg: final global weights, accuracy after each round, the run's results."""
    flops.workload_of.cache_clear()  # a run counts its model's FLOPs: part of its cost
    with watching_global() as seen:
        results = run_scenario(loaded)
    return seen["weights"], seen["curve"], results["runs"][0]


def run_plain(loaded: LoadedScenario) -> tuple[State, list[float]]:
    """The plain loop on the same data split, initial weights and batch order."""
    scenario = loaded.scenario
    prepared = prepare(loaded)
    clients = [d.id for d in loaded.fleet.devices if d.id != loaded.fleet.server]
    fedavg, training = scenario.schemes[0], scenario.training
    return plain_fedavg(
        prepared.models["main"].initial,
        [prepared.holdings[c].train for c in clients],
        [batch_generator(scenario.seed, c) for c in clients],
        prepared.test,
        fedavg.rounds,
        fedavg.local_epochs,
        training.batch_size,
        training.lr,
        training.momentum,
        training.weight_decay,
    )


def timed(function: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    loaded = loaded_scenario(scenario(args.rounds))
    # Untimed: imports, torch's settings (edgesim's: deterministic, one thread), first optimizer.
    run_edgesim(loaded)
    run_plain(loaded)
    sim_walls, plain_walls = [], []
    for _ in range(args.repeats):
        wall, (sim_weights, sim_curve, run) = timed(run_edgesim, loaded)
        sim_walls.append(wall)
        wall, (plain_weights, plain_curve) = timed(run_plain, loaded)
        plain_walls.append(wall)
    same = sim_weights.keys() == plain_weights.keys() and all(
        torch.equal(sim_weights[k], plain_weights[k]) for k in sim_weights
    )
    sim, plain = statistics.median(sim_walls), statistics.median(plain_walls)
    print(f"fleet:               {len(loaded.fleet.devices) - 1} clients, {args.rounds} rounds")
    print(f"threads:             {torch.get_num_threads()}")
    print(f"same final weights:  {same} (bit for bit)")
    print(f"same accuracy curve: {sim_curve == plain_curve} (final {sim_curve[-1]:.4f})")
    sent = run["bytes"]["total"]
    print(f"edgesim also gives:  {run['sim_time_s']:.3f} simulated s, {sent:,} bytes, waiting")
    for name, walls, middle in (("edgesim", sim_walls, sim), ("plain torch", plain_walls, plain)):
        label = f"{name} wall:"
        print(f"{label:21}{middle:.2f} s (median of {len(walls)}; fastest {min(walls):.2f})")
    print(f"ratio:               {sim / plain:.3f}  (edgesim / plain torch, medians; goal ≤ 1.15)")
    print(f"ratio of fastest:    {min(sim_walls) / min(plain_walls):.3f}  (less of others' load)")


if __name__ == "__main__":
    main()
