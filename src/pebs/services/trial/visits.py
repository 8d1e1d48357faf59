"""Record a visit: an expected one from her plan, or an unplanned one (recall, diagnostic).

Results: BI-RADS 0-6, recall, biopsy and histology (which needs a biopsy), and on a mammogram
(or tomosynthesis) the BI-RADS breast density a-d with who read it. The first visit of a woman
whose plan is given (or of a standard-arm woman) starts her follow-up (``follow_up_started``).
A density completes a risk-based woman's data when it is her baseline one: in the same
transaction :func:`.risk_completion.complete_risk_in` computes her risk and plan if nothing else
is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, InvalidInput, NotFound
from pebs.services.field_rules import (
    BIRADS,
    DEFAULT_VISIT_TYPE,
    DENSITY_READER_CHARS,
    in_the_future,
    unknown_choice,
)
from pebs.services.keys import IdentityKeys
from pebs.services.queries.edit_check_runs import run_edit_checks_in
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.services.transaction import instant, local_date, transaction
from pebs.services.trial.risk_completion import DENSITY_MODALITIES, complete_risk_in
from pebs.store.audit import append_event
from pebs.store.models import Visit
from pebs.store.repositories import expected_visit_due
from pebs.trial import COLLECTING, Event, State
from pebs.trial.vocabularies import BREAST_DENSITIES, HISTOLOGIES, MODALITIES, VISIT_TYPES

__all__ = [
    "RESULT_FIELDS",
    "STARTS_FOLLOW_UP",
    "VisitRecord",
    "VisitRecorded",
    "check_density_modality",
    "check_visit_record",
    "record_visit",
]

STARTS_FOLLOW_UP = (State.RANDOMISED_STANDARD, State.PLAN_GIVEN)
"""The states in which a woman's first visit starts her follow-up."""


@dataclass(frozen=True)
class VisitRecord:
    """What happened at a visit."""

    performed_date: date
    birads: int | None = None
    """BI-RADS assessment category 0-6."""
    recall: bool | None = None
    biopsy: bool | None = None
    histology: str | None = None
    """One of :data:`pebs.store.models.HISTOLOGIES`; needs ``biopsy=True``."""
    histology_detail: str | None = None
    modality: str | None = None
    """For an unplanned visit (an expected one keeps its planned modality)."""
    visit_type: str = DEFAULT_VISIT_TYPE
    """For an unplanned visit: one of :data:`pebs.store.models.VISIT_TYPES`."""
    density: str | None = None
    """BI-RADS breast density a, b, c or d read on a mammogram (or tomosynthesis)."""
    density_reader: str | None = None
    """Who read the density (a radiologist, or a tool and its version); needed with it."""


@dataclass(frozen=True)
class VisitRecorded:
    study_id: str
    visit_id: int
    planned: bool
    visit_type: str
    modality: str | None
    due_date: date
    performed_date: date
    birads: int | None
    pathway_state: str
    risk_level: str | None = None
    """Her level if this visit's density completed her data and her risk was computed."""


RESULT_FIELDS = ("performed_date", "birads", "recall", "biopsy", "histology", "histology_detail",
                  "density", "density_reader")  # fmt: skip


def check_visit_record(record: VisitRecord, today: date) -> None:
    """A visit's own checks (its values, on ``today`` in her country); the refusal raised."""
    if isinstance(record.performed_date, datetime) or not isinstance(record.performed_date, date):
        raise InvalidInput(
            f"must be a date, got {record.performed_date!r}",
            field="performed_date",
            message_code="error.date",
        )
    if record.performed_date > today:
        raise in_the_future("performed_date", record.performed_date)
    low, high = BIRADS
    if record.birads is not None and (
        isinstance(record.birads, bool) or record.birads not in range(low, high + 1)
    ):
        raise InvalidInput(
            f"must be a BI-RADS category {low} to {high}, got {record.birads!r}", field="birads",
            message_code="error.range", values={"low": low, "high": high},
        )  # fmt: skip
    if record.histology is not None:
        if record.histology not in HISTOLOGIES:
            raise unknown_choice("histology", record.histology, HISTOLOGIES)
        if record.biopsy is not True:
            raise InvalidInput("a histology result needs biopsy=True", field="histology",
                               message_code="error.histology_needs_biopsy")  # fmt: skip
    if record.modality is not None and record.modality not in MODALITIES:
        raise unknown_choice("modality", record.modality, MODALITIES)
    if record.visit_type not in VISIT_TYPES:
        raise unknown_choice("visit_type", record.visit_type, VISIT_TYPES)
    _check_density(record)


