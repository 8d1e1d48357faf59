"""Identifying data: encrypted at rest on both databases; duplicate detection by HMAC."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pebs.store.crypto import (
    DecryptionError,
    IdentityCipher,
    national_id_hmac,
    normalise_national_id,
)
from pebs.store.models import ParticipantIdentity
from pebs.store.repositories import participant_with_hmac

KEY_A = IdentityCipher.generate_key()
KEY_B = IdentityCipher.generate_key()
HMAC_KEY = b"a test hmac key of at least 32 bytes"
NAME = "Émilie Durand-Lefèvre"
NATIONAL_ID = "2 84 05 75 123 456 78"


def test_round_trip_and_fresh_iv() -> None:
    cipher = IdentityCipher([KEY_A])
    first, second = cipher.encrypt_text(NAME), cipher.encrypt_text(NAME)
    assert first != second  # random IV: equal names do not give equal tokens
    assert cipher.decrypt_text(first) == cipher.decrypt_text(second) == NAME
    assert cipher.decrypt_date(cipher.encrypt_date(date(1973, 2, 28))) == date(1973, 2, 28)
    assert cipher.decrypt_optional(cipher.encrypt_optional(None)) is None


def test_wrong_key_and_altered_token_are_refused() -> None:
    token = IdentityCipher([KEY_A]).encrypt_text(NAME)
    with pytest.raises(DecryptionError):
        IdentityCipher([KEY_B]).decrypt_text(token)
    altered = token[:-5] + (b"A" if token[-5:-4] != b"A" else b"B") + token[-4:]
    with pytest.raises(DecryptionError):
        IdentityCipher([KEY_A]).decrypt_text(altered)


def test_key_rotation() -> None:
    old_token = IdentityCipher([KEY_A]).encrypt_text(NAME)
    rotating = IdentityCipher([KEY_B, KEY_A])  # new key first, old key still decrypts
    assert rotating.decrypt_text(old_token) == NAME
    new_token = rotating.rotate(old_token)
    assert IdentityCipher([KEY_B]).decrypt_text(new_token) == NAME
    with pytest.raises(DecryptionError):
        IdentityCipher([KEY_A]).decrypt_text(new_token)


@pytest.mark.parametrize("bad", [[], ["not a key"], [b"short"]])
def test_bad_keys_are_refused(bad: list[Any]) -> None:
    with pytest.raises(ValueError, match="keys"):
        IdentityCipher(bad)


def test_hmac_is_the_documented_keyed_hash() -> None:
    expected = hmac.new(HMAC_KEY, b"FR:284057512345678", hashlib.sha256).hexdigest()
    assert national_id_hmac(HMAC_KEY, NATIONAL_ID, "fr") == expected


@pytest.mark.parametrize(
    "variant", ["284057512345678", " 2-84-05-75-123-456-78 ", "2.84.05.75.123.456.78"]
)
def test_hmac_ignores_formatting(variant: str) -> None:
    assert national_id_hmac(HMAC_KEY, variant, "FR") == national_id_hmac(
        HMAC_KEY, NATIONAL_ID, "FR"
    )


def test_hmac_separates_countries_keys_and_ids() -> None:
    base = national_id_hmac(HMAC_KEY, NATIONAL_ID, "FR")
    assert national_id_hmac(HMAC_KEY, NATIONAL_ID, "BE") != base
    assert national_id_hmac(HMAC_KEY + b"!", NATIONAL_ID, "FR") != base
    assert national_id_hmac(HMAC_KEY, "284057512345679", "FR") != base
    assert normalise_national_id("ab \uff43") == "ABC"  # full-width letters fold (NFKC)
    with pytest.raises(ValueError, match="country"):
        national_id_hmac(HMAC_KEY, NATIONAL_ID, "FRA")
    with pytest.raises(ValueError, match="empty"):
        national_id_hmac(HMAC_KEY, " - ", "FR")


def _identity(cipher: IdentityCipher, participant_id: int, national_id: str) -> ParticipantIdentity:
    return ParticipantIdentity(
        participant_id=participant_id,
        name_enc=cipher.encrypt_text(NAME),
        date_of_birth_enc=cipher.encrypt_date(date(1973, 2, 28)),
        contact_enc=cipher.encrypt_text("emilie@example.org, +33 6 12 34 56 78"),
        national_id_enc=cipher.encrypt_text(national_id),
        national_id_hmac=national_id_hmac(HMAC_KEY, national_id, "FR"),
    )


def test_identity_is_encrypted_at_rest(
    session_maker: sessionmaker[Session], world: Any, add_participant: Any
) -> None:
    cipher = IdentityCipher([KEY_A])
    with session_maker.begin() as session:
        participant = add_participant(session, world.fr_gr, "FR-GR-000001")
        session.add(_identity(cipher, participant.id, NATIONAL_ID))

    with session_maker() as session:  # the raw bytes, as a database reader sees them
        row = session.execute(
            text(
                "SELECT name_enc, date_of_birth_enc, contact_enc, national_id_enc, "
                "national_id_hmac FROM participant_identities"
            )
        ).one()
    raw = b"".join(bytes(value) for value in row[:4]) + row[4].encode()
    for secret in (NAME, "Durand", "1973", "emilie@example.org", "284057512345678", "2 84 05"):
        assert secret.encode() not in raw
        assert secret.encode("utf-16-le") not in raw

    with session_maker() as session:
        stored = session.scalars(select(ParticipantIdentity)).one()
        assert cipher.decrypt_text(stored.name_enc) == NAME
        assert cipher.decrypt_date(stored.date_of_birth_enc) == date(1973, 2, 28)
        assert cipher.decrypt_text(stored.national_id_enc) == NATIONAL_ID


def test_duplicate_national_id_is_detected(
    session_maker: sessionmaker[Session], world: Any, add_participant: Any
) -> None:
    cipher = IdentityCipher([KEY_A])
    with session_maker.begin() as session:
        first = add_participant(session, world.fr_gr, "FR-GR-000001")
        session.add(_identity(cipher, first.id, NATIONAL_ID))
        first_id = first.id

    with session_maker() as session:  # the same woman at another site, typed differently
        found = participant_with_hmac(session, national_id_hmac(HMAC_KEY, "284057512345678", "FR"))
        assert found == first_id
        assert participant_with_hmac(session, national_id_hmac(HMAC_KEY, "1", "FR")) is None

    with session_maker() as session:  # and the database refuses the duplicate by itself
        second = add_participant(session, world.fr_pa, "FR-PA-000001")
        session.add(_identity(cipher, second.id, "284057512345678"))
        with pytest.raises(IntegrityError, match="national_id_hmac"):
            session.flush()
