"""Annotated dependencies of both sides' routes: the app's state, database sessions, keys and
the client's address. Who the caller is differs per side: :mod:`pebs.api.deps` (API token or
session cookie with a CSRF header) and :mod:`pebs.web.viewer` (session cookie, CSRF form field).

A dependency that does no blocking I/O is an ``async def``: FastAPI runs a plain ``def``
dependency in the thread pool, a hop that costs more than these dependencies themselves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from pebs.http.state import AppState
from pebs.services.keys import IdentityKeys

__all__ = ["KeysDep", "SessionMakerDep", "StateDep", "client_address"]


async def get_state(request: Request) -> AppState:
    return request.app.state.pebs


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session_maker(state: StateDep) -> sessionmaker[Session]:
    return state.writers


async def get_keys(state: StateDep) -> IdentityKeys:
    return state.keys


SessionMakerDep = Annotated[sessionmaker[Session], Depends(get_session_maker)]
KeysDep = Annotated[IdentityKeys, Depends(get_keys)]


def client_address(request: Request) -> str | None:
    """The client's address as the server sees it (behind a proxy: configure uvicorn's
    ``--forwarded-allow-ips`` so that it is the real client's)."""
    return None if request.client is None else request.client.host
