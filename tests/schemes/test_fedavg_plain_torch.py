"""edgesim's FedAvg ends with the weights a plain torch loop gives, bit for bit.

The loop is ``benchmarks/plain_torch.py``'s (issue 11's yardstick): the same
initial weights, batch order, SGD and averaging, no simulator. The simulator must
add simulated time and bytes without changing one bit of the learning.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

BENCHMARK = Path(__file__).parents[2] / "benchmarks" / "plain_torch.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("plain_torch", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fedavg_equals_a_plain_torch_loop_bit_for_bit():
    plain_torch = load_benchmark()
    loaded = plain_torch.loaded_scenario(plain_torch.scenario(rounds=2, local_epochs=1.0))
    sim_weights, sim_curve, run = plain_torch.run_edgesim(loaded)
    plain_weights, plain_curve = plain_torch.run_plain(loaded)
    assert sim_weights.keys() == plain_weights.keys()
    assert all(torch.equal(sim_weights[k], plain_weights[k]) for k in sim_weights)
    assert sim_curve == plain_curve and len(sim_curve) == 3
    assert run["sim_time_s"] > 0 and run["bytes"]["total"] > 0
