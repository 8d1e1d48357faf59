"""The base of every request body: no unknown field, and JSON types taken as JSON defines them.

Lax validation would convert silently what a careless client sent: ``0`` or ``"yes"`` for a
boolean, ``"3"`` for a whole number, a number for a date (``0`` would be 1 January 1970). Bodies
are validated strictly instead, so the client learns it (422, the field named). Two things stay
as JSON has them: a number without fraction (``3.0``) is an integer, as the schema's
``integer`` says; dates are ISO text (:data:`~pebs.api.routers._dates.IsoDate`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["Body"]


class Body(BaseModel):
    """A request body model."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _integral_numbers_are_integers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {
            key: int(value) if isinstance(value, float) and value.is_integer() else value
            for key, value in data.items()
        }
