"""What the audit trail says about each table: the declarative half of the deep verification.

Two tables of data, read by :mod:`.deep_audit`:

- :data:`TABLES`: per audited table, the query that reads its rows (a ``key`` column, then one
  column per compared field, named as in the audit events), the fields compared, the values a
  row has before any event sets them, and whether rows may exist without an event of their own
  (``implicit``: allocation slots are created by the list's ``generate`` event, expected visits
  by the plan's ``plan`` event; such rows must still hold their initial values);
- :data:`RULES`: which events set which fields of which row. ``new("x")`` is the event's
  ``new["x"]``, :data:`AT` its time, :data:`REASON` its reason, ``const(v)`` a fixed value.
  A rule's key names the row: :data:`ENTITY_ID`, a value of ``new``, :func:`each` of a list
  in ``new`` (a plan supersedes several), or :func:`latest` row of a table audited for the
  participant the event names (a withdrawal updates her latest consent).

An event older than a field's audit (a release that did not record it) leaves that field
*unverified*: it is counted, never guessed. Identifying data is compared through the SHA-256 of
its ciphertexts (:func:`pebs.services.trial.registration.identity_digest`), never decrypted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, Select, func, select, type_coerce
from sqlalchemy.orm import aliased

from pebs.services.trial.registration import IDENTITY_COLUMNS, identity_digest
from pebs.store.models import (
    Allocation,
    AllocationList,
    AllocationSlot,
    Consent,
    ConsentDocument,
    Consultation,
    Country,
    DataQuery,
    Death,
    EligibilityAssessment,
    GenotypeResult,
    IssuedLetter,
    LabBatch,
    Outcome,
    Participant,
    ParticipantIdentity,
    PlannedExam,
    ProtocolVersion,
    QuestionnaireResponse,
    RiskAssessment,
    RiskQuestionnaire,
    Sample,
    ScreeningPlan,
    Shipment,
    Site,
    Study,
    User,
    Visit,
)

__all__ = ["AT", "ENTITY_ID", "REASON", "RULES", "TABLES", "AuditedTable", "Rule", "Source"]


@dataclass(frozen=True)
class Source:
    """Where a value (or a row key) comes from in an event."""

    kind: str
    """``new``, ``each`` (every item of a list in ``new``), ``latest`` (a key), ``entity_id``,
    ``at``, ``reason`` or ``const``."""
    name: str | None = None
    value: Any = None


def new(name: str) -> Source:
    return Source("new", name)


def each(name: str) -> Source:
    return Source("each", name)


def latest(table: str) -> Source:
    return Source("latest", table)


def const(value: Any) -> Source:
    return Source("const", value=value)


ENTITY_ID = Source("entity_id")
AT = Source("at")
REASON = Source("reason")


@dataclass(frozen=True)
class Rule:
    """Events ``entity``/``actions`` (``None``: any) set ``sets`` on the ``table`` row ``key``;
    ``sets_on_create`` only if no earlier event named that row."""

    entity: str | None
    actions: tuple[str, ...] | None
    table: str
    key: Source
    sets: Mapping[str, Source]
    sets_on_create: Mapping[str, Source] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditedTable:
    """One table compared with the state the audit trail gives it."""

    name: str
    entity: str
    """What one row is, in reports (``allocation 17``)."""
    rows: Callable[[], Select]
    """The rows: a ``key`` column (text or integer), then the compared fields' columns."""
    fields: tuple[str, ...]
    initial: Mapping[str, Any] = field(default_factory=dict)
    implicit: bool = False
    derive: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    """Computes compared fields from the selected columns (the identity digest)."""


def _study_id(column: Any) -> Any:
    """The pseudonymous study ID of the participant ``column`` refers to (a scalar subquery)."""
    return (
        select(Participant.study_id)
        .where(Participant.id == column)
        .scalar_subquery()
        .label("participant")
    )


def _participants() -> Select:
    return select(
        Participant.study_id.label("key"), Site.code.label("site"), Participant.age_at_entry,
        Participant.age_band, Participant.status, Participant.is_test,
        Participant.registered_at, Participant.stratum, Participant.strata,
        Participant.strata_locked_at, Participant.language,
    ).join(Site, Site.id == Participant.site_id)  # fmt: skip


