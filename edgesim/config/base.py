"""The base of every configuration model: strict keys, frozen values, finite numbers."""

from __future__ import annotations

from functools import cache
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, model_validator

MAX_STRING = 10_000


class Strict(BaseModel):
    """Unknown keys are errors, values are frozen, ``.inf`` / ``.nan`` and huge strings refused.

    An infinite bandwidth or epoch count validates as a float but breaks
    everything after it (``Infinity`` is not JSON; ``range`` overflows), so no
    number a user writes may be infinite or NaN. No string may exceed
    :data:`MAX_STRING` characters (a description, a path); names are shorter still.
    A boolean is never taken for a number: YAML reads ``on``, ``yes`` and
    ``true`` as true, which pydantic would otherwise turn into ``lr: 1.0``.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, str_max_length=MAX_STRING
    )

    @model_validator(mode="before")
    @classmethod
    def _no_boolean_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in _numeric_fields(cls):
                if isinstance(data.get(name), bool):
                    raise ValueError(
                        f"{name} must be a number, got {str(data[name]).lower()} "
                        "(YAML reads yes, no, on and off as true and false)"
                    )
        return data


@cache
def _numeric_fields(model: type[BaseModel]) -> frozenset[str]:
    """Fields that take numbers (``int``, ``float``, optional or bounded) but no booleans."""
    numeric = set()
    for name, field in model.model_fields.items():
        kinds = _leaf_types(field.annotation)
        if kinds and kinds <= {int, float, type(None)}:
            numeric.add(name)
    return frozenset(numeric)


def _leaf_types(annotation: Any) -> frozenset[Any]:
    args = get_args(annotation)
    if not args:
        return frozenset({annotation})
    if getattr(annotation, "__metadata__", None) is not None:  # Annotated[x, ...]
        return _leaf_types(args[0])
    if type(annotation).__name__ in ("UnionType", "_UnionGenericAlias"):
        return frozenset().union(*(_leaf_types(a) for a in args))
    return frozenset({annotation})  # a list, tuple, dict or Literal: not a bare number
