"""``pebs check``: the configured keys open the stored identities.

A wrong ``PEBS_IDENTITY_KEY`` is otherwise found only when a user opens an identity (the API
answers 503); a wrong ``PEBS_HMAC_KEY`` never shows: duplicate registrations just stop being
found. So a few stored identities, the oldest and the newest (a key changed once leaves the
older ones or the newer ones unreadable), are decrypted with the configured identity key, and the
national ID of each that has one is hashed again with the HMAC key and compared with the stored
hash. Nothing identifying is kept or shown: only counts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, select

from pebs.services.keys import IdentityKeys
from pebs.services.operations._check_result import Check
from pebs.store.crypto import DecryptionError
from pebs.store.models import Country, Participant, ParticipantIdentity, Site

__all__ = ["IDENTITY_KEYS", "SAMPLE_EACH_END", "identity_key_check"]

IDENTITY_KEYS = "identity keys open stored data"
SAMPLE_EACH_END = 3
"""Identities tried at each end of the registration order (oldest and newest)."""

_COLUMNS = (
    ParticipantIdentity.participant_id,
    ParticipantIdentity.name_enc,
    ParticipantIdentity.date_of_birth_enc,
    ParticipantIdentity.contact_enc,
    ParticipantIdentity.national_id_enc,
    ParticipantIdentity.national_id_hmac,
    Country.code,
)


def _sample(connection: Connection) -> list[Row[Any]]:
    """The oldest and the newest identities (each once), by registration order."""
    base = (
        select(*_COLUMNS)
        .join(Participant, Participant.id == ParticipantIdentity.participant_id)
        .join(Site, Site.id == Participant.site_id)
        .join(Country, Country.id == Site.country_id)
        .limit(SAMPLE_EACH_END)
    )
    order = ParticipantIdentity.participant_id
    rows = {row.participant_id: row for row in connection.execute(base.order_by(order))}
    for row in connection.execute(base.order_by(order.desc())):
        rows.setdefault(row.participant_id, row)
    return [rows[key] for key in sorted(rows)]


def _national_id(keys: IdentityKeys, row: Row[Any]) -> str | None:
    """Her decrypted national ID (``None`` if she has none); :class:`DecryptionError` if the
    identity key does not open one of her fields."""
    cipher = keys.cipher
    cipher.decrypt_text(row.name_enc)
    cipher.decrypt_date(row.date_of_birth_enc)
    cipher.decrypt_optional(row.contact_enc)
    return cipher.decrypt_optional(row.national_id_enc)


def _hash_matches(keys: IdentityKeys, national_id: str, country: str, stored: str) -> bool:
    try:
        return keys.national_id_hmac(national_id, country) == stored
    except ValueError:  # stored data that registration would have refused
        return False


def _counted(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def identity_key_check(connection: Connection, keys: IdentityKeys) -> Check:
    """Pass when the identity key opens every identity tried and the HMAC key reproduces every
    national-ID hash tried; fail naming how many did not."""
    rows = _sample(connection)
    if not rows:
        return Check(IDENTITY_KEYS, "pass", "no identities stored yet", True)
    unopened = hashed = wrong_hashes = 0
    for row in rows:
        try:
            national_id = _national_id(keys, row)
        except (DecryptionError, ValueError):  # ValueError: decrypted, but not her date
            unopened += 1
            continue
        if national_id is not None and row.national_id_hmac is not None:
            hashed += 1
            if not _hash_matches(keys, national_id, row.code, row.national_id_hmac):
                wrong_hashes += 1
    problems = []
    if unopened:
        problems.append(
            f"the identity key does not open the stored identities: {unopened} of {len(rows)} "
            "tried (PEBS_IDENTITY_KEY must hold the key they were encrypted with)"
        )
    if wrong_hashes:
        problems.append(
            f"the HMAC key does not reproduce the stored national-ID hashes: {wrong_hashes} of "
            f"{hashed} tried (PEBS_HMAC_KEY must be the key they were made with)"
        )
    if problems:
        return Check(IDENTITY_KEYS, "fail", "; ".join(problems), True)
    tried = _counted(len(rows), "identity", "identities")
    if len(rows) < 2 * SAMPLE_EACH_END:
        which = "every one stored"
    else:
        which = f"the {SAMPLE_EACH_END} oldest and the {SAMPLE_EACH_END} newest"
    detail = f"the identity key opens the {tried} tried ({which})"
    if hashed:
        hashes = _counted(hashed, "national-ID hash", "national-ID hashes")
        detail += f"; the HMAC key reproduces the {hashes} tried"
    return Check(IDENTITY_KEYS, "pass", detail, True)
