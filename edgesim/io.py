"""Files edgesim reads and writes: user files read within bounds, outputs written atomically.

A crash or Ctrl-C never leaves a half-written result behind.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from edgesim.errors import EdgesimError


def read_text(path: Path, what: str, kind: str, limit: int) -> str:
    """The UTF-8 text of a user's regular file of at most ``limit`` bytes.

    A path a user wrote may name a folder, ``/dev/zero`` (read for ever), a
    pipe (blocks on open) or a binary file: the type is checked before the
    file is opened, at most ``limit + 1`` bytes are read, and every refusal is
    an :class:`EdgesimError` naming the file. ``what`` and ``kind`` name it in
    errors ("a YAML file", "a CSV failure trace").
    """
    if "\x00" in str(path):
        raise EdgesimError(f"{what} path holds a NUL character: {str(path)!r:.80}")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise EdgesimError(f"{what} not found: {path}") from None
    except OSError as exc:
        raise EdgesimError(f"cannot read {path}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise EdgesimError(f"{path}: is a directory, expected a {kind} {what}")
    if not stat.S_ISREG(info.st_mode):
        raise EdgesimError(f"{path}: not a regular file (a device or a pipe); expected a {what}")
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise EdgesimError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise EdgesimError(
            f"{path}: larger than {limit // (1024 * 1024)} MiB; a {what} is expected to be small"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise EdgesimError(f"{path}: UTF-16 text; save it as UTF-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EdgesimError(
            f"{path}: not UTF-8 text (byte {exc.start} is {data[exc.start]:#04x}); save it as UTF-8"
        ) from None


def write_text_atomic(path: Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: Path, data: Any) -> Path:
    return write_text_atomic(path, json.dumps(data, indent=1, sort_keys=False) + "\n")


_OWN_MARKS = (b'<meta name="generator" content="edgesim">', b'{\n "schema_version":')
"""How edgesim knows its own files: the generator tag of its pages, the start of its JSON."""


def written_by_edgesim(path: Path) -> bool:
    """A results, sweep or report file that edgesim wrote (so it may be replaced)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return any(mark in head for mark in _OWN_MARKS)


def claim_outputs(outputs: list[Path], inputs: tuple[Path, ...] = (), force: bool = False) -> None:
    """Before any work: refuse outputs that would replace an input or a file edgesim did not write.

    Raises :class:`EdgesimError` naming the file; ``force`` allows replacing a
    regular file edgesim did not write (never an input, never a folder).
    """
    sources = {Path(p).resolve() for p in inputs}
    for output in outputs:
        output = Path(output)
        for parent in output.parents:
            if parent.exists() and not parent.is_dir():
                raise EdgesimError(f"--out: {parent} is a file, not a folder")
        if output.resolve() in sources:
            raise EdgesimError(f"--out: {output} is one of the inputs; choose another file")
        if not output.exists() and not output.is_symlink():
            continue
        if output.is_symlink() or not output.is_file():
            raise EdgesimError(f"--out: {output} exists and is not a regular file")
        if not force and not written_by_edgesim(output):
            raise EdgesimError(
                f"--out: {output} exists and was not written by edgesim; "
                "move it away, choose another --out, or pass --force"
            )
