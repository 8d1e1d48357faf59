"""An investigator signs a woman's casebook (21 CFR Part 11 electronic signature).

- **Who**: the site investigator of her site only (``Action.SIGN_CASEBOOK``, scoped to her
  site), with an account.
- **Two components at signing** (11.200(a)(1)): her password and a current TOTP code are
  checked again (:mod:`pebs.services.auth.reauthentication`), even in a logged-in session; a
  TOTP code is accepted once; failures are audited (``signature_failed``) and throttled as
  logins are.
- **Meaning** (11.50(a)(3)): she confirms the text :data:`MEANING` of version
  :data:`MEANING_VERSION`, shown in her language (message ``signature.meaning.<code>``); the
  text as shown is stored with the signature.
- **Stored** (11.50(a)): her printed name, username and role, the instant (UTC), the meaning,
  and the SHA-256 of her casebook at signing
  (:func:`pebs.services.casebook_content.casebook_sha256`), which links the signature to the
  record (11.70): the digest of another, or a changed, record differs.
- **Void after a change**: every view of the signature
  (:func:`pebs.services.signature_status.signature_in`, her page and the API record) recomputes
  the digest; once it differs the signature is void. The first view that
  notices it records when (``voided_at``), when her data first changed after signing
  (``changed_at``: the first audited change about her, when there is one) and appends a
  ``casebook_signature_voided`` event. She may be signed again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from pebs.i18n.catalogue import catalogues
from pebs.services.actor import Action, Actor, require
from pebs.services.auth.policy import AuthPolicy
from pebs.services.auth.reauthentication import reauthenticate, use_second_factor
from pebs.services.casebook_content import casebook_sha256
from pebs.services.data_locks import refuse_if_study_locked
from pebs.services.errors import InvalidInput
from pebs.services.monitoring._her import find_her
from pebs.services.signature_status import SignatureView, signature_in, signature_view
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant, transaction
from pebs.store.audit import append_event
from pebs.store.crypto import IdentityCipher
from pebs.store.models import CasebookSignature, User
from pebs.trial.vocabularies import LANGUAGES

__all__ = [
    "MEANING",
    "MEANING_VERSION",
    "SignatureView",
    "casebook_signature",
    "meaning_text",
    "sign_casebook",
    "signature_in",
]

MEANING = "casebook_review"
"""The one meaning a casebook signature has: she reviewed it and confirms it."""
MEANING_VERSION = "1"
"""Version of the meaning's wording; a signer who saw another version must read it again."""


def meaning_text(language: str) -> str:
    """The meaning of the signature in ``language`` (English if the language is unknown)."""
    return catalogues()[language if language in LANGUAGES else "en"].text(
        f"signature.meaning.{MEANING}"
    )


@refuses_unstorable_text
def casebook_signature(
    session_maker: sessionmaker[Session], actor: Actor, study_id: str
) -> SignatureView | None:
    """Her latest signature and whether it holds (``None``: never signed)."""
    require(actor, Action.READ_PARTICIPANT)
    with session_maker() as session, session.begin():
        her = find_her(session, actor, study_id)
        return signature_in(session, her.participant_id, her.study_id, her.study_pk)


def _check_meaning(meaning: str, version: str, language: str, accept: bool) -> None:
    if meaning != MEANING:
        raise InvalidInput(f"the meaning must be {MEANING!r}", field="meaning",
                           message_code="error.signature_meaning",
                           values={"meaning": MEANING})  # fmt: skip
    if version != MEANING_VERSION:
        raise InvalidInput(
            f"the meaning's wording is now version {MEANING_VERSION}: read it again and confirm",
            field="meaning_version", message_code="error.signature_meaning_version",
            values={"version": MEANING_VERSION},
        )  # fmt: skip
    if language not in LANGUAGES:
        raise InvalidInput(f"language {language!r} is unknown; languages: {', '.join(LANGUAGES)}",
                           field="language")  # fmt: skip
    if accept is not True:
        raise InvalidInput(
            "confirm that you have read the meaning of the signature (accept: true)",
            field="accept", message_code="error.signature_accept",
        )  # fmt: skip


@refuses_unstorable_text
def sign_casebook(
    session_maker: sessionmaker[Session],
    cipher: IdentityCipher,
    policy: AuthPolicy,
    actor: Actor,
    study_id: str,
    *,
    password: str,
    totp_code: str,
    accept: bool,
    meaning: str = MEANING,
    meaning_version: str = MEANING_VERSION,
    language: str = "en",
    client: str | None = None,
    at: datetime | None = None,
) -> SignatureView:
    """Sign her casebook as ``actor`` (module docstring); :class:`~.errors.NotAuthenticated`
    (wrong password or code), :class:`~.errors.TotpCodeReused`, :class:`~.errors.InvalidInput`
    (meaning not confirmed), :class:`~.errors.PermissionDenied` (not a site investigator)."""
    require(actor, Action.SIGN_CASEBOOK, needs_account=True)
    _check_meaning(meaning, meaning_version, language, accept)
    now = instant(at)
    with session_maker() as session, session.begin():
        her = find_her(session, actor, study_id)  # NotFound before any credential is checked
        refuse_if_study_locked(session, her.study_pk)
    confirmed = reauthenticate(
        session_maker, cipher, policy, actor.username, password, totp_code,
        action="signature_failed", entity_id=her.study_id, client=client, now=now,
    )  # fmt: skip
    with transaction(session_maker) as session:
        her = find_her(session, actor, study_id)
        refuse_if_study_locked(session, her.study_pk)
        use_second_factor(session, confirmed)
        signer = session.get_one(User, actor.user_id)
        digest = casebook_sha256(her.casebook)
        row = CasebookSignature(
            participant_id=her.participant_id, signer_id=signer.id, signer_name=signer.full_name,
            signer_username=signer.username, signer_role=signer.role, signed_at=now,
            meaning=MEANING, meaning_version=MEANING_VERSION, meaning_language=language,
            meaning_text=meaning_text(language), casebook_sha256=digest,
        )  # fmt: skip
        session.add(row)
        session.flush()
        append_event(
            session, actor=actor.username, action="casebook_signed", entity="participant",
            entity_id=her.study_id, reason=row.meaning_text,
            new={"signature_id": row.id, "signer_name": row.signer_name, "role": signer.role,
                 "meaning": MEANING, "meaning_version": MEANING_VERSION, "language": language,
                 "casebook_sha256": digest, "client": client},
            at=now,
        )  # fmt: skip
        return signature_view(row)
