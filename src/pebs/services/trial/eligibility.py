"""Assess eligibility under the protocol version in force on the assessment date.

The answers and the result are stored (:class:`~pebs.store.models.EligibilityAssessment`) with
the protocol version; a screen failure records every reason. The pathway moves to ``eligible`` or
``screen_failure``; an incomplete assessment (unanswered criteria) is stored and leaves the state
as it was. Re-assessment is allowed until consent. :func:`assess_eligibility_in` assesses a list
of women in the caller's transaction, as if one after the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, insert
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import InvalidInput, ServiceError
from pebs.services.keys import IdentityKeys
from pebs.services.storable_text import refuses_unstorable_text, unstorable_refusal
from pebs.services.subject import (
    Moves,
    decrypt_birth_date,
    one_found,
    participants_facts,
    require_state,
)
from pebs.services.transaction import instant, local_date, transaction
from pebs.services.trial._returned_ids import ids_in_order
from pebs.services.trial.study_rules import criteria_of, protocols_in_force
from pebs.store.audit import append_event
from pebs.store.models import EligibilityAssessment
from pebs.trial import EligibilityError, Event, State, assess

__all__ = ["EligibilityOutcome", "EligibilityRequest", "assess_eligibility",
           "assess_eligibility_in"]  # fmt: skip

_ASSESSABLE = (State.REGISTERED, State.ELIGIBLE, State.SCREEN_FAILURE)
_INSERT_ASSESSMENT = insert(EligibilityAssessment).returning(
    EligibilityAssessment.id, EligibilityAssessment.participant_id
)


@dataclass(frozen=True)
class EligibilityOutcome:
    study_id: str
    protocol_version: str
    assessed_on: date
    status: str
    """``eligible``, ``screen_failure`` or ``incomplete``."""
    reasons: tuple[str, ...]
    """Screen-failure reasons, one per failed criterion."""
    missing: tuple[str, ...]
    """Criteria not answered."""
    pathway_state: str


@dataclass(frozen=True)
class EligibilityRequest:
    """One woman to assess (:func:`assess_eligibility_in`): her answers, the assessment date
    (``None``: the day of ``at`` in her country) and instant (``None``: now)."""

    study_id: str
    answers: Mapping[str, bool | None]
    on_date: date | None = None
    at: datetime | None = None


@refuses_unstorable_text
def assess_eligibility(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study_id: str,
    answers: Mapping[str, bool | None],
    *,
    on_date: date | None = None,
    at: datetime | None = None,
) -> EligibilityOutcome:
    """Assess a registered woman against the criteria in force on ``on_date``.

    ``on_date`` defaults to today in her country. Age comes from her (encrypted) date of birth.
    :class:`InvalidInput` for an answer to an unknown criterion; :class:`Conflict` once she has
    consented (eligibility is then settled).
    """
    require(actor, Action.ASSESS_ELIGIBILITY)
    request = EligibilityRequest(study_id, answers, on_date, at)
    with transaction(session_maker) as session:
        (outcome,) = _assess(session, actor, keys, [request], check_texts=False)
        if isinstance(outcome, ServiceError):
            raise outcome
    return outcome


def assess_eligibility_in(
    session: Session, actor: Actor, keys: IdentityKeys, requests: Sequence[EligibilityRequest]
) -> list[EligibilityOutcome | ServiceError]:
    """:func:`assess_eligibility` for a list of women, in the caller's transaction (never
    committed here): each woman's outcome, or the error that refuses her (and nothing is written
    for her), in ``requests`` order, as if assessed one after the other.

    The women (their rows locked, in id order) and the protocol versions are each read in one
    query; the assessments and the pathway states are each written in one statement; each
    woman gets her own audit event.
    """
    return _assess(session, actor, keys, requests, check_texts=True)


def _assess(
    session: Session, actor: Actor, keys: IdentityKeys, requests: Sequence[EligibilityRequest], *,
    check_texts: bool,
) -> list[EligibilityOutcome | ServiceError]:  # fmt: skip
    """:func:`assess_eligibility_in`, checking each woman's texts if ``check_texts``."""
    require(actor, Action.ASSESS_ELIGIBILITY)
    results: list[EligibilityOutcome | ServiceError | None] = [None] * len(requests)
    wanted = [r.study_id for r in requests if isinstance(r.study_id, str)]
    found = participants_facts(session, actor, wanted, for_update=True)
    located: list[tuple[int, EligibilityRequest, Row[Any], datetime, date]] = []
    for index, request in enumerate(requests):
        try:
            refusal = unstorable_refusal({"request": request}) if check_texts else None
            if refusal is not None:
                raise refusal
            assessed_at = instant(request.at)
            her = one_found(found, request.study_id)
        except ServiceError as error:
            results[index] = error
            continue
        day = request.on_date or local_date(assessed_at, her.time_zone)
        located.append((index, request, her, assessed_at, day))
    protocols = protocols_in_force(session, ((her.study_pk, day) for _, _, her, _, day in located))
    criteria_sets = {protocol.id: criteria_of(protocol) for protocol in protocols.values()
                     if not isinstance(protocol, ServiceError)}  # fmt: skip
    moves = Moves()
    rows: list[dict[str, Any]] = []
    events: list[tuple[str, dict[str, Any], str, datetime]] = []  # reason, new, old state, at
    for index, request, her, assessed_at, day in located:
        try:
            require_state(her.study_id, moves.status(her), _ASSESSABLE, "assess eligibility")
            protocol = protocols[her.study_pk, day]
            if isinstance(protocol, ServiceError):
                raise protocol
            criteria = criteria_sets[protocol.id]
            born = decrypt_birth_date(keys, her.study_id, her.date_of_birth_enc)
            try:
                result = assess(criteria, request.answers, born, day)
            except EligibilityError as error:
                raise InvalidInput(str(error)) from None
            old_state = new_state = moves.status(her)
            if result.status != "incomplete":
                event = Event.ASSESSED_ELIGIBLE if result.eligible else Event.ASSESSED_INELIGIBLE
                old_state, new_state = moves.advance(her, event)
        except ServiceError as error:
            results[index] = error
            continue
        reasons = [{"criterion": f.criterion, "reason": f.reason} for f in result.failed]
        rows.append({
            "participant_id": her.participant_id, "protocol_version_id": protocol.id,
            "answers": dict(request.answers), "result": result.status, "reasons": reasons,
            "assessed_at": assessed_at, "assessed_by_id": actor.user_id,
        })  # fmt: skip
        audit = {
            "participant": her.study_id, "protocol_version": protocol.version,
            "assessed_on": day, "answers": dict(request.answers), "result": result.status,
            "reasons": reasons, "missing": list(result.missing), "status": new_state,
        }  # fmt: skip
        reason = f"eligibility under protocol {protocol.version}"
        events.append((reason, audit, old_state, assessed_at))
        results[index] = EligibilityOutcome(
            study_id=her.study_id,
            protocol_version=protocol.version,
            assessed_on=day,
            status=result.status,
            reasons=tuple(f.reason for f in result.failed),
            missing=result.missing,
            pathway_state=new_state,
        )
    ids: list[int] = []
    if rows:
        returned = session.connection().execute(_INSERT_ASSESSMENT, rows)
        ids = ids_in_order(returned, [(row["participant_id"],) for row in rows])
    moves.write(session)
    for assessment_id, (reason, audit, old_state, assessed_at) in zip(ids, events, strict=True):
        append_event(
            session, actor=actor.username, action="assess", entity="eligibility_assessment",
            entity_id=assessment_id, reason=reason, old={"status": old_state}, new=audit,
            at=assessed_at,
        )  # fmt: skip
    return [result for result in results if result is not None]
