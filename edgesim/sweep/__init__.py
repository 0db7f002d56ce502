"""What-if sweeps: a grid over scenario fields × seeds, run in processes or on Ray, resumable.

``spec`` reads and expands the sweep file, ``paths`` walks dotted paths into
a scenario, ``worker`` runs one grid point with one seed, ``backends`` runs
many, ``store`` keeps finished runs on disk, ``aggregate`` turns them into
means with 95 % intervals, ``driver`` ties these together. See docs/sweeps.md.
"""

from edgesim.sweep.driver import SweepProgress, default_jobs, run_sweep, summarize
from edgesim.sweep.spec import Point, RunTask, Sweep, load_sweep

__all__ = [
    "Point",
    "RunTask",
    "Sweep",
    "SweepProgress",
    "default_jobs",
    "load_sweep",
    "run_sweep",
    "summarize",
]
