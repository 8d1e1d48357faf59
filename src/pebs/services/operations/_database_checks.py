"""The database half of ``pebs check``: reachable, migrated, audit chain, tables matching the
audit trail, study, lists, identity keys, file mode.

Nothing here writes: every check reads in one read-only transaction (a snapshot: ``REPEATABLE
READ`` on PostgreSQL, so a server writing meanwhile cannot make the tables and the chain
disagree), and a SQLite file that does not exist is reported, never created.
"""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import Connection, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from pebs.services.actor import Actor
from pebs.services.errors import ToolMissing
from pebs.services.keys import IdentityKeys
from pebs.services.operations import _postgres_tools as pg
from pebs.services.operations._check_result import Check
from pebs.services.operations._database_state import read_chain, revision_of, safe_url
from pebs.services.operations._identity_key_check import IDENTITY_KEYS, identity_key_check
from pebs.services.operations.deep_audit import DeepReport, deep_verify, read_only
from pebs.services.trial.allocation_lists import verify_allocation_list
from pebs.store import migrate
from pebs.store.engine import create_engine_for
from pebs.store.models import AllocationList, Participant, Study

__all__ = ["database_checks"]

REACHABLE = "database reachable"
MIGRATIONS = "migrations current"
AUDIT_CHAIN = "audit chain intact"
DEEP = "tables match the audit trail"
STUDY = "study loaded"
LISTS = "allocation lists verify"
FILE_MODE = "database file permissions"
PG_DUMP = "pg_dump available"


def database_checks(url: str, keys: IdentityKeys) -> list[Check]:
    """Every database check, in order; a check that cannot run is ``skip`` with the reason.
    ``keys``: the configured identity keys, tried on stored identities."""
    checks: list[Check] = []
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        database = make_url(url).database or ""
        if database in ("", ":memory:") or not Path(database).is_file():
            detail = f"{database or 'in-memory'}: no such file"
            checks.append(Check(REACHABLE, "fail", detail, True))
            return checks + _skipped("the database cannot be reached")
    engine = create_engine_for(url)
    try:
        with engine.connect() as raw:
            connection = read_only(raw, backend)
            with connection.begin():
                checks += _within(connection, url, backend, keys)
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        checks.append(Check(REACHABLE, "fail", f"{safe_url(url)}: {reason}", True))
        checks += _skipped("the database cannot be reached")
    finally:
        engine.dispose()
    checks.append(_file_mode(url) if backend == "sqlite" else _pg_dump())
    return checks


def _skipped(why: str) -> list[Check]:
    return [
        Check(MIGRATIONS, "skip", why, True),
        Check(AUDIT_CHAIN, "skip", why, True),
        Check(DEEP, "skip", why, False),
        Check(STUDY, "skip", why, False),
        Check(LISTS, "skip", why, False),
        Check(IDENTITY_KEYS, "skip", why, False),
    ]


def _within(connection: Connection, url: str, backend: str, keys: IdentityKeys) -> list[Check]:
    if backend == "sqlite":
        version = "SQLite " + connection.execute(text("SELECT sqlite_version()")).scalar_one()
    else:
        version = connection.execute(text("SHOW server_version")).scalar_one()
        version = f"PostgreSQL {version}"
    checks = [Check(REACHABLE, "pass", f"{safe_url(url)} ({version})", True)]
    revision, head = revision_of(connection), migrate.head()
    if revision == head:
        checks.append(Check(MIGRATIONS, "pass", f"at {head} (this release's head)", True))
    else:
        state = "empty (never migrated)" if revision is None else f"at {revision}"
        detail = f"{state}, this release needs {head}: run 'pebs db upgrade'"
        checks.append(Check(MIGRATIONS, "fail", detail, True))
    if revision is None:
        return checks + _skipped("the database was never migrated")[1:]
    if revision != head:  # the models may not match the tables: the chain alone
        chain = read_chain(connection)
        shown = f"{chain.summary}; head id={chain.head.id} hash={chain.head.hash[:16]}..."
        why = "the database is not at this release's revision"
        skipped = [Check(name, "skip", why, False) for name in (DEEP, STUDY, LISTS, IDENTITY_KEYS)]
        return [*checks, _chain(chain.ok, shown), *skipped]
    report = deep_verify(connection, max_shown=3)  # verifies the chain in the same pass
    return [*checks, _chain(report.chain_ok, report.chain_summary), _deep(report),
            _study(connection), _lists(connection),
            identity_key_check(connection, keys)]  # fmt: skip


def _chain(ok: bool, summary: str) -> Check:
    return Check(AUDIT_CHAIN, "pass" if ok else "fail", summary, True)


def _deep(report: DeepReport) -> Check:
    """Every audited table against the state the audit trail gives it (``pebs audit verify
    --deep``): rows changed, added or deleted outside pebs."""
    if report.tables_ok:
        return Check(DEEP, "pass", report.summary, True)
    shown = "; ".join(f"{m.table}: {m}" for m in report.mismatches[:3])
    detail = f"{report.summary} (e.g. {shown}); run 'pebs audit verify --deep'"
    return Check(DEEP, "fail", detail, True)


def _study(connection: Connection) -> Check:
    names = connection.execute(select(Study.name).order_by(Study.name)).scalars().all()
    if not names:
        return Check(STUDY, "info", "no study loaded yet ('pebs study load')", False)
    n_participants = connection.execute(select(func.count()).select_from(Participant)).scalar()
    return Check(STUDY, "info", f"{', '.join(names)}; {n_participants:,} participant(s)", False)


def _lists(connection: Connection) -> Check:
    """Each stored allocation list regenerated from its recorded seed, compared byte for byte
    and with the SHA-256 stored at creation (a list altered after generation fails)."""
    ids = connection.execute(select(AllocationList.id, AllocationList.seed)).all()
    if not ids:
        return Check(LISTS, "info", "no allocation list generated yet", False)
    sessions = sessionmaker(bind=connection)  # joins the check's read-only transaction
    checker = Actor(username="pebs-check", role="statistician")
    problems = []
    try:
        for list_id, seed in ids:
            verification = verify_allocation_list(sessions, checker, list_id, int(seed))
            if not verification.matches:
                problems.append(f"list {list_id}: {verification.problems[0]}")
    except (SQLAlchemyError, ValueError) as error:
        return Check(LISTS, "fail", f"cannot be verified: {error}", True)
    if problems:
        return Check(LISTS, "fail", "; ".join(problems[:3]), True)
    return Check(LISTS, "pass", f"{len(ids)} list(s) match their seed and stored SHA-256", True)


def _file_mode(url: str) -> Check:
    """The SQLite file (and its ``-wal``/``-shm``) must not be readable by other users: they hold
    the trial data (identifying data encrypted, the rest not)."""
    database = Path(make_url(url).database or "")
    shown, open_to_others = [], []
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        if not path.exists():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        shown.append(f"{path.name} {mode:04o}")
        if mode & (stat.S_IROTH | stat.S_IWOTH):
            open_to_others.append(path.name)
    if open_to_others:
        detail = f"{', '.join(shown)}: readable or writable by others; chmod o-rw {database}*"
        return Check(FILE_MODE, "fail", detail, True)
    return Check(FILE_MODE, "pass", ", ".join(shown) or "no file", True)


def _pg_dump() -> Check:
    try:
        path = pg.find_tool("pg_dump")
    except ToolMissing as error:
        return Check(PG_DUMP, "warn", f"backups need it: {error}", False)
    return Check(PG_DUMP, "pass", path, False)
