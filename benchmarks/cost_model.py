"""How well do edgesim's step-time models predict this host? Fit some workloads, test others.

Calibrates this host (``edgesim.calibrate``) on one set of workloads and predicts a
held-out set — other models (cnn-large, ResNet-20), other input shapes, other batch
sizes — printing each held-out workload's measured and predicted step time and each
predictor's median and worst relative error. "calibrated" is what ``edgesim
calibrate`` writes into a profile, and so what the simulator charges. Anchors:
Paleo (an analytical FLOP model, Qi et al., ICLR 2017) and Habitat (≈12 % average
error predicting training iterations across GPUs, Yu et al., USENIX ATC 2021); the
goal here is a median error ≤ 10 % and a worst ≤ 25 % on the held-out set.

Both sets are timed together, interleaved in the same rounds, so a busy host
slows them alike. Run: ``python benchmarks/cost_model.py [--device cuda] [--rounds N]``
(about 2 minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import statistics

from edgesim.calibrate import (
    CIFAR,
    DIGITS,
    MNIST,
    SUITE,
    Case,
    Statistic,
    choose_cost_model,
    copy_bandwidth,
    probe,
    time_probes,
    wall_timer,
)
from edgesim.cluster.step_models import fit_all, relative_errors
from edgesim.runner import configure_torch

HELD_OUT: list[Case] = [
    Case("cnn-large", DIGITS, 16),
    Case("cnn-large", DIGITS, 64),
    Case("resnet20", MNIST, 8),
    Case("resnet20", DIGITS, 32),
    Case("resnet8", DIGITS, 64),
    Case("mobilenetv2-small", MNIST, 16),
    Case("lenet5", CIFAR, 32),
    Case("mlp", MNIST, 64),
    Case("mlp", MNIST, 512),
    Case("cnn-small", CIFAR, 16),
    Case("cnn-small", MNIST, 128, "eval"),
    Case("mlp", MNIST, 1024, "eval"),
    Case("resnet20", CIFAR, 128, "eval"),
    Case("mobilenetv2-small", CIFAR, 128, "eval"),
]
"""Held out: models the suite never times, and known models at new shapes and batch sizes."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    args = parser.parse_args()
    configure_torch(threads=1, device=args.device)
    stat = Statistic(rounds=args.rounds, repeats=5, block_s=0.05)
    cases = SUITE + HELD_OUT
    probes = [probe(c, args.device) for c in cases]
    samples = time_probes(probes, wall_timer(args.device), stat)
    bandwidth = copy_bandwidth(args.device, stat)
    fit, held = samples[: len(SUITE)], samples[len(SUITE) :]
    fits = fit_all(fit, bandwidth)
    fits["calibrated"] = choose_cost_model(fits, fit)  # what `edgesim calibrate` writes
    print(f"fitted on {len(fit)} workloads, predicting {len(held)} held out ({stat.describe()})")
    print(f"copy bandwidth {bandwidth / 1e9:.1f} GB/s\n")
    names = list(fits)
    print(f"{'held-out workload':40s} {'measured':>10s} " + " ".join(f"{n:>17s}" for n in names))
    for s in held:
        cells = []
        for n in names:
            predicted = fits[n].predict(s)
            cells.append(f"{predicted * 1e3:9.3f} ({(predicted / s.seconds - 1):+5.0%})")
        print(f"{s.label:40s} {s.seconds * 1e3:7.3f} ms " + " ".join(cells))
    header = ("fit median", "fit worst", "held median", "held worst")
    print(f"\n{'predictor':18s} " + " ".join(f"{h:>11s}" for h in header))
    for n in names:
        e_fit, e_held = relative_errors(fits[n], fit), relative_errors(fits[n], held)
        print(
            f"{n:18s} {statistics.median(e_fit):11.1%} {max(e_fit):11.1%} "
            f"{statistics.median(e_held):11.1%} {max(e_held):11.1%}"
        )
    for n in names:
        shown = ", ".join(f"{k}={v:.3g}" for k, v in fits[n].params.items())
        print(f"  {n}: {shown}")


if __name__ == "__main__":
    main()
