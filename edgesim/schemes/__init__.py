"""The training schemes: one protocol module each, written against :mod:`.runtime`.

Their registry (name, settings, protocol, capability flags) is
:mod:`edgesim.config.schemes`, below this package so that a scenario is
validated without importing torch; it is re-exported here for whoever writes
or runs a scheme: ``from edgesim.schemes import SchemeInfo, register_scheme``.
"""

from __future__ import annotations

from edgesim.config.schemes import SCHEMES, SchemeBase, SchemeInfo, register_scheme, scheme_info

__all__ = ["SCHEMES", "SchemeBase", "SchemeInfo", "register_scheme", "scheme_info"]
