"""The FHIR R4 resources of a casebook: one function per resource, plain JSON-ready dicts.

Each function returns Bundle entries (``fullUrl`` and ``resource``). Identifiers and references
are built by :class:`_Ids`; codes by :func:`_pebs` (pebs's own code systems) and the published
systems named below. The mapping of every item is in ``docs/trial/interchange.md``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from pebs.trial.casebook import Casebook, CasebookStudy, FormInstance

__all__ = ["SYSTEM_BASE", "casebook_entries", "study_entries"]

SYSTEM_BASE = "https://pebs.example.org/fhir"
"""The root of pebs's own identifier systems, code systems and extensions. pebs publishes no
pages at these addresses: ``example.org`` is reserved (RFC 2606), so the URIs are stable and
clash with no one else's; their codes are the values documented in ``docs/trial/interchange.md``
(pebs's vocabularies, :mod:`pebs.trial.vocabularies`)."""

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
UCUM = "http://unitsofmeasure.org"
BCP47 = "urn:ietf:bcp:47"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, SYSTEM_BASE)
_SITE_EXTENSION = f"{SYSTEM_BASE}/StructureDefinition/research-subject-site"

BREAST_CANCER = {"system": SNOMED, "code": "372137005",
                 "display": "Primary malignant neoplasm of breast"}  # fmt: skip
"""SNOMED CT, as the HL7 ICHOM Breast Cancer implementation guide (STU1) codes a primary breast
cancer."""
DIAGNOSIS_CODES = {
    "invasive": [BREAST_CANCER, {"system": ICD10, "code": "C50.9",
                                 "display": "Malignant neoplasm of breast, unspecified"}],
    "dcis": [{"system": ICD10, "code": "D05.1", "display": "Intraductal carcinoma in situ"}],
}  # fmt: skip
"""Condition.code by behaviour (ICD-10, WHO 2019: C50 and D05.1)."""
DENSITY_CODES = {
    "a": ("129716005", "Almost entirely fat breast composition"),
    "b": ("129717001", "Scattered fibroglandular densities"),
    "c": ("129718006", "Heterogeneously dense breast composition"),
    "d": ("129719003", "Extremely dense breast composition"),
}
"""SNOMED CT findings of the BI-RADS (5th edition) breast composition categories, as the HL7
Lithuanian Breast Diagnostics implementation guide's value set ``breast-gland-density-acr``
lists them."""
CONSENT_CATEGORY = {"system": LOINC, "code": "59284-0", "display": "Patient Consent"}
"""LOINC, the category of the FHIR R4 Consent examples."""
YEARS = {"system": UCUM, "code": "a", "unit": "years"}


def _pebs(kind: str, code: str, display: str | None = None) -> dict[str, str]:
    """A coding of pebs's code system ``kind`` (``risk-level``, ``modality``...)."""
    coding = {"system": f"{SYSTEM_BASE}/CodeSystem/{kind}", "code": code}
    return coding | ({"display": display} if display else {})


def _concept(*codings: dict[str, str], text: str | None = None) -> dict[str, Any]:
    return {"coding": list(codings)} | ({"text": text} if text else {})


def fhir_instant(value: datetime) -> str:
    """A UTC instant as FHIR ``dateTime`` text, to the microsecond (``...T05:06:07.000008Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _when(value: date | datetime) -> str:
    return fhir_instant(value) if isinstance(value, datetime) else value.isoformat()


class _Ids:
    """Deterministic ids and references of one study's resources."""

    def __init__(self, study: str, study_id: str | None = None) -> None:
        self.study, self.study_id = study, study_id
        self._made: dict[tuple[object, ...], str] = {}

    def id(self, *parts: object) -> str:
        if parts not in self._made:  # her Patient is referred to by every other resource
            path = "/".join(str(p) for p in (self.study, self.study_id, *parts) if p is not None)
            self._made[parts] = str(uuid.uuid5(_NAMESPACE, path))
        return self._made[parts]

    def ref(self, *parts: object) -> dict[str, str]:
        return {"reference": f"urn:uuid:{self.id(*parts)}"}

    def study_ref(self, *parts: object) -> dict[str, str]:
        """A reference to a resource of the study (``ResearchStudy``, ``Location``)."""
        return _Ids(self.study).ref(*parts)

    def entry(self, resource_type: str, parts: tuple[object, ...], **fields: Any) -> dict:
        rid = self.id(resource_type, *parts)
        resource = {"resourceType": resource_type, "id": rid}
        resource |= {name: value for name, value in fields.items() if value not in (None, [], {})}
        return {"fullUrl": f"urn:uuid:{rid}", "resource": resource}


