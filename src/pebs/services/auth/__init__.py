"""Authentication use cases: passwords, TOTP, sessions, API tokens, login throttling.

- :func:`login` checks the password (argon2id, :mod:`.passwords`) and TOTP code (:mod:`.totp`),
  with failures counted per username and client address (:mod:`.throttle`: a growing wait
  after repeated failures), and opens a
  server-side session; :func:`verify_second_factor` finishes a pending TOTP check;
  :func:`logout` revokes the session.
- :func:`authenticate` turns a session token (cookie) or API token (bearer) into a
  :class:`Principal`, whose :attr:`~Principal.actor` is what the trial use cases take; an API
  token it accepted is remembered for a few seconds (:func:`remembered_principal`,
  :mod:`.principal_cache`).
- :func:`begin_totp_enrolment` / :func:`confirm_totp_enrolment` enrol an authenticator app.
- :func:`create_api_token`, :func:`list_api_tokens`, :func:`revoke_api_token`: personal tokens.
- :func:`create_account`, :func:`list_accounts`, :func:`set_password`,
  :func:`disable_account`, :func:`enable_account`, :func:`reset_totp`, :func:`unlock_logins`:
  administration.
- :func:`provision_demo_accounts`: demo logins with printed passwords and TOTP secrets.

Each use case that changes something writes its audit event in the same transaction; no secret
(password, token, TOTP secret or code) is ever logged. Names are imported on first use, so that
``import pebs.services.errors`` (the error tables) does not load the database layer.
"""

from __future__ import annotations

from pebs.services.auth.accounts import (
    AccountCreated,
    AccountRow,
    create_account,
    disable_account,
    enable_account,
    list_accounts,
    reset_totp,
    set_password,
    unlock_logins,
)
from pebs.services.auth.api_tokens import (
    ApiTokenInfo,
    create_api_token,
    list_api_tokens,
    revoke_api_token,
)
from pebs.services.auth.demo import SECOND_SITE_STAFF, DemoLogin, provision_demo_accounts
from pebs.services.auth.enrolment import TotpEnrolment, begin_totp_enrolment, confirm_totp_enrolment
from pebs.services.auth.logins import LoginResult, login, logout, verify_second_factor
from pebs.services.auth.policy import IDENTITY_ROLES, TOTP_ROLES, AuthPolicy
from pebs.services.auth.principal import Principal
from pebs.services.auth.resolution import authenticate, remembered_principal
from pebs.services.auth.tokens import csrf_matches, csrf_token

__all__ = [
    "IDENTITY_ROLES",
    "SECOND_SITE_STAFF",
    "TOTP_ROLES",
    "AccountCreated",
    "AccountRow",
    "ApiTokenInfo",
    "AuthPolicy",
    "DemoLogin",
    "LoginResult",
    "Principal",
    "TotpEnrolment",
    "authenticate",
    "begin_totp_enrolment",
    "confirm_totp_enrolment",
    "create_account",
    "create_api_token",
    "csrf_matches",
    "csrf_token",
    "disable_account",
    "enable_account",
    "list_accounts",
    "list_api_tokens",
    "login",
    "logout",
    "provision_demo_accounts",
    "remembered_principal",
    "reset_totp",
    "revoke_api_token",
    "set_password",
    "unlock_logins",
    "verify_second_factor",
]
