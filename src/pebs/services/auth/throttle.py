"""Login rate limiting: failed attempts per username and per client address, in the database.

Each key (``user:<username>``, ``addr:<address>``) counts failures in a fixed window that starts
at its first failure. Once a key has :attr:`~.policy.AuthPolicy.max_failures` failures
(addresses: :data:`ADDRESS_FACTOR` times as many, since several users may share a hospital's
address), logins for it are refused, without checking the password, until the window ends. The
counts live in ``login_throttles`` so that every server process shares them. Success resets the
username's count (not the address's).

The check and the count are separate transactions (the password is checked in between, outside
any transaction, because argon2 is deliberately slow): a burst of simultaneous guesses can
overshoot the limit by the number of requests in flight, never more.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pebs.services.auth.errors import TooManyAttempts
from pebs.services.auth.policy import AuthPolicy
from pebs.store.models import LoginThrottle

__all__ = ["ADDRESS_FACTOR", "keys_for", "record_failure", "refuse_if_throttled", "reset"]

ADDRESS_FACTOR = 4


def keys_for(username: str, client: str | None) -> tuple[str, ...]:
    """Throttle keys of one attempt (username case-folded, as usernames are matched)."""
    keys = [f"user:{username.strip().lower()[:150]}"]
    if client:
        keys.append(f"addr:{client[:150]}")
    return tuple(keys)


def _limit(key: str, policy: AuthPolicy) -> int:
    return policy.max_failures * (ADDRESS_FACTOR if key.startswith("addr:") else 1)


def refuse_if_throttled(
    session: Session, keys: tuple[str, ...], policy: AuthPolicy, now: datetime
) -> None:
    """:class:`TooManyAttempts` if any key has used up its failures in its current window."""
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))
    for row in rows:
        window_end = row.window_start + policy.window
        if window_end > now and row.failures >= _limit(row.key, policy):
            retry = max(1, int((window_end - now).total_seconds()) + 1)
            raise TooManyAttempts(
                f"too many failed logins; try again in {retry} s or ask an administrator",
                retry,
            )


def record_failure(
    session: Session, keys: tuple[str, ...], policy: AuthPolicy, now: datetime
) -> None:
    """Count one failure for each key (a new window if the old one has ended); one upsert."""
    dialect = session.connection().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(LoginThrottle).values(
        [{"key": key, "window_start": now, "failures": 1} for key in keys]
    )
    expired = LoginThrottle.window_start <= now - policy.window
    statement = statement.on_conflict_do_update(
        index_elements=[LoginThrottle.key],
        set_={
            "window_start": case((expired, statement.excluded.window_start),
                                 else_=LoginThrottle.window_start),
            "failures": case((expired, 1), else_=LoginThrottle.failures + 1),
        },
    )  # fmt: skip
    session.execute(statement)


def reset(session: Session, key: str) -> None:
    """Forget a key's failures (after a successful login)."""
    row = session.get(LoginThrottle, key)
    if row is not None:
        session.delete(row)
