"""Trial use cases: each one transaction that writes its audit event(s) with the change.

Every function takes a :class:`~sqlalchemy.orm.sessionmaker` and an :class:`Actor` (who calls,
with her role and site/country scope), checks the role (:data:`PERMISSIONS`), reads and writes
participant data only through scoped queries, and returns a frozen result. Failures are
:class:`ServiceError` subclasses (:mod:`pebs.services.trial.errors`); a failing use case leaves
neither data nor audit event. Functions that need her date of birth or identity take the
:class:`IdentityKeys` built by the entry point from its settings.

Pathway (:mod:`pebs.trial.pathway`)::

    register_participant -> assess_eligibility -> record_consent -> allocate
        standard arm:   create_screening_plan (follow-up starts)
        risk-based arm: record_risk_assessment (assessment + plan)
    -> record_visit / record_outcome / record_questionnaire / record_death; withdraw at any time

The names below are imported on first use, so that ``import pebs.services.trial.errors`` (the
command line's error table) does not load the database layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pebs._lazy import lazy_namespace

if TYPE_CHECKING:
    from pebs.services.trial.actor import PERMISSIONS, Action, Actor, actor_for
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
    from pebs.services.trial.errors import (
        AllocationRefused,
        Conflict,
        DatabaseNotReady,
        DuplicateParticipant,
        InvalidFields,
        InvalidInput,
        LevelLowered,
        NotFound,
        PermissionDenied,
        ServiceError,
        StratumExhausted,
    )
    from pebs.services.trial.exports import (
        IDENTITY_ROLES,
        data_dictionary,
        dictionary_csv,
        export_participants_csv,
    )
    from pebs.services.trial.keys import IdentityKeys
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
    from pebs.services.trial.screening_plan import (
        PlanCreated,
        PlannedExamView,
        create_screening_plan,
    )
    from pebs.services.trial.study_loading import DEMO_USERS, StudyLoadResult, load_study_config
    from pebs.services.trial.visits import VisitRecord, VisitRecorded, record_visit
    from pebs.services.trial.worklists import WorklistEntry, WorklistPage, worklist

_EXPORTS: dict[str, str] = {
    "Action": "actor",
    "Actor": "actor",
    "Allocated": "allocation",
    "AllocationRefused": "errors",
    "AuditReport": "audit_chain",
    "Conflict": "errors",
    "ConsentRecorded": "consent",
    "DEMO_USERS": "study_loading",
    "Database": "database",
    "DatabaseNotReady": "errors",
    "DeathRecorded": "deaths",
    "DuplicateParticipant": "errors",
    "EligibilityOutcome": "eligibility",
    "GeneratedList": "allocation_lists",
    "IdentityKeys": "keys",
    "InvalidFields": "errors",
    "InvalidInput": "errors",
    "LevelLowered": "errors",
    "Migrated": "database",
    "NewParticipant": "registration",
    "NotFound": "errors",
    "OutcomeRecord": "outcomes",
    "OutcomeRecorded": "outcomes",
    "PERMISSIONS": "actor",
    "ParticipantSummary": "participants",
    "PermissionDenied": "errors",
    "PlanCreated": "screening_plan",
    "PlannedExamView": "screening_plan",
    "QuestionnaireRecorded": "questionnaires",
    "Registered": "registration",
    "RiskFactors": "risk_assessment",
    "NULLIPAROUS": "risk_assessment",
    "UNKNOWN": "risk_assessment",
    "RiskRecorded": "risk_assessment",
    "ServiceError": "errors",
    "SlotMarked": "override",
    "StratumExhausted": "errors",
    "StudyLoadResult": "study_loading",
    "VisitRecord": "visits",
    "VisitRecorded": "visits",
    "Withdrawal": "consent",
    "WorklistEntry": "worklists",
    "WorklistPage": "worklists",
    "actor_for": "actor",
    "allocate": "allocation",
    "assess_eligibility": "eligibility",
    "create_screening_plan": "screening_plan",
    "generate_allocation_list": "allocation_lists",
    "get_participant_summary": "participants",
    "load_study_config": "study_loading",
    "mark_slot_unusable": "override",
    "open_database": "database",
    "override_allocation": "override",
    "record_consent": "consent",
    "record_death": "deaths",
    "record_outcome": "outcomes",
    "record_questionnaire": "questionnaires",
    "record_risk_assessment": "risk_assessment",
    "record_visit": "visits",
    "register_participant": "registration",
    "upgrade_database": "database",
    "verify_allocation_list": "allocation_lists",
    "verify_audit_chain": "audit_chain",
    "withdraw": "consent",
    "worklist": "worklists",
    "ALLOCATION_BALANCE_ROLES": "dashboards",
    "AllocationBalance": "dashboards",
    "ConsortFlow": "dashboards",
    "Recruitment": "dashboards",
    "RiskLevels": "dashboards",
    "allocation_balance": "dashboards",
    "consort_flow": "dashboards",
    "recruitment": "dashboards",
    "risk_levels": "dashboards",
    "DemoSeeded": "demo_data",
    "seed_demo_participants": "demo_data",
    "IDENTITY_ROLES": "exports",
    "data_dictionary": "exports",
    "dictionary_csv": "exports",
    "export_participants_csv": "exports",
}
"""Public name -> the module of this package that defines it."""

__all__ = [
    "ALLOCATION_BALANCE_ROLES",
    "DEMO_USERS",
    "IDENTITY_ROLES",
    "NULLIPAROUS",
    "PERMISSIONS",
    "UNKNOWN",
    "Action",
    "Actor",
    "Allocated",
    "AllocationBalance",
    "AllocationRefused",
    "AuditReport",
    "Conflict",
    "ConsentRecorded",
    "ConsortFlow",
    "Database",
    "DatabaseNotReady",
    "DeathRecorded",
    "DemoSeeded",
    "DuplicateParticipant",
    "EligibilityOutcome",
    "GeneratedList",
    "IdentityKeys",
    "InvalidFields",
    "InvalidInput",
    "LevelLowered",
    "Migrated",
    "NewParticipant",
    "NotFound",
    "OutcomeRecord",
    "OutcomeRecorded",
    "ParticipantSummary",
    "PermissionDenied",
    "PlanCreated",
    "PlannedExamView",
    "QuestionnaireRecorded",
    "Recruitment",
    "Registered",
    "RiskFactors",
    "RiskLevels",
    "RiskRecorded",
    "ServiceError",
    "SlotMarked",
    "StratumExhausted",
    "StudyLoadResult",
    "VisitRecord",
    "VisitRecorded",
    "Withdrawal",
    "WorklistEntry",
    "WorklistPage",
    "actor_for",
    "allocate",
    "allocation_balance",
    "assess_eligibility",
    "consort_flow",
    "create_screening_plan",
    "data_dictionary",
    "dictionary_csv",
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
    "record_visit",
    "recruitment",
    "register_participant",
    "risk_levels",
    "seed_demo_participants",
    "upgrade_database",
    "verify_allocation_list",
    "verify_audit_chain",
    "withdraw",
    "worklist",
]

__getattr__, __dir__ = lazy_namespace(__name__, _EXPORTS, __all__, globals())
