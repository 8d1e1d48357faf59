"""Text inputs (body fields, path and query parameters) that every supported database can store.

Text that cannot be stored (the NUL character U+0000, which PostgreSQL refuses; a lone
surrogate, which has no UTF-8 form) is refused by the use cases themselves
(:mod:`pebs.services.storable_text`), with the input's name, whatever the entry point: the API,
the web pages and the command line give the same answer. Here the schema only says so
(``pattern``), so that a client and a schema-driven test know it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

__all__ = ["NO_NUL_PATTERN", "Text"]

NO_NUL_PATTERN = "^[^\\x00]*$"


@dataclass(frozen=True)
class _NoNulSchema:
    """Adds :data:`NO_NUL_PATTERN` to the JSON schema of the text (the refusal, and its message,
    are the use case's)."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> Any:
        schema = handler(core_schema)
        schema["pattern"] = NO_NUL_PATTERN
        return schema


Text = Annotated[str, _NoNulSchema()]
