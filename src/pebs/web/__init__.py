"""Server-rendered HTML pages (Jinja2) over the services.

``create_site(settings)`` (:mod:`pebs.web.site`) is the API app plus the pages and their static
files: login with TOTP, the participant list and page, the enrolment flow (register ->
eligibility -> consent -> randomise), the risk-factor form, visits and outcomes, worklists and
dashboards with server-drawn SVG charts. Plain forms with CSRF tokens, no JavaScript build step
and no external resources; English and French, with Italian, Dutch, Hebrew (right to left) and
Spanish started (:mod:`pebs.web.i18n`).
"""

from pebs.web.site import create_site

__all__ = ["create_site"]
