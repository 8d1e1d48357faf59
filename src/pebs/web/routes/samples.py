"""Pages of the saliva kits at a site: a woman's kits on her page (assign, collect, abandon,
replace a failed kit), one kit's page, the site's kit worklists with the form that ships
collected kits and the site's shipments, a shipment and a box's manifest (CSV).

Every page calls the services of :mod:`pebs.services.samples` with the viewer's actor: their
scope applies (a kit or shipment of another site is "Not found"). The buttons a page shows
follow the kit's state (:func:`pebs.trial.samples.next_state`) and the viewer's role; the
services check both again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from pebs.http.deps import SessionMakerDep
from pebs.services.actor import Action, Actor
from pebs.services.errors import Conflict, InvalidInput, NotFound
from pebs.services.field_rules import (
    KIT_ID_CHARS,
    REASON_CHARS,
    SHIPMENT_REFERENCE_CHARS,
    SITE_CODE_CHARS,
    STUDY_NAME_CHARS,
)
from pebs.services.records import (
    ParticipantRecord,
    SiteChoice,
    can,
    study_zones,
    worklist_sites,
)
from pebs.services.samples import (
    KIT_ARM,
    KIT_PATHWAY_STATES,
    ParticipantKit,
    abandon_sample,
    assign_kit,
    kit_manifest,
    kit_worklists,
    list_shipments,
    record_collection,
    request_recollection,
    sample_by_kit,
    samples_of,
    ship_samples,
    shipment_by_reference,
)
from pebs.trial.samples import SampleEvent, SampleState, SampleTransitionError, next_state
from pebs.web.forms import FieldError, FormReader, place_refusal
from pebs.web.rendering import catalogue_for, render
from pebs.web.routes._params import StudyId
from pebs.web.viewer import PostedForm, Viewer, ViewerDep

__all__ = ["KitsPanel", "kits_panel", "router"]

router = APIRouter(include_in_schema=False)

KitId = Annotated[str, Path(min_length=1, max_length=KIT_ID_CHARS)]
Reference = Annotated[str, Path(min_length=1, max_length=SHIPMENT_REFERENCE_CHARS)]
SiteQuery = Annotated[str | None, Query(max_length=SITE_CODE_CHARS)]
StudyQuery = Annotated[str | None, Query(max_length=STUDY_NAME_CHARS)]

SHIPMENTS_PER_PAGE = 20
"""The site's shipments listed at the end of its samples page."""
_SITE_EVENTS = (SampleEvent.COLLECT, SampleEvent.ABANDON, SampleEvent.REQUEST_RECOLLECTION)
"""What site staff do to a kit (shipping is done on the site's samples page)."""
_KIT_FIELDS = ("collected_on", "reason")
_SHIP_FIELDS = ("kit_ids", "shipped_on")


def _possible(state: str, event: SampleEvent) -> bool:
    try:
        next_state(state, event)
    except SampleTransitionError:
        return False
    return True


def _site_events(actor: Actor, state: str) -> tuple[str, ...]:
    """The buttons of a kit in ``state`` for ``actor``."""
    if not can(actor, Action.RECORD_SAMPLE):
        return ()
    return tuple(event.value for event in _SITE_EVENTS if _possible(state, event))


@dataclass(frozen=True)
class KitsPanel:
    """Her kits as her page shows them."""

    kits: tuple[ParticipantKit, ...]
    """Oldest first."""
    events: dict[str, tuple[str, ...]]
    """Kit ID -> what the viewer may do with it now (``collect``, ``abandon``,
    ``request_recollection``)."""
    may_assign: bool
    """Show the button that gives her a new kit."""


def kits_panel(
    sessions: sessionmaker[Session], actor: Actor, record: ParticipantRecord
) -> KitsPanel | None:
    """Her kits for her page; ``None`` for a role that does not read kits, and for a woman
    without kits outside the risk-based arm's pathway. A new kit is offered to a woman of the
    risk-based arm with no kit yet, or whose latest kit was abandoned (a failed kit is replaced
    with its own button)."""
    if not can(actor, Action.READ_SAMPLES):
        return None
    kits = samples_of(sessions, actor, record.study_id).kits
    in_kit_pathway = record.arm == KIT_ARM and record.status in {s.value for s in
                                                                 KIT_PATHWAY_STATES}  # fmt: skip
    if not kits and not in_kit_pathway:
        return None
    latest_closed = not kits or kits[-1].state == SampleState.ABANDONED.value
    return KitsPanel(
        kits,
        {kit.kit_id: _site_events(actor, kit.state) for kit in kits},
        can(actor, Action.RECORD_SAMPLE) and in_kit_pathway and latest_closed,
    )


