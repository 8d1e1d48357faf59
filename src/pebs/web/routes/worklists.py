"""Page: a site's visit worklist (due or overdue visits on a date, keyset-paged)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from pebs.http.deps import SessionMakerDep
from pebs.services.errors import NotFound
from pebs.services.field_rules import SITE_CODE_CHARS
from pebs.services.records import study_zones, worklist_sites
from pebs.services.trial import worklist
from pebs.web.rendering import render
from pebs.web.viewer import ViewerDep

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


@router.get("/worklists")
def worklist_page(
    request: Request,
    viewer: ViewerDep,
    sessions: SessionMakerDep,
    site: Annotated[str | None, Query(max_length=SITE_CODE_CHARS)] = None,
    on: date | None = None,
    overdue: bool = False,
    after_date: date | None = None,
    after_id: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> HTMLResponse:
    """The visits due (or overdue) at one of her sites."""
    sites = worklist_sites(sessions, viewer.actor)
    if not sites:
        raise NotFound("no site in your scope has a worklist")
    chosen = next((s for s in sites if s.code == site), None) if site else sites[0]
    if chosen is None:
        raise NotFound(f"no site {site!r} (in your sites)")
    zone = study_zones(sessions).get(chosen.country, "UTC")
    day = on or datetime.now(UTC).astimezone(ZoneInfo(zone)).date()
    after = None if after_date is None or after_id is None else (after_date, after_id)
    page = worklist(sessions, viewer.actor, chosen.study, chosen.code, on=day,
                    overdue_only=overdue, after=after, limit=PAGE_SIZE)  # fmt: skip
    return render(request, "worklist.html", viewer=viewer, sites=sites, site=chosen, on=day,
                  overdue=overdue, page=page)  # fmt: skip
