"""The FHIR export of the participant export service: the casebooks in the caller's scope as one
Bundle, audited like every export; values compared with the rows stored, read back here."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from pebs.services.errors import InvalidInput
from pebs.services.trial import (
    RiskFactors,
    VisitRecord,
    record_risk_assessment,
    record_visit,
    withdraw,
)
from pebs.services.trial.exports import ExportSummary, export_participants
from pebs.store.models import AuditEvent, Participant, RiskAssessment

FACTORS = RiskFactors(n_biopsies=1, atypical_hyperplasia=False, age_at_menarche=12,
                      age_at_first_birth="nulliparous", n_relatives=1, density="c",
                      prs_z=0.1 + 0.2)  # fmt: skip


def _resources(data: bytes, resource_type: str) -> list[dict]:
    return [e["resource"] for e in json.loads(data)["entry"]
            if e["resource"]["resourceType"] == resource_type]  # fmt: skip


def _study_id(resource: dict, data: bytes) -> str:
    """The study ID of the woman a resource is about."""
    patients = {f"urn:uuid:{p['id']}": p["identifier"][0]["value"]
                for p in _resources(data, "Patient")}  # fmt: skip
    reference = resource.get("subject") or resource.get("individual") or resource["patient"]
    return patients[reference["reference"]]


def test_the_fhir_bundle_holds_the_stored_casebooks_in_scope_and_is_audited(trial) -> None:
    manager = trial.actor("data_manager")
    followed = trial.allocated("risk-based")
    record_risk_assessment(trial.sessions, manager, trial.keys, followed, FACTORS)
    performed = trial.TODAY + timedelta(days=3)
    record_visit(trial.sessions, manager, followed, VisitRecord(
        performed, modality="mammography", visit_type="screening", birads=2, recall=False,
        density="d", density_reader="Dr Reader"), keys=trial.keys)  # fmt: skip
    gone = trial.allocated("standard")
    withdraw(trial.sessions, manager, gone, level="withdraw_data_use", reason="asked",
             at=trial.AT)  # fmt: skip
    registered = trial.register()
    trial.allocated("standard", "FR-PA")  # not in her site's scope

    export = export_participants(trial.sessions, trial.staff, trial.STUDY, format="fhir",
                                 chunk_rows=2)  # fmt: skip
    assert (export.media_type, export.extension) == ("application/fhir+json", "json")
    data = b"".join(export.chunks)
    Bundle.model_validate_json(data)
    patients = sorted(p["identifier"][0]["value"] for p in _resources(data, "Patient"))
    assert patients == sorted([followed, gone, registered])
    subjects = {_study_id(s, data): s for s in _resources(data, "ResearchSubject")}
    assert subjects[followed]["status"] == "on-study"
    assert subjects[followed]["assignedArm"] == "risk-based"
    assert subjects[gone]["status"] == "withdrawn"
    assert "assignedArm" not in subjects[gone]
    assert subjects[registered]["status"] == "candidate"
    assert {_study_id(r, data) for r in _resources(data, "Consent")} == {followed}

    with trial.sessions() as session:
        stored = session.scalar(select(RiskAssessment).join(Participant).where(
            Participant.study_id == followed))  # fmt: skip
    (assessment,) = _resources(data, "RiskAssessment")
    assert assessment["prediction"][0]["probabilityDecimal"] == stored.outputs["risk_5y"]
    assert assessment["method"]["coding"][0]["code"] == stored.model_name
    assert assessment["method"]["coding"][0]["version"] == stored.model_version
    basis = {b["reference"] for b in assessment["basis"]}
    used = [o for o in _resources(data, "Observation") if f"urn:uuid:{o['id']}" in basis]
    values = {o["code"]["coding"][0]["code"]: o for o in used}
    assert values["prs-z"]["valueQuantity"]["value"] == 0.1 + 0.2
    assert values["breast-density"]["valueCodeableConcept"]["coding"][0]["code"] == "129718006"
    (procedure,) = _resources(data, "Procedure")
    assert procedure["performedDateTime"] == performed.isoformat()
    assert _study_id(procedure, data) == followed

    assert export.summary == ExportSummary(3, 1, "completed")
    with trial.sessions() as session:
        started, ended = session.scalars(select(AuditEvent).where(
            AuditEvent.entity == "participant_export").order_by(AuditEvent.id)).all()  # fmt: skip
    assert (started.action, started.new["format"]) == ("export", "fhir")
    assert ended.new == {"study": trial.STUDY, "n_rows": 3, "n_withheld": 1,
                         "status": "completed"}  # fmt: skip


def test_the_fhir_export_is_pseudonymised_only(trial) -> None:
    trial.register()
    before = trial.db.rows()
    with pytest.raises(InvalidInput, match="'fhir' is not a table format") as refused:
        export_participants(trial.sessions, trial.staff, trial.STUDY, format="fhir",
                            include_identity=True, keys=trial.keys)  # fmt: skip
    assert refused.value.field == "format"
    assert trial.db.rows() == before
