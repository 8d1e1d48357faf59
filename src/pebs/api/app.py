"""The FastAPI application factory: ``create_app(settings)``.

The lifespan opens the database (refusing one that is not migrated) and builds the keys and
the authentication policy; nothing happens at import time. Routes live under ``/api/v1``; the
OpenAPI schema is at ``/api/openapi.json`` (no interactive docs: they would load scripts from a
CDN, which the content security policy forbids and offline sites cannot reach).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

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
from pebs.api.routers._router import ApiRoute
from pebs.config import Settings
from pebs.http.paths import API_ROOT, BATCH_UPLOAD_PAGE, TRIAL_IMPORT_PAGE
from pebs.http.state import build_state, https_only
from pebs.services.auth import AuthPolicy

__all__ = ["API_PREFIX", "OPENAPI_URL", "create_app", "from_environment"]

API_PREFIX = f"{API_ROOT}/v1"
OPENAPI_URL = f"{API_ROOT}/openapi.json"


_MODULES = (auth, participants, enrolment, allocation, overrides, allocation_lists, risk, canrisk,
            follow_up, deaths, questionnaires, samples, laboratory, dashboards, exports, users,
            models, letters, imports, monitoring, queries, analysis, dsmb)  # fmt: skip


def _add_api_routes(app: FastAPI) -> None:
    """Every route of the routers of :data:`_MODULES`, in this order, under :data:`API_PREFIX`,
    as a route of the app itself.

    Not ``include_router``: FastAPI keeps an included router whole and, per request, walks the
    routers included in it (their routes' version counters, then each one's routes) to find
    the route; a flat list of routes is matched in one pass. The routes are the same (each
    router's prefix, tags and responses are already in its routes), so is the schema; each is
    an :class:`~pebs.api.routers._router.ApiRoute`.
    """
    for module in _MODULES:
        for route in module.router.routes:
            if not isinstance(route, APIRoute):
                raise TypeError(f"{module.__name__}: only API routes are served ({route!r})")
            app.router.add_api_route(
                API_PREFIX + route.path, route.endpoint, response_model=route.response_model,
                status_code=route.status_code, tags=route.tags, dependencies=route.dependencies,
                summary=route.summary, description=route.description,
                response_description=route.response_description, responses=route.responses,
                deprecated=route.deprecated, methods=route.methods,
                operation_id=route.operation_id,
                response_model_include=route.response_model_include,
                response_model_exclude=route.response_model_exclude,
                response_model_by_alias=route.response_model_by_alias,
                response_model_exclude_unset=route.response_model_exclude_unset,
                response_model_exclude_defaults=route.response_model_exclude_defaults,
                response_model_exclude_none=route.response_model_exclude_none,
                include_in_schema=route.include_in_schema, response_class=route.response_class,
                name=route.name, callbacks=route.callbacks, openapi_extra=route.openapi_extra,
                generate_unique_id_function=route.generate_unique_id_function,
                strict_content_type=route.strict_content_type,
                max_body_size=route.max_body_size, route_class_override=ApiRoute,
            )  # fmt: skip


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
    _add_api_routes(app)
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
