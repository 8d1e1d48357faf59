"""Pages after randomisation: the risk-factor form (risk and plan at once), the standard arm's
plan, visit results and breast cancer outcomes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.services.errors import Conflict, InvalidFields, InvalidInput, LevelLowered
from pebs.services.field_rules import (
    AGE_AT_FIRST_BIRTH,
    AGE_AT_MENARCHE,
    BIRADS,
    DEFAULT_VISIT_TYPE,
    DENSITY_READER_CHARS,
    HISTOLOGY_DETAIL_CHARS,
    N_BIOPSIES,
    N_RELATIVES,
    PRS_Z,
    REASON_CHARS,
    TNM_CATEGORY_CHARS,
)
from pebs.services.records import participant_record
from pebs.services.trial import (
    NULLIPAROUS,
    OutcomeRecord,
    RiskFactors,
    VisitRecord,
    create_screening_plan,
    record_outcome,
    record_risk_assessment,
    record_visit,
)
from pebs.services.trial.risk_assessment import DENSITIES
from pebs.trial.vocabularies import (
    BEHAVIOURS,
    DETECTION_MODES,
    HISTOLOGIES,
    MODALITIES,
    VISIT_TYPES,
)
from pebs.web.forms import UNKNOWN, FieldError, FormReader, place_refusal
from pebs.web.rendering import catalogue_for, render
from pebs.web.routes._params import StudyId
from pebs.web.viewer import PostedForm, ViewerDep

router = APIRouter(include_in_schema=False)

_RISK_FIELDS = ("n_biopsies", "atypical_hyperplasia", "age_at_menarche", "age_at_first_birth",
                "n_relatives", "density", "prs_z", "last_screen", "reason",
                "confirm_lower")  # fmt: skip
_WITH_UNKNOWN_BOX = ("n_biopsies", "age_at_menarche", "age_at_first_birth", "n_relatives", "prs_z")
_FORM_VALUES = (*_RISK_FIELDS, "nulliparous", *(f"{n}_unknown" for n in _WITH_UNKNOWN_BOX))
"""Posted values shown again when the form is refused (the boxes ticked stay ticked)."""
_VISIT_FIELDS = ("performed_date", "birads", "recall", "biopsy", "histology", "histology_detail",
                 "modality", "visit_type", "density", "density_reader")  # fmt: skip
_OUTCOME_FIELDS = ("diagnosis_date", "detection_mode", "behaviour", "t", "n", "m")


def _see(study_id: str, done: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/participants/{study_id}?done={done}{anchor}", status_code=303)


def _form_page(request, viewer, sessions, study_id, template, *, values, errors,
               problem=None, status=200, **extra):  # fmt: skip
    record = participant_record(sessions, viewer.actor, study_id)
    return render(request, template, viewer=viewer, p=record, values=values, errors=errors,
                  problem=problem, status=status, **extra)  # fmt: skip


@router.get("/participants/{study_id}/risk")
def risk_page(request: Request, study_id: StudyId, viewer: ViewerDep, sessions: SessionMakerDep):
    """The risk-factor form (risk-based arm)."""
    return _risk_form(request, viewer, sessions, study_id, values={}, errors={})


def _risk_form(request, viewer, sessions, study_id, *, values, errors, problem=None,
               status=200, lowered=None):  # fmt: skip
    return _form_page(request, viewer, sessions, study_id, "risk.html", values=values,
                      errors=errors, problem=problem, status=status, densities=DENSITIES,
                      lowered=lowered)  # fmt: skip


def read_risk_factors(reader: FormReader) -> RiskFactors:
    """Each input: a value, "unknown" (its box ticked) or ``None`` (left empty: absent); the
    risk-factor form's and the risk questionnaire's."""
    birth = reader.or_unknown(
        "age_at_first_birth", reader.integer("age_at_first_birth", *AGE_AT_FIRST_BIRTH)
    )
    if reader.flag("nulliparous"):
        if birth is not None:
            reader.errors.setdefault("age_at_first_birth", FieldError("error.birth_or_nulliparous"))
        birth = NULLIPAROUS
    return RiskFactors(
        n_biopsies=reader.or_unknown("n_biopsies", reader.integer("n_biopsies", *N_BIOPSIES)),
        atypical_hyperplasia=reader.answer_or_unknown("atypical_hyperplasia"),
        age_at_menarche=reader.or_unknown("age_at_menarche",
                                          reader.integer("age_at_menarche", *AGE_AT_MENARCHE)),
        age_at_first_birth=birth,
        n_relatives=reader.or_unknown("n_relatives",
                                      reader.integer("n_relatives", *N_RELATIVES)),
        density=reader.choice("density", (*DENSITIES, UNKNOWN)),
        prs_z=reader.or_unknown("prs_z", reader.number("prs_z", *PRS_Z)),
    )  # fmt: skip


def place_risk_refusals(reader: FormReader, error: InvalidFields) -> str | None:
    """Each refused input's message next to its field; what names no field, for the page."""
    rest = []
    for name, message in error.fields.items():
        if name not in _RISK_FIELDS:
            rest.append(f"{name}: {message}")
        elif name in error.absent:
            reader.errors.setdefault(name, FieldError("error.risk_required"))
        elif error.message_code is not None:  # one message for every field it names
            reader.errors.setdefault(name, FieldError(error.message_code, error.values))
        else:
            reader.errors.setdefault(name, FieldError("error.service", {"message": message}))
    return "; ".join(rest) or None


