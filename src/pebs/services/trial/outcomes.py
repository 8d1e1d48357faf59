"""Record a breast cancer diagnosis: date, mode of detection, invasive/DCIS, TNM -> AJCC stage.

The TNM categories are checked and normalised by :func:`pebs.trial.parse_tnm` and staged by
:func:`pebs.trial.anatomic_stage` (AJCC 8th anatomic stage groups); they are stored with their
c/p prefix (``pT1c``). Give all three categories or none (stage not known yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidFields, InvalidInput
from pebs.services.field_rules import in_the_future, unknown_choice
from pebs.services.queries.edit_check_runs import run_edit_checks_in
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.services.transaction import instant, local_date, transaction
from pebs.store.audit import append_event
from pebs.store.models import Outcome
from pebs.trial import COLLECTING, StagingError, State, anatomic_stage, parse_tnm
from pebs.trial.vocabularies import BEHAVIOURS, DETECTION_MODES

__all__ = ["OutcomeRecord", "OutcomeRecorded", "record_outcome"]


@dataclass(frozen=True)
class OutcomeRecord:
    diagnosis_date: date
    detection_mode: str
    """``screen_detected``, ``interval`` or ``clinical``."""
    behaviour: str
    """``invasive`` or ``dcis``."""
    t: str | None = None
    n: str | None = None
    m: str | None = None


@dataclass(frozen=True)
class OutcomeRecorded:
    study_id: str
    outcome_id: int
    diagnosis_date: date
    detection_mode: str
    behaviour: str
    tnm: str | None
    """Normalised, e.g. ``pT1c pN0 cM0``."""
    stage_group: str | None


def _stage(record: OutcomeRecord) -> tuple[tuple[str, str, str] | None, str | None]:
    categories = {"t": record.t, "n": record.n, "m": record.m}
    missing = tuple(name for name, value in categories.items() if value is None)
    if len(missing) == len(categories):
        return None, None
    if missing:
        problem = "give all three TNM categories, or none (stage not known)"
        raise InvalidFields(f"t, n, m: {problem}", dict.fromkeys(missing, problem), missing)
    try:
        tnm = parse_tnm(record.t, record.n, record.m)  # type: ignore[arg-type]
        stage = anatomic_stage(record.t, record.n, record.m)  # type: ignore[arg-type]
    except StagingError as error:
        raise InvalidInput(f"TNM: {error}") from None
    if (record.behaviour == "dcis") != (tnm.t == "Tis" or tnm.t.startswith("Tis(")):
        raise InvalidInput(
            f"behaviour {record.behaviour!r} does not match T category {tnm.t} "
            "(DCIS is Tis; an invasive cancer is not)",
            message_code="error.behaviour_tnm", values={"t": tnm.t},
        )  # fmt: skip
    stored = (f"{tnm.t_prefix}{tnm.t}", f"{tnm.n_prefix}{tnm.n}", f"{tnm.m_prefix}{tnm.m}")
    return stored, stage


@refuses_unstorable_text
def record_outcome(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study_id: str,
    record: OutcomeRecord,
    *,
    at: datetime | None = None,
) -> OutcomeRecorded:
    """Record a diagnosis for a randomised woman (also after her death, from registries)."""
    require(actor, Action.RECORD_FOLLOW_UP)
    if record.detection_mode not in DETECTION_MODES:
        raise unknown_choice("detection_mode", record.detection_mode, DETECTION_MODES)
    if record.behaviour not in BEHAVIOURS:
        raise unknown_choice("behaviour", record.behaviour, BEHAVIOURS)
    categories, stage = _stage(record)
    recorded_at = instant(at)
    with transaction(session_maker) as session:
        subject = find_participant(session, actor, study_id, for_update=True)
        subject.require_state((*COLLECTING, State.DIED), "record a diagnosis")
        if record.diagnosis_date > local_date(recorded_at, subject.country.time_zone):
            raise in_the_future("diagnosis_date", record.diagnosis_date)
        t, n, m = categories or (None, None, None)
        outcome = Outcome(
            participant_id=subject.participant.id, diagnosis_date=record.diagnosis_date,
            detection_mode=record.detection_mode, behaviour=record.behaviour, t_category=t,
            n_category=n, m_category=m, stage_group=stage, recorded_at=recorded_at,
            recorded_by_id=actor.user_id,
        )  # fmt: skip
        session.add(outcome)
        session.flush()
        append_event(
            session, actor=actor.username, action="record", entity="outcome",
            entity_id=outcome.id, reason="breast cancer diagnosis",
            new={"participant": study_id, "diagnosis_date": record.diagnosis_date,
                 "detection_mode": record.detection_mode, "behaviour": record.behaviour,
                 "t": t, "n": n, "m": m, "stage_group": stage},
            at=recorded_at,
        )  # fmt: skip
        run_edit_checks_in(session, subject.participant.id, at=recorded_at)
    return OutcomeRecorded(
        study_id, outcome.id, record.diagnosis_date, record.detection_mode, record.behaviour,
        None if categories is None else " ".join(categories), stage,
    )  # fmt: skip
