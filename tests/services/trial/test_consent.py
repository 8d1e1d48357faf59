"""Consent on the document in force for her country and language; withdrawal levels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from pebs.services.actor import Actor
from pebs.services.errors import Conflict, InvalidInput, PermissionDenied
from pebs.services.trial import assess_eligibility, record_consent, withdraw
from pebs.store.models import Consent, Participant


def _eligible(trial, site: str = "FR-PA") -> str:
    study_id = trial.register(site)
    assess_eligibility(trial.sessions, trial.actor("data_manager"), trial.keys, study_id,
                       trial.ELIGIBLE, at=trial.AT)  # fmt: skip
    return study_id


def _consent(trial, study_id, *, at=None, **kwargs):
    return record_consent(trial.sessions, trial.actor("data_manager"), study_id,
                          at=at or trial.AT, **kwargs)  # fmt: skip


def test_consent_uses_the_document_version_in_force(trial) -> None:
    study_id = _eligible(trial)
    recorded = _consent(trial, study_id, language="fr")
    assert (recorded.document_country, recorded.document_version) == ("FR", "1.1")
    assert recorded.pathway_state == "consented"
    with trial.sessions() as session:
        consent = session.scalar(select(Consent))
        assert consent.document.version == "1.1"
        assert consent.taken_by_id == trial.actor("data_manager").user_id
    event = trial.db.events()[-1]
    assert (event.action, event.entity) == ("consent", "consent")
    assert event.new["document_version"] == "1.1"
    assert event.old == {"status": "eligible"}


def test_an_older_consent_date_takes_the_older_document(trial) -> None:
    study_id = _eligible(trial)
    at = datetime(2019, 6, 1, 12, tzinfo=UTC)
    assert _consent(trial, study_id, language="fr", at=at).document_version == "1.0"


def test_a_form_version_that_is_not_in_force_is_refused(trial) -> None:
    study_id = _eligible(trial)
    before = trial.db.rows()
    with pytest.raises(Conflict, match=r"version 1.0 is not the one in force.*\(version 1.1\)"):
        _consent(trial, study_id, language="fr", document_version="1.0")
    with pytest.raises(InvalidInput, match="'it' is not a study language of FR"):
        _consent(trial, study_id, language="it")
    assert trial.db.rows() == before


def test_the_document_is_of_her_country_in_her_language(trial) -> None:
    # The demo study file: BE/fr 1.0 from 2019-01-15; FR/fr 1.1 (from 2020-01-15) is France's.
    study_id = _eligible(trial, "BE-BR")
    recorded = _consent(trial, study_id, language="fr")
    assert (recorded.document_country, recorded.document_language) == ("BE", "fr")
    assert recorded.document_version == "1.0"
    with trial.sessions() as session:
        document = session.scalar(select(Consent)).document
        assert (document.country.code, document.language, document.version) == ("BE", "fr", "1.0")


def test_no_document_in_force_on_the_day_writes_nothing(trial) -> None:
    study_id = _eligible(trial)  # FR/fr 1.0 is in force from 2018-12-01
    before = trial.db.rows()
    at = datetime(2018, 11, 30, 12, tzinfo=UTC)
    with pytest.raises(Conflict, match="no consent document for FR/fr is in force on 2018-11-30"):
        _consent(trial, study_id, language="fr", at=at)
    assert trial.db.rows() == before


def test_consent_needs_an_eligible_woman_and_an_account(trial) -> None:
    study_id = trial.register("FR-PA")
    with pytest.raises(Conflict, match="'registered': cannot record consent"):
        _consent(trial, study_id, language="fr")
    with pytest.raises(PermissionDenied, match="needs a user account"):
        record_consent(trial.sessions, Actor("cli", "data_manager"), study_id, language="fr")


def test_withdrawal_moves_only_to_stricter_levels(trial) -> None:
    study_id = trial.consented("IT-TO")
    first = withdraw(trial.sessions, trial.staff, study_id, level="no_further_contact",
                     reason="moved abroad", at=trial.AT + timedelta(days=1))  # fmt: skip
    assert first.pathway_state == "withdrawn_no_contact"
    with pytest.raises(Conflict, match="cannot apply 'withdrew_no_contact'"):
        withdraw(trial.sessions, trial.staff, study_id, level="no_further_contact", reason="x")
    stricter = withdraw(trial.sessions, trial.staff, study_id, level="withdraw_data_use",
                        reason="asked", at=trial.AT + timedelta(days=2))  # fmt: skip
    assert stricter.pathway_state == "withdrawn_data_use"
    with trial.sessions() as session:
        consent = session.scalar(select(Consent))
        assert consent.withdrawal_level == "withdraw_data_use"
        assert consent.withdrawal_reason == "asked"
    event = trial.db.events()[-1]
    assert event.old == {"status": "withdrawn_no_contact",
                         "withdrawal_level": "no_further_contact"}  # fmt: skip
    assert event.reason == "asked"
    with pytest.raises(InvalidInput, match="not a withdrawal level"):
        withdraw(trial.sessions, trial.staff, study_id, level="all", reason="x")


def test_a_withdrawal_dated_before_her_consent_writes_nothing(trial) -> None:
    study_id = trial.consented("IT-TO")  # consented at trial.AT
    before = trial.db.rows()
    with pytest.raises(InvalidInput, match="is before her consent") as refused:
        withdraw(trial.sessions, trial.staff, study_id, level="no_further_contact",
                 reason="moved abroad", at=trial.AT - timedelta(minutes=1))  # fmt: skip
    assert refused.value.field == "at"
    assert trial.db.rows() == before
    with trial.sessions() as session:
        assert session.scalar(select(Consent.withdrawal_level)) is None
        assert session.scalar(select(Participant.status)) == "consented"


def test_the_withdrawal_is_written_on_her_consent(trial) -> None:
    study_id = trial.consented("IT-TO")
    at = trial.AT + timedelta(days=3)
    withdraw(trial.sessions, trial.staff, study_id, level="no_further_data_collection",
             reason="  tired of visits ", at=at)  # fmt: skip
    with trial.sessions() as session:
        consent = session.scalar(select(Consent))
        assert (consent.withdrawn_at, consent.withdrawal_reason) == (at, "tired of visits")
        assert consent.withdrawal_recorded_by_id == trial.staff.user_id
        assert session.scalar(select(Participant.status)) == "withdrawn_no_data_collection"