@router.post("/participants/{study_id}/risk")
def risk_submit(
    request: Request, study_id: StudyId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep, keys: KeysDep,
) -> Response:  # fmt: skip
    """Assess her risk and give her the plan for her level (a lower level: confirm first)."""
    reader = FormReader(form)
    factors = read_risk_factors(reader)
    last_screen = reader.day("last_screen")
    confirm_lower = reader.flag("confirm_lower")
    reason = reader.text("reason", max_length=REASON_CHARS)
    problem, lowered, status = None, None, 422
    if not reader.errors:
        try:
            record_risk_assessment(sessions, viewer.actor, keys, study_id, factors,
                                   last_screen=last_screen, confirm_lower=confirm_lower,
                                   reason=reason)  # fmt: skip
        except LevelLowered as error:
            lowered, status = {"previous": error.previous_level, "new": error.new_level}, 409
            if "confirm_lower" in form and not confirm_lower:
                reader.errors["confirm_lower"] = FieldError("error.confirm")
            if confirm_lower and reason is None:
                reader.errors["reason"] = FieldError("error.required")
        except InvalidFields as error:
            problem = place_risk_refusals(reader, error)
        except (InvalidInput, Conflict) as error:
            problem = place_refusal(reader, error, _RISK_FIELDS, catalogue_for(request))
        else:
            return _see(study_id, "risk", "#risk")
    values = {k: form.get(k, "") for k in _FORM_VALUES}
    return _risk_form(request, viewer, sessions, study_id, values=values, errors=reader.errors,
                      problem=problem, status=status, lowered=lowered)  # fmt: skip


@router.post("/participants/{study_id}/plan")
def plan_submit(
    request: Request, study_id: StudyId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep, keys: KeysDep,
) -> Response:  # fmt: skip
    """Plan her screening under her arm's policy (standard arm: her country's programme)."""
    reader = FormReader(form)
    last_screen = reader.day("last_screen")
    if reader.errors:
        raise InvalidInput("give a date as YYYY-MM-DD", field="last_screen",
                           message_code="error.date")  # fmt: skip
    create_screening_plan(sessions, viewer.actor, keys, study_id, last_screen=last_screen)
    return _see(study_id, "plan", "#plan")


def _visit_page(request, viewer, sessions, study_id, visit, *, values, errors, problem=None,
                status=200):  # fmt: skip
    return _form_page(request, viewer, sessions, study_id, "visit.html", values=values,
                      errors=errors, problem=problem, status=status, visit_id=visit,
                      histologies=HISTOLOGIES, modalities=MODALITIES,
                      visit_types=VISIT_TYPES, densities=DENSITIES,
                      density_reader_chars=DENSITY_READER_CHARS)  # fmt: skip


VisitQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


@router.get("/participants/{study_id}/visit")
def visit_page(request: Request, study_id: StudyId, viewer: ViewerDep, sessions: SessionMakerDep,
               visit: VisitQuery = None):  # fmt: skip
    """Record the results of a planned visit (``?visit=<id>``) or an unplanned one."""
    return _visit_page(request, viewer, sessions, study_id, visit, values={}, errors={})


@router.post("/participants/{study_id}/visit")
def visit_submit(
    request: Request, study_id: StudyId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep, keys: KeysDep, visit: VisitQuery = None,
) -> Response:  # fmt: skip
    """Record the visit's results (a density: her risk and plan if her data is now complete)."""
    reader = FormReader(form)
    performed = reader.day("performed_date", required=True)
    birads = reader.integer("birads", *BIRADS)
    recall, biopsy = reader.answer("recall"), reader.answer("biopsy")
    histology = reader.choice("histology", HISTOLOGIES)
    detail = reader.text("histology_detail", max_length=HISTOLOGY_DETAIL_CHARS)
    modality = reader.choice("modality", MODALITIES) if visit is None else None
    visit_type = reader.choice("visit_type", VISIT_TYPES) if visit is None else None
    density = reader.choice("density", DENSITIES)
    density_reader = reader.text("density_reader", max_length=DENSITY_READER_CHARS)
    problem = None
    if not reader.errors:
        assert performed is not None
        record = VisitRecord(performed, birads, recall, biopsy, histology, detail, modality,
                             visit_type or DEFAULT_VISIT_TYPE, density, density_reader)  # fmt: skip
        try:
            record_visit(sessions, viewer.actor, study_id, record, visit_id=visit, keys=keys)
        except (InvalidInput, Conflict) as error:
            problem = place_refusal(reader, error, _VISIT_FIELDS, catalogue_for(request))
        else:
            return _see(study_id, "visit", "#visits")
    values = {k: form.get(k, "") for k in _VISIT_FIELDS}
    return _visit_page(request, viewer, sessions, study_id, visit, values=values,
                       errors=reader.errors, problem=problem, status=422)  # fmt: skip


def _outcome_page(request, viewer, sessions, study_id, **kwargs):
    return _form_page(
        request,
        viewer,
        sessions,
        study_id,
        "outcome.html",
        detection_modes=DETECTION_MODES,
        behaviours=BEHAVIOURS,
        **kwargs,
    )


@router.get("/participants/{study_id}/outcome")
def outcome_page(request: Request, study_id: StudyId, viewer: ViewerDep,
                 sessions: SessionMakerDep):  # fmt: skip
    """The breast cancer outcome form (TNM -> AJCC 8th stage group)."""
    return _outcome_page(request, viewer, sessions, study_id, values={}, errors={})


@router.post("/participants/{study_id}/outcome")
def outcome_submit(
    request: Request, study_id: StudyId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep,
) -> Response:  # fmt: skip
    """Record the diagnosis."""
    reader = FormReader(form)
    diagnosed = reader.day("diagnosis_date", required=True)
    mode = reader.choice("detection_mode", DETECTION_MODES, required=True)
    behaviour = reader.choice("behaviour", BEHAVIOURS, required=True)
    t, n, m = (reader.text(k, max_length=TNM_CATEGORY_CHARS) for k in ("t", "n", "m"))
    problem = None
    if not reader.errors:
        assert diagnosed is not None
        assert mode is not None
        assert behaviour is not None
        try:
            record_outcome(sessions, viewer.actor, study_id,
                           OutcomeRecord(diagnosed, mode, behaviour, t, n, m))  # fmt: skip
        except (InvalidInput, Conflict) as error:
            problem = place_refusal(reader, error, _OUTCOME_FIELDS, catalogue_for(request))
        else:
            return _see(study_id, "outcome", "#outcomes")
    values = {k: form.get(k, "") for k in _OUTCOME_FIELDS}
    return _outcome_page(request, viewer, sessions, study_id, values=values,
                         errors=reader.errors, problem=problem, status=422)  # fmt: skip
