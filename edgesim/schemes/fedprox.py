"""FedProx (Li et al., "Federated Optimization in Heterogeneous Networks", MLSys 2020):
FedAvg with a proximal term, and stragglers' partial work kept, not dropped.

Algorithm 2 of the paper, round t:

1. The server samples ``client_fraction`` of the clients that are up and sends them w_t.
2. Client k finds a γ-inexact minimiser of ``F_k(w) + mu/2 ||w − w_t||²`` (§3, eq. 2,
   :class:`~edgesim.learning.training.Proximal` anchored at w_t): ``local_epochs`` (E)
   of SGD, or — systems heterogeneity, §3 and §5.2 — as many steps as fit before the
   round deadline by its nominal speed, at least one (the plan of
   :mod:`edgesim.schemes.partial`), and sends what it has.
3. The server averages the updates by sample count, as FedAvg does.

Where it departs from the paper: the paper draws each straggler's amount of work at
random (x% of devices do fewer than E epochs); here it follows from the round deadline
and each device's profile, which is what the paper's variable work stands for. Clients
are sampled uniformly (the paper samples by data share p_k and averages simply; FedAvg's
uniform sampling and sample-weighted average is the same in expectation). ``mu: 0``
with a deadline is FedAvg with partial work weighted by samples alone. The proximal
term's arithmetic is not charged (:meth:`Runtime.train`).

The example plugin ``examples/fedprox/`` is this protocol written as a user would,
under the name ``fedprox-example``.
"""

from __future__ import annotations

from edgesim.config.scheme_settings import FedProxScheme
from edgesim.learning.training import Proximal
from edgesim.schemes.partial import Partial, partial_rounds
from edgesim.schemes.runtime import Process, Runtime


def run(rt: Runtime, spec: FedProxScheme) -> Process:
    def by_samples(update: Partial) -> float:
        return update.samples

    yield from partial_rounds(rt, spec, lambda model: Proximal(model, spec.mu), by_samples, 0xF9A0)
