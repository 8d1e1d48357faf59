"""The enumerated fields of the OpenAPI schema: one table, values taken from where they are defined.

The services check these values (with messages that name the field and list the allowed values)
and the response models carry them as plain strings; :func:`document_vocabularies` writes each
vocabulary into the generated schema as an ``enum``, so that a client sees exactly what it may
send and what it gets back. A table entry that names no field of the schema is an error: a
renamed field cannot leave its vocabulary behind unnoticed.
"""

from __future__ import annotations

from typing import Any

from pebs.io.exports import FORMATS
from pebs.services.letters import FORMATS as LETTER_FORMATS
from pebs.services.trial.dashboards import GROUPINGS, PERIODS
from pebs.trial import ARM_EVENTS
from pebs.trial.samples import SAMPLE_STATES
from pebs.trial.vocabularies import (
    ALLOCATION_METHODS,
    BEHAVIOURS,
    CONSULTATION_MODES,
    DEATH_CAUSES,
    DETECTION_MODES,
    ELIGIBILITY_RESULTS,
    HISTOLOGIES,
    LANGUAGES,
    LETTER_KINDS,
    LETTER_RECIPIENTS,
    MODALITIES,
    PARTICIPANT_STATES,
    QUESTIONNAIRE_TIMEPOINTS,
    RISK_LEVELS,
    ROLES,
    STAGE_GROUPS,
    VISIT_TYPES,
    WITHDRAWAL_LEVELS,
)

__all__ = ["ARMS", "FIELDS", "PARAMETERS", "document_vocabularies"]

ARMS: tuple[str, ...] = tuple(ARM_EVENTS)
"""The arms of the pathway (a study's arms are named among them)."""

VIA = ("session", "token")
"""How a caller is authenticated (:class:`pebs.services.auth.Principal`)."""
NEXT_STEPS = ("totp", "enrol_totp")
"""What a logged-in caller must do before anything else (``/auth/me``)."""

_STATE = {"pathway_state": PARTICIPANT_STATES}
_KIT_STATE = {"state": SAMPLE_STATES}

FIELDS: dict[str, dict[str, tuple[str | int | bool, ...]]] = {
    "Allocated": {"arm": ARMS, "method": ALLOCATION_METHODS},
    "ArmFlow": {"arm": ARMS},
    "ConfirmedIn": {"confirm": (True,)},
    "ConsultationIn": {"mode": CONSULTATION_MODES},
    "ConsultationView": {"mode": CONSULTATION_MODES},
    "DueLetter": {"kind": LETTER_KINDS, "language": LANGUAGES},
    "IssuedLetterView": {
        "kind": LETTER_KINDS,
        "recipient": LETTER_RECIPIENTS,
        "language": LANGUAGES,
    },
    "LanguageIn": {"language": LANGUAGES},
    "LanguageSet": {"previous": LANGUAGES, "language": LANGUAGES},
    "LetterIn": {
        "kind": LETTER_KINDS,
        "recipient": LETTER_RECIPIENTS,
        "language": LANGUAGES,
        "format": LETTER_FORMATS,
    },  # an override is confirmed explicitly
    "ConsentRecorded": _STATE,
    "DeathIn": {"cause": DEATH_CAUSES},
    "DeathRecorded": {"cause": DEATH_CAUSES, **_STATE},
    "EligibilityOutcome": {"status": ELIGIBILITY_RESULTS, **_STATE},
    "ErrorBody": {"previous_level": RISK_LEVELS, "new_level": RISK_LEVELS},
    "KitAssigned": _KIT_STATE,
    "KitMoved": {"previous_state": SAMPLE_STATES, **_KIT_STATE},
    "KitView": _KIT_STATE,
    "KitWorklistEntry": _KIT_STATE,
    "Me": {"role": ROLES, "via": VIA, "next_step": NEXT_STEPS},
    "OutcomeIn": {"detection_mode": DETECTION_MODES, "behaviour": BEHAVIOURS},
    "OutcomeRecorded": {
        "detection_mode": DETECTION_MODES,
        "behaviour": BEHAVIOURS,
        "stage_group": STAGE_GROUPS,
    },
    "OverrideIn": {"arm": ARMS, "confirm": (True,)},
    "ParticipantKit": _KIT_STATE,
    "ParticipantRow": {"status": PARTICIPANT_STATES, "arm": ARMS},
    "ParticipantSummary": {"status": PARTICIPANT_STATES, "arm": ARMS, "language": LANGUAGES},
    "PlanCreated": {"arm": ARMS, **_STATE},
    "PlannedExamView": {"modality": MODALITIES},
    "QuestionnaireIn": {"timepoint_months": QUESTIONNAIRE_TIMEPOINTS},
    "QuestionnaireRecorded": {"timepoint_months": QUESTIONNAIRE_TIMEPOINTS},
    "Recruitment": {"by": GROUPINGS, "period": PERIODS},
    "Recollection": {"failed_state": SAMPLE_STATES},
    "RegisterIn": {"language": LANGUAGES},
    "Registered": {"language": LANGUAGES},
    "RiskLevels": {"arm": ARMS, "levels": RISK_LEVELS},
    "RiskRecorded": {"level": RISK_LEVELS, "previous_level": RISK_LEVELS, **_STATE},
    "ShipmentKit": _KIT_STATE,
    "UnchangedKit": _KIT_STATE,
    "VisitIn": {"modality": MODALITIES, "visit_type": VISIT_TYPES, "histology": HISTOLOGIES},
    "VisitRecorded": {"modality": MODALITIES, "visit_type": VISIT_TYPES, **_STATE},
    "Withdrawal": {"level": tuple(WITHDRAWAL_LEVELS), **_STATE},
    "WithdrawalIn": {"level": tuple(WITHDRAWAL_LEVELS)},
    "WorklistEntry": {"modality": MODALITIES, "visit_type": VISIT_TYPES},
}
"""Schema (component) name -> property -> its allowed values."""

