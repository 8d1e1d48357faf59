"""Passwords (argon2id) and TOTP codes against RFC 6238's published test vectors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factories import FAST_HASHER
from pebs.services.auth.passwords import check_new_password, hash_password, verify_password
from pebs.services.auth.policy import default_hasher
from pebs.services.auth.tokens import csrf_matches, csrf_token, new_token, token_sha256
from pebs.services.auth.totp import code_at, matching_step, step_of
from pebs.services.errors import InvalidInput

RFC6238_SHA1_KEY = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of ASCII "12345678901234567890"
# RFC 6238, appendix B (SHA-1, 8 digits): the 6-digit codes are the last six digits.
RFC6238_VECTORS = [(59, "94287082"), (1111111109, "07081804"), (1234567890, "89005924"),
                   (2000000000, "69279037")]  # fmt: skip


@pytest.mark.parametrize(("unix_time", "code8"), RFC6238_VECTORS)
def test_totp_codes_match_rfc6238(unix_time: int, code8: str) -> None:
    at = datetime.fromtimestamp(unix_time, UTC)
    assert code_at(RFC6238_SHA1_KEY, at) == code8[-6:]


def test_a_code_is_accepted_within_one_step_of_drift_and_only_once() -> None:
    at = datetime.fromtimestamp(1234567890, UTC)
    code = "005924"
    assert matching_step(RFC6238_SHA1_KEY, code, at, last_step=None) == step_of(at)
    assert matching_step(RFC6238_SHA1_KEY, code, at + timedelta(seconds=30), last_step=None)
    assert matching_step(RFC6238_SHA1_KEY, code, at + timedelta(seconds=90), last_step=None) is None
    assert matching_step(RFC6238_SHA1_KEY, code, at, last_step=step_of(at)) is None  # replay
    for bad in ("", "12345", "abcdef", "0059245"):
        assert matching_step(RFC6238_SHA1_KEY, bad, at, last_step=None) is None


def test_password_hashes_are_argon2id_salted_and_verified() -> None:
    hasher = FAST_HASHER
    first = hash_password(hasher, "correct horse battery")
    second = hash_password(hasher, "correct horse battery")
    assert first.startswith("$argon2id$v=19$")
    assert first != second
    assert verify_password(hasher, first, "correct horse battery")
    assert not verify_password(hasher, first, "correct horse batterY")
    assert not verify_password(hasher, None, "correct horse battery")
    assert not verify_password(hasher, "not a hash", "correct horse battery")


def test_default_hasher_uses_rfc9106_low_memory_parameters() -> None:
    hasher = default_hasher()
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (3, 65536, 4)


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "12 to 256"), ("x" * 257, "12 to 256"), ("Alice-Smith!", "differ from the username"),
     ("abababababab", "4 different")],
)  # fmt: skip
def test_weak_passwords_are_refused_naming_the_field(password: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=f"password: .*{message}"):
        check_new_password(password, "alice-smith!")


def test_tokens_are_random_and_csrf_tokens_bound_to_their_session() -> None:
    tokens = {new_token("pebs_s") for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert len(token) == len("pebs_s_") + 43
    assert token_sha256(token) != token_sha256(tokens.pop())
    secret = b"k" * 32
    assert csrf_matches(secret, token, csrf_token(secret, token))
    assert not csrf_matches(secret, token, csrf_token(secret, tokens.pop()))
    assert not csrf_matches(b"j" * 32, token, csrf_token(secret, token))
    assert not csrf_matches(secret, token, None)
