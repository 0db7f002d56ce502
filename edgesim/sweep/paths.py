"""Dotted paths into a scenario: ``failures.random.mtbf_s``, ``schemes[fedavg].rounds``.

A path is keys joined by dots; a key may be followed by list selectors in
brackets: ``[2]`` (the third item) or ``[name]`` (the one item whose ``id``,
``name``, ``label`` or ``scheme`` is ``name``: a device group, a link, a
scheme). Paths are checked against the scenario schema as they are walked, so
a typo is reported at the segment where it goes wrong, with the nearest valid
path.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from edgesim.errors import EdgesimError

SELECTOR_KEYS = ("id", "name", "label", "scheme")
"""Fields a ``[name]`` selector matches, in this order of preference."""

_SEGMENT = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)(?P<selectors>(\[[^\[\]]+\])*)$")


@dataclass(frozen=True)
class Step:
    """One move into the data: a mapping key (``str``) or a list selector."""

    key: str | None = None
    index: int | None = None
    name: str | None = None

    def __str__(self) -> str:
        if self.key is not None:
            return self.key
        return f"[{self.index if self.index is not None else self.name}]"


def parse(path: str) -> list[Step]:
    """``schemes[gear].switch.round`` → key, selector, key, key; EdgesimError if malformed."""
    steps: list[Step] = []
    for segment in path.split("."):
        match = _SEGMENT.match(segment)
        if match is None:
            raise EdgesimError(
                f"'{path}': malformed segment '{segment}' (expected key, key[index] or key[name])"
            )
        steps.append(Step(key=match["key"]))
        for selector in re.findall(r"\[([^\[\]]+)\]", match["selectors"]):
            selector = selector.strip()
            if re.fullmatch(r"-?\d+", selector):
                steps.append(Step(index=int(selector)))
            else:
                steps.append(Step(name=selector))
    return steps


def _render(steps: list[Step]) -> str:
    out = ""
    for step in steps:
        out += f".{step}" if step.key is not None and out else str(step)
    return out


def set_path(data: dict[str, Any], path: str, value: Any, schema: type[BaseModel]) -> None:
    """Set ``path`` in ``data`` (a scenario as plain data) to ``value``, in place.

    Keys that the schema allows but ``data`` lacks are created (a mapping for an
    inner key). Raises EdgesimError naming the path, where it went wrong and the
    nearest valid path.
    """
    steps = parse(path)
    node: Any = data
    annotation: Any = schema
    for i, step in enumerate(steps):
        done, last = steps[:i], i == len(steps) - 1
        where = _render(done) or "the top level"
        if step.key is not None:
            if not isinstance(node, dict):
                raise EdgesimError(f"'{path}': {where} is not a mapping, cannot take key '{step}'")
            model = _model_of(annotation, node)
            if model is not None and step.key not in model.model_fields:
                raise EdgesimError(
                    f"'{path}': unknown key '{step.key}' at {where}"
                    + _nearest(step.key, list(model.model_fields), done)
                )
            annotation = model.model_fields[step.key].annotation if model else None
            if last:
                node[step.key] = value
            else:
                if node.get(step.key) is None:
                    node[step.key] = [] if _is_list(annotation) else {}
                node = node[step.key]
            continue
        if not isinstance(node, list):
            raise EdgesimError(f"'{path}': {where} is not a list, cannot select {step}")
        position = _select(node, step, path, where)
        annotation = _item_annotation(annotation)
        if last:
            node[position] = value
        else:
            node = node[position]


def _select(items: list[Any], step: Step, path: str, where: str) -> int:
    if step.index is not None:
        if not -len(items) <= step.index < len(items):
            raise EdgesimError(f"'{path}': {where} has {len(items)} items, no index {step.index}")
        return step.index % len(items)
    names = [_names(item) for item in items]
    hits = [i for i, found in enumerate(names) if step.name in found]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise EdgesimError(
            f"'{path}': '{step.name}' matches {where} items {hits}; give them distinct "
            "labels or names, or select by index"
        )
    known = sorted({n for found in names for n in found})
    close = difflib.get_close_matches(str(step.name), known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise EdgesimError(
        f"'{path}': no item of {where} has id, name, label or scheme '{step.name}'{hint}; "
        f"valid: {', '.join(known) or '(none)'}"
    )


def _names(item: Any) -> set[str]:
    if not isinstance(item, dict):
        return set()
    return {str(item[k]) for k in SELECTOR_KEYS if item.get(k) is not None}


def _nearest(key: str, allowed: list[str], done: list[Step]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
    if close:
        return f" (nearest valid path: '{_render([*done, Step(key=close[0])])}')"
    return f"; valid keys there: {', '.join(allowed)}"


# ------------------------------------------------------------------ schema walking


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _members(annotation: Any) -> list[Any]:
    annotation = _unwrap(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [annotation]


def _is_list(annotation: Any) -> bool:
    return any(get_origin(m) in (list, tuple) for m in _members(annotation))


def _item_annotation(annotation: Any) -> Any:
    for member in _members(annotation):
        if get_origin(member) in (list, tuple):
            args = [a for a in get_args(member) if a is not Ellipsis]
            return args[0] if len(args) == 1 else None
    return None


def _model_of(annotation: Any, node: dict[str, Any]) -> type[BaseModel] | None:
    """The schema model for a mapping found at ``annotation``; None when it cannot tell.

    A union of models (the scheme settings) is decided by the item's ``scheme``.
    """
    models = [m for m in _members(annotation) if isinstance(m, type) and issubclass(m, BaseModel)]
    if len(models) == 1:
        return models[0]
    for model in models:
        field = model.model_fields.get("scheme")
        if field is not None and node.get("scheme") in typing.get_args(field.annotation):
            return model
    return None
