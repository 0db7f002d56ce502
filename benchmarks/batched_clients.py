"""Clients per second: sequential local training against batched (torch.func over stacked weights).

Each of ``--clients`` clients trains a copy of one model for ``--steps`` SGD steps
on its own shard of digits (unequal shards, so epochs end on short batches),
once one after another with ``train_steps`` — what a run does by default — and
once all together with ``train_batched`` (``edgesim run --batch-clients``), in
this one process, so the ratio holds on a shared, noisy machine. It also prints
the largest weight difference between the two, which should be float rounding.

    python benchmarks/batched_clients.py [--device cuda] [--clients 64] [--model cnn-small]

With ``--scenario FILE [--scheme NAME]`` it times a whole ``edgesim run`` of that
scenario instead, with and without ``--batch-clients``, and checks that the
timelines are identical.
"""

from __future__ import annotations

import argparse
import copy
import time

import torch

from edgesim.config import load_scenario
from edgesim.learning.batched import train_batched
from edgesim.learning.datasets import load_dataset
from edgesim.learning.models import MODELS, build_model
from edgesim.learning.training import BatchStream, Optimizer, train_steps
from edgesim.runner import configure_torch, run_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--model", choices=sorted(MODELS), default="mlp")
    parser.add_argument("--image-size", type=int, default=8, help="digits resized to this side")
    parser.add_argument("--scenario", help="time whole runs of this scenario instead")
    parser.add_argument("--scheme", action="append", help="with --scenario: only this scheme")
    args = parser.parse_args()
    if args.scenario:
        return whole_runs(args.scenario, args.scheme, args.device)
    configure_torch(device=args.device)
    data = load_dataset("digits", seed=0, image_size=args.image_size).train
    initial = build_model(args.model, data.input_shape, data.num_classes, seed=0)
    share = len(data) // args.clients
    shards = [data.subset(range(k * share, k * share + share - k % 5)) for k in range(args.clients)]
    optimizer = Optimizer(0.05, momentum=0.9)

    def fleet(count: int) -> tuple[list[torch.nn.Module], list[BatchStream]]:
        models = [copy.deepcopy(initial).to(args.device) for _ in range(count)]
        streams = [
            BatchStream(shards[k], args.batch_size, torch.Generator().manual_seed(k))
            for k in range(count)
        ]
        return models, streams

    def sequential(models, streams) -> None:
        for model, stream in zip(models, streams, strict=True):
            train_steps(model, stream, args.steps, optimizer, args.device)

    def batched(models, streams) -> None:
        train_batched(models, streams, [args.steps] * len(models), optimizer, args.device)

    warm = time.perf_counter()
    for train in (sequential, batched):  # first calls: vmap's and CUDA's one-time set-up
        train(*fleet(2))
    warm = time.perf_counter() - warm
    seconds, trained = {}, {}
    for train in (sequential, batched):
        models, streams = fleet(args.clients)
        start = time.perf_counter()
        train(models, streams)
        if args.device == "cuda":
            torch.cuda.synchronize()
        seconds[train.__name__] = time.perf_counter() - start
        trained[train.__name__] = models
    difference = max(
        (p - q).abs().max().item()
        for a, b in zip(trained["sequential"], trained["batched"], strict=True)
        for p, q in zip(a.parameters(), b.parameters(), strict=True)
    )
    name = torch.cuda.get_device_name() if args.device == "cuda" else "cpu, 1 thread"
    print(f"device:             {args.device} ({name})")
    print(f"model:              {args.model} on {data.input_shape}, batch {args.batch_size}")
    print(f"clients × steps:    {args.clients} × {args.steps}")
    print(f"one-time warm-up:   {warm:.2f} s (not counted)")
    for how, value in seconds.items():
        print(f"{how + ':':<20}{args.clients / value:,.1f} clients/s ({value:.3f} s)")
    print(f"batched / seq:      {seconds['sequential'] / seconds['batched']:.2f}× the clients/s")
    print(f"max |Δweight|:      {difference:.2e}")


def whole_runs(scenario: str, schemes: list[str] | None, device: str) -> None:
    """Wall time of the scenario's runs, sequential then batched, in this one process."""
    loaded = load_scenario(scenario)
    seconds, results = {}, {}
    for batch in (False, True):
        start = time.perf_counter()
        results[batch] = run_scenario(loaded, schemes, device, batch_clients=batch)
        seconds[batch] = time.perf_counter() - start
    for plain, batched in zip(results[False]["runs"], results[True]["runs"], strict=True):
        same = all(plain[k] == batched[k] for k in ("timeline", "bytes", "devices", "counters"))
        accuracy = f"{plain['final_accuracy']} vs {batched['final_accuracy']}"
        print(f"{plain['label']:<20} timeline identical: {same}; final accuracy {accuracy}")
    print(f"sequential run:     {seconds[False]:.2f} s (each run loads its data)")
    print(f"batched run:        {seconds[True]:.2f} s")
    print(f"batched / seq:      {seconds[False] / seconds[True]:.2f}× the speed")


if __name__ == "__main__":
    main()
