"""edgesim: a discrete-event simulator of heterogeneous edge clusters running real training.

From Python (docs/python-api.md): ``edgesim.run(scenario, ...)`` and ``edgesim.sweep(path, ...)``.
"""

import sys

__version__ = "0.1.0"

from edgesim.api import Package, Results, Run, SweepResults, run  # noqa: E402
from edgesim.errors import EdgesimError  # noqa: E402

sys.modules[__name__].__class__ = Package  # ``edgesim.sweep``: the subpackage, callable

__all__ = ["EdgesimError", "Results", "Run", "SweepResults", "__version__", "run", "sweep"]
