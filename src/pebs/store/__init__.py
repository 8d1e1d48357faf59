"""Persistence adapter: SQLAlchemy 2 models, engines and sessions, the audit chain, encryption
of identifying data, repositories (which never commit) and Alembic migrations
(:mod:`pebs.store.migrate`).

Services own transactions::

    from pebs.store import append_event, create_engine_for, session_factory

    Session = session_factory(create_engine_for(url))
    with Session.begin() as session:
        ...                                   # the change, through models and repositories
        append_event(session, actor=..., action=..., entity=..., new=...)
"""

from pebs.store.audit import (
    ChainHead,
    VerifyResult,
    append_event,
    canonical_json,
    chain_head,
    verify_chain,
)
from pebs.store.crypto import DecryptionError, IdentityCipher, national_id_hmac
from pebs.store.engine import create_engine_for, session_factory

__all__ = [
    "ChainHead",
    "DecryptionError",
    "IdentityCipher",
    "VerifyResult",
    "append_event",
    "canonical_json",
    "chain_head",
    "create_engine_for",
    "national_id_hmac",
    "session_factory",
    "verify_chain",
]
