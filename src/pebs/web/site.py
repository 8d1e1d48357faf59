"""The whole site: the API app (:func:`pebs.api.create_app`) plus the pages and ``/static``.

``create_site(settings)`` is what ``pebs serve`` runs. The pages use the API's state (database
sessions, keys, authentication policy), its dependencies and its one error table; under
``/api`` errors stay JSON, elsewhere they are pages (:mod:`pebs.web.errors`).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from pebs.api import create_app
from pebs.config import Settings
from pebs.services.auth import AuthPolicy
from pebs.web.errors import install_page_errors
from pebs.web.routes import auth, care, dashboards, enrolment, models, participants, worklists

__all__ = ["create_site", "from_environment"]


def create_site(settings: Settings, *, auth_policy: AuthPolicy | None = None) -> FastAPI:
    """The API and the pages of one installation (``auth_policy``: tests may pass cheaper
    hashing)."""
    app = create_app(settings, auth_policy=auth_policy)
    install_page_errors(app)
    app.mount("/static", StaticFiles(packages=[("pebs.web", "static")]), name="static")
    # the registration form's path (/participants/new) before /participants/{study_id}
    for module in (auth, enrolment, participants, care, worklists, dashboards, models):
        app.include_router(module.router)
    return app


def from_environment() -> FastAPI:
    """The site of the ``PEBS_*`` settings: the factory ``pebs serve`` gives uvicorn (by its
    import string ``pebs.web.site:from_environment``, so that each worker builds its own)."""
    return create_site(Settings())
