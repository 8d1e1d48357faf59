"""Her withdrawal from the study: the level (each explained in words), the reason, then a
confirmation step; :func:`pebs.services.trial.withdraw` records it as the API does."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from pebs.http.deps import SessionMakerDep
from pebs.services.actor import Action, require
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.field_rules import REASON_CHARS
from pebs.services.records import participant_record
from pebs.services.trial import withdraw
from pebs.trial import WITHDRAWAL_LEVELS
from pebs.web.forms import FieldError, FormReader, place_refusal
from pebs.web.rendering import catalogue_for, render
from pebs.web.routes._params import StudyId
from pebs.web.viewer import PostedForm, ViewerDep

router = APIRouter(include_in_schema=False)

_FIELDS = ("level", "reason", "confirm")


def _page(request, viewer, sessions, study_id, *, values, errors, problem=None, confirming=False,
          status=200):  # fmt: skip
    record = participant_record(sessions, viewer.actor, study_id)
    return render(request, "withdrawal.html", viewer=viewer, p=record, levels=WITHDRAWAL_LEVELS,
                  values=values, errors=errors, problem=problem, confirming=confirming,
                  reason_chars=REASON_CHARS, status=status)  # fmt: skip


@router.get("/participants/{study_id}/withdrawal")
def withdrawal_page(request: Request, study_id: StudyId, viewer: ViewerDep,
                    sessions: SessionMakerDep):  # fmt: skip
    """The withdrawal form: level, reason."""
    require(viewer.actor, Action.RECORD_CONSENT)
    return _page(request, viewer, sessions, study_id, values={}, errors={})


@router.post("/participants/{study_id}/withdrawal")
def withdrawal_submit(
    request: Request, study_id: StudyId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep,
) -> Response:  # fmt: skip
    """First the confirmation step, then (confirmed) record her withdrawal."""
    reader = FormReader(form)
    level = reader.choice("level", WITHDRAWAL_LEVELS, required=True)
    reason = reader.text("reason", required=True, max_length=REASON_CHARS)
    values = {k: str(form.get(k) or "") for k in _FIELDS}
    if reader.errors:
        return _page(request, viewer, sessions, study_id, values=values, errors=reader.errors,
                     status=422)  # fmt: skip
    if "confirm_step" not in form:
        return _page(request, viewer, sessions, study_id, values=values, errors={},
                     confirming=True)  # fmt: skip
    if not reader.flag("confirm"):
        errors = {"confirm": FieldError("error.confirm")}
        return _page(request, viewer, sessions, study_id, values=values, errors=errors,
                     confirming=True, status=422)  # fmt: skip
    assert level is not None
    assert reason is not None
    try:
        withdraw(sessions, viewer.actor, study_id, level=level, reason=reason)
    except (InvalidInput, Conflict) as error:
        problem = place_refusal(reader, error, _FIELDS, catalogue_for(request))
        status = 409 if isinstance(error, Conflict) else 422
        return _page(request, viewer, sessions, study_id, values=values, errors=reader.errors,
                     problem=problem, status=status)  # fmt: skip
    return RedirectResponse(f"/participants/{study_id}?done=withdrawn", status_code=303)
