"""YAML loading and pydantic validation that speak in file names and YAML paths.

A user sees ``scenarios/x.yaml: devices[3].profile: ...`` rather than a
pydantic dump, and sees every problem at once, as Flower's config errors do.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, Tag, TypeAdapter, ValidationError

from edgesim.errors import ConfigError, EdgesimError, did_you_mean

M = TypeVar("M", bound=BaseModel)

MAX_QUOTED = 60
"""Most characters of a user's value quoted in a message."""


def yaml_path(loc: tuple[int | str, ...]) -> str:
    """``('devices', 3, 'profile')`` → ``devices[3].profile``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _walk(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[list[int | str], Any]:
    """Follow a pydantic error location through the schema.

    Returns the location as a YAML path (without the tags pydantic inserts for
    discriminated unions, e.g. ``schemes[2].fedavg.rounds``) and the annotation
    found there (``None`` once the schema has no more to say).
    """
    path: list[int | str] = []
    annotation: Any = model
    for part in loc:
        if isinstance(part, int):
            path.append(part)
            items = [a for a in get_args(_unwrap(annotation)) if a is not type(None)]
            annotation = items[0] if get_origin(_unwrap(annotation)) in (list, tuple) else None
            continue
        member = _tagged_member(annotation, part)
        if member is not None:
            annotation = member
            continue
        path.append(part)
        owner = _model_in(annotation)
        field = owner.model_fields.get(part) if owner else None
        annotation = field.annotation if field else None
    return path, annotation


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The one BaseModel an annotation holds (directly or as ``X | None``), else None."""
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (list, tuple, dict):
        return None
    members = {m for a in get_args(annotation) if (m := _model_in(a)) is not None}
    return members.pop() if len(members) == 1 else None


def _tagged_member(annotation: Any, tag: str) -> Any:
    """The member of a discriminated union whose tag is ``tag``, else None.

    Tags come from a ``scheme`` field (``schemes[i]``) or from a ``Tag`` on
    the member (a device profile given by ``name`` or ``inline``).
    """
    annotation = _unwrap(annotation)
    if get_origin(annotation) in (list, tuple, dict):
        return None
    for arg in get_args(annotation):
        if get_origin(arg) is Annotated and any(
            isinstance(meta, Tag) and meta.tag == tag for meta in arg.__metadata__
        ):
            return _unwrap(arg)
        member = _model_in(arg)
        field = member.model_fields.get("scheme") if member else None
        if field is not None and tag in get_args(field.annotation):
            return member
    return None


def _tags(annotation: Any, discriminator: str) -> list[str]:
    """The tags a union discriminated by the field ``discriminator`` accepts."""
    tags: list[str] = []
    for arg in get_args(_unwrap(annotation)):
        member = _model_in(arg)
        field = member.model_fields.get(discriminator) if member else None
        if field is not None:
            tags += [str(t) for t in get_args(field.annotation)]
    return tags


def _describe(error: dict[str, Any], model: type[BaseModel]) -> str:
    loc = tuple(error["loc"])
    kind = error["type"]
    where = yaml_path(tuple(_walk(model, loc)[0]))
    if kind == "extra_forbidden":
        key = str(loc[-1])[:MAX_QUOTED]
        owner = _model_in(_walk(model, loc[:-1])[1])
        allowed = list(owner.model_fields) if owner else []
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        valid = f"; valid keys: {', '.join(allowed)}" if allowed else ""
        return f"{where}: unknown key '{key}'{hint}{valid}"
    if kind == "missing":
        return f"{where}: required field is missing"
    if kind == "union_tag_invalid":
        ctx = error.get("ctx", {})
        tag = str(ctx.get("tag", ""))[:MAX_QUOTED]
        expected = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
        close = difflib.get_close_matches(tag, expected, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        kind_name = str(ctx.get("discriminator", "kind")).strip("'")
        return f"{where}: unknown {kind_name} '{tag}'{hint}; valid: {', '.join(expected)}"
    if kind == "union_tag_not_found":
        field = str(error.get("ctx", {}).get("discriminator", "kind")).strip("'")
        valid = ", ".join(_tags(_walk(model, loc)[1], field))
        return f"{where}: missing '{field}'" + (f"; valid: {valid}" if valid else "")
    got = error.get("input")
    if kind == "literal_error" and isinstance(got, str):
        choices = _literal_choices(_walk(model, loc)[1])
        if choices:
            return f"{where}: unknown value {shown(got)}{did_you_mean(got, choices)}"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    quoted = "" if isinstance(got, (dict, list)) or got is None else f" (got {shown(got)})"
    return f"{where}: {message}{quoted}"


def _literal_choices(annotation: Any) -> list[str]:
    """The strings a ``Literal[...]`` field (or ``Literal[...] | None``) accepts."""
    annotation = _unwrap(annotation)
    if get_origin(annotation) is Literal:
        return [str(a) for a in get_args(annotation)]
    return [c for arg in get_args(annotation) for c in _literal_choices(arg)]


def shown(value: Any, limit: int = MAX_QUOTED) -> str:
    """A value as it is quoted in a message: never more than ``limit`` characters of it.

    A string is cut before ``repr`` so that a megabyte of user text is never copied.
    """
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + "…"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def validate(model: type[M], data: Any, source: str) -> M:
    """Validate ``data`` against ``model``; raise one ConfigError listing every problem."""
    if not isinstance(data, (dict, model)):
        kinds = {list: "a list", str: "a string", int: "a number", float: "a number"}
        got = "an empty file" if data is None else kinds.get(type(data), type(data).__name__)
        raise ConfigError(source, [f"(top level): expected a mapping of keys to values, got {got}"])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(e, model) for e in exc.errors(include_url=False)]
        raise ConfigError(source, problems) from None


def checked(name: str, kind: Any, value: Any, strict: bool = False) -> Any:
    """A value given outside a file (a command-line option, an API argument) held to the
    range the same setting has in a file; ``strict`` refuses ``True`` for ``1``."""
    try:
        return TypeAdapter(kind).validate_python(value, strict=strict)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise EdgesimError(f"{name}: {message} (got {shown(value)})") from None