def _check_density(record: VisitRecord) -> None:
    reader = record.density_reader
    if record.density is None:
        if reader is not None:
            raise InvalidInput(
                "a density reader needs a density",
                field="density_reader",
                message_code="error.reader_needs_density",
            )
        return
    if record.density not in BREAST_DENSITIES:
        raise unknown_choice("density", record.density, BREAST_DENSITIES)
    if not isinstance(reader, str) or not reader.strip() or len(reader) > DENSITY_READER_CHARS:
        raise InvalidInput(
            f"give who read the density (at most {DENSITY_READER_CHARS} characters)",
            field="density_reader", message_code="error.density_reader",
            values={"max": DENSITY_READER_CHARS},
        )  # fmt: skip


def check_density_modality(record: VisitRecord, modality: str | None) -> None:
    """A density is read on a mammogram or tomosynthesis only."""
    if record.density is not None and modality not in DENSITY_MODALITIES:
        on = modality or "a visit without a modality"
        raise InvalidInput(
            f"a density is read on {' or '.join(DENSITY_MODALITIES)}, not on {on}",
            field="density",
            message_code="error.density_modality",
        )


@refuses_unstorable_text
def record_visit(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study_id: str,
    record: VisitRecord,
    *,
    visit_id: int | None = None,
    keys: IdentityKeys | None = None,
    at: datetime | None = None,
    due_date: date | None = None,
) -> VisitRecorded:
    """Record the results of expected visit ``visit_id`` (from her plan), or of a new unplanned
    visit when ``visit_id`` is ``None``. :class:`Conflict` for a visit already recorded (a
    correction is a separate, reasoned change). A density needs ``keys`` (her age, for her
    risk). ``due_date`` (without ``visit_id``; records brought from another system): the
    expected visit of her plan due that day, of the record's modality and not yet recorded, if
    she has one; else a new unplanned visit."""
    require(actor, Action.RECORD_FOLLOW_UP)
    if record.density is not None and keys is None:
        raise InvalidInput("a density needs the identity keys (her age for her risk)",
                           field="density")  # fmt: skip
    recorded_at = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id, for_update=True)
        participant = subject.participant
        subject.require_state(COLLECTING, "record a visit")
        check_visit_record(record, local_date(recorded_at, subject.country.time_zone))
        if visit_id is None and due_date is not None:
            visit_id = expected_visit_due(session, participant.id, due_date, record.modality)
        if visit_id is None:
            day = record.performed_date
            visit = Visit(
                participant_id=participant.id, visit_type=record.visit_type,
                modality=record.modality, due_date=day, window_start=day, window_end=day,
            )  # fmt: skip
            session.add(visit)
        else:
            visit = session.get(Visit, visit_id)
            if visit is None or visit.participant_id != participant.id:
                raise NotFound(f"{study_id} has no visit {visit_id}", message_code="error.no_visit")
            if visit.performed_date is not None:
                raise Conflict(f"visit {visit_id} was already recorded ({visit.performed_date})",
                               message_code="error.visit_recorded",
                               values={"day": visit.performed_date})  # fmt: skip
        check_density_modality(record, visit.modality)
        for name in RESULT_FIELDS:
            setattr(visit, name, getattr(record, name))
        visit.recorded_at = recorded_at
        visit.recorded_by_id = actor.user_id
        old_state = new_state = participant.status
        if subject.state in STARTS_FOLLOW_UP:
            old_state, new_state = subject.apply(Event.FOLLOW_UP_STARTED)
        session.flush()
        append_event(
            session, actor=actor.username, action="record", entity="visit", entity_id=visit.id,
            reason="visit results", old={"status": old_state, "performed_date": None},
            new={"participant": study_id, "planned": visit_id is not None,
                 "visit_type": visit.visit_type, "modality": visit.modality,
                 "due_date": visit.due_date, "status": new_state,
                 **{name: getattr(record, name) for name in RESULT_FIELDS}},
            at=recorded_at,
        )  # fmt: skip
        level = None
        if record.density is not None and keys is not None:
            level = complete_risk_in(
                session, participant_id=participant.id, actor=actor, keys=keys, at=recorded_at
            )
            new_state = participant.status
        run_edit_checks_in(session, participant.id, at=recorded_at)
    return VisitRecorded(
        study_id, visit.id, visit_id is not None, visit.visit_type, visit.modality,
        visit.due_date, record.performed_date, record.birads, new_state, level,
    )  # fmt: skip