def study_entries(study: CasebookStudy) -> list[dict]:
    """The ``ResearchStudy`` and a ``Location`` per site of the export."""
    ids = _Ids(study.name)
    locations = [
        ids.entry("Location", (site.code,), name=site.name, address={"country": site.country},
                  identifier=[{"system": f"{SYSTEM_BASE}/site", "value": site.code}])
        for site in study.sites
    ]  # fmt: skip
    research_study = ids.entry(
        "ResearchStudy", (), status="active", title=study.title,
        identifier=[{"system": f"{SYSTEM_BASE}/study", "value": study.name}],
        arm=[{"name": arm} for arm in study.arms],
        site=[{"reference": location["fullUrl"]} for location in locations],
    )  # fmt: skip
    return [research_study, *locations]


def casebook_entries(study: CasebookStudy, casebook: Casebook) -> list[dict]:
    """Every entry of one woman (module docstring of :mod:`pebs.io.exports.fhir`)."""
    ids = _Ids(study.name, casebook.study_id)
    forms = _Forms(casebook)
    entries = [_patient(ids, study.name, casebook, forms), _research_subject(ids, casebook, forms)]
    entries += [_consent(ids, study.name, c) for c in forms.all("consent")]
    entries += _risk(ids, forms)
    entries += _plans_and_exams(ids, forms)
    entries += [_condition(ids, outcome) for outcome in forms.all("outcome")]
    return entries


class _Forms:
    """A casebook's form values by form name."""

    def __init__(self, casebook: Casebook) -> None:
        self.casebook = casebook

    def all(self, form: str) -> tuple[FormInstance, ...]:
        return self.casebook.instances(form)

    def one(self, form: str) -> Mapping[str, Any]:
        found = self.all(form)
        return found[0].values if found else {}


def _patient(ids: _Ids, study: str, casebook: Casebook, forms: _Forms) -> dict:
    language = forms.one("registration").get("language")
    return ids.entry(
        "Patient", (), gender="female",
        identifier=[{"system": f"{SYSTEM_BASE}/study/{quote(study, safe='')}/study-id",
                     "value": casebook.study_id}],
        communication=[{"language": _concept({"system": BCP47, "code": language})}]
        if language else None,
        deceasedDateTime=_optional_when(forms.one("death").get("date_of_death")),
    )  # fmt: skip


def _optional_when(value: date | datetime | None) -> str | None:
    return None if value is None else _when(value)


def subject_status(casebook: Casebook) -> str:
    """Her ``ResearchSubject.status``: ``withdrawn`` (data use, or her latest consent
    withdrawn), ``off-study`` (died), ``on-study`` (randomised), ``eligible`` or ``ineligible``
    (her latest eligibility assessment), else ``candidate``."""
    consents = casebook.instances("consent")
    if casebook.data_use_withdrawn or (consents and consents[-1].values["withdrawal_level"]):
        return "withdrawn"
    if casebook.instances("death"):
        return "off-study"
    if casebook.instances("allocation"):
        return "on-study"
    eligibility = casebook.instances("eligibility")
    result = eligibility[-1].values["result"] if eligibility else None
    return {"eligible": "eligible", "screen_failure": "ineligible"}.get(result, "candidate")


def _research_subject(ids: _Ids, casebook: Casebook, forms: _Forms) -> dict:
    registered = forms.one("registration").get("registered_at")
    arm = forms.one("allocation").get("arm")
    consents = forms.all("consent")
    return ids.entry(
        "ResearchSubject", (), status=subject_status(casebook),
        extension=[{"url": _SITE_EXTENSION, "valueReference":
                    ids.study_ref("Location", casebook.site) | {"display": casebook.site}}],
        study=ids.study_ref("ResearchStudy"), individual=ids.ref("Patient"),
        period={"start": fhir_instant(registered)} if registered else None,
        assignedArm=arm, actualArm=arm,
        consent=ids.ref("Consent", consents[-1].key) if consents else None,
    )  # fmt: skip


def _consent(ids: _Ids, study: str, consent: FormInstance) -> dict:
    values = consent.values
    level, withdrawn_at = values["withdrawal_level"], values["withdrawn_at"]
    provision = None
    if level:
        provision = {"type": "deny", "code": [_concept(_pebs("withdrawal-level", level))]}
        provision |= {"period": {"start": fhir_instant(withdrawn_at)}} if withdrawn_at else {}
    version = values["consent_version"]
    return ids.entry(
        "Consent", (consent.key,), status="inactive" if level else "active",
        scope=_concept({"system": CONSENT_SCOPE, "code": "research"}),
        category=[_concept(CONSENT_CATEGORY)], patient=ids.ref("Patient"),
        dateTime=_optional_when(values["consented_at"]),
        policy=[{"uri": f"{SYSTEM_BASE}/study/{quote(study, safe='')}/consent-document/"
                        + quote(version, safe="")}] if version else None,
        provision=provision,
    )  # fmt: skip


