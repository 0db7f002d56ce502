"""The base of every configuration model: strict keys, frozen values, finite numbers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown keys are errors, values are frozen, and ``.inf`` / ``.nan`` are refused.

    An infinite bandwidth or epoch count validates as a float but breaks
    everything after it (``Infinity`` is not JSON; ``range`` overflows), so no
    number a user writes may be infinite or NaN.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
