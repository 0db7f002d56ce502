"""Names a user gives (scenario, sweep, device group, subset) that may become file names.

A scenario's name is the default output folder (``reports/<name>``), a device
id appears in run files: none may climb out of a folder (``..``), hide a file
(``.x``) or carry a path separator, so they are checked here once, and the
error says the rule in words rather than as a regular expression.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

_SAFE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}")
RULE = "1 to 64 letters, digits, '_', '-' or '.', not starting with '.'"


def _safe(value: str) -> str:
    if not _SAFE.fullmatch(value):
        raise ValueError(f"use {RULE}")
    return value


Name = Annotated[str, AfterValidator(_safe), Field(description=f"a name: {RULE}")]


Reference = Annotated[str, Field(max_length=200)]
"""A name that points at a device, group, node or link; long enough for ``<a>--<b>`` link names.

Names that refer to others are not checked against :data:`RULE` (they are
looked up, never used as paths), only bounded, so a message quoting one fits a line.
"""

Label = Annotated[str, Field(max_length=100)]
"""A scheme's label: a column header and a progress-bar title."""
