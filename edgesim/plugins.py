"""What a user brings without forking edgesim: a model, dataset or scheme named by reference.

Wherever a scenario names a model, a dataset or a scheme it may write, besides
a built-in name:

* a name an installed package registers under the entry-point group
  ``edgesim.models``, ``edgesim.datasets`` or ``edgesim.schemes``;
* ``package.module:attr``, an attribute of an importable module;
* ``path/to/file.py:attr``, an attribute of a Python file, relative to the
  scenario file.

A reference is resolved by its text in every process that needs it (spawned
sweep workers and Ray workers import it again), so nothing of the user's is
pickled; file references are made absolute first (:func:`absolute`), so a
worker whose working folder differs finds the same file. A mistake in user
code is the user's: :class:`PluginError` names the reference, the file and
the line, and :func:`blame` finds the user's frame in an error raised later,
while the code runs.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import traceback
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from edgesim.errors import EdgesimError

Kind = Literal["model", "dataset", "scheme"]

ENTRY_POINT_GROUPS: dict[str, str] = {
    "model": "edgesim.models",
    "dataset": "edgesim.datasets",
    "scheme": "edgesim.schemes",
}

_user_code: dict[str, str] = {}
"""Where user code lives (a file, or a package's folder) → the reference that brought it."""


class PluginError(EdgesimError):
    """A reference that cannot be resolved, or user code that failed: the user's to fix."""


def is_reference(name: str) -> bool:
    """``module:attr`` or ``file.py:attr`` (a built-in or entry-point name has no colon)."""
    module, sep, attr = name.rpartition(":")
    return bool(sep and module and attr)


def absolute(name: str, base_dir: Path) -> str:
    """A file reference with its file made absolute (relative to ``base_dir``); others as given."""
    module, _, attr = name.rpartition(":")
    if is_reference(name) and module.endswith(".py") and not Path(module).is_absolute():
        return f"{(base_dir / module).resolve()}:{attr}"
    return name


def registered(kind: Kind) -> dict[str, EntryPoint]:
    """Names installed packages register for ``kind`` (entry-point group), by name."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUPS[kind])}


def find(name: str, kind: Kind) -> Any | None:
    """The object ``name`` stands for as a reference or entry point; None if it is neither.

    Raises :class:`PluginError` when it is one but cannot be loaded.
    """
    if is_reference(name):
        module_name, _, attr = name.rpartition(":")
        module = _import_file(name, Path(module_name)) if module_name.endswith(".py") else None
        return _attribute(name, module or _import_module(name, module_name), attr)
    entry = registered(kind).get(name)
    if entry is None:
        return None
    try:
        loaded = entry.load()
    except Exception as exc:  # the package's code, not edgesim's
        raise PluginError(f"{kind} '{name}' (entry point {entry.value}): {_where(exc)}") from None
    _remember(sys.modules.get(entry.module), name)
    return loaded


def _import_file(reference: str, path: Path) -> ModuleType:
    """Import a Python file once per process, as a module named after its absolute path."""
    if not path.is_file():
        raise PluginError(f"{reference}: no such Python file: {path}")
    path = path.resolve()
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    name = f"edgesim_user_{digest}_{path.stem.replace('-', '_')}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"{reference}: cannot import {path} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look a class's module up here
    _user_code[str(path)] = reference
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise PluginError(f"{reference}: {_where(exc)}") from None
    return module


def _import_module(reference: str, module_name: str) -> ModuleType:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):  # the module itself, not an import in it
            raise PluginError(f"{reference}: no module named '{module_name}'") from None
        raise PluginError(f"{reference}: {_where(exc)}") from None
    except Exception as exc:
        raise PluginError(f"{reference}: {_where(exc)}") from None
    _remember(module, reference)
    return module


def _attribute(reference: str, module: ModuleType, attr: str) -> Any:
    found: Any = module
    for part in attr.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise PluginError(f"{reference}: {module.__name__} has no attribute '{attr}'") from None
    return found


def _remember(module: ModuleType | None, reference: str) -> None:
    """Record where a module's code lives (a package: its folder) to blame later errors on it."""
    file = getattr(module, "__file__", None)
    if file is None:
        return
    path = Path(file).resolve()
    _user_code[str(path.parent if path.name == "__init__.py" else path)] = reference


def blame(exc: BaseException) -> str | None:
    """``reference: file:line: Error: message`` if the innermost frame of a user's code raised it.

    An exception escaping a user's model, dataset or scheme while it runs is
    the user's to fix (exit 2), not a bug in edgesim (exit 1).
    """
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        for where, reference in _user_code.items():
            if frame.filename == where or frame.filename.startswith(where + "/"):
                return f"{reference}: {frame.filename}:{frame.lineno}: {_error(exc)}"
    return None


def _where(exc: BaseException) -> str:
    """An error in user code as ``file:line: Error: message``, at the user's innermost frame."""
    if isinstance(exc, SyntaxError):
        return f"{exc.filename}:{exc.lineno}: SyntaxError: {exc.msg}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not _internal(f.filename)]
    if not frames:
        return _error(exc)
    return f"{frames[-1].filename}:{frames[-1].lineno}: {_error(exc)}"


def _internal(filename: str) -> bool:
    return filename.startswith("<frozen") or f"{Path(__file__).parent}/" in filename


def _error(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
