"""Trial use cases: each one transaction that writes its audit event(s) with the change.

Every function takes a :class:`~sqlalchemy.orm.sessionmaker` and an :class:`Actor` (who calls,
with her role and site/country scope), checks the role (:data:`PERMISSIONS`), reads and writes
participant data only through scoped queries, and returns a frozen result. Failures are
:class:`ServiceError` subclasses (:mod:`pebs.services.errors`); a failing use case leaves
neither data nor audit event. Functions that need her date of birth or identity take the
:class:`IdentityKeys` built by the entry point from its settings.

Pathway (:mod:`pebs.trial.pathway`)::

    register_participant -> assess_eligibility -> record_consent -> allocate
        standard arm:   create_screening_plan (follow-up starts)
        risk-based arm: record_risk_assessment (assessment + plan)
    -> record_visit / record_outcome / record_questionnaire / record_death; withdraw at any time

The names below are imported on first use, so that ``import pebs.services.errors`` (the
command line's error table) does not load the database layer.
"""

from __future__ import annotations

from pebs.services.trial.allocation import Allocated, allocate
from pebs.services.trial.allocation_lists import (
    GeneratedList,
    generate_allocation_list,
    verify_allocation_list,
)
from pebs.services.trial.audit_chain import AuditReport, verify_audit_chain
from pebs.services.trial.consent import ConsentRecorded, Withdrawal, record_consent, withdraw
from pebs.services.trial.dashboards import (
    ALLOCATION_BALANCE_ROLES,
    AllocationBalance,
    ConsortFlow,
    Recruitment,
    RiskLevels,
    allocation_balance,
    consort_flow,
    recruitment,
    risk_levels,
)
from pebs.services.trial.database import Database, Migrated, open_database, upgrade_database
from pebs.services.trial.deaths import DeathRecorded, record_death
from pebs.services.trial.demo_data import DemoSeeded, seed_demo_participants
from pebs.services.trial.eligibility import EligibilityOutcome, assess_eligibility
from pebs.services.trial.exports import (
    IDENTITY_ROLES,
    ExportFile,
    data_dictionary,
    dictionary_csv,
    export_dictionary,
    export_participants,
    export_participants_csv,
)
from pebs.services.trial.outcomes import OutcomeRecord, OutcomeRecorded, record_outcome
from pebs.services.trial.override import SlotMarked, mark_slot_unusable, override_allocation
from pebs.services.trial.participants import ParticipantSummary, get_participant_summary
from pebs.services.trial.questionnaires import QuestionnaireRecorded, record_questionnaire
from pebs.services.trial.registration import NewParticipant, Registered, register_participant
from pebs.services.trial.risk_assessment import (
    NULLIPAROUS,
    UNKNOWN,
    RiskFactors,
    RiskRecorded,
    record_risk_assessment,
)
from pebs.services.trial.risk_pending import RiskPendingEntry, RiskPendingPage, risk_pending
from pebs.services.trial.risk_questionnaire import (
    RiskQuestionnaireRecorded,
    record_risk_questionnaire,
)
from pebs.services.trial.screening_plan import PlanCreated, PlannedExamView, create_screening_plan
from pebs.services.trial.study_loading import DEMO_USERS, StudyLoadResult, load_study_config
from pebs.services.trial.visits import VisitRecord, VisitRecorded, record_visit
from pebs.services.trial.worklists import WorklistEntry, WorklistPage, worklist

__all__ = [
    "ALLOCATION_BALANCE_ROLES",
    "DEMO_USERS",
    "IDENTITY_ROLES",
    "NULLIPAROUS",
    "UNKNOWN",
    "Allocated",
    "AllocationBalance",
    "AuditReport",
    "ConsentRecorded",
    "ConsortFlow",
    "Database",
    "DeathRecorded",
    "DemoSeeded",
    "EligibilityOutcome",
    "ExportFile",
    "GeneratedList",
    "Migrated",
    "NewParticipant",
    "OutcomeRecord",
    "OutcomeRecorded",
    "ParticipantSummary",
    "PlanCreated",
    "PlannedExamView",
    "QuestionnaireRecorded",
    "Recruitment",
    "Registered",
    "RiskFactors",
    "RiskLevels",
    "RiskPendingEntry",
    "RiskPendingPage",
    "RiskQuestionnaireRecorded",
    "RiskRecorded",
    "SlotMarked",
    "StudyLoadResult",
    "VisitRecord",
    "VisitRecorded",
    "Withdrawal",
    "WorklistEntry",
    "WorklistPage",
    "allocate",
    "allocation_balance",
    "assess_eligibility",
    "consort_flow",
    "create_screening_plan",
    "data_dictionary",
    "dictionary_csv",
    "export_dictionary",
    "export_participants",
    "export_participants_csv",
    "generate_allocation_list",
    "get_participant_summary",
    "load_study_config",
    "mark_slot_unusable",
    "open_database",
    "override_allocation",
    "record_consent",
    "record_death",
    "record_outcome",
    "record_questionnaire",
    "record_risk_assessment",
    "record_risk_questionnaire",
    "record_visit",
    "recruitment",
    "register_participant",
    "risk_levels",
    "risk_pending",
    "seed_demo_participants",
    "upgrade_database",
    "verify_allocation_list",
    "verify_audit_chain",
    "withdraw",
    "worklist",
]