def _observation(
    ids: _Ids, parts: tuple[object, ...], code: str, display: str, when: date | datetime | None,
    **value: Any,
) -> dict:  # fmt: skip
    """An ``Observation`` (status final) of pebs's code ``code`` and one ``value[x]``."""
    return ids.entry(
        "Observation", (*parts, code), status="final",
        code=_concept(_pebs("observation", code, display)), subject=ids.ref("Patient"),
        effectiveDateTime=_optional_when(when), **value,
    )  # fmt: skip


def density_value(density: str) -> dict[str, Any]:
    """``valueCodeableConcept`` of a BI-RADS breast composition category (``a``-``d``)."""
    code, display = DENSITY_CODES[density]
    return {"valueCodeableConcept": _concept({"system": SNOMED, "code": code, "display": display},
                                             _pebs("breast-density", density))}  # fmt: skip


def _risk(ids: _Ids, forms: _Forms) -> list[dict]:
    """Her risk assessments; the latest (by time, then key) with the density and PRS
    ``Observation`` s of her ``risk_factors`` form (its inputs) as its basis."""
    assessments = forms.all("risk_assessment")
    if not assessments:
        return []
    latest = max(assessments, key=lambda a: (a.values["assessed_at"], a.key))
    factors = forms.one("risk_factors")
    at = latest.values["assessed_at"]
    inputs = []
    if factors.get("density") not in (None, "unknown"):
        inputs.append(_observation(ids, ("risk_factors",), "breast-density",
                                   "BI-RADS breast density (5th edition)", at,
                                   **density_value(factors["density"])))  # fmt: skip
    if factors.get("prs_z") not in (None, "unknown"):
        z = {"value": float(factors["prs_z"]), "unit": "z-score", "system": UCUM, "code": "1"}
        inputs.append(_observation(ids, ("risk_factors",), "prs-z",
                                   "polygenic risk score, standardised (z)", at,
                                   valueQuantity=z))  # fmt: skip
    basis = [{"reference": entry["fullUrl"]} for entry in inputs]
    return inputs + [_risk_assessment(ids, a, basis if a is latest else []) for a in assessments]


def _risk_assessment(ids: _Ids, assessment: FormInstance, basis: list[dict]) -> dict:
    values = assessment.values
    model, version = values["model"], values["model_version"]
    method = _pebs("risk-model", model, f"{model} {version}" if version else model)
    method |= {"version": version} if version else {}
    prediction = {
        "outcome": _concept(BREAST_CANCER, text="breast cancer"),
        "probabilityDecimal": values["risk_5y"],
        "whenRange": {"low": {"value": 0} | YEARS, "high": {"value": 5} | YEARS},
        "qualitativeRisk": _concept(_pebs("risk-level", values["level"]))
        if values["level"] else None,
    }  # fmt: skip
    return ids.entry(
        "RiskAssessment", (assessment.key,), status="final", subject=ids.ref("Patient"),
        occurrenceDateTime=_optional_when(values["assessed_at"]), method=_concept(method),
        basis=basis, prediction=[{k: v for k, v in prediction.items() if v is not None}],
    )  # fmt: skip


def _plan_of(plans: tuple[FormInstance, ...], due: date | None) -> FormInstance | None:
    """The plan an exam due on ``due`` belongs to: the latest plan (by key) whose dates hold
    it, else her current plan (not superseded), else none."""
    holding = [p for p in plans if due is not None and p.values["start_date"] is not None
               and p.values["start_date"] <= due
               and (p.values["end_date"] is None or due <= p.values["end_date"])]  # fmt: skip
    current = [p for p in plans if p.values["superseded_at"] is None]
    return (holding or current or [None])[-1]


def _plans_and_exams(ids: _Ids, forms: _Forms) -> list[dict]:
    """A ``CarePlan`` per screening plan, a ``ServiceRequest`` per exam due (its activity), a
    ``Procedure`` per exam performed with an ``Observation`` per finding."""
    plans = forms.all("screening_plan")
    activities: dict[int, list[dict]] = {plan.key: [] for plan in plans}
    exams: list[dict] = []
    for visit in forms.all("visit"):
        values = visit.values
        request = None
        if values["due_date"] is not None or values["performed_date"] is None:
            plan = _plan_of(plans, values["due_date"])
            request = _service_request(ids, visit, plan)
            exams.append(request)
            if plan is not None:
                activities[plan.key].append({"reference": request["fullUrl"]})
        if values["performed_date"] is not None:
            exams += _performed(ids, visit, request)
    return [_care_plan(ids, plan, activities[plan.key]) for plan in plans] + exams


