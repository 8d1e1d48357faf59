"""Pages of a risk that completes itself: the risk-pending worklist (women of the risk-based arm
whose final assessment waits for her questionnaire, her baseline density or her polygenic
score) and the risk questionnaire, which stores her answers and computes her risk and plan as
soon as nothing is missing (:func:`pebs.services.trial.record_risk_questionnaire`). The
baseline density is entered with the visit (:mod:`.care`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.services.errors import Conflict, InvalidFields, InvalidInput, NotFound
from pebs.services.field_rules import SITE_CODE_CHARS, STUDY_ID_CHARS, STUDY_NAME_CHARS
from pebs.services.records import participant_record, worklist_sites
from pebs.services.trial import record_risk_questionnaire, risk_pending
from pebs.web.forms import FormReader, place_refusal
from pebs.web.rendering import catalogue_for, render
from pebs.web.routes._params import StudyId
from pebs.web.routes.care import place_risk_refusals, read_risk_factors
from pebs.web.viewer import PostedForm, Viewer, ViewerDep

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
_WITH_UNKNOWN_BOX = ("n_biopsies", "age_at_menarche", "age_at_first_birth", "n_relatives")
_QUESTIONNAIRE_FIELDS = ("age_at_menarche", "age_at_first_birth", "n_relatives", "n_biopsies",
                         "atypical_hyperplasia", "answered_on")  # fmt: skip
_FORM_VALUES = (*_QUESTIONNAIRE_FIELDS, "nulliparous",
                *(f"{name}_unknown" for name in _WITH_UNKNOWN_BOX))  # fmt: skip
"""Posted values shown again when the form is refused (the boxes ticked stay ticked)."""


@router.get("/risk-pending")
def risk_pending_page(
    request: Request,
    viewer: ViewerDep,
    sessions: SessionMakerDep,
    study: Annotated[str | None, Query(max_length=STUDY_NAME_CHARS)] = None,
    site: Annotated[str | None, Query(max_length=SITE_CODE_CHARS)] = None,
    on: date | None = None,
    after: Annotated[str | None, Query(max_length=STUDY_ID_CHARS)] = None,
) -> HTMLResponse:
    """The women of one study (one site, or all the viewer's sites) whose final risk
    assessment is pending, and what each one waits for."""
    sites = worklist_sites(sessions, viewer.actor)
    if not sites:
        raise NotFound("no site in your scope has a risk-pending worklist")
    chosen_study = study or sites[0].study
    in_study = [s for s in sites if s.study == chosen_study]
    if not in_study:
        raise NotFound(f"no study {chosen_study!r} (in your sites)")
    day = on or datetime.now(UTC).date()
    page = risk_pending(sessions, viewer.actor, chosen_study, on=day, site=site or None,
                        after=after or None, limit=PAGE_SIZE)  # fmt: skip
    return render(request, "risk_pending.html", viewer=viewer, sites=in_study,
                  studies=sorted({s.study for s in sites}), study=chosen_study,
                  site=site or "", on=day, page=page, after=after or "")  # fmt: skip


def _questionnaire_page(request: Request, viewer: Viewer, sessions: SessionMakerDep,
                        study_id: str, *, values: dict, errors: dict,
                        problem: str | None = None, status: int = 200) -> HTMLResponse:  # fmt: skip
    record = participant_record(sessions, viewer.actor, study_id)
    return render(request, "risk_questionnaire.html", viewer=viewer, p=record, values=values,
                  errors=errors, problem=problem, status=status)  # fmt: skip


@router.get("/participants/{study_id}/risk-questionnaire")
def questionnaire_page(
    request: Request, study_id: StudyId, viewer: ViewerDep, sessions: SessionMakerDep
) -> HTMLResponse:
    """Her risk questionnaire (risk-based arm)."""
    return _questionnaire_page(request, viewer, sessions, study_id, values={}, errors={})


@router.post("/participants/{study_id}/risk-questionnaire")
def questionnaire_submit(
    request: Request, study_id: StudyId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep, keys: KeysDep,
) -> Response:  # fmt: skip
    """Store her answers; her risk and plan follow if her density and polygenic score are
    there too."""
    reader = FormReader(form)
    factors = read_risk_factors(reader)  # density and PRS are not on this form: absent
    answered_on = reader.day("answered_on", required=True)
    problem = None
    if not reader.errors:
        assert answered_on is not None
        try:
            done = record_risk_questionnaire(sessions, viewer.actor, keys, study_id, factors,
                                             answered_on=answered_on)  # fmt: skip
        except InvalidFields as error:
            problem = place_risk_refusals(reader, error)
        except (InvalidInput, Conflict) as error:
            problem = place_refusal(reader, error, _QUESTIONNAIRE_FIELDS, catalogue_for(request))
        else:
            notice = "questionnaire" if done.risk_level is None else "questionnaire_risk"
            return RedirectResponse(f"/participants/{quote(done.study_id)}?done={notice}#risk",
                                    status_code=303)  # fmt: skip
    values = {name: form.get(name, "") for name in _FORM_VALUES}
    return _questionnaire_page(request, viewer, sessions, study_id, values=values,
                               errors=reader.errors, problem=problem, status=422)  # fmt: skip
