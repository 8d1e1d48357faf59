"""Rendering pages: the Jinja2 environment (autoescaped), the page language, shared helpers.

Every page gets ``t`` (the message catalogue of the page language), ``lang`` and ``dir`` for the
``<html>`` element, the viewer and her CSRF token, and the navigation her role may use. Times are
stored in UTC and shown in the participant's (or the site's) country time zone with
:func:`local_time`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pebs.services.actor import PERMISSIONS, Action
from pebs.web.i18n import LANGUAGES, Catalogue, catalogues, negotiate
from pebs.web.viewer import Viewer

__all__ = ["LANGUAGE_COOKIE", "catalogue_for", "local_time", "nav_items", "render"]

LANGUAGE_COOKIE = "pebs_lang"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("pebs.web", "templates"),
        autoescape=select_autoescape(("html", "svg")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = local_time
    env.filters["pct"] = lambda v, digits=1: "—" if v is None else f"{v:.{digits}f}%"
    env.filters["urlq"] = lambda v: quote(str(v), safe="")
    return env


def catalogue_for(request: Request) -> Catalogue:
    """The page language's catalogue (cookie choice, else ``Accept-Language``, else English)."""
    code = negotiate(request.headers.get("accept-language"), request.cookies.get(LANGUAGE_COOKIE))
    return catalogues()[code]


def local_time(value: datetime | None, zone: str | None = None, with_zone: bool = True) -> str:
    """An aware UTC instant as local time in ``zone`` (an IANA name), e.g. ``2025-03-01 14:05
    (Europe/Rome)``; UTC when no zone is given.

    >>> local_time(datetime(2025, 3, 1, 13, 5, tzinfo=UTC), "Europe/Rome")
    '2025-03-01 14:05 (Europe/Rome)'
    """
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    name = zone or "UTC"
    text = value.astimezone(ZoneInfo(name)).strftime("%Y-%m-%d %H:%M")
    return f"{text} ({name})" if with_zone else text


def nav_items(role: str) -> list[tuple[str, str]]:
    """(path, message key) of the sections the role may open."""
    items = [("/", "nav.home")]
    if role in PERMISSIONS[Action.READ_PARTICIPANT]:
        items.append(("/participants", "nav.participants"))
    if role in PERMISSIONS[Action.REGISTER]:
        items.append(("/participants/new", "nav.register"))
    if role in PERMISSIONS[Action.READ_WORKLIST]:
        items.append(("/worklists", "nav.worklists"))
    if role in PERMISSIONS[Action.READ_WORKLIST] & PERMISSIONS[Action.READ_SAMPLES]:
        items.append(("/samples", "nav.samples"))
    if role in PERMISSIONS[Action.READ_WORKLIST]:
        items.append(("/risk-pending", "nav.risk_pending"))
    if role in PERMISSIONS[Action.RECEIVE_SHIPMENT]:
        items.append(("/lab/shipments", "nav.shipments"))
    if role in PERMISSIONS[Action.IMPORT_GENOTYPES]:
        items.append(("/lab/batches", "nav.batches"))
    if role in PERMISSIONS[Action.RESOLVE_GENOTYPES]:
        items.append(("/lab/conflicts", "nav.conflicts"))
    if role in PERMISSIONS[Action.READ_PARTICIPANT]:
        items.append(("/dashboards", "nav.dashboards"))
    items.append(("/models", "nav.models"))  # model cards: every logged-in role
    return items


def render(
    request: Request,
    template: str,
    *,
    viewer: Viewer | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The page ``template`` rendered in the request's language."""
    catalogue = catalogue_for(request)
    all_catalogues = catalogues()
    page = _environment().get_template(template).render(
        t=catalogue.text,
        has=catalogue.has,
        lang=catalogue.code,
        dir=catalogue.direction,
        languages=[(code, all_catalogues[code].name) for code in LANGUAGES],
        viewer=viewer,
        csrf=None if viewer is None else viewer.csrf,
        nav=[] if viewer is None or not viewer.principal.mfa_ok
        else nav_items(viewer.actor.role),
        path=request.url.path,
        here=_here(request),
        notice=_notice(request, catalogue),
        **context,
    )  # fmt: skip
    return HTMLResponse(page, status_code=status)


def _notice(request: Request, catalogue: Catalogue) -> str | None:
    """The message key of a finished step (``?done=registered`` after a redirect), if known."""
    done = request.query_params.get("done", "")
    key = f"done.{done}"
    return key if done.isidentifier() and catalogue.has(key) else None


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")
