"""The whole site that ``pebs serve`` runs: the REST API (:mod:`pebs.api`) and the pages
(:mod:`pebs.web`) on one app, over one state (:mod:`pebs.http`).

The API app brings the lifespan (the state), the request limits, the security headers and the
error handlers; the pages are installed on it, so both sides pass through the same middleware
and answer errors from the same table. This is the only module that imports both sides.
"""

from __future__ import annotations

from fastapi import FastAPI

from pebs.api import create_app
from pebs.config import Settings
from pebs.services.auth import AuthPolicy
from pebs.web import install_pages

__all__ = ["create_site", "from_environment", "served_site"]


def create_site(settings: Settings, *, auth_policy: AuthPolicy | None = None) -> FastAPI:
    """The API and the pages of one installation (``auth_policy``: tests may pass cheaper
    hashing)."""
    app = create_app(settings, auth_policy=auth_policy)
    install_pages(app)
    return app


def from_environment() -> FastAPI:
    """The site of the ``PEBS_*`` settings."""
    return create_site(Settings())


def served_site() -> FastAPI:
    """The factory ``pebs serve`` gives uvicorn (by its import string
    ``pebs.server:served_site``, so that each worker builds its own): the site of the ``PEBS_*``
    settings, in a process kept on one CPU (:mod:`pebs.http.worker_cpu`)."""
    from pebs.http.worker_cpu import pin_to_one_cpu

    pin_to_one_cpu()
    return from_environment()
