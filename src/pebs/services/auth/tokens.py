"""Random bearer secrets (session and API tokens), their stored SHA-256, and CSRF tokens.

A token is 32 random bytes (256 bits), URL-safe base64, with a short kind prefix. Only its
SHA-256 is stored, so a copy of the database does not let anyone log in. A fast hash suffices
for such random secrets (argon2 is for low-entropy passwords) and keeps every request cheap.

The CSRF token of a session is an HMAC of the session token under the secret key: a page
embeds it in its forms; a request authenticated by the session cookie must send it back.

>>> token = new_token("pebs_s")
>>> token.startswith("pebs_s_"), len(token_sha256(token))
(True, 64)
>>> secret = b"k" * 32
>>> csrf_matches(secret, token, csrf_token(secret, token))
True
>>> csrf_matches(secret, token, "forged")
False
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["csrf_matches", "csrf_token", "new_token", "token_sha256"]

SESSION_PREFIX = "pebs_s"
API_TOKEN_PREFIX = "pebs_t"


def new_token(prefix: str) -> str:
    """``<prefix>_<43 url-safe characters>`` from the operating system's CSPRNG."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_sha256(token: str) -> str:
    """The stored form of a token: hex SHA-256 of its UTF-8 text."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token(secret: bytes, session_token: str) -> str:
    """The CSRF token bound to one session."""
    return hmac.new(secret, b"csrf\x1f" + session_token.encode("utf-8"), "sha256").hexdigest()


def csrf_matches(secret: bytes, session_token: str, candidate: str | None) -> bool:
    """Constant-time check of a CSRF token sent back with a form or request header."""
    if not candidate:
        return False
    return hmac.compare_digest(csrf_token(secret, session_token), candidate)
