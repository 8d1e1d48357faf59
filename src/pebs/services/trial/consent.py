"""Record consent (on the document version in force for her country and language) and withdrawal.

Consent needs an eligible woman and moves her to ``consented`` (:func:`record_consent_in`: a list
of women in the caller's transaction, as if one after the other). Withdrawal has three levels,
mildest first (:data:`pebs.trial.WITHDRAWAL_LEVELS`): ``no_further_contact``,
``no_further_data_collection``, ``withdraw_data_use``; a woman may move to a stricter level later,
never back. The level is written on her latest consent (when she has one) and her pathway state
changes accordingly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, InvalidInput, ServiceError
from pebs.services.queries.edit_check_runs import run_edit_checks_in, run_edit_checks_on
from pebs.services.samples.at_randomisation import abandon_open_kits_in
from pebs.services.storable_text import refuses_unstorable_text, unstorable_refusal
from pebs.services.subject import (
    Moves,
    advance,
    one_found,
    participant_facts,
    participants_facts,
    require_state,
)
from pebs.services.transaction import instant, local_date, transaction
from pebs.services.trial._returned_ids import ids_in_order
from pebs.services.trial.study_rules import consent_document_of, consent_terms_of
from pebs.store.audit import append_event
from pebs.store.models import Consent
from pebs.trial import WITHDRAWAL_LEVELS, Event, State

__all__ = [
    "ConsentRecorded",
    "ConsentRequest",
    "Withdrawal",
    "record_consent",
    "record_consent_in",
    "withdraw",
]

_INSERT_CONSENT = insert(Consent).returning(Consent.id, Consent.participant_id)
_LATEST_CONSENT = (
    select(Consent.id, Consent.consented_at, Consent.withdrawal_level)
    .where(Consent.participant_id == bindparam("participant_id"))
    .order_by(Consent.consented_at.desc(), Consent.id.desc())
    .limit(1)
)
_RECORD_WITHDRAWAL = (
    update(Consent)
    .where(Consent.id == bindparam("consent_id"))
    .values(
        withdrawal_level=bindparam("level"),
        withdrawn_at=bindparam("withdrawn_at"),
        withdrawal_reason=bindparam("reason"),
        withdrawal_recorded_by_id=bindparam("recorded_by_id"),
    )
)


@dataclass(frozen=True)
class ConsentRecorded:
    study_id: str
    document_country: str
    document_language: str
    document_version: str
    consented_at: datetime
    pathway_state: str


@dataclass(frozen=True)
class Withdrawal:
    study_id: str
    level: str
    withdrawn_at: datetime
    pathway_state: str


@dataclass(frozen=True)
class ConsentRequest:
    """One woman's consent to record (:func:`record_consent_in`): the language of her form, its
    version when known (checked), and the instant (``None``: now)."""

    study_id: str
    language: str
    document_version: str | None = None
    at: datetime | None = None


@refuses_unstorable_text
def record_consent(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study_id: str,
    *,
    language: str,
    document_version: str | None = None,
    at: datetime | None = None,
) -> ConsentRecorded:
    """Record that an eligible woman consented, taken by ``actor``, at ``at`` (default now).

    The document is the version in force on that day (in her country) for her country and
    ``language``. Give ``document_version`` (the version on the signed form) to have it checked:
    :class:`Conflict` if another version is in force.
    """
    require(actor, Action.RECORD_CONSENT, needs_account=True)
    request = ConsentRequest(study_id, language, document_version, at)
    with transaction(session_maker) as session:
        (recorded,) = _record(session, actor, [request], check_texts=False)
        if isinstance(recorded, ServiceError):
            raise recorded
        run_edit_checks_on(session, study_id, at=at)
    return recorded


def record_consent_in(
    session: Session, actor: Actor, requests: Sequence[ConsentRequest]
) -> list[ConsentRecorded | ServiceError]:
    """:func:`record_consent` for a list of women, in the caller's transaction (never committed
    here): each woman's consent, or the error that refuses her (and nothing is written for
    her), in ``requests`` order, as if recorded one after the other.

    The women (their rows locked, in id order) and the consent documents are each read in one
    query; the consents and the pathway states are each written in one statement; each woman
    gets her own audit event.
    """
    return _record(session, actor, requests, check_texts=True)


def _record(
    session: Session, actor: Actor, requests: Sequence[ConsentRequest], *,
    check_texts: bool,
) -> list[ConsentRecorded | ServiceError]:  # fmt: skip
    """:func:`record_consent_in`, checking each woman's texts if ``check_texts``."""
    require(actor, Action.RECORD_CONSENT, needs_account=True)
    results: list[ConsentRecorded | ServiceError | None] = [None] * len(requests)
    wanted = [r.study_id for r in requests if isinstance(r.study_id, str)]
    found = participants_facts(session, actor, wanted, for_update=True)
    located: list[tuple[int, ConsentRequest, Row[Any], datetime, date]] = []
    for index, request in enumerate(requests):
        try:
            refusal = unstorable_refusal({"request": request}) if check_texts else None
            if refusal is not None:
                raise refusal
            consented_at = instant(request.at)
            her = one_found(found, request.study_id)
        except ServiceError as error:
            results[index] = error
            continue
        located.append((index, request, her, consented_at, local_date(consented_at,
                                                                      her.time_zone)))  # fmt: skip
    terms_of = consent_terms_of(session, (
        (her.study_pk, her.country_code, request.language, day)
        for _, request, her, _, day in located
    ))  # fmt: skip
    moves = Moves()
    rows: list[dict[str, Any]] = []
    events: list[tuple[dict[str, Any], str, datetime]] = []  # new, old state, at
    for index, request, her, consented_at, day in located:
        language = request.language
        terms = terms_of[her.study_pk, her.country_code, language, day]
        try:
            if language not in terms.languages:
                languages = ", ".join(terms.languages)
                raise InvalidInput(
                    f"{language!r} is not a study language of {her.country_code}; languages: "
                    f"{languages}", field="language", message_code="error.choice",
                    values={"allowed": languages},
                )  # fmt: skip
            require_state(her.study_id, moves.status(her), (State.ELIGIBLE,), "record consent")
            document_id, version = consent_document_of(terms, her.country_code, language, day)
            wanted_version = request.document_version
            if wanted_version is not None and wanted_version != version:
                raise Conflict(
                    f"consent document {her.country_code}/{language} version {wanted_version} "
                    f"is not the one in force on {day} (version {version}); use the current "
                    "form", message_code="error.consent_version",
                    values={"version": wanted_version, "current": version, "day": day},
                )  # fmt: skip
            old_state, new_state = moves.advance(her, Event.CONSENT_RECORDED)
        except ServiceError as error:
            results[index] = error
            continue
        rows.append({
            "participant_id": her.participant_id, "consent_document_id": document_id,
            "consented_at": consented_at, "taken_by_id": actor.user_id,
        })  # fmt: skip
        events.append(({
            "participant": her.study_id, "document": f"{her.country_code}/{language}",
            "document_version": version, "consented_at": consented_at, "status": new_state,
        }, old_state, consented_at))  # fmt: skip
        results[index] = ConsentRecorded(
            her.study_id, her.country_code, language, version, consented_at, new_state
        )
    ids: list[int] = []
    if rows:
        returned = session.connection().execute(_INSERT_CONSENT, rows)
        ids = ids_in_order(returned, [(row["participant_id"],) for row in rows])
    moves.write(session)
    for consent_id, (audit, old_state, consented_at) in zip(ids, events, strict=True):
        append_event(
            session, actor=actor.username, action="consent", entity="consent",
            entity_id=consent_id, reason="informed consent", old={"status": old_state},
            new=audit, at=consented_at,
        )  # fmt: skip
    return [result for result in results if result is not None]


