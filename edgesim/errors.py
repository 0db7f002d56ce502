"""The one exception base for mistakes a user can fix.

The CLI prints an :class:`EdgesimError` without a traceback and exits 2;
anything else escaping is a bug in edgesim and exits 1.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class EdgesimError(Exception):
    """A user-facing error: bad scenario, unknown name, unreadable data file."""


SHOWN_PROBLEMS = 20
"""Problems printed of one file (all are kept in ``problems``): the message fits a screen."""

PROBLEM_CHARS = 400
"""Longest problem line printed: a message quoting a 10 000-character name still fits a screen."""

SHOWN_CHOICES = 20
"""Valid names listed after an unknown one; a 20 000-device fleet is not listed."""


class ConfigError(EdgesimError):
    """A scenario or profile file failed validation; ``problems`` lists every issue found."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        lines = [f"  - {_cut(p)}" for p in problems[:SHOWN_PROBLEMS]]
        if len(problems) > SHOWN_PROBLEMS:
            lines.append(f"  … and {len(problems) - SHOWN_PROBLEMS} more problems")
        super().__init__(f"invalid configuration in {source}:\n" + "\n".join(lines))


def _cut(problem: str) -> str:
    """A problem as printed: at most :data:`PROBLEM_CHARS` characters, whatever name it quotes."""
    return problem if len(problem) <= PROBLEM_CHARS else problem[: PROBLEM_CHARS - 1] + "…"


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A suffix naming the closest valid choice and the first few valid ones."""
    options = sorted(choices)
    close = difflib.get_close_matches(name, options, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    shown = ", ".join(options[:SHOWN_CHOICES])
    more = f" … ({len(options):,} in all)" if len(options) > SHOWN_CHOICES else ""
    return f"{hint}; valid: {shown}{more}"
