"""Her death: the date, the cause and its ICD-10 code; :func:`pebs.services.trial.record_death`
records it as the API does (her pathway ends)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from pebs.http.deps import SessionMakerDep
from pebs.services.actor import Action, require
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.records import participant_record
from pebs.services.trial import record_death
from pebs.trial.vocabularies import DEATH_CAUSES
from pebs.web.forms import FormReader, place_refusal
from pebs.web.rendering import catalogue_for, render
from pebs.web.routes._params import StudyId
from pebs.web.viewer import PostedForm, ViewerDep

router = APIRouter(include_in_schema=False)

_FIELDS = ("date_of_death", "cause", "cause_icd10")
ICD10_CHARS = 16
"""The longest text the API takes for the code (the service checks it is one)."""


def _page(request, viewer, sessions, study_id, *, values, errors, problem=None, status=200):
    record = participant_record(sessions, viewer.actor, study_id)
    return render(request, "death.html", viewer=viewer, p=record, causes=DEATH_CAUSES,
                  values=values, errors=errors, problem=problem, status=status)  # fmt: skip


@router.get("/participants/{study_id}/death")
def death_page(request: Request, study_id: StudyId, viewer: ViewerDep,
               sessions: SessionMakerDep):  # fmt: skip
    """The form recording her death."""
    require(viewer.actor, Action.RECORD_FOLLOW_UP)
    return _page(request, viewer, sessions, study_id, values={}, errors={})


@router.post("/participants/{study_id}/death")
def death_submit(
    request: Request, study_id: StudyId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep,
) -> Response:  # fmt: skip
    """Record her death."""
    reader = FormReader(form)
    died = reader.day("date_of_death", required=True)
    cause = reader.choice("cause", DEATH_CAUSES, required=True)
    icd10 = reader.text("cause_icd10", max_length=ICD10_CHARS)
    problem, status = None, 422
    if not reader.errors:
        assert died is not None
        assert cause is not None
        try:
            record_death(sessions, viewer.actor, study_id, date_of_death=died, cause=cause,
                         cause_icd10=icd10)  # fmt: skip
        except (InvalidInput, Conflict) as error:
            problem = place_refusal(reader, error, _FIELDS, catalogue_for(request))
            status = 409 if isinstance(error, Conflict) else 422
        else:
            return RedirectResponse(f"/participants/{study_id}?done=death", status_code=303)
    values = {k: str(form.get(k) or "") for k in _FIELDS}
    return _page(request, viewer, sessions, study_id, values=values, errors=reader.errors,
                 problem=problem, status=status)  # fmt: skip
