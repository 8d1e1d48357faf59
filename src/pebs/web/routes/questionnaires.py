"""Questionnaires at 0, 3, 12 and 48 months: one form per instrument of her study, generated
from its items (whole numbers and numbers with their range, choices, yes / no, texts), recorded
by :func:`pebs.services.trial.questionnaires.record_questionnaire` as the API does.

An item's label is the catalogue's ``instrument.<instrument>.<item>`` when the catalogue has
one, else its name in words (``self_care`` -> "Self care"). An item left empty is stored as not
answered (``null``); a form with no answer at all is refused.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from pebs.http.deps import SessionMakerDep
from pebs.services.errors import Conflict, InvalidFields, InvalidInput, NotFound
from pebs.services.field_rules import INSTRUMENT_CHARS
from pebs.services.records import participant_record, study_wording
from pebs.services.trial.questionnaires import questionnaire_forms, record_questionnaire
from pebs.trial.instruments import Instrument, Item
from pebs.trial.vocabularies import QUESTIONNAIRE_TIMEPOINTS
from pebs.web.forms import FormReader, place_refusal
from pebs.web.i18n import Catalogue
from pebs.web.rendering import catalogue_for, render
from pebs.web.routes._params import StudyId
from pebs.web.viewer import PostedForm, ViewerDep

router = APIRouter(include_in_schema=False)

InstrumentQuery = Annotated[str | None, Query(min_length=1, max_length=INSTRUMENT_CHARS)]
TimepointQuery = Annotated[int | None, Query(ge=0, le=1000)]


def field_name(item: Item) -> str:
    """The form field of an item: the name the service gives its refusals (``answers.vas``)."""
    return f"answers.{item.name}"


def item_label(catalogue: Catalogue, instrument: Instrument, item: Item) -> str:
    """The catalogue's label of the item if it has one, else its name in words.

    >>> from pebs.web.i18n import catalogues
    >>> item_label(catalogues()["en"], Instrument("X", "X", ()), Item("self_care", "boolean"))
    'Self care'
    """
    key = f"instrument.{instrument.name}.{item.name}"
    if catalogue.has(key):
        return catalogue.text(key)
    words = item.name.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def _read_answer(reader: FormReader, item: Item) -> Any:
    name = field_name(item)
    if item.type == "integer":
        assert item.minimum is not None
        assert item.maximum is not None
        return reader.integer(name, int(item.minimum), int(item.maximum))
    if item.type == "number":
        assert item.minimum is not None
        assert item.maximum is not None
        return reader.number(name, item.minimum, item.maximum)
    if item.type == "choice":
        return reader.choice(name, item.values)
    if item.type == "boolean":
        return reader.answer(name)
    return reader.text(name, max_length=item.max_length)


def _chosen(forms, instrument: str | None, timepoint: int | None) -> Instrument | None:
    if instrument is None:
        return None
    found = next((i for i in forms.instruments if i.name == instrument), None)
    if found is None or timepoint not in QUESTIONNAIRE_TIMEPOINTS:
        raise NotFound(f"no questionnaire {instrument!r} at {timepoint} months for this study")
    return found


def _page(request, viewer, sessions, study_id, *, instrument, timepoint, values, errors,
          problem=None, status=200):  # fmt: skip
    forms = questionnaire_forms(sessions, viewer.actor, study_id)
    record = participant_record(sessions, viewer.actor, study_id)
    chosen = _chosen(forms, instrument, timepoint)
    catalogue = catalogue_for(request)
    labels = {} if chosen is None else {
        field_name(item): item_label(catalogue, chosen, item) for item in chosen.items}  # fmt: skip
    labels["completed_on"] = catalogue.text("field.completed_on")
    return render(request, "questionnaires.html", viewer=viewer, p=record, forms=forms,
                  timepoints=QUESTIONNAIRE_TIMEPOINTS, chosen=chosen, timepoint=timepoint,
                  labels=labels, field_name=field_name, values=values, errors=errors,
                  problem=problem, status=status,
                  wording=study_wording(sessions, viewer.actor, record.study))  # fmt: skip


@router.get("/participants/{study_id}/questionnaires")
def questionnaires_page(
    request: Request, study_id: StudyId, viewer: ViewerDep, sessions: SessionMakerDep,
    instrument: InstrumentQuery = None, timepoint: TimepointQuery = None,
):  # fmt: skip
    """Her questionnaires per time point, and the form of one (``?instrument=&timepoint=``)."""
    return _page(request, viewer, sessions, study_id, instrument=instrument, timepoint=timepoint,
                 values={}, errors={})  # fmt: skip


@router.post("/participants/{study_id}/questionnaires")
def questionnaire_submit(
    request: Request, study_id: StudyId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep, instrument: InstrumentQuery = None,
    timepoint: TimepointQuery = None,
) -> Response:  # fmt: skip
    """Record one instrument's answers at a time point."""
    forms = questionnaire_forms(sessions, viewer.actor, study_id)
    chosen = _chosen(forms, instrument, timepoint)
    if chosen is None or timepoint is None:
        raise NotFound("choose a questionnaire and a time point")
    reader = FormReader(form)
    completed = reader.day("completed_on", required=True)
    answers = {item.name: _read_answer(reader, item) for item in chosen.items}
    problem, status = None, 422
    if not reader.errors and all(value is None for value in answers.values()):
        problem = catalogue_for(request).text("qnr.no_answer")
    elif not reader.errors:
        assert completed is not None
        try:
            record_questionnaire(sessions, viewer.actor, study_id, instrument=chosen.name,
                                 timepoint_months=timepoint, answers=answers,
                                 completed_on=completed)  # fmt: skip
        except (InvalidFields, InvalidInput, Conflict) as error:
            fields = ["completed_on", *(field_name(item) for item in chosen.items)]
            problem = place_refusal(reader, error, fields, catalogue_for(request))
            status = 409 if isinstance(error, Conflict) else 422
        else:
            return RedirectResponse(f"/participants/{study_id}/questionnaires?done=qnr_recorded",
                                    status_code=303)  # fmt: skip
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    return _page(request, viewer, sessions, study_id, instrument=instrument, timepoint=timepoint,
                 values=values, errors=reader.errors, problem=problem, status=status)  # fmt: skip