def _identities() -> Select:
    columns = [getattr(ParticipantIdentity, name) for name in IDENTITY_COLUMNS]
    return select(Participant.study_id.label("key"), *columns).join(
        Participant, Participant.id == ParticipantIdentity.participant_id
    )


def _identity_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "identity_sha256": identity_digest(row),
        "has_national_id": row["national_id_hmac"] is not None,
    }


def _eligibility() -> Select:
    e = EligibilityAssessment
    return select(
        e.id.label("key"), _study_id(e.participant_id), ProtocolVersion.version.label(
            "protocol_version"), e.answers, e.result, e.reasons, e.assessed_at,
    ).join(ProtocolVersion, ProtocolVersion.id == e.protocol_version_id)  # fmt: skip


def _consents() -> Select:
    return (
        select(
            Consent.id.label("key"),
            _study_id(Consent.participant_id),
            (Country.code + "/" + ConsentDocument.language).label("document"),
            ConsentDocument.version.label("document_version"),
            Consent.consented_at,
            Consent.withdrawal_level,
            Consent.withdrawn_at,
            Consent.withdrawal_reason,
        )
        .join(ConsentDocument, ConsentDocument.id == Consent.consent_document_id)
        .join(Country, Country.id == ConsentDocument.country_id)
    )


def _allocations() -> Select:
    a = Allocation
    return select(
        a.id.label("key"), _study_id(a.participant_id), a.arm, a.method, a.allocation_slot_id,
        a.override_reason, a.source_method, a.source_reference, a.allocated_at,
    )  # fmt: skip


def _slots() -> Select:
    user = aliased(Participant)
    return select(
        AllocationSlot.id.label("key"), user.study_id.label("used_by"), AllocationSlot.used_at,
        AllocationSlot.unusable_reason,
    ).outerjoin(user, user.id == AllocationSlot.used_by_participant_id)  # fmt: skip


def _lists() -> Select:
    a = AllocationList
    return select(
        a.id.label("key"), Study.name.label("study"), a.version, a.is_test, a.algorithm,
        a.algorithm_version, a.sha256, a.n_slots, a.created_at,
    ).join(Study, Study.id == a.study_id)  # fmt: skip


def _risks() -> Select:
    r = RiskAssessment
    return select(
        r.id.label("key"), _study_id(r.participant_id), r.model_name.label("model"),
        r.model_version, r.inputs, r.outputs, r.level, r.assessed_at,
    )  # fmt: skip


def _plans() -> Select:
    p = ScreeningPlan
    n_exams = (
        select(func.count(PlannedExam.id))
        .where(PlannedExam.screening_plan_id == p.id)
        .scalar_subquery()
        .label("n_exams")
    )
    return select(
        p.id.label("key"), _study_id(p.participant_id), p.arm, p.policy,
        p.start_date.label("start"), p.end_date.label("end"), n_exams, p.risk_assessment_id,
        p.created_at, p.superseded_at,
    )  # fmt: skip


_VISIT_RESULTS = ("performed_date", "birads", "recall", "biopsy", "histology",
                  "histology_detail", "density", "density_reader", "recorded_at")  # fmt: skip


def _visits() -> Select:
    v = Visit
    return select(
        v.id.label("key"), _study_id(v.participant_id), v.visit_type, v.modality, v.due_date,
        *(getattr(v, name) for name in _VISIT_RESULTS),
    )  # fmt: skip


def _outcomes() -> Select:
    o = Outcome
    return select(
        o.id.label("key"), _study_id(o.participant_id), o.diagnosis_date, o.detection_mode,
        o.behaviour, o.t_category.label("t"), o.n_category.label("n"),
        o.m_category.label("m"), o.stage_group, o.recorded_at,
    )  # fmt: skip


def _deaths() -> Select:
    d = Death
    return select(
        d.id.label("key"), _study_id(d.participant_id), d.date_of_death, d.cause,
        d.cause_icd10, d.recorded_at,
    )  # fmt: skip


