"""Request limits for the API and the pages: body size, and nesting of JSON bodies.

:class:`RequestLimits` is a plain ASGI middleware around the whole site (the web pages are
mounted on the API app, so both pass through it). It wraps the request's ``receive`` and, as the
body is read by the route, refuses:

- a body larger than ``max_body_bytes`` (``PEBS_MAX_BODY_BYTES``, default 1 MiB), or than the
  path's own limit in ``body_limits`` (a file upload, by the API or a page): **413**, as soon
  as the declared ``Content-Length`` or the bytes received so far exceed it, so a large body is
  never read into memory;
- a JSON body nested deeper than ``max_json_depth`` arrays and objects
  (``PEBS_MAX_JSON_DEPTH``, default 32): **422**. Python's parser accepts nesting up to its
  recursion limit, but a value nested a few hundred levels deep can be stored and then never be
  read back (serialising it fails), so it is refused before the route parses it.

The refusal is an HTTP error raised into the route, so the one error table renders it: the
API's body ``{"error": "payload_too_large" | "invalid_input", "detail": ...}``, an error page
on the HTML side. Nothing is stored: the route never gets the body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_JSON_DEPTH", "RequestLimits", "json_too_deep"]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""1 MiB: far above any pebs request (a questionnaire, a registration: a few kilobytes)."""
DEFAULT_MAX_JSON_DEPTH = 32
"""Arrays and objects inside one another; pebs bodies use three levels at most."""

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def json_too_deep(body: bytes, limit: int) -> bool:
    """Whether JSON text ``body`` nests arrays and objects more than ``limit`` levels deep.

    Brackets inside strings do not count. The text need not be valid JSON (the parser judges
    that afterwards).

    >>> json_too_deep(b'{"a": [1, {"b": "[[[[["}]}', 3), json_too_deep(b"[" * 100, 32)
    (False, True)
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b"", body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _header(scope: dict[str, Any], name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value
    return None


def _is_json(content_type: bytes | None) -> bool:
    """JSON, or no declared type (which some parsers read as JSON)."""
    if content_type is None:
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


class RequestLimits:
    """Refuses request bodies over ``max_body_bytes`` (413) and JSON bodies nested deeper than
    ``max_json_depth`` (422); see the module docstring."""

    def __init__(
        self,
        app: Any,
        *,
        max_body_bytes: int,
        max_json_depth: int,
        body_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth
        self.body_limits = dict(body_limits or {})
        """Path -> the body limit of that route (bytes), instead of ``max_body_bytes``; a path
        with ``{name}`` segments (a route's template) matches any one segment there."""
        self._templates = [
            (re.compile("^" + re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(path)) + "$"), limit)
            for path, limit in self.body_limits.items()
            if "{" in path
        ]

    def _limit(self, path: str) -> int:
        limit = self.body_limits.get(path)
        if limit is not None:
            return limit
        for template, template_limit in self._templates:
            if template.match(path):
                return template_limit
        return self.max_body_bytes

    @staticmethod
    def _too_large(limit: int) -> HTTPException:
        return HTTPException(413, f"the request body is larger than the limit of {limit:,} bytes")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        declared = _header(scope, b"content-length")
        too_large = declared is not None and declared.isdigit() and (int(declared) > limit)
        check_depth = _is_json(_header(scope, b"content-type"))
        received: list[bytes] = []
        size = 0

        async def limited_receive() -> Any:
            nonlocal size
            if too_large:
                raise self._too_large(limit)
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise self._too_large(limit)
            if check_depth:
                received.append(chunk)
                if not message.get("more_body", False):
                    body = b"".join(received)
                    received.clear()
                    if json_too_deep(body, self.max_json_depth):
                        raise HTTPException(
                            422,
                            f"body: JSON nested more than {self.max_json_depth} levels deep "
                            "(arrays and objects inside one another); send flatter data",
                        )
            return message

        await self.app(scope, limited_receive, send)
