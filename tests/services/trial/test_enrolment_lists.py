"""Registration, eligibility and consent for a list of women: the same rows, refusals and audit
events as one call per woman in list order, in a number of statements that does not grow with
the list (but for each woman's audit event)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from factories import CONSENT_LANGUAGE
from pebs.services.errors import ServiceError
from pebs.services.trial.consent import ConsentRequest, record_consent, record_consent_in
from pebs.services.trial.eligibility import (
    EligibilityRequest,
    assess_eligibility,
    assess_eligibility_in,
)
from pebs.services.trial.registration import (
    NewParticipant,
    Registration,
    register_participant,
    register_participants_in,
)
from pebs.store.models import (
    AuditEvent,
    Consent,
    EligibilityAssessment,
    Participant,
    ParticipantIdentity,
    Site,
)

BORN = date(1972, 5, 10)


def _woman(
    site: str, national_id: str | None = None, *, born: date = BORN, **extra: Any
) -> NewParticipant:
    return NewParticipant(
        site=site, name=f"Woman {site}", birth_date=born, national_id=national_id, **extra
    )  # fmt: skip


def _registrations(trial) -> list[Registration]:
    """Women over several days, with a refusal of each kind between accepted women."""
    day = [trial.AT + timedelta(days=k) for k in range(4)]
    return [
        Registration(_woman("IT-TO", "N-1"), day[0]),
        Registration(_woman("FR-PA"), day[1]),
        Registration(_woman("IT-TO", "n 1"), day[1]),  # the first woman again (same HMAC)
        Registration(_woman("IT-MI", born=date(2030, 1, 1)), day[0]),  # in the future
        Registration(_woman("XX-YY"), day[0]),  # no such site
        Registration(_woman("IT-MI", contact="a\x00b"), day[2]),  # not storable
        Registration(_woman("IT-TO", "N-0"), day[2]),  # registered before the list
        Registration(_woman("IT-MI", language="xx"), day[2]),  # not a language of Italy
        Registration(_woman("FR-PA", "N-1"), datetime(2025, 3, 4, 9, 0)),  # naive instant
        Registration(_woman("FR-PA", "N-1"), day[3]),  # another country: another woman
        Registration(_woman("IT-MI", is_test=True), day[3]),
        Registration(_woman("IT-TO"), day[3]),
    ]


def _assessments(trial, registered: list[str]) -> list[EligibilityRequest]:
    first, second, third, fourth = registered[:4]
    at = trial.AT + timedelta(days=5)
    return [
        EligibilityRequest(first, trial.ELIGIBLE, at=at),
        EligibilityRequest(second, {**trial.ELIGIBLE, "history_breast_cancer": True}, at=at),
        EligibilityRequest("IT-TO-999999", trial.ELIGIBLE, at=at),  # no such woman
        EligibilityRequest(third, {"no_such_criterion": True}, at=at),
        EligibilityRequest(third, {"able_to_consent": True}, at=at),  # incomplete
        EligibilityRequest(fourth, {**trial.ELIGIBLE, "\x00": True}, at=at),  # not storable
        EligibilityRequest(second, trial.ELIGIBLE, at=at + timedelta(days=1)),  # re-assessed
        EligibilityRequest(fourth, trial.ELIGIBLE, on_date=date(2025, 3, 10), at=at),
    ]


def _consents(trial, registered: list[str]) -> list[ConsentRequest]:
    first, second, third, fourth = registered[:4]
    at = trial.AT + timedelta(days=7)

    def language(study_id: str) -> str:
        return CONSENT_LANGUAGE[study_id[:2]]

    return [
        ConsentRequest(first, language(first), at=at),
        ConsentRequest(first, language(first), at=at),  # already consented
        ConsentRequest(third, language(third), at=at),  # assessment incomplete
        ConsentRequest(second, "he", at=at),  # not a language of her country
        ConsentRequest(second, language(second), document_version="0.1", at=at),  # not in force
        ConsentRequest(fourth, language(fourth), at=at.replace(tzinfo=None)),  # naive instant
        ConsentRequest(second, language(second), at=at + timedelta(hours=1)),
        ConsentRequest(fourth, language(fourth), at=at + timedelta(days=1)),
    ]


def _outcome(result: object) -> object:
    """A result as compared between the two runs (an error by its kind and message)."""
    if isinstance(result, ServiceError):
        return (type(result).__name__, str(result), getattr(result, "field", None))
    return result


def _in_lists(trial, session: Session) -> list[list[object]]:
    manager = trial.actor("data_manager")
    registered = register_participants_in(session, manager, trial.keys, trial.STUDY,
                                          _registrations(trial))  # fmt: skip
    ids = [r.study_id for r in registered if not isinstance(r, ServiceError)]
    assessed = assess_eligibility_in(session, manager, trial.keys, _assessments(trial, ids))
    consented = record_consent_in(session, manager, _consents(trial, ids))
    return [registered, assessed, consented]


def _one_by_one(trial) -> list[list[object]]:
    manager, sessions, keys = trial.actor("data_manager"), trial.sessions, trial.keys

    def each(requests: list, call: Callable[[Any], object]) -> list[object]:
        results: list[object] = []
        for request in requests:
            try:
                results.append(call(request))
            except ServiceError as error:
                results.append(error)
        return results

    registered = each(_registrations(trial), lambda r: register_participant(
        sessions, manager, keys, trial.STUDY, r.new, at=r.at))  # fmt: skip
    ids = [r.study_id for r in registered if not isinstance(r, ServiceError)]
    assessed = each(_assessments(trial, ids), lambda r: assess_eligibility(
        sessions, manager, keys, r.study_id, r.answers, on_date=r.on_date, at=r.at))  # fmt: skip
    consented = each(_consents(trial, ids), lambda r: record_consent(
        sessions, manager, r.study_id, language=r.language, document_version=r.document_version,
        at=r.at))  # fmt: skip
    return [registered, assessed, consented]


def _stored(trial, session: Session, after_event: int) -> dict[str, list]:
    """Every row the enrolment writes, without row ids, ciphertexts and digests (random)."""
    study_ids = dict(session.execute(select(Participant.id, Participant.study_id)).all())
    cipher = trial.keys.cipher
    identities = [
        (study_ids[i.participant_id], cipher.decrypt_text(i.name_enc),
         cipher.decrypt_optional(i.contact_enc), i.national_id_hmac)
        for i in session.scalars(select(ParticipantIdentity))
    ]  # fmt: skip
    events = []
    for e in session.scalars(select(AuditEvent).where(AuditEvent.id > after_event)
                             .order_by(AuditEvent.id)):  # fmt: skip
        new = {k: v for k, v in (e.new or {}).items() if k != "identity_sha256"}
        entity_id = e.entity_id if e.entity == "participant" else None  # row ids differ
        events.append((e.at, e.actor, e.action, e.entity, entity_id, e.reason, e.old, new))
    return {
        "participants": sorted(
            session.execute(
                select(
                    Participant.study_id,
                    Participant.site_id,
                    Participant.status,
                    Participant.age_at_entry,
                    Participant.age_band,
                    Participant.is_test,
                    Participant.language,
                    Participant.registered_at,
                )
            ).all()
        ),
        "identities": sorted(identities),
        "sites": sorted(session.execute(select(Site.code, Site.last_sequence)).all()),
        "assessments": sorted(
            (
                study_ids[a.participant_id],
                a.protocol_version_id,
                sorted(a.answers.items()),
                a.result,
                [sorted(r.items()) for r in a.reasons],
                a.assessed_at,
            )
            for a in session.scalars(select(EligibilityAssessment))
        ),
        "consents": sorted(
            (study_ids[c.participant_id], c.consent_document_id, c.consented_at)
            for c in session.scalars(select(Consent))
        ),
        "events": events,
    }


def test_lists_store_what_one_call_per_woman_stores(trial) -> None:
    register_participant(trial.sessions, trial.actor("data_manager"), trial.keys, trial.STUDY,
                         _woman("IT-MI", "N-0"), at=trial.AT)  # fmt: skip
    last_event = trial.db.events()[-1].id
    session = trial.sessions()
    session.begin()
    try:
        in_lists = _in_lists(trial, session)
        stored_in_lists = _stored(trial, session, last_event)
    finally:
        session.rollback()  # the same database, back as it was, for the calls one by one
        session.close()
    one_by_one = _one_by_one(trial)
    with trial.sessions() as session:
        stored_one_by_one = _stored(trial, session, last_event)

    for listed, single in zip(in_lists, one_by_one, strict=True):
        assert [_outcome(r) for r in listed] == [_outcome(r) for r in single]
    assert stored_in_lists == stored_one_by_one
    registered, assessed, consented = in_lists
    assert [isinstance(r, ServiceError) for r in registered] == [
        False, False, True, True, True, True, True, True, True, False, False, False
    ]  # fmt: skip
    assert [r.study_id for r in registered if not isinstance(r, ServiceError)] == [
        "IT-TO-000001", "FR-PA-000001", "FR-PA-000002", "IT-MI-000002", "IT-TO-000002"
    ]  # fmt: skip
    assert registered[2].existing_study_id == "IT-TO-000001"  # named: the caller sees her
    assert [getattr(r, "status", None) for r in assessed] == [
        "eligible", "screen_failure", None, None, "incomplete", None, "eligible", "eligible"
    ]  # fmt: skip
    assert [getattr(r, "pathway_state", None) for r in consented] == [
        "consented", None, None, None, None, None, "consented", "consented"
    ]  # fmt: skip
    assert len(stored_in_lists["events"]) == 5 + 5 + 3  # one per woman and step stored
    assert trial.db.chain_ok()


def test_a_refused_woman_in_the_middle_writes_nothing(trial) -> None:
    manager = trial.actor("data_manager")
    before = trial.db.rows()
    with trial.sessions.begin() as session:
        results = register_participants_in(session, manager, trial.keys, trial.STUDY, [
            Registration(_woman("IT-TO"), trial.AT),
            Registration(_woman("IT-TO", born=date(1900, 1, 1)), trial.AT),  # age 124
            Registration(_woman("IT-TO"), trial.AT),
        ])  # fmt: skip
    assert [getattr(r, "study_id", None) for r in results] == ["IT-TO-000001", None,
                                                                "IT-TO-000002"]  # fmt: skip
    assert getattr(results[1], "field", None) == "birth_date"
    after = trial.db.rows()
    assert after["participants"] == before["participants"] + 2
    assert after["participant_identities"] == before["participant_identities"] + 2
    assert after["audit_events"] == before["audit_events"] + 2
    assert [e.entity_id for e in trial.db.events()[-2:]] == ["IT-TO-000001", "IT-TO-000002"]


@contextmanager
def _statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_statements_do_not_grow_with_the_list_but_for_the_audit_events(trial) -> None:
    manager = trial.actor("data_manager")
    sites = ("IT-TO", "IT-MI", "FR-PA")
    counts: dict[int, list[int]] = {}
    for n in (10, 50):
        days = [trial.AT + timedelta(days=k % 7, minutes=k) for k in range(n)]
        steps = []
        with trial.sessions.begin() as session, _statements(session) as seen:
            registered = register_participants_in(session, manager, trial.keys, trial.STUDY, [
                Registration(_woman(sites[k % 3], f"{n}-{k}"), days[k]) for k in range(n)
            ])  # fmt: skip
            steps.append(len(seen))
            ids = [r.study_id for r in registered]
            assess_eligibility_in(session, manager, trial.keys, [
                EligibilityRequest(i, trial.ELIGIBLE, at=day)
                for i, day in zip(ids, days, strict=True)
            ])  # fmt: skip
            steps.append(len(seen) - sum(steps))
            consented = record_consent_in(session, manager, [
                ConsentRequest(i, CONSENT_LANGUAGE[i[:2]], at=day)
                for i, day in zip(ids, days, strict=True)
            ])  # fmt: skip
            steps.append(len(seen) - sum(steps))
        assert not any(isinstance(r, ServiceError) for r in registered + consented)
        counts[n] = steps
    for small, large in zip(counts[10], counts[50], strict=True):
        assert large - small <= 50 - 10  # one audit INSERT per woman more, nothing else
    assert all(count <= 10 + 12 for count in counts[10])  # a few reads and writes per list