def _questionnaires() -> Select:
    q = QuestionnaireResponse
    return select(
        q.id.label("key"), _study_id(q.participant_id), q.instrument, q.timepoint_months,
        q.completed_on, q.answers, q.recorded_at,
    )  # fmt: skip


def _risk_questionnaires() -> Select:
    q = RiskQuestionnaire
    return select(
        q.id.label("key"), _study_id(q.participant_id), q.answers, q.answered_on, q.recorded_at,
    )  # fmt: skip


def _lab_batches() -> Select:
    b = LabBatch
    return select(
        b.reference.label("key"), Study.name.label("study"), b.file_name, b.file_sha256,
        b.score_id, b.score_version, b.report, b.imported_at,
    ).join(Study, Study.id == b.study_pk)  # fmt: skip


_GENOTYPE_VALUES = ("prs_z", "raw_score", "call_rate", "n_variants", "n_matched", "n_missing",
                    "n_imputed", "qc_reason")  # fmt: skip
"""A genotype result's values, as its kit's event records them (and its ``result_status``)."""


def _genotype_results() -> Select:
    r = GenotypeResult
    return (
        select(r.id.label("key"), Sample.kit_id, LabBatch.reference.label("batch"), r.status,
               *(getattr(r, name) for name in _GENOTYPE_VALUES), r.recorded_at, r.resolved_at,
               r.resolution_reason)
        .join(Sample, Sample.id == r.sample_id)
        .join(LabBatch, LabBatch.id == r.batch_id)
    )  # fmt: skip


_KIT_MOVES = ("collected_on", "shipment", "received_at", "abandoned_reason")
"""A kit's fields set after its assignment (each by the event that moves it)."""


def _samples() -> Select:
    s, replaced = Sample, aliased(Sample)
    return (
        select(s.kit_id.label("key"), _study_id(s.participant_id), s.state,
               replaced.kit_id.label("replaces"), s.assigned_at, s.collected_on,
               Shipment.reference.label("shipment"), s.received_at, s.abandoned_reason)
        .outerjoin(replaced, replaced.id == s.replaces_sample_id)
        .outerjoin(Shipment, Shipment.id == s.shipment_id)
    )  # fmt: skip


def _issued_letters() -> Select:
    x = IssuedLetter
    return select(
        x.id.label("key"), _study_id(x.participant_id), x.kind, x.recipient, x.language,
        x.basis, x.template_version, x.pdf_sha256, x.pdf_bytes, x.issued_at, x.issued_by,
    )  # fmt: skip


def _consultations() -> Select:
    c = Consultation
    return select(
        c.id.label("key"), _study_id(c.participant_id), c.held_on, c.mode, c.held_by,
        c.questions, c.recorded_at,
    )  # fmt: skip


_LETTER_FIELDS = ("participant", "kind", "recipient", "language", "basis", "template_version",
                  "pdf_sha256", "pdf_bytes")  # fmt: skip


def _shipments() -> Select:
    return select(
        Shipment.reference.label("key"), Site.code.label("site"), Shipment.shipped_on,
        Shipment.shipped_at, Shipment.received_at,
    ).join(Site, Site.id == Shipment.site_id)  # fmt: skip


def _accounts() -> Select:
    site, country = aliased(Site), aliased(Country)
    return (
        select(
            User.username.label("key"),
            User.role,
            site.code.label("site"),
            country.code.label("country"),
            User.is_active,
            type_coerce(User.password_hash.is_not(None), Boolean).label("password_set"),
            type_coerce(User.totp_secret_enc.is_not(None), Boolean).label("totp_enrolled"),
        )
        .outerjoin(site, site.id == User.site_id)
        .outerjoin(country, country.id == User.country_id)
    )


def _data_queries() -> Select:
    q = DataQuery
    return select(
        q.id.label("key"), _study_id(q.participant_id), q.form,
        func.nullif(q.form_key, 0).label("form_key"), q.item, q.kind, q.check_id.label("check"),
        q.value, q.proposed_value, q.state, q.raised_at, q.updated_at,
    )  # fmt: skip