def _care_plan(ids: _Ids, plan: FormInstance, activities: list[dict]) -> dict:
    values = plan.values
    period = {"start": _optional_when(values["start_date"]),
              "end": _optional_when(values["end_date"])}  # fmt: skip
    return ids.entry(
        "CarePlan", (plan.key,), intent="plan", subject=ids.ref("Patient"),
        status="revoked" if values["superseded_at"] else "active",
        title=values["policy"], period={k: v for k, v in period.items() if v},
        category=[_concept(_pebs("screening-policy", values["policy"]))]
        if values["policy"] else None,
        description=f"screening plan of the {values['arm']} arm" if values["arm"] else None,
        activity=[{"reference": ref} for ref in activities],
    )  # fmt: skip


def _exam_codes(values: Mapping[str, Any]) -> dict[str, Any]:
    modality, visit_type = values["modality"], values["visit_type"]
    return {
        "code": _concept(_pebs("modality", modality)) if modality else None,
        "category": _concept(_pebs("visit-type", visit_type)) if visit_type else None,
    }


def _service_request(ids: _Ids, visit: FormInstance, plan: FormInstance | None) -> dict:
    values = visit.values
    codes = _exam_codes(values)
    return ids.entry(
        "ServiceRequest", (visit.key,), intent="plan", subject=ids.ref("Patient"),
        status="completed" if values["performed_date"] is not None else "active",
        code=codes["code"], category=[codes["category"]] if codes["category"] else None,
        occurrenceDateTime=_optional_when(values["due_date"]),
        basedOn=[ids.ref("CarePlan", plan.key)] if plan is not None else None,
    )  # fmt: skip


def _performed(ids: _Ids, visit: FormInstance, request: dict | None) -> list[dict]:
    """The ``Procedure`` of a performed exam and an ``Observation`` per recorded finding."""
    values = visit.values
    performed = values["performed_date"]
    codes = _exam_codes(values)
    procedure = ids.entry(
        "Procedure", (visit.key,), status="completed", subject=ids.ref("Patient"),
        code=codes["code"], category=codes["category"], performedDateTime=_when(performed),
        basedOn=[{"reference": request["fullUrl"]}] if request else None,
    )  # fmt: skip
    part_of = [{"reference": procedure["fullUrl"]}]
    findings = {
        "birads-assessment": ("BI-RADS assessment category (0-6)", "valueInteger",
                              values["birads"]),
        "recall": ("recalled for further assessment", "valueBoolean", values["recall"]),
        "biopsy": ("a biopsy was taken", "valueBoolean", values["biopsy"]),
    }  # fmt: skip
    found = [
        _observation(ids, ("visit", visit.key), code, display, performed, partOf=part_of,
                     **{kind: value})
        for code, (display, kind, value) in findings.items() if value is not None
    ]  # fmt: skip
    if values["histology"] is not None:
        histology = _concept(_pebs("histology", values["histology"]))
        found.append(_observation(ids, ("visit", visit.key), "histology", "biopsy histology",
                                  performed, partOf=part_of,
                                  valueCodeableConcept=histology))  # fmt: skip
    if values["density"] is not None:
        found.append(_observation(ids, ("visit", visit.key), "breast-density",
                                  "BI-RADS breast density (5th edition)", performed,
                                  partOf=part_of, **density_value(values["density"])))  # fmt: skip
    return [procedure, *found]


def _condition(ids: _Ids, outcome: FormInstance) -> dict:
    """A breast cancer diagnosis: its code by behaviour, its detection mode as category, the
    AJCC stage group and the TNM categories as ``stage`` summaries."""
    values = outcome.values
    behaviour, mode, group = values["behaviour"], values["detection_mode"], values["stage_group"]
    tnm = " ".join(v for v in (values["t_category"], values["n_category"],
                               values["m_category"]) if v)  # fmt: skip
    stages = []
    if group:
        stages.append({"summary": _concept(_pebs("ajcc-stage-group", group),
                                           text=f"AJCC 8th edition stage {group}"),
                       "type": _concept(_pebs("stage-type", "ajcc-8-anatomic"))})  # fmt: skip
    if tnm:
        stages.append({"summary": {"text": tnm}, "type": _concept(_pebs("stage-type", "tnm"))})
    return ids.entry(
        "Condition", (outcome.key,), subject=ids.ref("Patient"),
        code=_concept(*DIAGNOSIS_CODES[behaviour], text=f"breast cancer ({behaviour})")
        if behaviour else _concept(BREAST_CANCER, text="breast cancer"),
        verificationStatus=_concept({
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            "code": "confirmed"}),
        category=[_concept(_pebs("detection-mode", mode))] if mode else None,
        onsetDateTime=_optional_when(values["diagnosis_date"]), stage=stages,
    )  # fmt: skip