KIT_ENDING_LEVELS = ("no_further_data_collection", "withdraw_data_use")
"""Withdrawal levels after which her open saliva kits are abandoned (a woman who only declines
further contact keeps her kit: her sample may still be analysed)."""


@refuses_unstorable_text
def withdraw(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study_id: str,
    *,
    level: str,
    reason: str,
    at: datetime | None = None,
) -> Withdrawal:
    """Record her withdrawal at ``level`` (one of :data:`pebs.trial.WITHDRAWAL_LEVELS`)."""
    require(actor, Action.RECORD_CONSENT)
    if level not in WITHDRAWAL_LEVELS:
        raise InvalidInput(
            f"{level!r} is not a withdrawal level; levels: {', '.join(WITHDRAWAL_LEVELS)}",
            field="level", message_code="error.choice",
            values={"allowed": ", ".join(WITHDRAWAL_LEVELS)},
        )  # fmt: skip
    if not reason or not reason.strip():
        raise InvalidInput(
            "say why she withdraws (or 'not given')",
            field="reason",
            message_code="error.withdrawal_reason",
        )
    withdrawn_at = instant(at)
    with transaction(session_maker) as session:
        her = participant_facts(session, actor, study_id, for_update=True)
        event, _ = WITHDRAWAL_LEVELS[level]
        old_state, new_state = advance(session, her, event)  # undone with the rest on error
        consent = (
            session.connection()
            .execute(_LATEST_CONSENT, {"participant_id": her.participant_id})
            .first()
        )
        old: dict[str, object] = {"status": old_state}
        if consent is not None:
            if withdrawn_at < consent.consented_at:
                raise InvalidInput(
                    f"withdrawal {withdrawn_at} is before her consent {consent.consented_at}",
                    field="at", message_code="error.withdrawal_before_consent",
                    values={"day": consent.consented_at.date()},
                )  # fmt: skip
            old["withdrawal_level"] = consent.withdrawal_level
            session.connection().execute(_RECORD_WITHDRAWAL, {
                "consent_id": consent.id, "level": level, "withdrawn_at": withdrawn_at,
                "reason": reason.strip(), "recorded_by_id": actor.user_id,
            })  # fmt: skip
        append_event(
            session, actor=actor.username, action="withdraw", entity="participant",
            entity_id=study_id, reason=reason.strip(), old=old,
            new={"withdrawal_level": level, "withdrawn_at": withdrawn_at, "status": new_state},
            at=withdrawn_at,
        )  # fmt: skip
        if level in KIT_ENDING_LEVELS:  # no sample of hers is analysed any more
            abandon_open_kits_in(
                session, participant_id=her.participant_id, study_id=study_id, actor=actor,
                at=withdrawn_at, why=f"withdrawn ({level})",
            )  # fmt: skip
        run_edit_checks_in(session, her.participant_id, at=withdrawn_at)
    return Withdrawal(study_id, level, withdrawn_at, new_state)
