"""Reading a user's YAML file with bounds: size, encoding, nesting, alias expansion, duplicate keys.

A scenario file is small; anything else is a mistake or an attack, and must
end in a clear error naming the file, never in a hang, a memory blow-up or a
traceback:

* only a regular file is read (not a directory, ``/dev/zero`` or a pipe), and
  at most :data:`MAX_FILE_BYTES` of it;
* it must be UTF-8 text (a UTF-16 file or binary bytes are named as such);
* it is parsed by libyaml's C parser where PyYAML has it (the pure-Python
  parser takes a minute on a 4 MB list);
* the tree is measured before it is built: nesting deeper than
  :data:`MAX_DEPTH`, or more than :data:`MAX_NODES` values once every alias is
  expanded (a "billion laughs" alias bomb is cheap to parse and enormous to
  walk), is refused;
* a key repeated in one mapping is an error naming both lines (YAML says
  keys are unique; PyYAML silently keeps the last).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from edgesim.errors import EdgesimError
from edgesim.io import read_text

MAX_FILE_BYTES = 8 * 1024 * 1024
"""Largest YAML file read (8 MiB): far beyond a 20 000-device scenario written out by hand."""

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists accepted."""

MAX_NODES = 1_000_000
"""Most values in the document with every alias expanded."""

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _BoundedLoader(_Base):  # type: ignore[misc, valid-type]
    """libyaml's safe loader that refuses repeated keys in a mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
                seen.setdefault(key, line)
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {_short(key)} (first at line {first}, again at line {line})",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load_yaml(path: Path) -> Any:
    """Parse a YAML file within the module's bounds; :class:`EdgesimError` naming the file."""
    text = read_text(Path(path), "file", "YAML", MAX_FILE_BYTES)
    loader = _BoundedLoader(text)
    try:
        _check_nesting(text, path)
        node = loader.get_single_node()
        if node is None:
            return None
        _check_size(node, path)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise EdgesimError(f"{path}: not valid YAML{where}: {problem}") from None
    finally:
        loader.dispose()


def _check_nesting(text: str, path: Path) -> None:
    """Refuse nesting beyond :data:`MAX_DEPTH` from the flat event stream, before composing.

    Composing a document into nodes recurses once per level (in C with
    libyaml: a 100 000-deep list overflows the stack), so depth is read first
    from the parser's events, which keep no stack of their own.
    """
    parser = _Base(text)
    try:
        depth = 0
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1
                    raise EdgesimError(
                        f"{path}: line {line}: nested deeper than {MAX_DEPTH} levels"
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        parser.dispose()


def _check_size(root: yaml.Node, path: Path) -> None:
    """Refuse nesting beyond :data:`MAX_DEPTH` or an expansion beyond :data:`MAX_NODES`.

    Iterative (a deeply nested file must not exhaust Python's stack) and
    linear in the distinct nodes: an alias is a shared node, whose expanded
    size is computed once.
    """
    sizes: dict[int, tuple[int, int]] = {}  # node → (values expanded, nesting height)
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if depth > MAX_DEPTH:  # also ends a recursive alias (a node inside itself)
            raise _too_deep(path, node)
        children = _children(node)
        if children_done or not children:
            below = [sizes[id(child)] for child in children]
            size = 1 + sum(n for n, _ in below)
            height = 1 + max((h for _, h in below), default=0)
            if size > MAX_NODES:
                raise EdgesimError(
                    f"{path}: more than {MAX_NODES:,} values once its aliases are expanded "
                    "(an alias bomb?)"
                )
            if height > MAX_DEPTH:  # an alias defined shallow and used deep
                raise _too_deep(path, node)
            sizes[id(node)] = (size, height)
            continue
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in children if id(child) not in sizes)


def _too_deep(path: Path, node: yaml.Node) -> EdgesimError:
    line = node.start_mark.line + 1
    return EdgesimError(f"{path}: line {line}: nested deeper than {MAX_DEPTH} levels")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
