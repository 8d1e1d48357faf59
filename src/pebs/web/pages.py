"""The pages and ``/static``, installed on the app that serves the API (:func:`install_pages`).

The pages read the app's state (:mod:`pebs.http.state`: database sessions, keys, authentication
policy, set by the app's lifespan) and render the one error table as pages; under ``/api``
errors stay the API's JSON bodies (:mod:`pebs.web.errors`). :func:`pebs.server.create_site`
composes the two sides.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from pebs.web.errors import install_page_errors
from pebs.web.routes import (
    accounts,
    allocation_lists,
    analysis,
    auth,
    canrisk,
    care,
    dashboards,
    deaths,
    dsmb,
    enrolment,
    exports,
    imports,
    laboratory,
    letters,
    models,
    monitoring,
    participants,
    queries,
    questionnaires,
    risk_pending,
    samples,
    withdrawal,
    worklists,
)

__all__ = ["install_pages"]


def install_pages(app: FastAPI) -> None:
    """Add the pages, their error pages and ``/static`` to ``app`` (whose lifespan sets
    ``app.state.pebs`` and whose error handlers answer under ``/api``)."""
    install_page_errors(app)
    app.mount("/static", StaticFiles(packages=[("pebs.web", "static")]), name="static")
    # the registration form's path (/participants/new) before /participants/{study_id}
    for module in (auth, enrolment, participants, canrisk, care, samples, risk_pending, laboratory,
                   worklists, dashboards, models, withdrawal, deaths, questionnaires, accounts,
                   allocation_lists, exports, letters, imports, monitoring, queries,
                   analysis, dsmb):  # fmt: skip
        app.include_router(module.router)
