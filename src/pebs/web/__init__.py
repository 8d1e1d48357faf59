"""Server-rendered HTML pages (Jinja2) over the services.

``install_pages(app)`` (:mod:`pebs.web.pages`) adds the pages and their static files to the app
that serves the API (:func:`pebs.server.create_site` composes the two): login with TOTP, the
participant list and page, the enrolment flow (register -> eligibility -> consent -> randomise),
the risk-factor form and the risk questionnaire, visits and outcomes, worklists, saliva kits and
shipments, the laboratory's receipts, genotype batches and conflicts, the risk-pending worklist,
and dashboards with server-drawn SVG charts.
Plain forms with CSRF tokens, no JavaScript build step and no external resources; English and
French, with Italian, Dutch, Hebrew (right to left) and Spanish started (:mod:`pebs.web.i18n`).
The pages import nothing from :mod:`pebs.api`: what both sides share is :mod:`pebs.http`.
"""

from pebs.web.pages import install_pages

__all__ = ["install_pages"]
