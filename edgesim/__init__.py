"""edgesim: a discrete-event simulator of heterogeneous edge clusters running real training."""

__version__ = "0.1.0"
