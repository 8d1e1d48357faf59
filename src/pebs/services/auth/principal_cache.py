"""A short-lived in-process memory of API token -> :class:`~.principal.Principal`.

Every API request authenticates; the lookup (an indexed query joining the token to its user) costs
more than the rest of a small request. :func:`~.resolution.authenticate` therefore remembers, per
database, the principal of an API token it has just accepted, for at most :data:`TTL_S` seconds
and at most :data:`MAX_ENTRIES` tokens (the oldest goes first). The key is the token's SHA-256
(:func:`~.tokens.token_sha256`, the stored form), never the token itself. Session cookies are
not remembered (their idle timeout is checked against the database on every request).

Forgetting, in this process, at once: :func:`forget_after_commit` drops a user's entries when the
transaction that revokes her credentials, disables her account, or changes her password or TOTP
commits (:func:`~.accounts.revoke_credentials` and :func:`~.api_tokens.revoke_api_token` call
it; a future use case that changes a role or scope must revoke her credentials the same way).
A lookup that was already under way when a user was forgotten does not store its (possibly stale)
answer (:attr:`PrincipalCache.generation`). Another process (the command line) cannot reach this
memory: its revocation takes effect here within :data:`TTL_S` seconds (``docs/security.md``).
An entry never outlives its token's expiry.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from pebs.services.auth.principal import Principal

__all__ = ["MAX_ENTRIES", "TTL_S", "PrincipalCache", "cache_for", "forget_after_commit"]

TTL_S = 5.0
"""Seconds an accepted API token is believed without asking the database again."""
MAX_ENTRIES = 4096
"""Tokens remembered per database (about 1 KiB each)."""


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    user_id: int
    token_expires_at: datetime | None
    until: float
    """Clock reading (seconds) after which the entry is stale."""


class PrincipalCache:
    """Token digest -> principal, each for ``ttl_s`` seconds of ``clock`` (thread-safe)."""

    def __init__(
        self,
        ttl_s: float = TTL_S,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not ttl_s > 0:
            raise ValueError(f"ttl_s: give a positive number of seconds, got {ttl_s!r}")
        if max_entries < 1:
            raise ValueError(f"max_entries: give at least 1, got {max_entries!r}")
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        """Seconds, monotonic (tests may replace it)."""
        self.generation = 0
        """Counts the forgettings: :meth:`put` stores only if none happened since its lookup."""
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: str, now: datetime) -> Principal | None:
        """The principal remembered for the token of ``digest``, if still fresh at ``now``."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        expired = entry.token_expires_at is not None and entry.token_expires_at <= now
        if expired or self.clock() >= entry.until:
            with self._lock:
                if self._entries.get(digest) is entry:
                    del self._entries[digest]
            return None
        return entry.principal

    def put(
        self,
        digest: str,
        principal: Principal,
        *,
        user_id: int,
        token_expires_at: datetime | None,
        since: int,
    ) -> None:
        """Remember an accepted token, unless a user was forgotten after generation ``since``."""
        entry = _Entry(principal, user_id, token_expires_at, self.clock() + self.ttl_s)
        with self._lock:
            if self.generation != since:
                return
            self._entries.pop(digest, None)
            while len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]
            self._entries[digest] = entry

    def forget_user(self, user_id: int) -> None:
        """Drop every token of ``user_id`` (and any lookup of hers still under way)."""
        with self._lock:
            self.generation += 1
            stale = [key for key, entry in self._entries.items() if entry.user_id == user_id]
            for key in stale:
                del self._entries[key]


_caches: weakref.WeakKeyDictionary[Any, PrincipalCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def cache_for(engine: Engine) -> PrincipalCache:
    """The cache of the database behind ``engine`` (one per connection pool, so that two
    databases in one process never share entries)."""
    pool = engine.pool
    cache = _caches.get(pool)
    if cache is None:
        with _caches_lock:
            cache = _caches.setdefault(pool, PrincipalCache())
    return cache


def forget_after_commit(session: Session, user_id: int) -> None:
    """Forget ``user_id``'s tokens once ``session``'s transaction commits (and at once, too)."""
    cache = cache_for(session.get_bind())  # type: ignore[arg-type]  # bound to an engine
    cache.forget_user(user_id)
    event.listen(session, "after_commit", lambda _: cache.forget_user(user_id), once=True)
