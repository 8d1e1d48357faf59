"""The FHIR R4 export writer, read back with an independent library's models (fhir.resources,
its R4B package) and checked against the casebooks given, built here by hand.

Expected codes are those of the FHIR R4 specification's required value sets (the status of each
resource, Consent scope) and of the published terminologies the export documentation cites
(docs/trial/interchange.md); expected values are the casebook values given.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from urllib.parse import quote

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from pebs.io.exports.fhir import FHIR
from pebs.trial.casebook import Casebook, CasebookStudy, FormInstance, StudySite

AT = datetime(2025, 3, 4, 10, 11, 12, 123456, tzinfo=UTC)
AT_TEXT = "2025-03-04T10:11:12.123456Z"
SITES = (StudySite("IT-TO", "Torino", "IT"), StudySite("IT-MI", "Milano", "IT"))
STUDY = CasebookStudy("mypebs-demo", "MyPeBS demo", ("standard", "risk-based"), SITES)
RISK = 0.1 + 0.2  # 0.30000000000000004: no short decimal form

FOLLOWED = Casebook("IT-TO-000001", "IT-TO", "IT", False, (
    FormInstance("registration", None, {"site": "IT-TO", "age_at_entry": 52, "age_band": "50-59",
                                        "language": "it", "registered_at": AT}),
    FormInstance("eligibility", 11, {"protocol_version": "1.0", "result": "eligible",
                                     "assessed_at": AT}),
    FormInstance("consent", 12, {"consent_version": "IT/it 1.0", "consented_at": AT}),
    FormInstance("allocation", None, {"arm": "risk-based", "method": "list",
                                      "stratum": "IT-TO:50-59", "allocated_at": AT}),
    FormInstance("risk_factors", None, {"density": "c", "prs_z": "1.5", "n_biopsies": "1"}),
    FormInstance("risk_assessment", 13, {"model": "gail", "model_version": "4.0",
                                         "risk_5y": 0.012, "level": "average",
                                         "assessed_at": datetime(2025, 1, 2, tzinfo=UTC)}),
    FormInstance("risk_assessment", 14, {"model": "pebs-personalised", "model_version": "1.2",
                                         "risk_5y": RISK, "level": "high", "assessed_at": AT}),
    FormInstance("screening_plan", 15, {"arm": "risk-based", "policy": "risk-based-high",
                                        "start_date": date(2025, 3, 4),
                                        "end_date": date(2029, 3, 3)}),
    FormInstance("visit", 16, {"visit_type": "screening", "modality": "mammography",
                               "due_date": date(2025, 4, 1), "performed_date": date(2025, 4, 2),
                               "birads": 4, "recall": True, "biopsy": True,
                               "histology": "invasive", "density": "d"}),
    FormInstance("visit", 17, {"visit_type": "screening", "modality": "mri",
                               "due_date": date(2026, 4, 1)}),
    FormInstance("outcome", 18, {"diagnosis_date": date(2025, 4, 20),
                                 "detection_mode": "screen_detected", "behaviour": "invasive",
                                 "t_category": "pT1c", "n_category": "pN0", "m_category": "cM0",
                                 "stage_group": "IA"}),
))  # fmt: skip
"""A randomised woman with two risk assessments, a plan, an exam performed (findings), an exam
due and a cancer."""

WITHDRAWN = Casebook("IT-TO-000002", "IT-TO", "IT", True, (
    FormInstance("registration", None, {"site": "IT-TO", "language": "fr", "registered_at": AT}),
))  # fmt: skip
CONSENT_WITHDRAWN = Casebook("IT-MI-000003", "IT-MI", "IT", False, (
    FormInstance("registration", None, {"site": "IT-MI", "registered_at": AT}),
    FormInstance("consent", 21, {"consent_version": "IT/it 1.0", "consented_at": AT,
                                 "withdrawal_level": "no_further_contact",
                                 "withdrawn_at": datetime(2025, 6, 1, 8, tzinfo=UTC)}),
))  # fmt: skip

R4_STATUS = {
    "ResearchStudy": {"active", "administratively-completed", "approved", "closed-to-accrual",
                      "closed-to-accrual-and-intervention", "completed", "disapproved",
                      "in-review", "temporarily-closed-to-accrual",
                      "temporarily-closed-to-accrual-and-intervention", "withdrawn"},
    "ResearchSubject": {"candidate", "eligible", "follow-up", "ineligible", "not-registered",
                        "off-study", "on-study", "on-study-intervention", "on-study-observation",
                        "pending-on-study", "potential-candidate", "screening", "withdrawn"},
    "Consent": {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"},
    "RiskAssessment": {"registered", "preliminary", "final", "amended", "corrected",
                       "cancelled", "entered-in-error", "unknown"},
    "Observation": {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                    "entered-in-error", "unknown"},
    "CarePlan": {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error",
                 "unknown"},
    "ServiceRequest": {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error",
                       "unknown"},
    "Procedure": {"preparation", "in-progress", "not-done", "on-hold", "stopped", "completed",
                  "entered-in-error", "unknown"},
}  # fmt: skip
"""The codes of each resource's required ``status`` binding (FHIR R4, 4.0.1)."""
R4_INTENT = {"proposal", "plan", "directive", "order", "original-order", "reflex-order",
             "filler-order", "instance-order", "option"}  # fmt: skip
