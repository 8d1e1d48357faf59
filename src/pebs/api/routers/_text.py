"""Text fields of request bodies that every supported database can store.

PostgreSQL text cannot hold the NUL character (U+0000): refused at the edge, with the field's
name, rather than failing in the database.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

__all__ = ["Text"]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
