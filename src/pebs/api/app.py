"""The FastAPI application factory: ``create_app(settings)``.

The lifespan opens the database (refusing one that is not migrated) and builds the keys and
the authentication policy; nothing happens at import time. Routes live under ``/api/v1``; the
OpenAPI schema is at ``/api/openapi.json`` (no interactive docs: they would load scripts from a
CDN, which the content security policy forbids and offline sites cannot reach).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from pebs import __version__
from pebs.api.errors import install_error_handlers
from pebs.api.headers import SecurityHeaders
from pebs.api.limits import RequestLimits
from pebs.api.openapi import install_openapi
from pebs.api.routers import (
    allocation,
    allocation_lists,
    analysis,
    auth,
    canrisk,
    dashboards,
    deaths,
    dsmb,
    enrolment,
    exports,
    follow_up,
    imports,
    laboratory,
    letters,
    models,
    monitoring,
    overrides,
    participants,
    queries,
    questionnaires,
    risk,
    samples,
    users,
)
from pebs.config import Settings
from pebs.http.paths import API_ROOT, BATCH_UPLOAD_PAGE, TRIAL_IMPORT_PAGE
from pebs.http.state import build_state, https_only
from pebs.services.auth import AuthPolicy

__all__ = ["API_PREFIX", "OPENAPI_URL", "create_app", "from_environment"]

API_PREFIX = f"{API_ROOT}/v1"
OPENAPI_URL = f"{API_ROOT}/openapi.json"


def _api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    modules = (auth, participants, enrolment, allocation, overrides, allocation_lists, risk,
               canrisk, follow_up, deaths, questionnaires, samples, laboratory, dashboards,
               exports, users, models, letters, imports, monitoring, queries, analysis,
               dsmb)  # fmt: skip
    for module in modules:
        router.include_router(module.router)
    return router


def create_app(settings: Settings, *, auth_policy: AuthPolicy | None = None) -> FastAPI:
    """The pebs API for one installation (``auth_policy``: tests may pass cheaper hashing)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = build_state(settings, auth_policy)
        app.state.pebs = state
        try:
            yield
        finally:
            state.close()

    app = FastAPI(
        title="pebs trial platform API",
        version=__version__,
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(_api_router())
    install_openapi(app)
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        max_json_depth=settings.max_json_depth,
        body_limits={  # genotype batches, uploaded through the API or the page
            API_PREFIX + laboratory.BATCHES_PATH: laboratory.MAX_UPLOAD_BYTES,
            BATCH_UPLOAD_PAGE: laboratory.MAX_UPLOAD_BYTES,
            API_PREFIX + imports.IMPORTS_PATH: imports.MAX_UPLOAD_BYTES,
            TRIAL_IMPORT_PAGE: imports.MAX_UPLOAD_BYTES,
        },
    )
    app.add_middleware(SecurityHeaders, hsts=https_only(settings))
    return app


def from_environment() -> FastAPI:
    """The app of the ``PEBS_*`` settings (the factory ``pebs serve`` hands to uvicorn)."""
    return create_app(Settings())
