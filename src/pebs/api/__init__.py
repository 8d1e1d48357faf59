"""The REST API (FastAPI) over the services.

``create_app(settings)`` builds the app (:mod:`pebs.api.app`); ``/api/v1/...`` routes, OpenAPI
at ``/api/openapi.json``; errors are ``{"error": code, "detail": message}`` (:mod:`.errors`).
"""

from pebs.api.app import API_PREFIX, OPENAPI_URL, create_app

__all__ = ["API_PREFIX", "OPENAPI_URL", "create_app"]