_NO_WITHDRAWAL = {"withdrawal_level": None, "withdrawn_at": None, "withdrawal_reason": None}

TABLES: tuple[AuditedTable, ...] = (
    AuditedTable(
        "participants", "participant", _participants,
        ("site", "age_at_entry", "age_band", "status", "is_test", "registered_at", "stratum",
         "strata", "strata_locked_at", "language"),
        initial={"stratum": None, "strata": None, "strata_locked_at": None, "language": None},
    ),
    AuditedTable(
        "participant_identities", "identity of", _identities,
        ("identity_sha256", "has_national_id"), derive=_identity_fields,
    ),
    AuditedTable(
        "eligibility_assessments", "eligibility assessment", _eligibility,
        ("participant", "protocol_version", "answers", "result", "reasons", "assessed_at"),
    ),
    AuditedTable(
        "consents", "consent", _consents,
        ("participant", "document", "document_version", "consented_at", *_NO_WITHDRAWAL),
        initial=_NO_WITHDRAWAL,
    ),
    AuditedTable(
        "allocations", "allocation", _allocations,
        ("participant", "arm", "method", "allocation_slot_id", "override_reason",
         "source_method", "source_reference", "allocated_at"),
        initial={"allocation_slot_id": None, "override_reason": None, "source_method": None,
                 "source_reference": None},
    ),
    AuditedTable(
        "allocation_slots", "allocation slot", _slots, ("used_by", "used_at", "unusable_reason"),
        initial={"used_by": None, "used_at": None, "unusable_reason": None}, implicit=True,
    ),
    AuditedTable(
        "allocation_lists", "allocation list", _lists,
        ("study", "version", "is_test", "algorithm", "algorithm_version", "sha256", "n_slots",
         "created_at"),
    ),
    AuditedTable(
        "risk_assessments", "risk assessment", _risks,
        ("participant", "model", "model_version", "inputs", "outputs", "level", "assessed_at"),
    ),
    AuditedTable(
        "screening_plans", "screening plan", _plans,
        ("participant", "arm", "policy", "start", "end", "n_exams", "risk_assessment_id",
         "created_at", "superseded_at"),
        initial={"superseded_at": None},
    ),
    AuditedTable(
        "visits", "visit", _visits,
        ("participant", "visit_type", "modality", "due_date", *_VISIT_RESULTS),
        initial=dict.fromkeys(_VISIT_RESULTS), implicit=True,
    ),
    AuditedTable(
        "outcomes", "outcome", _outcomes,
        ("participant", "diagnosis_date", "detection_mode", "behaviour", "t", "n", "m",
         "stage_group", "recorded_at"),
    ),
    AuditedTable(
        "deaths", "death", _deaths,
        ("participant", "date_of_death", "cause", "cause_icd10", "recorded_at"),
    ),
    AuditedTable(
        "questionnaire_responses", "questionnaire", _questionnaires,
        ("participant", "instrument", "timepoint_months", "completed_on", "answers",
         "recorded_at"),
    ),
    AuditedTable(
        "risk_questionnaires", "risk questionnaire", _risk_questionnaires,
        ("participant", "answers", "answered_on", "recorded_at"),
    ),
    AuditedTable(
        "lab_batches", "genotype batch", _lab_batches,
        ("study", "file_name", "file_sha256", "score_id", "score_version", "report",
         "imported_at"),
    ),
    AuditedTable(
        "genotype_results", "genotype result", _genotype_results,
        ("kit_id", "batch", "status", *_GENOTYPE_VALUES, "recorded_at", "resolved_at",
         "resolution_reason"),
        initial={"resolved_at": None, "resolution_reason": None},
    ),
    AuditedTable(
        "samples", "sample", _samples,
        ("participant", "state", "replaces", "assigned_at", *_KIT_MOVES),
        initial={"replaces": None, **dict.fromkeys(_KIT_MOVES)},
    ),
    AuditedTable(
        "issued_letters", "issued letter", _issued_letters,
        (*_LETTER_FIELDS, "issued_at", "issued_by"),
    ),
    AuditedTable(
        "consultations", "consultation", _consultations,
        ("participant", "held_on", "mode", "held_by", "questions", "recorded_at"),
    ),
    AuditedTable(
        "data_queries", "data query", _data_queries,
        ("participant", "form", "form_key", "item", "kind", "check", "value", "proposed_value",
         "state", "raised_at", "updated_at"),
        initial={"check": None, "proposed_value": None},
    ),
    AuditedTable(
        "shipments", "shipment", _shipments, ("site", "shipped_on", "shipped_at", "received_at"),
        initial={"received_at": None},
    ),
    AuditedTable(
        "users", "account", _accounts,
        ("role", "site", "country", "is_active", "password_set", "totp_enrolled"),
        initial={"is_active": True, "password_set": False, "totp_enrolled": False},
    ),
)  # fmt: skip
"""Every audited table, in report order."""


