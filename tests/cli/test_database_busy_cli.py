"""A busy database on the command line: one line on stderr, exit 75 (EX_TEMPFAIL: try again
later), no traceback, nothing stored; the same command succeeds once the database is free. The
lock is held by another process: SQLite's writer lock past the busy timeout, or PostgreSQL's
audit chain lock past ``lock_timeout``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from factories import lock_held_elsewhere
from pebs.cli import main
from pebs.store import create_engine_for, session_factory
from pebs.store import engine as store_engine
from pebs.store.models import AuditEvent, User

EX_TEMPFAIL = 75  # sysexits.h: "temporary failure, indicating something that is not really an
# error; the user is invited to retry the operation later"


@pytest.fixture
def loaded(
    backend: str, empty_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> str:
    """The demo study in a database whose connections wait at most 0.3 s for a lock."""
    url = empty_url
    if backend == "sqlite":
        monkeypatch.setattr(store_engine, "_SQLITE_BUSY_TIMEOUT_S", 0.3)
    else:
        parsed = make_url(empty_url)
        options = f"{parsed.query['options']} -clock_timeout=300"
        url = parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)
    monkeypatch.setenv("PEBS_DATABASE_URL", url)
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    assert main(["db", "upgrade"]) == 0
    assert main(["study", "load", "mypebs-demo", "--demo-users"]) == 0
    capsys.readouterr()
    return url


def _state(url: str) -> tuple[int, bool]:
    """(audit events, whether demo-monitor is active)."""
    engine = create_engine_for(url)
    try:
        with session_factory(engine)() as session:
            events = session.scalar(select(func.count()).select_from(AuditEvent))
            user = session.scalar(select(User).where(User.username == "demo-monitor"))
            assert user is not None
            return events, user.is_active
    finally:
        engine.dispose()


def test_a_busy_database_is_one_line_and_exit_75(loaded: str, capsys: pytest.CaptureFixture):
    before = _state(loaded)
    assert before[1] is True
    command = ["user", "disable", "demo-monitor", "--reason", "left the trial"]
    with lock_held_elsewhere(loaded):
        code = main(command)
    err = capsys.readouterr().err
    assert code == EX_TEMPFAIL, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("pebs: error: the database is busy (")
    assert "nothing of it was saved: run the command again in a moment" in err
    assert "Traceback" not in err
    assert _state(loaded) == before
    assert main(command) == 0
    events, active = _state(loaded)
    assert events > before[0]
    assert active is False
