"""Read-side use cases for the API and web pages: participant lists, identity, audit trail.

- :func:`list_participants`: a keyset page of the caller's participants, filtered by site,
  pathway state and arm, searched by study ID;
- :func:`get_identity`: her identifying data, for :data:`pebs.services.auth.IDENTITY_ROLES`
  only, each read audited;
- :func:`participant_audit_events`: the audit events about one participant;
- :func:`participant_record`: her whole record as the pages show it (no identity);
- what the forms offer (:mod:`.choices`): eligibility questions in force, sites in scope.

Every query goes through the caller's :class:`~pebs.store.repositories.Scope`; a participant
outside it is not found.
"""

from pebs.services.records.audit_trail import AuditEntry, participant_audit_events
from pebs.services.records.choices import (
    Criterion,
    SiteChoice,
    can,
    eligibility_questions,
    registration_sites,
    studies_for,
    study_wording,
    study_zones,
    worklist_sites,
)
from pebs.services.records.identity import IdentityView, get_identity
from pebs.services.records.listing import ParticipantPage, ParticipantRow, list_participants
from pebs.services.records.participant_record import ParticipantRecord, participant_record

__all__ = [
    "AuditEntry",
    "Criterion",
    "IdentityView",
    "ParticipantPage",
    "ParticipantRecord",
    "ParticipantRow",
    "SiteChoice",
    "can",
    "eligibility_questions",
    "get_identity",
    "list_participants",
    "participant_audit_events",
    "participant_record",
    "registration_sites",
    "studies_for",
    "study_wording",
    "study_zones",
    "worklist_sites",
]
