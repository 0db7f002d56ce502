"""The one exception base for mistakes a user can fix.

The CLI prints an :class:`EdgesimError` without a traceback and exits 2;
anything else escaping is a bug in edgesim and exits 1.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class EdgesimError(Exception):
    """A user-facing error: bad scenario, unknown name, unreadable data file."""


class ConfigError(EdgesimError):
    """A scenario or profile file failed validation; ``problems`` lists every issue found."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid configuration in {source}:\n{lines}")


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A suffix naming the valid choices and the closest one, for unknown-name errors."""
    options = sorted(choices)
    close = difflib.get_close_matches(name, options, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"{hint}; valid: {', '.join(options)}"
