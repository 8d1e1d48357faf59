"""Login throttling: a growing wait after repeated failures, per username *and* client address.

Failures are counted under two keys (rows of ``login_throttles``, shared by every server
process):

- ``user:<username>`` + ``\\x1f`` + ``<address>``: one username from one client address. After
  :attr:`~.policy.AuthPolicy.max_failures` failures, each further attempt must wait
  :attr:`~.policy.AuthPolicy.first_delay`, doubled at every further failure and capped at
  :attr:`~.policy.AuthPolicy.max_delay`. Someone guessing a colleague's password from another
  computer therefore slows down only their own attempts: she still logs in from hers.
- ``addr:<address>``: every username from one address (password spraying), with
  :data:`ADDRESS_FACTOR` times as many free failures, since a hospital may put many users
  behind one address.

The wait is counted from the latest failure (the row's ``window_start``); during it, logins for
that key are refused *without checking the password* (and are not counted). Failures are
forgotten :attr:`~.policy.AuthPolicy.forget_after` after the latest one, when the user logs in
successfully from that address, or when an administrator unlocks the username
(:func:`unlock`).

The check and the count are separate transactions (the password is checked in between, outside
any transaction, because argon2 is deliberately slow): a burst of simultaneous guesses can
overshoot the count by the number of requests in flight, never more.

>>> from datetime import timedelta
>>> from pebs.services.auth.policy import AuthPolicy
>>> policy = AuthPolicy(secret=b"s" * 32)  # 5 free failures, then 1 s, 2 s, 4 s ... 15 min
>>> [delay(policy, n, policy.max_failures).total_seconds() for n in (4, 5, 6, 7, 30)]
[0.0, 1.0, 2.0, 4.0, 900.0]
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pebs.services.auth.policy import AuthPolicy
from pebs.services.errors import TooManyAttempts
from pebs.store.models import LoginThrottle

__all__ = [
    "ADDRESS_FACTOR",
    "delay",
    "keys_for",
    "locked_usernames",
    "record_failure",
    "refuse_if_throttled",
    "reset",
    "unlock",
]

ADDRESS_FACTOR = 4
"""An address may fail this many times as often as one username from it before it waits."""
_SEPARATOR = "\x1f"  # ASCII unit separator: never in a username a user can log in with
_MAX_DOUBLINGS = 40  # 2**40 s is far beyond any cap: no overflow of timedelta


def _user_prefix(username: str) -> str:
    return f"user:{username.strip().lower()[:128]}{_SEPARATOR}"


def keys_for(username: str, client: str | None) -> tuple[str, ...]:
    """Throttle keys of one attempt: (username + address, address); the username is
    case-folded, as usernames are matched. Without a known address, only the first."""
    pair = f"{_user_prefix(username)}{(client or '')[:64]}"
    return (pair, f"addr:{client[:150]}") if client else (pair,)


def _free_failures(key: str, policy: AuthPolicy) -> int:
    return policy.max_failures * (ADDRESS_FACTOR if key.startswith("addr:") else 1)


def delay(policy: AuthPolicy, failures: int, free: int) -> timedelta:
    """The wait after the latest of ``failures`` failures when ``free`` are allowed without one:
    none below ``free``, then ``first_delay * 2**(failures - free)``, at most ``max_delay``."""
    if failures < free:
        return timedelta(0)
    doublings = min(failures - free, _MAX_DOUBLINGS)
    return min(policy.first_delay * 2**doublings, policy.max_delay)


def refuse_if_throttled(
    session: Session, keys: tuple[str, ...], policy: AuthPolicy, now: datetime
) -> None:
    """:class:`TooManyAttempts` (with the seconds left) if a key's wait has not ended."""
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))
    waits = []
    for row in rows:
        if row.window_start <= now - policy.forget_after:
            continue  # forgotten (the next failure starts the count again)
        wait_end = row.window_start + delay(policy, row.failures, _free_failures(row.key, policy))
        if wait_end > now:
            waits.append(math.ceil((wait_end - now).total_seconds()))
    if waits:
        retry = max(1, max(waits))
        raise TooManyAttempts(
            f"too many failed logins; wait {retry} s before trying again (an administrator "
            "can unlock the username: pebs user unlock)",
            retry,
        )


def record_failure(
    session: Session, keys: tuple[str, ...], policy: AuthPolicy, now: datetime
) -> None:
    """Count one failure for each key, at ``now`` (the count starts again once forgotten);
    one upsert."""
    dialect = session.connection().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(LoginThrottle).values(
        [{"key": key, "window_start": now, "failures": 1} for key in keys]
    )
    forgotten = LoginThrottle.window_start <= now - policy.forget_after
    statement = statement.on_conflict_do_update(
        index_elements=[LoginThrottle.key],
        set_={
            "window_start": statement.excluded.window_start,
            "failures": case((forgotten, 1), else_=LoginThrottle.failures + 1),
        },
    )
    session.execute(statement)


def reset(session: Session, key: str) -> None:
    """Forget a key's failures (after a successful login)."""
    row = session.get(LoginThrottle, key)
    if row is not None:
        session.delete(row)


def unlock(session: Session, username: str, address: str | None = None) -> int:
    """Forget the failures of ``username`` from every address (and of ``address`` for every
    username, when given); the number of keys cleared."""
    prefix = _user_prefix(username)
    matches = [
        LoginThrottle.key.startswith(prefix, autoescape=True),
        LoginThrottle.key == prefix.removesuffix(_SEPARATOR),  # a count kept per username alone
    ]
    if address:
        matches.append(LoginThrottle.key == f"addr:{address[:150]}")
    result = session.execute(
        delete(LoginThrottle).where(or_(*matches)).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def locked_usernames(session: Session, policy: AuthPolicy, now: datetime) -> frozenset[str]:
    """The usernames (case-folded, as counted) that must wait before their next login from at
    least one address: the accounts an administrator may want to unlock."""
    waiting = set()
    for row in session.scalars(select(LoginThrottle).where(LoginThrottle.key.startswith("user:"))):
        if row.window_start <= now - policy.forget_after:
            continue
        if row.window_start + delay(policy, row.failures, policy.max_failures) > now:
            waiting.add(row.key.removeprefix("user:").split(_SEPARATOR, 1)[0])
    return frozenset(waiting)
