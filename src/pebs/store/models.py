"""SQLAlchemy 2 models of the trial platform (see ``docs/trial/data-model.md``).

Conventions: integer surrogate keys; dates (birth, visits, diagnosis) are ``Date``; instants are
timezone-aware UTC (:class:`~pebs.store._base.UTCDateTime`); enumerations are strings with a
named ``CHECK`` constraint (allowed values: the tuples of :mod:`pebs.trial.vocabularies`,
re-exported here); JSON columns hold answers, model inputs/outputs and audit values. Identifying
data lives only in :class:`ParticipantIdentity`, encrypted (:mod:`pebs.store.crypto`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pebs.store._base import Base, both_or_neither, one_of, user_fk, utcnow
from pebs.store._models_auth import ApiToken, AuthSession, LoginThrottle, TotpUsage
from pebs.store._models_clinical import (
    Death,
    Outcome,
    PlannedExam,
    QuestionnaireResponse,
    RiskAssessment,
    ScreeningPlan,
    Visit,
)
from pebs.store._models_letters import Consultation, IssuedLetter
from pebs.store._models_monitoring import (
    CasebookSignature,
    FormLock,
    ParticipantLock,
    SourceVerification,
    StudyLock,
)
from pebs.store._models_queries import DataQuery, DataQueryNote
from pebs.store._models_samples import (
    GENOTYPE_STATUSES,
    GenotypeResult,
    LabBatch,
    RiskQuestionnaire,
    Sample,
    Shipment,
)
from pebs.trial.vocabularies import (
    ALLOCATION_METHODS,
    COUNTRY_ROLES,
    ELIGIBILITY_RESULTS,
    LANGUAGES,
    PARTICIPANT_STATES,
    ROLES,
    SITE_ROLES,
    WITHDRAWAL_LEVELS,
)

__all__ = [
    "GENOTYPE_STATUSES",
    "Allocation",
    "AllocationList",
    "AllocationSlot",
    "ApiToken",
    "Arm",
    "AuditEvent",
    "AuthSession",
    "Base",
    "CasebookSignature",
    "Consent",
    "ConsentDocument",
    "Consultation",
    "Country",
    "DataQuery",
    "DataQueryNote",
    "Death",
    "EligibilityAssessment",
    "FormLock",
    "GenotypeResult",
    "IssuedLetter",
    "LabBatch",
    "LoginThrottle",
    "Outcome",
    "Participant",
    "ParticipantIdentity",
    "ParticipantLock",
    "PlannedExam",
    "ProtocolVersion",
    "QuestionnaireResponse",
    "RiskAssessment",
    "RiskQuestionnaire",
    "Sample",
    "ScreeningPlan",
    "Shipment",
    "Site",
    "SourceVerification",
    "Study",
    "StudyLock",
    "TotpUsage",
    "User",
    "Visit",
]

_CODE = 16  # short codes: country, site, arm, version labels


_FREE_SLOT = "used_by_participant_id IS NULL AND unusable_reason IS NULL"


# --- study configuration -------------------------------------------------------------------


class Study(Base):
    """A trial (``mypebs-demo``), configured from a study file (:func:`pebs.trial.load_study`)."""

    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any] | None]
    """The configuration as last loaded (randomisation design, strata, ...), as JSON."""
    config_sha256: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the last loaded configuration as canonical JSON (comment-only edits of the
    file do not change it)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    countries: Mapped[list[Country]] = relationship(back_populates="study")
    protocol_versions: Mapped[list[ProtocolVersion]] = relationship(back_populates="study")
    arms: Mapped[list[Arm]] = relationship(back_populates="study")


class ProtocolVersion(Base):
    """A protocol version and its eligibility criteria (as configured)."""

    __tablename__ = "protocol_versions"
    __table_args__ = (UniqueConstraint("study_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    version: Mapped[str] = mapped_column(String(_CODE))
    effective_from: Mapped[date]
    eligibility_criteria: Mapped[list[Any]]

    study: Mapped[Study] = relationship(back_populates="protocol_versions")


class Arm(Base):
    """A trial arm (``standard``, ``risk-based``) with its allocation weight and policy."""

    __tablename__ = "arms"
    __table_args__ = (
        UniqueConstraint("study_id", "name"),
        CheckConstraint("ratio >= 1", name="ratio"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    name: Mapped[str] = mapped_column(String(32))
    ratio: Mapped[int] = mapped_column(SmallInteger, default=1)
    policy: Mapped[str] = mapped_column(String(64))
    """Screening policy name, or ``country`` (each country's standard policy)."""

    study: Mapped[Study] = relationship(back_populates="arms")


class Country(Base):
    """A participating country: language, time zone, national programme, recruitment target."""

    __tablename__ = "countries"
    __table_args__ = (
        UniqueConstraint("study_id", "code"),
        CheckConstraint("length(code) = 2", name="code"),
        CheckConstraint("recruitment_target >= 0", name="recruitment_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    code: Mapped[str] = mapped_column(String(2))
    """ISO 3166-1 alpha-2, upper case (``FR``)."""
    name: Mapped[str] = mapped_column(String(100))
    languages: Mapped[list[Any]]
    """Study languages (ISO 639-1), e.g. ``["nl", "fr"]``."""
    time_zone: Mapped[str] = mapped_column(String(64))
    """IANA time zone (``Europe/Paris``): times are stored in UTC and shown in this zone."""
    standard_policy: Mapped[str] = mapped_column(String(64))
    recruitment_target: Mapped[int] = mapped_column(Integer, default=0)

    study: Mapped[Study] = relationship(back_populates="countries")
    sites: Mapped[list[Site]] = relationship(back_populates="country")


class Site(Base):
    """A recruiting centre. ``last_sequence`` numbers its participants (``FR-GR-000123``).

    ``code`` is study-wide and starts with the country (``FR-GR``), as in the study file.
    """

    __tablename__ = "sites"
    __table_args__ = (
        UniqueConstraint("country_id", "code"),
        CheckConstraint("recruitment_target >= 0", name="recruitment_target"),
        CheckConstraint("last_sequence >= 0", name="last_sequence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id"), index=True)
    code: Mapped[str] = mapped_column(String(_CODE))
    name: Mapped[str] = mapped_column(String(200))
    recruitment_target: Mapped[int] = mapped_column(Integer, default=0)
    last_sequence: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    country: Mapped[Country] = relationship(back_populates="sites")


class ConsentDocument(Base):
    """A version of the consent document in one country and language."""

    __tablename__ = "consent_documents"
    __table_args__ = (UniqueConstraint("country_id", "language", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id"))
    language: Mapped[str] = mapped_column(String(_CODE))
    version: Mapped[str] = mapped_column(String(_CODE))
    title: Mapped[str] = mapped_column(String(200))
    effective_from: Mapped[date]
    sha256: Mapped[str | None] = mapped_column(String(64))

    country: Mapped[Country] = relationship()


class User(Base):
    """An account with one role; site roles are scoped to a site, coordinators to a country."""

    __tablename__ = "users"
    __table_args__ = (
        one_of("role", ROLES, "role"),
        CheckConstraint(
            f"(role NOT IN {SITE_ROLES!r} OR site_id IS NOT NULL)"
            f" AND (role NOT IN ('{COUNTRY_ROLES[0]}') OR country_id IS NOT NULL)",
            name="scope",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(32))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    country_id: Mapped[int | None] = mapped_column(ForeignKey("countries.id"))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]

    site: Mapped[Site | None] = relationship()
    country: Mapped[Country | None] = relationship()


# --- participants ----------------------------------------------------------------------------


class Participant(Base):
    """Research record of a woman, known by her pseudonymous ``study_id`` only."""

    __tablename__ = "participants"
    __table_args__ = (
        CheckConstraint("study_id LIKE '__-%-______'", name="study_id_format"),
        CheckConstraint("age_at_entry BETWEEN 18 AND 110", name="age_at_entry"),
        one_of("status", PARTICIPANT_STATES, "status"),
        both_or_neither("strata_locked_at", "stratum", "strata_locked"),
        CheckConstraint(
            "language IS NULL OR language IN (" + ", ".join(f"'{c}'" for c in LANGUAGES) + ")",
            name="language",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[str] = mapped_column(String(32), unique=True)
    """Pseudonymous ID ``CC-SITE-NNNNNN`` (country, site, sequence)."""
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    status: Mapped[str] = mapped_column(String(32), default="registered")
    """Pathway state (:class:`pebs.trial.State`)."""
    age_at_entry: Mapped[int | None] = mapped_column(SmallInteger)
    age_band: Mapped[str | None] = mapped_column(String(_CODE))
    """Stratification field (default strata: site x age band 40-49/50-59/60-70)."""
    strata: Mapped[dict[str, Any] | None]
    """Further stratification fields of configured strata."""
    stratum: Mapped[str | None] = mapped_column(String(128))
    """Stratum key, set when the strata fields are locked (at allocation)."""
    strata_locked_at: Mapped[datetime | None]
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(8))
    """The language she reads her letters in (ISO 639-1); ``None``: her country's first
    language."""
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    registered_by_id: Mapped[int | None] = user_fk()
    source_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    """Imported: the identifier the source system gave her (an import recognises her by it)."""

    site: Mapped[Site] = relationship()
    identity: Mapped[ParticipantIdentity | None] = relationship(back_populates="participant")
    allocation: Mapped[Allocation | None] = relationship(back_populates="participant")

    @property
    def is_locked(self) -> bool:
        """True once the stratification fields are locked."""
        return self.strata_locked_at is not None


class ParticipantIdentity(Base):
    """Identifying data, kept apart and encrypted (Fernet tokens); HMAC of the national ID."""

    __tablename__ = "participant_identities"
    __table_args__ = (CheckConstraint("length(national_id_hmac) = 64", name="national_id_hmac"),)

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    date_of_birth_enc: Mapped[bytes] = mapped_column(LargeBinary)
    contact_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    national_id_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    national_id_hmac: Mapped[str | None] = mapped_column(String(64), unique=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    participant: Mapped[Participant] = relationship(back_populates="identity")


class EligibilityAssessment(Base):
    """Answers to one protocol version's criteria, the result and screen-failure reasons."""

    __tablename__ = "eligibility_assessments"
    __table_args__ = (one_of("result", ELIGIBILITY_RESULTS, "result"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    protocol_version_id: Mapped[int] = mapped_column(ForeignKey("protocol_versions.id"))
    answers: Mapped[dict[str, Any]]
    result: Mapped[str] = mapped_column(String(16))
    """``eligible``, ``screen_failure`` or ``incomplete`` (as :func:`pebs.trial.assess`)."""
    reasons: Mapped[list[Any]]
    assessed_at: Mapped[datetime] = mapped_column(default=utcnow)
    assessed_by_id: Mapped[int | None] = user_fk()

    protocol_version: Mapped[ProtocolVersion] = relationship()


class Consent(Base):
    """Consent on a document version; a withdrawal sets its level and time."""

    __tablename__ = "consents"
    __table_args__ = (
        one_of("withdrawal_level", WITHDRAWAL_LEVELS, "withdrawal_level"),
        both_or_neither("withdrawal_level", "withdrawn_at", "withdrawal"),
        CheckConstraint("withdrawn_at IS NULL OR withdrawn_at >= consented_at", name="order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    consent_document_id: Mapped[int] = mapped_column(ForeignKey("consent_documents.id"))
    consented_at: Mapped[datetime]
    taken_by_id: Mapped[int] = user_fk(nullable=False)
    withdrawal_level: Mapped[str | None] = mapped_column(String(32))
    withdrawn_at: Mapped[datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    withdrawal_recorded_by_id: Mapped[int | None] = user_fk()

    document: Mapped[ConsentDocument] = relationship()


# --- randomisation ---------------------------------------------------------------------------


class AllocationList(Base):
    """A concealed allocation list, reproducible byte for byte from its recorded inputs.

    One generation run (:func:`pebs.trial.generate_list`) covers every stratum, with one seed and
    one SHA-256; its slots name their stratum. A list made for a single stratum (an extension
    when a stratum runs out) sets ``stratum``. ``version`` numbers the lists of a study (separately
    for test/training lists); slots of a stratum are used in (version, position) order.
    """

    __tablename__ = "allocation_lists"
    __table_args__ = (
        UniqueConstraint("study_id", "is_test", "version"),
        CheckConstraint("length(sha256) = 64", name="sha256"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("n_slots >= 1", name="n_slots"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    stratum: Mapped[str | None] = mapped_column(String(128))
    """``None``: the list covers all strata."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    algorithm: Mapped[str] = mapped_column(String(64))
    algorithm_version: Mapped[str] = mapped_column(String(_CODE))
    seed: Mapped[str] = mapped_column(String(64))
    """Seed as decimal text (may exceed 64 bits)."""
    parameters: Mapped[dict[str, Any]]
    """Design (arms, ratios, block sizes and probabilities) and strata: what regenerates it."""
    n_slots: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = user_fk(nullable=False)

    slots: Mapped[list[AllocationSlot]] = relationship(
        back_populates="allocation_list",
        order_by=lambda: [AllocationSlot.stratum, AllocationSlot.position],
    )


class AllocationSlot(Base):
    """One position of a stratum's list; used at most once, or marked unusable (with reason)."""

    __tablename__ = "allocation_slots"
    __table_args__ = (
        UniqueConstraint("allocation_list_id", "stratum", "position"),
        CheckConstraint("position >= 1", name="position"),
        CheckConstraint("block_number >= 1", name="block_number"),
        CheckConstraint("block_size >= 1", name="block_size"),
        both_or_neither("used_by_participant_id", "used_at", "used"),
        CheckConstraint(
            "used_by_participant_id IS NULL OR unusable_reason IS NULL", name="used_or_unusable"
        ),
        Index(  # a participant uses one slot at most (partial: the planner must not use it
            # to find free slots, which ix_allocation_slots_free does)
            "uq_allocation_slots_used_by_participant_id",
            "used_by_participant_id",
            unique=True,
            sqlite_where=text("used_by_participant_id IS NOT NULL"),
            postgresql_where=text("used_by_participant_id IS NOT NULL"),
        ),
        Index(  # the next free slot of a stratum, found without scanning the used ones
            "ix_allocation_slots_free",
            "allocation_list_id",
            "stratum",
            "position",
            sqlite_where=text(_FREE_SLOT),
            postgresql_where=text(_FREE_SLOT),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    allocation_list_id: Mapped[int] = mapped_column(ForeignKey("allocation_lists.id"))
    stratum: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer)
    """Position within the stratum, from 1."""
    arm: Mapped[str] = mapped_column(String(32))
    block_number: Mapped[int] = mapped_column(Integer)
    block_size: Mapped[int] = mapped_column(SmallInteger)
    used_by_participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    used_at: Mapped[datetime | None]
    unusable_reason: Mapped[str | None] = mapped_column(Text)

    allocation_list: Mapped[AllocationList] = relationship(back_populates="slots")


class Allocation(Base):
    """A participant's arm: a list slot, a logged minimisation draw, an override, or imported."""

    __tablename__ = "allocations"
    __table_args__ = (
        one_of("method", ALLOCATION_METHODS, "method"),
        CheckConstraint("method <> 'list' OR allocation_slot_id IS NOT NULL", name="list_slot"),
        CheckConstraint("method <> 'override' OR override_reason IS NOT NULL", name="override"),
        CheckConstraint("method <> 'imported' OR source_method IS NOT NULL", name="imported"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), unique=True)
    allocation_slot_id: Mapped[int | None] = mapped_column(
        ForeignKey("allocation_slots.id"), unique=True
    )
    arm: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(16), default="list")
    draw: Mapped[dict[str, Any] | None]
    """Minimisation: imbalance scores, probabilities and the random number, to replay the draw."""
    override_reason: Mapped[str | None] = mapped_column(Text)
    source_method: Mapped[str | None] = mapped_column(String(64))
    """Imported: how the source system allocated her (its own words: ``minimisation``...)."""
    source_reference: Mapped[str | None] = mapped_column(String(64))
    """Imported: the source system's reference of the allocation (randomisation number)."""
    allocated_at: Mapped[datetime] = mapped_column(default=utcnow)
    allocated_by_id: Mapped[int] = user_fk(nullable=False)

    participant: Mapped[Participant] = relationship(back_populates="allocation")
    slot: Mapped[AllocationSlot | None] = relationship()


# --- audit -----------------------------------------------------------------------------------


class AuditEvent(Base):
    """One link of the append-only, hash-chained audit trail (see :mod:`pebs.store.audit`).

    ``id`` is the position in the chain (1, 2, ... without gaps), assigned under the chain lock.
    Database triggers (created by the migrations) refuse UPDATE and DELETE, and an event whose
    ``prev_hash`` is not the ``hash`` of event ``id - 1`` (the genesis hash for event 1): with
    ``id`` the primary key, the chain cannot fork even if the lock were bypassed.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint("id >= 1", name="id"),
        CheckConstraint("length(hash) = 64 AND length(prev_hash) = 64", name="hash_length"),
        Index(None, "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    old: Mapped[dict[str, Any] | None]
    new: Mapped[dict[str, Any] | None]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
