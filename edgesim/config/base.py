"""The base of every configuration model: strict keys, frozen values, finite numbers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

MAX_STRING = 10_000


class Strict(BaseModel):
    """Unknown keys are errors, values are frozen, ``.inf`` / ``.nan`` and huge strings refused.

    An infinite bandwidth or epoch count validates as a float but breaks
    everything after it (``Infinity`` is not JSON; ``range`` overflows), so no
    number a user writes may be infinite or NaN. No string may exceed
    :data:`MAX_STRING` characters (a description, a path); names are shorter still.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, str_max_length=MAX_STRING
    )
