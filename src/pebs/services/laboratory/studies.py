"""The studies the laboratory works for: the study choice of its pages (names only).

The laboratory reads no participant, so the participant roles' study list
(:func:`pebs.services.records.studies_for`) is not for it; what it gets here is the loaded
studies' names, nothing of their configuration.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import PERMISSIONS, Action, Actor
from pebs.services.errors import PermissionDenied
from pebs.services.storable_text import refuses_unstorable_text
from pebs.store.models import Study

__all__ = ["laboratory_studies"]

_LABORATORY_WORK = (Action.RECEIVE_SHIPMENT, Action.IMPORT_GENOTYPES)
"""A role that does either may choose among the studies."""


@refuses_unstorable_text
def laboratory_studies(session_maker: sessionmaker[Session], actor: Actor) -> tuple[str, ...]:
    """Names of the loaded studies, by name: those whose shipments the laboratory receives and
    whose genotype batches it imports."""
    allowed = frozenset().union(*(PERMISSIONS[action] for action in _LABORATORY_WORK))
    if actor.role not in allowed:
        raise PermissionDenied(
            f"{actor.username} ({actor.role}) may not "
            + " nor ".join(str(action) for action in _LABORATORY_WORK)
            + "; allowed roles: "
            + ", ".join(sorted(allowed))
        )
    with session_maker() as session:
        return tuple(session.scalars(select(Study.name).order_by(Study.name)))
