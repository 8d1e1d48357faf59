"""Rendering pages: the Jinja2 environment (autoescaped), the page language, shared helpers.

Every page gets ``t`` (the message catalogue of the page language), ``lang`` and ``dir`` for the
``<html>`` element, the viewer and her CSRF token, and the navigation her role may use; a plan's
reasons and notes in the page language (``plan_reason``, ``plan_note``: :mod:`pebs.i18n.plans`);
an audit event's reason in the page language (filter ``audit_reason``).
Numbers and dates go through filters in the page language (:mod:`pebs.i18n.formats`): ``day``
(a date), ``num(digits)``, ``pct(digits)`` (a value in percent), ``prop_pct(digits)`` (a
proportion) and ``local`` (an instant in a time zone). Times are
stored in UTC and shown in the participant's (or the site's) country time zone with
:func:`local_time`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache, partial
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from pebs.i18n import formats, plans
from pebs.i18n.audit_reasons import audit_reason
from pebs.services.actor import PERMISSIONS, Action
from pebs.services.auth.accounts import ADMIN_ROLE
from pebs.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, Catalogue, catalogues, negotiate
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
    env.filters["local"] = _local
    env.filters["day"] = _day
    env.filters["num"] = _number
    env.filters["pct"] = _percent
    env.filters["prop_pct"] = _proportion
    env.filters["urlq"] = lambda v: quote(str(v), safe="")
    env.filters["audit_reason"] = _audit_reason
    return env


# Numbers and dates in the page language (``lang`` of the page's context), via pebs.i18n.formats.
# "—" stands for a missing value.


@pass_context
def _day(context: Context, value: date | None) -> str:
    """A date as the page language writes it in tables (``9 mars 2027``)."""
    return "—" if value is None else formats.medium_date(value, context["lang"])


@pass_context
def _number(context: Context, value: float | None, digits: int = 2) -> str:
    """A number with ``digits`` decimals (``1,234.5`` / ``1 234,5``)."""
    return "—" if value is None else formats.decimal(value, context["lang"], digits)


@pass_context
def _percent(context: Context, value_pct: float | None, digits: int = 1) -> str:
    """A value in **percent** (2.56 for 2.56 %), shown with the page language's percent sign."""
    return "—" if value_pct is None else formats.percent(value_pct / 100, context["lang"], digits)


@pass_context
def _proportion(context: Context, proportion: float | None, digits: int = 1) -> str:
    """A **proportion** (0.0256 for 2.56 %), shown as a percent in the page language."""
    return "—" if proportion is None else formats.percent(proportion, context["lang"], digits)


@pass_context
def _local(
    context: Context, value: datetime | None, zone: str | None = None, with_zone: bool = True
) -> str:
    """:func:`local_time` in the page language."""
    return local_time(value, zone, with_zone, language=context["lang"])


@pass_context
def _audit_reason(context: Context, stored: str | None) -> str:
    """An audit event's reason in the page language (:mod:`pebs.i18n.audit_reasons`)."""
    return audit_reason(catalogues()[context["lang"]], stored)


def catalogue_for(request: Request) -> Catalogue:
    """The page language's catalogue (cookie choice, else ``Accept-Language``, else English)."""
    code = negotiate(request.headers.get("accept-language"), request.cookies.get(LANGUAGE_COOKIE))
    return catalogues()[code]


def local_time(
    value: datetime | None,
    zone: str | None = None,
    with_zone: bool = True,
    *,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    """An aware UTC instant as local time in ``zone`` (an IANA name), written as ``language``
    writes dates and times, e.g. ``1 Mar 2025, 14:05 (Europe/Rome)``; UTC when no zone is given.

    >>> instant = datetime(2025, 3, 1, 13, 5, tzinfo=UTC)
    >>> local_time(instant, "Europe/Rome"), local_time(instant, "Europe/Rome", language="fr")
    ('1 Mar 2025, 14:05 (Europe/Rome)', '1 mars 2025, 14:05 (Europe/Rome)')
    """
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    name = zone or "UTC"
    text = formats.day_and_time(value.astimezone(ZoneInfo(name)), language)
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
    if role in PERMISSIONS[Action.READ_QUERIES]:
        items.append(("/queries", "nav.queries"))
    if role in PERMISSIONS[Action.READ_WORKLIST]:
        items.append(("/missing-forms", "nav.missing_forms"))
    if role in PERMISSIONS[Action.ISSUE_LETTER]:
        items.append(("/letters", "nav.letters"))
    if role in PERMISSIONS[Action.RECEIVE_SHIPMENT]:
        items.append(("/lab/shipments", "nav.shipments"))
    if role in PERMISSIONS[Action.IMPORT_GENOTYPES]:
        items.append(("/lab/batches", "nav.batches"))
    if role in PERMISSIONS[Action.RESOLVE_GENOTYPES]:
        items.append(("/lab/conflicts", "nav.conflicts"))
    if role in PERMISSIONS[Action.IMPORT_TRIAL]:
        items.append(("/imports", "nav.imports"))
    if role in PERMISSIONS[Action.READ_PARTICIPANT]:
        items.append(("/dashboards", "nav.dashboards"))
    if role in PERMISSIONS[Action.READ_PARTICIPANT]:
        items.append(("/exports", "nav.exports"))
    if role in PERMISSIONS[Action.READ_PARTICIPANT]:
        items.append(("/monitoring/sdv", "nav.sdv"))
    if role in PERMISSIONS[Action.LOCK_STUDY]:
        items.append(("/study-lock", "nav.study_lock"))
    if role in PERMISSIONS[Action.GENERATE_LIST]:
        items.append(("/allocation-lists", "nav.allocation_lists"))
    if role in PERMISSIONS[Action.ANALYSE]:
        items.append(("/analysis", "nav.analysis"))
    if role in PERMISSIONS[Action.DSMB_OPEN_REPORT]:
        items.append(("/dsmb", "nav.dsmb"))
    if role == ADMIN_ROLE:
        items.append(("/accounts", "nav.accounts"))
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
        plan_reason=partial(plans.exam_reason, catalogue),
        plan_note=partial(plans.plan_note, catalogue),
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
