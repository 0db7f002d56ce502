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


MAX_PATH = 4096
MAX_PATH_PART = 255
"""Longest path, and longest part between separators, in bytes (Linux's PATH_MAX and NAME_MAX)."""


def _path(value: str) -> str:
    if "\x00" in value:
        raise ValueError("a path cannot hold a NUL character")
    if len(value.encode()) > MAX_PATH:
        raise ValueError(f"a path is at most {MAX_PATH} bytes")
    if any(len(part.encode()) > MAX_PATH_PART for part in value.replace("\\", "/").split("/")):
        raise ValueError(f"each part of a path is at most {MAX_PATH_PART} bytes")
    return value


PathText = Annotated[str, Field(max_length=MAX_PATH), AfterValidator(_path)]
"""A file or folder a user names (data, trace, profile, base): one the operating system can open.

A NUL byte or an over-long part would make the system call itself fail with
an error no check expects; refused here, they are a message naming the field.
"""
