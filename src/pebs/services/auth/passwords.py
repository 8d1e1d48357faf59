"""Password rules and argon2id hashing (argon2-cffi).

Hashes are PHC strings (``$argon2id$v=19$m=...,t=...,p=...$salt$hash``) that carry their own
parameters, so raising the cost later only needs :func:`needs_rehash` at the next login.

>>> from argon2 import PasswordHasher
>>> hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # fast, for examples
>>> stored = hash_password(hasher, "correct horse battery")
>>> stored.startswith("$argon2id$")
True
>>> verify_password(hasher, stored, "correct horse battery"), verify_password(hasher, stored, "x")
(True, False)
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pebs.services.errors import InvalidInput

__all__ = [
    "MAX_LENGTH",
    "MIN_LENGTH",
    "check_new_password",
    "hash_password",
    "needs_rehash",
    "verify_password",
]

MIN_LENGTH = 12
"""Characters (NIST SP 800-63B asks for at least 8; length beats composition rules)."""
MAX_LENGTH = 256
"""Characters: bounds the hashing work an attacker can ask for."""


def check_new_password(password: str, username: str) -> None:
    """:class:`InvalidInput` (naming ``password``) unless the password may be set."""
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(f"give {MIN_LENGTH} to {MAX_LENGTH} characters", field="password")
    if password.strip().lower() == username.strip().lower():
        raise InvalidInput("must differ from the username", field="password")
    if len(set(password)) < 4:
        raise InvalidInput("use at least 4 different characters", field="password")


def hash_password(hasher: PasswordHasher, password: str) -> str:
    """The argon2id PHC string of ``password`` (a new random salt each time)."""
    return hasher.hash(password)


def verify_password(hasher: PasswordHasher, stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; False for no or a malformed stored hash."""
    if stored is None or not isinstance(password, str) or len(password) > MAX_LENGTH:
        return False
    try:
        return hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(hasher: PasswordHasher, stored: str) -> bool:
    """True when ``stored`` was made with other parameters than ``hasher``'s."""
    try:
        return hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True
