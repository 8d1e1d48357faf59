"""The keys that protect identifying data, as values the entry point builds from its settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pebs.store.crypto import IdentityCipher, national_id_hmac

__all__ = ["IdentityKeys"]


@dataclass(frozen=True)
class IdentityKeys:
    """Encryption of identifying fields (Fernet, :class:`pebs.store.IdentityCipher`) and the key
    of the national-ID HMAC used for duplicate detection.

    Build it once per process from ``Settings.identity_keys()`` and ``Settings.hmac_key_bytes()``:

    >>> keys = IdentityKeys.from_settings_values([IdentityCipher.generate_key()], b"h" * 32)
    >>> keys.cipher.decrypt_text(keys.cipher.encrypt_text("Ada"))
    'Ada'
    """

    cipher: IdentityCipher
    hmac_key: bytes

    @classmethod
    def from_settings_values(cls, identity_keys: Sequence[str], hmac_key: bytes) -> IdentityKeys:
        return cls(IdentityCipher(identity_keys), hmac_key)

    def national_id_hmac(self, national_id: str, country: str) -> str:
        """Keyed hash of a national ID issued by ``country`` (see :mod:`pebs.store.crypto`)."""
        return national_id_hmac(self.hmac_key, national_id, country)