"""ServiceRequest.intent (request-intent); CarePlan.intent (care-plan-intent) is a subset
holding ``plan``."""


def _bundle(*pages: list[Casebook]) -> dict:
    return json.loads(b"".join(FHIR.chunks(STUDY, list(pages))))


def _by_type(bundle: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for entry in bundle["entry"]:
        found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return found


def _resolve(bundle: dict, reference: dict) -> dict:
    (resource,) = [e["resource"] for e in bundle["entry"] if e["fullUrl"] == reference["reference"]]
    return resource


def _references(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node["reference"]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _coded(concept: dict, system_suffix: str) -> str:
    (code,) = [c["code"] for c in concept["coding"] if c["system"].endswith(system_suffix)]
    return code


def _patients_resources(bundle: dict, study_id: str) -> list[dict]:
    (patient,) = [r for r in _by_type(bundle)["Patient"]
                  if r["identifier"][0]["value"] == study_id]  # fmt: skip
    url = f"urn:uuid:{patient['id']}"
    return [e["resource"] for e in bundle["entry"]
            if url in _references(e["resource"]) or e["fullUrl"] == url]  # fmt: skip


def test_every_resource_parses_with_the_r4b_models() -> None:
    data = b"".join(FHIR.chunks(STUDY, [[FOLLOWED, WITHDRAWN], [CONSENT_WITHDRAWN]]))
    bundle = Bundle.model_validate_json(data)
    assert bundle.type == "collection"
    document = json.loads(data)
    for entry in document["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
        assert uuid.UUID(resource["id"]).version == 5
    assert len({e["fullUrl"] for e in document["entry"]}) == len(document["entry"])
    for resource in (e["resource"] for e in document["entry"]):
        if resource["resourceType"] in R4_STATUS:
            assert resource["status"] in R4_STATUS[resource["resourceType"]], resource
        if "intent" in resource:
            assert resource["intent"] in R4_INTENT


def test_every_reference_resolves_within_the_bundle() -> None:
    bundle = _bundle([FOLLOWED, WITHDRAWN, CONSENT_WITHDRAWN])
    urls = {entry["fullUrl"] for entry in bundle["entry"]}
    references = set(_references(bundle))
    assert len(references) > 10
    assert references <= urls


def test_the_study_its_sites_and_a_pseudonymous_patient() -> None:
    bundle = _bundle([FOLLOWED])
    found = _by_type(bundle)
    (study,) = found["ResearchStudy"]
    assert study["title"] == "MyPeBS demo"
    assert [arm["name"] for arm in study["arm"]] == ["standard", "risk-based"]
    assert study["identifier"][0]["value"] == "mypebs-demo"
    assert sorted(_resolve(bundle, s)["identifier"][0]["value"] for s in study["site"]) == [
        "IT-MI", "IT-TO"]  # fmt: skip
    (patient,) = found["Patient"]
    assert patient["identifier"][0]["value"] == "IT-TO-000001"
    assert patient["identifier"][0]["system"].endswith("/study/mypebs-demo/study-id")
    assert {"name", "birthDate", "address", "telecom"}.isdisjoint(patient)
    assert patient["communication"][0]["language"]["coding"][0] == {
        "system": "urn:ietf:bcp:47", "code": "it"}  # fmt: skip
    (subject,) = found["ResearchSubject"]
    assert (subject["status"], subject["assignedArm"], subject["actualArm"]) == (
        "on-study", "risk-based", "risk-based")  # fmt: skip
    assert _resolve(bundle, subject["study"]) is study
    assert _resolve(bundle, subject["individual"]) is patient
    assert subject["period"] == {"start": AT_TEXT}
    site = _resolve(bundle, subject["extension"][0]["valueReference"])
    assert site["identifier"][0]["value"] == "IT-TO"
    assert _resolve(bundle, subject["consent"])["dateTime"] == AT_TEXT


def test_consent_is_active_then_inactive_after_withdrawal() -> None:
    bundle = _bundle([FOLLOWED, CONSENT_WITHDRAWN])
    active, withdrawn = _by_type(bundle)["Consent"]
    assert (active["status"], withdrawn["status"]) == ("active", "inactive")
    assert active["policy"][0]["uri"].endswith("/consent-document/" + quote("IT/it 1.0", safe=""))
    assert active["scope"]["coding"][0]["code"] == "research"
    loinc = {"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}
    assert active["category"][0]["coding"][0] == loinc
    assert withdrawn["provision"]["type"] == "deny"
    assert withdrawn["provision"]["period"] == {"start": "2025-06-01T08:00:00.000000Z"}
    assert _coded(withdrawn["provision"]["code"][0], "withdrawal-level") == "no_further_contact"
    statuses = [subject["status"] for subject in _by_type(bundle)["ResearchSubject"]]
    assert statuses == ["on-study", "withdrawn"]


def test_risk_assessments_with_the_observations_they_used() -> None:
    bundle = _bundle([FOLLOWED])
    first, latest = _by_type(bundle)["RiskAssessment"]
    (prediction,) = latest["prediction"]
    assert prediction["probabilityDecimal"] == RISK  # exact: the same float read back
    assert first["prediction"][0]["probabilityDecimal"] == 0.012
    assert prediction["whenRange"]["low"]["value"] == 0
    assert prediction["whenRange"]["high"] == {"value": 5, "system": "http://unitsofmeasure.org",
                                               "code": "a", "unit": "years"}  # fmt: skip
    assert _coded(prediction["qualitativeRisk"], "risk-level") == "high"
    assert latest["method"]["coding"][0]["code"] == "pebs-personalised"
    assert latest["method"]["coding"][0]["version"] == "1.2"
    assert (latest["status"], latest["occurrenceDateTime"]) == ("final", AT_TEXT)
    assert "basis" not in first  # the risk factors are the latest assessment's inputs
    density, prs = (_resolve(bundle, reference) for reference in latest["basis"])
    assert _coded(density["code"], "observation") == "breast-density"
    assert {"system": "http://snomed.info/sct", "code": "129718006",
            "display": "Heterogeneously dense breast composition"} in density[
        "valueCodeableConcept"]["coding"]  # fmt: skip
    assert _coded(prs["code"], "observation") == "prs-z"
    assert prs["valueQuantity"]["value"] == 1.5
    assert density["effectiveDateTime"] == prs["effectiveDateTime"] == AT_TEXT


def test_the_plan_its_exams_and_the_findings_of_an_exam_performed() -> None:
    bundle = _bundle([FOLLOWED])
    found = _by_type(bundle)
    (plan,) = found["CarePlan"]
    assert (plan["status"], plan["intent"], plan["title"]) == ("active", "plan", "risk-based-high")
    assert plan["period"] == {"start": "2025-03-04", "end": "2029-03-03"}
    performed_request, due = (_resolve(bundle, a["reference"]) for a in plan["activity"])
    assert (performed_request["status"], performed_request["occurrenceDateTime"]) == (
        "completed", "2025-04-01")  # fmt: skip
    assert (due["status"], due["occurrenceDateTime"]) == ("active", "2026-04-01")
    assert _coded(due["code"], "modality") == "mri"
    assert _resolve(bundle, due["basedOn"][0]) is plan
    (procedure,) = found["Procedure"]
    assert (procedure["status"], procedure["performedDateTime"]) == ("completed", "2025-04-02")
    assert _resolve(bundle, procedure["basedOn"][0]) is performed_request
    findings = {_coded(o["code"], "observation"): o for o in found["Observation"]
                if "partOf" in o}  # fmt: skip
    assert all(_resolve(bundle, o["partOf"][0]) is procedure for o in findings.values())
    assert findings["birads-assessment"]["valueInteger"] == 4
    assert findings["recall"]["valueBoolean"] is True
    assert findings["biopsy"]["valueBoolean"] is True
    assert _coded(findings["histology"]["valueCodeableConcept"], "histology") == "invasive"
    assert _coded(findings["breast-density"]["valueCodeableConcept"], "sct") == "129719003"


def test_a_diagnosis_is_a_condition_with_its_stage() -> None:
    (condition,) = _by_type(_bundle([FOLLOWED]))["Condition"]
    codes = {(c["system"], c["code"]) for c in condition["code"]["coding"]}
    assert codes == {("http://snomed.info/sct", "372137005"),
                     ("http://hl7.org/fhir/sid/icd-10", "C50.9")}  # fmt: skip
    assert condition["onsetDateTime"] == "2025-04-20"
    group, tnm = condition["stage"]
    assert _coded(group["summary"], "ajcc-stage-group") == "IA"
    assert tnm["summary"]["text"] == "pT1c pN0 cM0"
    assert _coded(condition["category"][0], "detection-mode") == "screen_detected"


def test_a_woman_who_withdrew_her_data_use_is_her_patient_and_subject_only() -> None:
    bundle = _bundle([FOLLOWED, WITHDRAWN])
    hers = _patients_resources(bundle, "IT-TO-000002")
    assert sorted(r["resourceType"] for r in hers) == ["Patient", "ResearchSubject"]
    (subject,) = [r for r in hers if r["resourceType"] == "ResearchSubject"]
    assert subject["status"] == "withdrawn"
    assert "assignedArm" not in subject


def test_the_same_data_gives_the_same_bundle() -> None:
    once = b"".join(FHIR.chunks(STUDY, [[FOLLOWED, WITHDRAWN]]))
    again = b"".join(FHIR.chunks(STUDY, [[FOLLOWED], [WITHDRAWN]]))
    assert once == again
    other = CasebookStudy("other-study", STUDY.title, STUDY.arms, STUDY.sites)
    ids = {e["fullUrl"] for e in json.loads(once)["entry"]}
    assert ids.isdisjoint(e["fullUrl"] for e in json.loads(
        b"".join(FHIR.chunks(other, [[FOLLOWED]])))["entry"])  # fmt: skip


def test_the_bundle_is_streamed_page_by_page() -> None:
    read: list[int] = []

    def pages() -> Iterator[list[Casebook]]:
        for number, book in enumerate((FOLLOWED, WITHDRAWN)):
            read.append(number)
            yield [book]

    chunks = FHIR.chunks(STUDY, pages())
    opening = next(chunks)
    assert read == []
    assert opening.startswith(b'{"resourceType":"Bundle","type":"collection","entry":[')
    assert b"IT-TO-000001" in next(chunks)
    assert read == [0]
    rest = list(chunks)
    assert rest[-1] == b"]}"
    chunks.close()


@pytest.mark.parametrize("pages", [[], [[]], [[], []]])
def test_a_bundle_without_women_is_the_study_alone(pages) -> None:
    bundle = _bundle(*pages)
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == [
        "ResearchStudy", "Location", "Location"]  # fmt: skip
    Bundle.model_validate(bundle)
    assert (FHIR.name, FHIR.media_type, FHIR.extension) == ("fhir", "application/fhir+json",
                                                           "json")  # fmt: skip