def _same(*names: str) -> dict[str, Source]:
    return {name: new(name) for name in names}


_RECORDED = {"recorded_at": AT}

RULES: tuple[Rule, ...] = (
    # Participants: registration, then every event that moves her along the pathway.
    Rule("participant", ("register",), "participants", ENTITY_ID,
         {**_same("age_at_entry", "age_band", "status", "is_test", "site", "language"),
          "registered_at": AT}),
    Rule("participant", ("set_language",), "participants", ENTITY_ID, _same("language")),
    Rule("participant", ("register",), "participant_identities", ENTITY_ID,
         _same("identity_sha256", "has_national_id")),
    Rule(None, None, "participants", new("participant"), _same("status")),
    Rule("participant", ("withdraw",), "participants", ENTITY_ID, _same("status")),
    Rule("allocation", ("allocate", "override"), "participants", new("participant"),
         _same("age_band", "stratum", "strata", "strata_locked_at")),
    # Clinical records, each created by one event.
    Rule("eligibility_assessment", ("assess",), "eligibility_assessments", ENTITY_ID,
         {**_same("participant", "protocol_version", "answers", "result", "reasons"),
          "assessed_at": AT}),
    Rule("consent", ("consent",), "consents", ENTITY_ID,
         _same("participant", "document", "document_version", "consented_at")),
    Rule("participant", ("withdraw",), "consents", latest("consents"),
         {**_same("withdrawal_level", "withdrawn_at"), "withdrawal_reason": REASON}),
    Rule("risk_assessment", ("assess",), "risk_assessments", ENTITY_ID,
         {**_same("participant", "model", "model_version", "inputs", "outputs", "level"),
          "assessed_at": AT}),
    Rule("screening_plan", ("plan",), "screening_plans", ENTITY_ID,
         {**_same("participant", "arm", "policy", "start", "end", "n_exams",
                  "risk_assessment_id"), "created_at": AT}),
    Rule("screening_plan", ("plan",), "screening_plans", each("superseded_plans"),
         {"superseded_at": AT}),
    Rule("visit", ("record",), "visits", ENTITY_ID,
         {**_same("participant", "visit_type", "modality", "due_date", "performed_date",
                  "birads", "recall", "biopsy", "histology", "histology_detail", "density",
                  "density_reader"),
          **_RECORDED}),
    Rule("outcome", ("record",), "outcomes", ENTITY_ID,
         {**_same("participant", "diagnosis_date", "detection_mode", "behaviour", "t", "n",
                  "m", "stage_group"), **_RECORDED}),
    Rule("death", ("record",), "deaths", ENTITY_ID,
         {**_same("participant", "date_of_death", "cause", "cause_icd10"), **_RECORDED}),
    Rule("questionnaire_response", ("record",), "questionnaire_responses", ENTITY_ID,
         {**_same("participant", "instrument", "timepoint_months", "completed_on", "answers"),
          **_RECORDED}),
    Rule("risk_questionnaire", ("record",), "risk_questionnaires", ENTITY_ID,
         {**_same("participant", "answers", "answered_on"), **_RECORDED}),
    # Letters (append-only: one event per letter issued) and consultations.
    Rule("issued_letter", ("issue",), "issued_letters", ENTITY_ID,
         {**_same(*_LETTER_FIELDS, "issued_by"), "issued_at": AT}),
    Rule("consultation", ("record",), "consultations", ENTITY_ID,
         {**_same("participant", "held_on", "mode", "held_by", "questions"), **_RECORDED}),
    # Data queries: raised by a person or an edit check; every step records the new state.
    Rule("data_query", ("raise",), "data_queries", ENTITY_ID,
         {**_same("participant", "form", "form_key", "item", "kind", "check", "value",
                  "proposed_value"), "raised_at": AT}),
    Rule("data_query", None, "data_queries", ENTITY_ID, {**_same("state"), "updated_at": AT}),
    # Randomisation: lists, the slot each allocation takes, hand overrides.
    Rule("allocation_list", ("generate",), "allocation_lists", ENTITY_ID,
         {**_same("study", "version", "is_test", "algorithm", "algorithm_version", "sha256",
                  "n_slots"), "created_at": AT}),
    Rule("allocation", ("allocate",), "allocations", ENTITY_ID,
         {**_same("participant", "arm", "method", "allocation_slot_id", "source_method",
                  "source_reference"), "allocated_at": AT}),
    Rule("allocation", ("allocate",), "allocation_slots", new("allocation_slot_id"),
         {"used_by": new("participant"), "used_at": AT}),
    Rule("allocation", ("override",), "allocations", ENTITY_ID,
         {**_same("participant", "arm", "method"), "override_reason": REASON},
         sets_on_create={"allocated_at": AT}),
    Rule("allocation_slot", ("mark_unusable",), "allocation_slots", ENTITY_ID,
         _same("unusable_reason")),
    # Laboratory: a batch, each result stored on its kit's event, and resolved conflicts.
    Rule("lab_batch", ("import",), "lab_batches", ENTITY_ID,
         {**_same("study", "file_name", "file_sha256", "score_id", "score_version", "report"),
          "imported_at": AT}),
    Rule("sample", ("genotype", "fail_qc", "conflicting_result"), "genotype_results",
         new("result"), {**_same("kit_id", "batch", *_GENOTYPE_VALUES),
                         "status": new("result_status"), **_RECORDED}),
    Rule("genotype_result", ("resolve",), "genotype_results", ENTITY_ID,
         {**_same("status"), "resolution_reason": REASON, "resolved_at": AT}),
    # Saliva kits: assigned, then every event that moves a kit records its new state.
    Rule("sample", ("kit_assigned",), "samples", ENTITY_ID,
         {**_same("participant", "replaces"), "assigned_at": AT}),
    Rule("sample", None, "samples", ENTITY_ID, _same("state")),
    Rule("sample", ("collect",), "samples", ENTITY_ID, _same("collected_on")),
    Rule("sample", ("ship",), "samples", ENTITY_ID, _same("shipment")),
    Rule("sample", ("receive",), "samples", ENTITY_ID, _same("received_at")),
    Rule("sample", ("abandon",), "samples", ENTITY_ID, {"abandoned_reason": REASON}),
    Rule("shipment", ("ship",), "shipments", ENTITY_ID,
         {**_same("site", "shipped_on"), "shipped_at": AT}),
    Rule("shipment", ("receive",), "shipments", ENTITY_ID, _same("received_at")),
    # Accounts. Demo provisioning re-enables an account (pebs.services.auth.demo).
    Rule("user", ("create",), "users", ENTITY_ID, _same("role", "site", "country")),
    Rule("user", ("set_password",), "users", ENTITY_ID, _same("password_set")),
    Rule("user", ("disable", "enable"), "users", ENTITY_ID, _same("is_active")),
    Rule("user", ("totp_enrol",), "users", ENTITY_ID, {"totp_enrolled": const(True)}),
    Rule("user", ("totp_reset",), "users", ENTITY_ID, {"totp_enrolled": const(False)}),
    Rule("user", ("provision_demo",), "users", ENTITY_ID,
         {**_same("password_set"), "totp_enrolled": new("totp_enrolled"),
          "is_active": const(True)}),
)  # fmt: skip
"""How events set the audited state, in no particular order (each event applies every rule that
matches it)."""
