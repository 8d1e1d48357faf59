"""The investigator's signature of a casebook (21 CFR 11.50, 11.70, 11.200): password and a
current TOTP code again, the meaning confirmed, the signer's site only; void after a change."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from factories import DEMO_ACCOUNTS
from pebs.services.actor import actor_for
from pebs.services.errors import (
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    TotpCodeReused,
)
from pebs.services.monitoring import MEANING_VERSION, casebook_signature, sign_casebook
from pebs.services.records import participant_record
from pebs.services.trial import record_death
from pebs.store.models import AuditEvent

MEANING_EN = "I have reviewed this casebook and confirm that the data are complete and accurate."


def _sign(db, signer, study_id, **changes):
    arguments = {"password": signer.password, "totp_code": signer.code(), "accept": True}
    arguments.update(changes)
    return sign_casebook(db.sessions, db.keys.cipher, db.policy, signer.actor, study_id,
                         **arguments)  # fmt: skip


def _events(db, action: str) -> list[AuditEvent]:
    with db.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_signature_stores_its_manifestation_and_the_casebook_digest(db, investigator) -> None:
    study_id = db.participant("IT-TO", "consented")
    signed = _sign(db, investigator, study_id, language="fr")
    assert signed.valid
    assert signed.signer_role == "site_investigator"
    assert signed.signer_username == investigator.actor.username
    assert signed.meaning_version == MEANING_VERSION
    assert signed.meaning_text.startswith("J'ai relu ce cahier")
    assert len(signed.casebook_sha256) == 64
    # shown on every view of her record
    record = participant_record(db.sessions, db.manager, study_id)
    assert record.signature is not None
    assert record.signature.signed_at == signed.signed_at
    [event] = _events(db, "casebook_signed")
    assert event.entity_id == study_id
    assert event.new["casebook_sha256"] == signed.casebook_sha256


def test_the_digest_is_sha256_of_her_casebook_as_canonical_json(db, investigator) -> None:
    """Recomputed here with hashlib and json from her casebook's stored values."""
    from pebs.services.casebook_content import casebook_of

    study_id = db.participant("IT-TO", "registered")
    signed = _sign(db, investigator, study_id)
    with db.sessions() as session:
        from pebs.store.models import Participant

        her = session.scalar(select(Participant).where(Participant.study_id == study_id))
        casebook = casebook_of(session, her.id, her.site.country.study_id)
    [registration] = casebook.forms
    values = dict(registration.values)
    values["registered_at"] = values["registered_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    document = {"study_id": study_id, "site": "IT-TO", "country": "IT",
                "data_use_withdrawn": False,
                "forms": [{"form": "registration", "key": 0, "values": values}]}  # fmt: skip
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert signed.casebook_sha256 == hashlib.sha256(text.encode()).hexdigest()


def test_a_change_after_signing_voids_it_and_the_voiding_is_audited_once(db, investigator) -> None:
    study_id = db.participant("IT-TO", "standard")
    _sign(db, investigator, study_id)
    assert casebook_signature(db.sessions, investigator.actor, study_id).valid
    record_death(db.sessions, db.manager, study_id,
                 date_of_death=db.today("IT-TO") - timedelta(days=2), cause="other")  # fmt: skip
    record = participant_record(db.sessions, db.manager, study_id)
    assert record.signature is not None
    assert not record.signature.valid
    [death_event] = _events(db, "record")[-1:]
    assert record.signature.changed_at == death_event.at
    again = casebook_signature(db.sessions, investigator.actor, study_id)
    assert not again.valid
    assert again.voided_at == record.signature.voided_at
    assert len(_events(db, "casebook_signature_voided")) == 1


def test_wrong_password_wrong_or_replayed_code_are_refused_and_audited(db, investigator) -> None:
    study_id = db.participant("IT-TO", "consented")
    with pytest.raises(NotAuthenticated):
        _sign(db, investigator, study_id, password="not-her-password")
    with pytest.raises(NotAuthenticated):
        _sign(db, investigator, study_id, totp_code="000000" if investigator.code() != "000000"
              else "111111")  # fmt: skip
    code = investigator.code()
    _sign(db, investigator, study_id, totp_code=code)
    with pytest.raises(TotpCodeReused):
        _sign(db, investigator, study_id, totp_code=code)
    reasons = [e.reason for e in _events(db, "signature_failed")]
    assert reasons == ["wrong password", "wrong TOTP code", "reused TOTP code"]
    assert all(e.entity_id == study_id for e in _events(db, "signature_failed"))


def test_failures_are_throttled_like_logins(db, investigator) -> None:
    from dataclasses import replace

    from pebs.services.errors import TooManyAttempts

    db.policy = replace(db.policy, max_failures=2)
    study_id = db.participant("IT-TO", "consented")
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            _sign(db, investigator, study_id, password="wrong", client="10.0.0.9")
    with pytest.raises(TooManyAttempts):  # refused before the password is checked
        _sign(db, investigator, study_id, client="10.0.0.9")


def test_the_meaning_must_be_confirmed_in_its_current_version(db, investigator) -> None:
    study_id = db.participant("IT-TO", "consented")
    with pytest.raises(InvalidInput) as not_accepted:
        _sign(db, investigator, study_id, accept=False)
    assert not_accepted.value.field == "accept"
    with pytest.raises(InvalidInput) as old:
        _sign(db, investigator, study_id, meaning_version="0")
    assert old.value.field == "meaning_version"
    assert _events(db, "casebook_signed") == []


def test_only_the_site_investigator_of_her_site_signs(db, investigator) -> None:
    study_id = db.participant("IT-TO", "consented")
    other_site = db.participant("IT-MI", "consented")
    with pytest.raises(NotFound):  # another site: as if she did not exist
        _sign(db, investigator, other_site)
    staff = actor_for(db.sessions, DEMO_ACCOUNTS["site_staff"])
    with pytest.raises(PermissionDenied):
        sign_casebook(db.sessions, db.keys.cipher, db.policy, staff, study_id,
                      password=investigator.password, totp_code=investigator.code(),
                      accept=True)  # fmt: skip
    assert _events(db, "casebook_signed") == []
    assert MEANING_EN  # the English meaning the demo shows