def _to_her_page(study_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/participants/{quote(study_id)}?done={done}#kits", status_code=303)


@router.post("/participants/{study_id}/kits")
def assign_submit(
    study_id: StudyId, viewer: ViewerDep, form: PostedForm, sessions: SessionMakerDep
) -> Response:
    """Give her a new kit."""
    done = assign_kit(sessions, viewer.actor, study_id)
    return _to_her_page(done.study_id, "kit_assigned")


def _kit_page(request: Request, viewer: Viewer, sessions: SessionMakerDep, kit_id: str, *,
              failed: str | None = None, values: dict | None = None, errors: dict | None = None,
              problem: str | None = None, status: int = 200) -> HTMLResponse:  # fmt: skip
    kit = sample_by_kit(sessions, viewer.actor, kit_id)
    return render(request, "kit.html", viewer=viewer, kit=kit,
                  events=_site_events(viewer.actor, kit.state), failed=failed,
                  values=values or {}, errors=errors or {}, problem=problem, status=status,
                  reason_chars=REASON_CHARS)  # fmt: skip


@router.get("/kits/{kit_id}")
def kit_page(
    request: Request, kit_id: KitId, viewer: ViewerDep, sessions: SessionMakerDep
) -> HTMLResponse:
    """One kit: its state, dates, shipment, and what can be done with it."""
    return _kit_page(request, viewer, sessions, kit_id)


def _kit_action(request, viewer, sessions, kit_id, form, reader, event, act) -> Response:
    """Run ``act()`` (the kit's ``event``) once the form reads cleanly: back to her page, or
    the kit page with the problems next to their fields."""
    problem = None
    if not reader.errors:
        try:
            moved = act()
        except (InvalidInput, Conflict) as error:
            problem = place_refusal(reader, error, _KIT_FIELDS, catalogue_for(request))
        else:
            return _to_her_page(moved.study_id, f"kit_{event}")
    values = {name: form.get(name, "") for name in _KIT_FIELDS}
    return _kit_page(request, viewer, sessions, kit_id, failed=event, values=values,
                     errors=reader.errors, problem=problem, status=422)  # fmt: skip


@router.post("/kits/{kit_id}/collection")
def collection_submit(
    request: Request, kit_id: KitId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep,
) -> Response:  # fmt: skip
    """Record the day she gave saliva in the kit."""
    reader = FormReader(form)
    day = reader.day("collected_on", required=True)

    def act():
        assert day is not None
        return record_collection(sessions, viewer.actor, kit_id, day)

    return _kit_action(request, viewer, sessions, kit_id, form, reader, "collect", act)


@router.post("/kits/{kit_id}/abandonment")
def abandonment_submit(
    request: Request, kit_id: KitId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep,
) -> Response:  # fmt: skip
    """Give up a kit that will bring no result, with a reason."""
    reader = FormReader(form)
    reason = reader.text("reason", required=True, max_length=REASON_CHARS)

    def act():
        assert reason is not None
        return abandon_sample(sessions, viewer.actor, kit_id, reason=reason)

    return _kit_action(request, viewer, sessions, kit_id, form, reader, "abandon", act)


@router.post("/kits/{kit_id}/recollection")
def recollection_submit(
    request: Request, kit_id: KitId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep,
) -> Response:  # fmt: skip
    """Replace a kit that failed quality control by a new kit."""
    reader = FormReader(form)
    reason = reader.text("reason", required=True, max_length=REASON_CHARS)

    def act():
        assert reason is not None
        return request_recollection(sessions, viewer.actor, kit_id, reason=reason)

    return _kit_action(request, viewer, sessions, kit_id, form, reader, "request_recollection", act)


def _chosen_site(sessions: SessionMakerDep, actor: Actor, study: str | None,
                 site: str | None) -> tuple[tuple[SiteChoice, ...], SiteChoice]:  # fmt: skip
    """The sites in the viewer's scope, and the one asked for (default: the first)."""
    sites = worklist_sites(sessions, actor)
    if not sites:
        raise NotFound("no site in your scope has kits")
    if site is None:
        return sites, sites[0]
    chosen = next((s for s in sites if s.code == site and study in (None, s.study)), None)
    if chosen is None:
        raise NotFound(f"no site {site!r} (in your sites)")
    return sites, chosen


def _today_at(sessions: SessionMakerDep, site: SiteChoice) -> date:
    zone = study_zones(sessions).get(site.country, "UTC")
    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date()


def _samples_page(request: Request, viewer: Viewer, sessions: SessionMakerDep,
                  sites: tuple[SiteChoice, ...], chosen: SiteChoice, on: date | None, *,
                  values: dict, errors: dict, problem: str | None = None,
                  after: str | None = None, status: int = 200) -> HTMLResponse:  # fmt: skip
    today = _today_at(sessions, chosen)
    lists = kit_worklists(sessions, viewer.actor, chosen.study, chosen.code, on=on or today)
    shipments = list_shipments(sessions, viewer.actor, chosen.study, chosen.code,
                               limit=SHIPMENTS_PER_PAGE, after=after)  # fmt: skip
    return render(request, "samples.html", viewer=viewer, sites=sites, site=chosen,
                  lists=lists, today=today, may_ship=can(viewer.actor, Action.RECORD_SAMPLE),
                  shipments=shipments, after=after or "", values=values, errors=errors,
                  problem=problem, status=status)  # fmt: skip


@router.get("/samples")
def samples_page(
    request: Request, viewer: ViewerDep, sessions: SessionMakerDep, site: SiteQuery = None,
    study: StudyQuery = None, on: date | None = None,
    after: Annotated[str | None, Query(max_length=SHIPMENT_REFERENCE_CHARS)] = None,
) -> HTMLResponse:  # fmt: skip
    """A site's kit worklists on a day: kits to send (and the form that ships them), overdue
    results, recollections due, kits not collected; then the site's shipments, newest first
    (``after``: the reference of the previous page's last one)."""
    sites, chosen = _chosen_site(sessions, viewer.actor, study, site)
    return _samples_page(request, viewer, sessions, sites, chosen, on, values={}, errors={},
                         after=after or None)  # fmt: skip


@router.post("/samples/shipments")
def ship_submit(
    request: Request, viewer: ViewerDep, form: PostedForm, sessions: SessionMakerDep
) -> Response:
    """Put the ticked kits in a new shipment; its page shows the reference for the box."""
    reader = FormReader(form)
    sites, chosen = _chosen_site(sessions, viewer.actor, reader.text("study"),
                                 reader.text("site", required=True))  # fmt: skip
    kit_ids = [k for k in form.getlist("kit_ids") if isinstance(k, str) and k.strip()]
    if not kit_ids:
        reader.errors["kit_ids"] = FieldError("error.tick_a_kit")
    shipped_on = reader.day("shipped_on", required=True)
    problem = None
    if not reader.errors:
        assert shipped_on is not None
        try:
            shipped = ship_samples(sessions, viewer.actor, chosen.study, chosen.code, kit_ids,
                                   shipped_on)  # fmt: skip
        except (InvalidInput, Conflict, NotFound) as error:
            problem = place_refusal(reader, error, _SHIP_FIELDS, catalogue_for(request))
        else:
            return RedirectResponse(f"/samples/shipments/{quote(shipped.reference)}?done=shipped",
                                    status_code=303)  # fmt: skip
    values = {"shipped_on": form.get("shipped_on", ""), "kit_ids": kit_ids}
    return _samples_page(request, viewer, sessions, sites, chosen, None, values=values,
                         errors=reader.errors, problem=problem, status=422)  # fmt: skip


@router.get("/samples/shipments/{reference}")
def shipment_page(
    request: Request, reference: Reference, viewer: ViewerDep, sessions: SessionMakerDep
) -> HTMLResponse:
    """A shipment's kits and its manifest."""
    shipment = shipment_by_reference(sessions, viewer.actor, reference)
    sites = worklist_sites(sessions, viewer.actor)
    study = next((s.study for s in sites if s.code == shipment.site), None)
    return render(
        request, "shipment.html", viewer=viewer, shipment=shipment, study=study, kit_links=True
    )


@router.get("/samples/manifest")
def manifest_download(
    viewer: ViewerDep,
    sessions: SessionMakerDep,
    study: Annotated[str, Query(min_length=1, max_length=STUDY_NAME_CHARS)],
    site: Annotated[str, Query(min_length=1, max_length=SITE_CODE_CHARS)],
    shipment: Annotated[str | None, Query(max_length=SHIPMENT_REFERENCE_CHARS)] = None,
) -> Response:
    """A box's manifest as CSV (kit ID, collection day, shipment, site): a shipment's, or
    without one the site's kits waiting to be sent."""
    found = kit_manifest(sessions, viewer.actor, study, site, shipment=shipment or None)
    return Response(
        found.content, media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.file_name}"'},
    )  # fmt: skip
