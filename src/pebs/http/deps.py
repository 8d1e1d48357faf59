"""Annotated dependencies of both sides' routes: the app's state, database sessions, keys and
the client's address. Who the caller is differs per side: :mod:`pebs.api.deps` (API token or
session cookie with a CSRF header) and :mod:`pebs.web.viewer` (session cookie, CSRF form field).

A dependency that does no blocking I/O is an ``async def``: FastAPI runs a plain ``def``
dependency in the thread pool, a hop that costs more than these dependencies themselves. The
sessions and keys read the state from the request rather than through :data:`StateDep`: each
dependency FastAPI resolves costs time on every request.

A route that takes a dependency of :data:`DEPENDENCY_ERRORS` may answer its error whatever the
route itself refuses; the API documents it on every operation that takes one (directly or through
another dependency), so no route declares it by hand: a wrong identity key where the keys are
taken, a busy database (:data:`~pebs.http.status.DATABASE_BUSY`) where the state or a database
session is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from pebs.http.state import AppState
from pebs.http.status import DATABASE_BUSY, KEY_MISMATCH
from pebs.services.keys import IdentityKeys

__all__ = [
    "DEPENDENCY_ERRORS",
    "KeysDep",
    "ReadSessionsDep",
    "SessionMakerDep",
    "StateDep",
    "client_address",
]


async def get_state(request: Request) -> AppState:
    return request.app.state.pebs


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session_maker(request: Request) -> sessionmaker[Session]:
    return request.app.state.pebs.writers


async def get_read_sessions(request: Request) -> sessionmaker[Session]:
    """Read-only sessions, for a route whose use case only reads (and audits nothing): on
    SQLite a deferred ``BEGIN`` that never waits for the writer lock (nor holds it), on
    PostgreSQL a ``READ ONLY`` transaction."""
    return request.app.state.pebs.readers


async def get_keys(request: Request) -> IdentityKeys:
    """The identity keys: a route that takes them may decrypt identifying data (or a TOTP
    secret), which the store refuses with :class:`~pebs.http.status.DecryptionError` when the
    installation's key does not open it (:data:`~pebs.http.status.KEY_MISMATCH`)."""
    return request.app.state.pebs.keys


SessionMakerDep = Annotated[sessionmaker[Session], Depends(get_session_maker)]
ReadSessionsDep = Annotated[sessionmaker[Session], Depends(get_read_sessions)]
KeysDep = Annotated[IdentityKeys, Depends(get_keys)]

DEPENDENCY_ERRORS: Mapping[Callable[..., Any], tuple[int, str]] = {
    get_keys: KEY_MISMATCH,
    get_state: DATABASE_BUSY,  # the state holds the database sessions
    get_session_maker: DATABASE_BUSY,
    get_read_sessions: DATABASE_BUSY,
}
"""Dependency -> the (status, error code) that a route taking it may answer."""


def client_address(request: Request) -> str | None:
    """The client's address as the server sees it (behind a proxy: configure uvicorn's
    ``--forwarded-allow-ips`` so that it is the real client's)."""
    return None if request.client is None else request.client.host
