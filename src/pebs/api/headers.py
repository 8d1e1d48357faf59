"""Security headers on every response (a plain ASGI middleware: no per-request overhead
beyond adding the headers)."""

from __future__ import annotations

from typing import Any

__all__ = ["SecurityHeaders"]

_BASE = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"content-security-policy",
     b"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
)  # fmt: skip
_NO_STORE = (b"cache-control", b"no-store")
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityHeaders:
    """Adds :data:`_BASE` headers, ``Cache-Control: no-store`` (responses may hold personal
    data) unless set, and HSTS when the site is served over HTTPS only (``hsts=True``)."""

    def __init__(self, app: Any, *, hsts: bool = False) -> None:
        self.app = app
        self.extra = _BASE + ((_HSTS,) if hsts else ())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.extra if h[0] not in names)
                if b"cache-control" not in names:
                    headers.append(_NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
