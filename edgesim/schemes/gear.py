"""Staged model size, "gear" FL (seed 004; Miyoshi, Yajima, Yamazaki, JP application 2024-010135).

1. Start with small-model FL with distillation — seed 003's conventional
   scheme, "12-6" (:func:`distill_fl.small_model_round`): fast rounds, little
   traffic, but a lower plateau.
2. At the switch point change gear to ordinary FedAvg of the LARGE model
   ("12-12", :func:`fedavg.fl_round`), starting from the current global large
   model (which reverse distillation has been training).

``rounds`` counts both phases. ``switch: {round: N}`` makes rounds 1…N small
and N+1… large ("Gear 20" of 200 rounds is ``round: 20``). The paper names
choosing the switch automatically as its open problem; ``switch: auto`` is
edgesim's answer: after every small round the server measures the small
model's accuracy on its own held-out validation data (part of the protocol,
so charged to the server; never the test set) and switches when the small
model has stopped improving — when the best accuracy of the last
``auto_window`` rounds beats the best before them by less than
``auto_min_gain``. That is patience-based early stopping (Prechelt, "Early
Stopping — But When?", 1998) used as a gear change: once the small model
plateaus, small-model FL has stopped paying off (seed 004: 12-6 plateaus at
72.1 % where 12-12 reaches 76.3 %). The window and gain are the rule's
parameters, not fitted to any result.

Recorded: counter ``switch_round`` (the last small round) and
``switch_time_s``; counters ``small_round_bytes``/``small_rounds`` and
``large_round_bytes``/``large_rounds`` (bytes per round in each gear, the
paper's 3.03 → 28.63 MB); in the timeline the transfers are named
"round N small model" before the switch and "round N model" after, and the
auto rule's validations "validate the small model (switch signal)".
Curves: ``global`` (the large model, primary) and ``small``.
"""

from __future__ import annotations

import numpy as np

from edgesim.config.scheme_settings import GearScheme, SwitchAt
from edgesim.learning.plateau import plateaued
from edgesim.schemes.distill_fl import clients_waited, require_server_data, small_model_round
from edgesim.schemes.fedavg import fl_round
from edgesim.schemes.runtime import Process, Runtime


def run(rt: Runtime, spec: GearScheme) -> Process:
    require_server_data(rt, spec.scheme)
    large, small = rt.new_model("main"), rt.new_model("small")
    rng = np.random.default_rng([rt.seed, 0x6EA4])
    rt.observe("global", large, force=True)
    rt.observe("small", small, force=True)
    clients_idle_since = 0.0
    signal: list[float] = []
    small_gear = True
    switched_after = 0
    for round_number in range(1, spec.rounds + 1):
        last = round_number == spec.rounds
        sent_before = rt.recorder.bytes_up + rt.recorder.bytes_down
        if small_gear:
            clients_idle_since = yield from small_model_round(
                rt, large, small, spec, rng, round_number, clients_idle_since
            )
            count_round_bytes(rt, "small", sent_before)
            rt.observe("small", small, force=last)
            rt.observe("global", large, force=last)
            if isinstance(spec.switch, SwitchAt):
                small_gear = round_number < spec.switch.round
            else:
                accuracy = yield from rt.persist(
                    [rt.server],
                    rt.validate,
                    rt.server,
                    small,
                    f"round {round_number}: validate the small model (switch signal)",
                )
                signal.append(accuracy)
                small_gear = not plateaued(signal, spec.auto_window, spec.auto_min_gain)
            if not small_gear and not last:
                switched_after = round_number
                rt.recorder.count("switch_round", round_number)
                rt.recorder.count("switch_time_s", rt.now)
            continue
        if round_number == switched_after + 1:
            clients_waited(rt, clients_idle_since, round_number)
        averaged = yield from fl_round(rt, large.state_dict(), spec, rng, round_number)
        if averaged is not None:
            large.load_state_dict(averaged)
        count_round_bytes(rt, "large", sent_before)
        rt.observe("global", large, force=last)


def count_round_bytes(rt: Runtime, gear: str, sent_before: int) -> None:
    rt.recorder.count(
        f"{gear}_round_bytes", rt.recorder.bytes_up + rt.recorder.bytes_down - sent_before
    )
    rt.recorder.count(f"{gear}_rounds")
