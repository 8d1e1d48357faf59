"""Encryption of identifying data at rest, and the keyed hash of national IDs.

Identifying fields (name, date of birth, contact, national ID) are stored as Fernet tokens
(AES-128-CBC with HMAC-SHA256 authentication, from the ``cryptography`` package). Several keys
can be active: the first encrypts, all decrypt, and :meth:`IdentityCipher.rotate` re-encrypts a
token under the first key. Keys come from the settings (``PEBS_IDENTITY_KEY``), never from this
module.

Duplicate registrations are found by an HMAC-SHA256 of the normalised national ID, qualified by
the issuing country, under ``PEBS_HMAC_KEY``: equal IDs give equal hashes, and the hash reveals
nothing about the ID to someone without the key.

>>> cipher = IdentityCipher([IdentityCipher.generate_key()])
>>> cipher.decrypt_text(cipher.encrypt_text("Marie Curie"))
'Marie Curie'
>>> key = b"k" * 32
>>> national_id_hmac(key, "2 84 05 75 123 456 78", "fr") == national_id_hmac(
...     key, "284057512345678", "FR")
True
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Sequence
from datetime import date

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = [
    "DecryptionError",
    "IdentityCipher",
    "national_id_hmac",
    "normalise_national_id",
]

_SEPARATORS = str.maketrans("", "", " \t-./_")


class DecryptionError(ValueError):
    """A token was not made by any of the configured keys, or was altered."""


_NO_KEY_OPENS = (
    "identifying data cannot be decrypted: the identity key (PEBS_IDENTITY_KEY) does not match "
    "the key it was encrypted with (or the data was altered); restore the installation's key"
)


class IdentityCipher:
    """Encrypts and decrypts identifying fields with one or more Fernet keys.

    Parameters
    ----------
    keys
        Fernet keys (url-safe base64 text or bytes of 32 raw bytes encoded); the first encrypts.
    """

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise ValueError("keys: give at least one Fernet key")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except (ValueError, TypeError) as error:
            raise ValueError(f"keys: not a Fernet key ({error})") from None

    @staticmethod
    def generate_key() -> str:
        """A new random Fernet key, as text for ``PEBS_IDENTITY_KEY``."""
        return Fernet.generate_key().decode("ascii")

    def encrypt_text(self, value: str) -> bytes:
        """Token for ``value`` (UTF-8); a new random IV each time, so equal values differ."""
        if not isinstance(value, str):
            raise TypeError(f"value: expected str, got {type(value).__name__}")
        return self._fernet.encrypt(value.encode("utf-8"))

    def decrypt_text(self, token: bytes) -> str:
        """The text in ``token``; :class:`DecryptionError` if no key opens it."""
        try:
            return self._fernet.decrypt(bytes(token)).decode("utf-8")
        except InvalidToken:
            raise DecryptionError(_NO_KEY_OPENS) from None

    def encrypt_date(self, value: date) -> bytes:
        """Token for a date (stored as ISO ``YYYY-MM-DD``)."""
        return self.encrypt_text(value.isoformat())

    def decrypt_date(self, token: bytes) -> date:
        return date.fromisoformat(self.decrypt_text(token))

    def encrypt_optional(self, value: str | None) -> bytes | None:
        return None if value is None else self.encrypt_text(value)

    def decrypt_optional(self, token: bytes | None) -> str | None:
        return None if token is None else self.decrypt_text(token)

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt ``token`` under the first key (key rotation)."""
        try:
            return self._fernet.rotate(bytes(token))
        except InvalidToken:
            raise DecryptionError(_NO_KEY_OPENS) from None


def normalise_national_id(value: str) -> str:
    """Canonical form of a national ID: NFKC, upper case, without spaces, dots, dashes, slashes.

    >>> normalise_national_id(" ab-12.34/5 ")
    'AB12345'
    """
    if not isinstance(value, str):
        raise TypeError(f"national ID: expected str, got {type(value).__name__}")
    normalised = unicodedata.normalize("NFKC", value).upper().translate(_SEPARATORS)
    if not normalised:
        raise ValueError(f"national ID: {value!r} is empty after normalisation")
    return normalised


def national_id_hmac(key: bytes, national_id: str, country: str) -> str:
    """Hex HMAC-SHA256 of ``COUNTRY:NORMALISED_ID`` under ``key`` (64 characters).

    The country (ISO 3166-1 alpha-2) qualifies the ID, since equal numbers issued by two countries
    belong to two women.
    """
    if len(key) < 16:
        raise ValueError("key: an HMAC key needs at least 16 bytes")
    country_code = country.strip().upper()
    if len(country_code) != 2 or not country_code.isalpha():
        raise ValueError(f"country: {country!r} is not an ISO 3166-1 alpha-2 code")
    message = f"{country_code}:{normalise_national_id(national_id)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
