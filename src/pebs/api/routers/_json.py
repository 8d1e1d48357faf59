"""The JSON answer of a hot route, written by orjson instead of pydantic.

FastAPI validates a route's result against its response model, then writes it with pydantic:
for a page of participants (50 rows of eight fields) the writing costs ~70 µs, orjson ~20 µs.
A route whose result holds only text, whole numbers, booleans, ``None``, UTC date-times, and
dataclasses, tuples and lists of those may return :func:`json_response` of it: the same bytes
as FastAPI would send (a test compares them). The route keeps its ``response_model``, so the
schema is unchanged.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

__all__ = ["json_response"]


def json_response(value: Any, status_code: int = 200) -> Response:
    """``value`` as a JSON response, UTC date-times written with ``Z`` as pydantic writes them."""
    return Response(
        orjson.dumps(value, option=orjson.OPT_UTC_Z),
        status_code=status_code,
        media_type="application/json",
    )
