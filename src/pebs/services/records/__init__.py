"""Read-side use cases for the API and web pages: participant lists, identity, audit trail.

- :func:`list_participants`: a keyset page of the caller's participants, filtered by site,
  pathway state and arm, searched by study ID;
- :func:`get_identity`: her identifying data, for :data:`pebs.services.auth.IDENTITY_ROLES`
  only, each read audited;
- :func:`participant_audit_events`: the audit events about one participant.

Every query goes through the caller's :class:`~pebs.store.repositories.Scope`; a participant
outside it is not found.
"""

from pebs.services.records.audit_trail import AuditEntry, participant_audit_events
from pebs.services.records.identity import IdentityView, get_identity
from pebs.services.records.listing import ParticipantPage, ParticipantRow, list_participants

__all__ = [
    "AuditEntry",
    "IdentityView",
    "ParticipantPage",
    "ParticipantRow",
    "get_identity",
    "list_participants",
    "participant_audit_events",
]
