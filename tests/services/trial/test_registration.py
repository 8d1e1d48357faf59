"""Registering participants: study IDs, encrypted identity, duplicates, scope."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from pebs.services.errors import DuplicateParticipant, InvalidInput, NotFound, PermissionDenied
from pebs.services.trial import NewParticipant, register_participant
from pebs.store.audit import canonical_json
from pebs.store.models import Participant, ParticipantIdentity, Site


def test_study_ids_follow_the_site_sequence(trial) -> None:
    first = trial.register("IT-TO", actor=trial.staff)
    second = trial.register("IT-TO", actor=trial.staff)
    other = trial.register("FR-PA")
    assert (first, second, other) == ("IT-TO-000001", "IT-TO-000002", "FR-PA-000001")
    with trial.sessions() as session:
        assert session.scalar(select(Site.last_sequence).where(Site.code == "IT-TO")) == 2


def test_identity_is_encrypted_and_kept_out_of_the_audit_trail(trial) -> None:
    new = NewParticipant(
        site="IT-TO", name="Maria Rossi", birth_date=date(1970, 1, 31),
        national_id="RSSMRA70A71L219X", contact="maria@example.org",
    )  # fmt: skip
    result = register_participant(trial.sessions, trial.staff, trial.keys, trial.STUDY, new,
                                  at=trial.AT)  # fmt: skip
    assert result.age_at_entry == 55
    assert result.sequence == 1
    with trial.sessions() as session:
        query = select(Participant).where(Participant.study_id == "IT-TO-000001")
        participant = session.scalar(query)
        assert (participant.status, participant.age_band, participant.stratum) == (
            "registered", "50-59", None,
        )  # fmt: skip
        assert participant.registered_by_id == trial.staff.user_id
        identity = session.get(ParticipantIdentity, participant.id)
        stored = b"".join([identity.name_enc, identity.date_of_birth_enc, identity.contact_enc,
                           identity.national_id_enc])  # fmt: skip
        for clear in (b"Maria", b"1970-01-31", b"maria@", b"RSSMRA"):
            assert clear not in stored
        cipher = trial.keys.cipher
        assert cipher.decrypt_text(identity.name_enc) == "Maria Rossi"
        assert cipher.decrypt_date(identity.date_of_birth_enc) == date(1970, 1, 31)
        assert identity.national_id_hmac == trial.keys.national_id_hmac("RSSMRA70A71L219X", "IT")
    (event,) = [e for e in trial.db.events() if e.entity == "participant"]
    assert (event.action, event.entity_id, event.actor) == ("register", "IT-TO-000001",
                                                           "demo-site-staff")  # fmt: skip
    assert event.new["site"] == "IT-TO"
    assert event.new["has_national_id"] is True
    text = canonical_json({"new": event.new, "old": event.old, "reason": event.reason})
    for clear in ("Maria", "1970", "maria@", "RSSMRA"):
        assert clear not in text
    assert trial.db.chain_ok()


def test_a_duplicate_national_id_is_refused_and_named_only_in_scope(trial) -> None:
    existing = trial.register("IT-TO", national_id="AB 123-456")
    before = trial.db.rows()
    with pytest.raises(DuplicateParticipant) as seen:
        trial.register("IT-TO", national_id="ab123456", actor=trial.staff)
    assert seen.value.existing_study_id == existing
    assert existing in str(seen.value)

    other_site = trial.add_user("staff-mi", "site_staff", site="IT-MI")
    with pytest.raises(DuplicateParticipant) as hidden:
        trial.register("IT-MI", national_id="AB123456", actor=other_site)
    assert hidden.value.existing_study_id is None
    assert existing not in str(hidden.value)
    assert "another site" in str(hidden.value)
    assert trial.db.rows() == {**before, "users": before["users"] + 1}


def test_the_same_number_from_another_country_is_another_woman(trial) -> None:
    trial.register("IT-TO", national_id="123456789")
    assert trial.register("FR-PA", national_id="123456789") == "FR-PA-000001"


def test_site_users_register_only_at_their_site(trial) -> None:
    before = trial.db.rows()
    with pytest.raises(NotFound, match="no site 'FR-PA'"):
        trial.register("FR-PA", actor=trial.staff)
    with pytest.raises(NotFound):
        trial.register("FR-PA", actor=trial.actor("coordinator"))  # coordinator of IT
    assert trial.register("IT-MI", actor=trial.actor("coordinator")) == "IT-MI-000001"
    assert trial.db.rows()["participants"] == before["participants"] + 1


def test_roles_without_data_entry_cannot_register(trial, subtests) -> None:
    for role in ("statistician", "monitor", "administrator"):
        with subtests.test(role=role), pytest.raises(PermissionDenied, match="may not register"):
            trial.register(actor=trial.actor(role))


def test_implausible_birth_dates_are_refused(trial, subtests) -> None:
    before = trial.db.rows()
    for born, message in ((date(2026, 1, 1), "in the future"), (date(2015, 1, 1), "gives age 10")):
        with subtests.test(born=born):
            with pytest.raises(InvalidInput, match=message):
                trial.register(born=born)
            assert trial.db.rows() == before