PARAMETERS: dict[str, dict[str, tuple[str | int, ...]]] = {
    "GET /api/v1/participants": {"status": PARTICIPANT_STATES, "arm": ARMS},
    "GET /api/v1/dashboards/recruitment": {"by": GROUPINGS, "period": PERIODS},
    "GET /api/v1/exports/participants.{format}": {"format": FORMATS},
}
"""Operation -> query or path parameter -> its allowed values."""


def _enumerate(schema: dict[str, Any], values: tuple[str | int | bool, ...], where: str) -> None:
    """Put ``values`` on the non-null branch(es) of ``schema`` (on its items for an array)."""
    if "anyOf" in schema:
        branches = [b for b in schema["anyOf"] if b.get("type") != "null"]
        literal = [b for b in branches if "const" in b or "enum" in b]
        for branch in branches:
            if branch not in literal:
                _enumerate(branch, values, where)
        return
    if schema.get("type") == "array":
        _enumerate(schema["items"], values, where)
        return
    kinds = {type(v) for v in values}
    expected = {"string": {str}, "integer": {int}, "boolean": {bool}}.get(schema.get("type", ""))
    if expected is None or not kinds <= expected:
        raise ValueError(f"{where}: a vocabulary of {kinds} cannot describe {schema}")
    schema["enum"] = list(values)


def document_vocabularies(openapi: dict[str, Any]) -> None:
    """Write :data:`FIELDS` and :data:`PARAMETERS` into ``openapi`` (in place)."""
    schemas = openapi["components"]["schemas"]
    for name, fields in FIELDS.items():
        for field, values in fields.items():
            where = f"{name}.{field}"
            if field not in schemas.get(name, {}).get("properties", {}):
                raise ValueError(f"{where}: no such field in the schema")
            _enumerate(schemas[name]["properties"][field], values, where)
    for operation, parameters in PARAMETERS.items():
        method, path = operation.split(" ", 1)
        declared = {
            p["name"]: p
            for p in openapi["paths"].get(path, {}).get(method.lower(), {}).get("parameters", [])
        }
        for name, values in parameters.items():
            if name not in declared:
                raise ValueError(f"{operation}: no parameter {name!r}")
            _enumerate(declared[name]["schema"], values, f"{operation} {name}")
