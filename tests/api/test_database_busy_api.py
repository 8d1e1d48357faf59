"""A busy database is a 503 ``database_busy`` with ``Retry-After``, never a 500: the writer lock
held by another process past the busy timeout (SQLite), the audit chain's lock held past
``lock_timeout`` (PostgreSQL), a deadlock or a lock failure inside the use case. Nothing of the
refused request is stored, the answer is the one the schema documents, and the same request
succeeds once the database is free. Any other database error is still a 500.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg.errors
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from factories import lock_held_elsewhere
from pebs.api import create_app
from pebs.store import engine as store_engine
from pebs.store.models import AuditEvent, Participant

Api = Any  # conftest.Api
V1 = "/api/v1"
BUSY_DETAIL = "the database is busy; nothing was saved. Try again in a moment."


def _registration(api: Api, name: str) -> dict[str, str]:
    return {"study": api.STUDY, "site": "IT-TO", "name": name, "birth_date": "1968-04-02"}


def _stored(api: Api) -> tuple[int, int]:
    """(participants, audit events) in the database."""
    with api.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Participant)),
            session.scalar(select(func.count()).select_from(AuditEvent)),
        )


@contextmanager
def _busy_client(api: Api, backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A client of the same database whose connections give up waiting for a lock after 0.3 s
    (SQLite's busy timeout; PostgreSQL's ``lock_timeout``)."""
    settings = api.settings
    if backend == "sqlite":
        monkeypatch.setattr(store_engine, "_SQLITE_BUSY_TIMEOUT_S", 0.3)
    else:
        url = make_url(settings.database_url)
        options = f"{url.query['options']} -clock_timeout=300"
        settings = settings.model_copy(update={
            "database_url": url.update_query_dict({"options": options})
                               .render_as_string(hide_password=False)})  # fmt: skip
    with TestClient(create_app(settings, auth_policy=api.policy)) as client:
        yield client


def _conforms_to_the_schema(client: TestClient, operation: str, status: int) -> None:
    method, path = operation.split(" ", 1)
    documented = client.get("/api/openapi.json").json()["paths"][path][method.lower()]
    response = documented["responses"][str(status)]
    assert "database_busy" in response["content"]["application/json"]["schema"]["properties"][
        "error"]["enum"]  # fmt: skip
    assert "Retry-After" in response["headers"]


def _assert_busy(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == {"error": "database_busy", "detail": BUSY_DETAIL}
    assert response.headers["Retry-After"] == "1"


def test_a_lock_held_by_another_process_is_503_and_nothing_is_stored(
    api_on_each_database: Api, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = api_on_each_database
    staff = api.bearer("site_staff")
    body = _registration(api, "Busy Lock")
    with _busy_client(api, backend, monkeypatch) as client:
        assert client.get(f"{V1}/auth/me", headers=staff).status_code == 200
        before = _stored(api)
        with lock_held_elsewhere(api.settings.database_url):
            refused = client.post(f"{V1}/participants", json=body, headers=staff)
        _assert_busy(refused)
        assert _stored(api) == before
        _conforms_to_the_schema(client, f"POST {V1}/participants", 503)
        retried = client.post(f"{V1}/participants", json=body, headers=staff)
        assert retried.status_code == 201, retried.text
    participants, events = _stored(api)
    assert participants == before[0] + 1
    assert events > before[1]


def _failing_at(client: TestClient, table: str, error: Exception) -> Callable[..., None]:
    """Make the driver raise ``error`` when the app's database is asked to insert into
    ``table`` (the rest of the use case, before it, runs and writes)."""
    dialect = client.app.state.pebs.database.engine.dialect
    execute = dialect.do_execute

    def do_execute(cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()}"):
            raise error
        execute(cursor, statement, parameters, context)

    return do_execute


def _driver_error(backend: str, transient: bool) -> Exception:
    if backend == "sqlite":
        message = "database is locked" if transient else "no such table: audit_events"
        return sqlite3.OperationalError(message)
    if transient:
        return psycopg.errors.DeadlockDetected("deadlock detected")
    return psycopg.errors.UndefinedTable('relation "audit_events" does not exist')


def test_a_transient_failure_inside_the_use_case_rolls_it_back(
    api_on_each_database: Api, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failure comes after her participant row was written (the audit event is the use
    case's last insert): the row is rolled back with it."""
    api = api_on_each_database
    staff = api.bearer("site_staff")
    before = _stored(api)
    with TestClient(create_app(api.settings, auth_policy=api.policy)) as client:
        dialect = client.app.state.pebs.database.engine.dialect
        failing = _failing_at(client, "audit_events", _driver_error(backend, transient=True))
        monkeypatch.setattr(dialect, "do_execute", failing)
        refused = client.post(f"{V1}/participants", json=_registration(api, "Busy Inside"),
                              headers=staff)  # fmt: skip
        monkeypatch.undo()
        _assert_busy(refused)
        assert _stored(api) == before
        retried = client.post(f"{V1}/participants", json=_registration(api, "Busy Inside"),
                              headers=staff)  # fmt: skip
        assert retried.status_code == 201, retried.text


def test_any_other_database_error_is_still_an_unexpected_error(
    api_on_each_database: Api, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = api_on_each_database
    before = _stored(api)
    app = create_app(api.settings, auth_policy=api.policy)
    with TestClient(app, raise_server_exceptions=False) as client:
        dialect = client.app.state.pebs.database.engine.dialect
        failing = _failing_at(client, "audit_events", _driver_error(backend, transient=False))
        monkeypatch.setattr(dialect, "do_execute", failing)
        response = client.post(f"{V1}/participants", json=_registration(api, "Not Busy"),
                               headers=api.bearer("site_staff"))  # fmt: skip
        monkeypatch.undo()
    assert response.status_code == 500, response.text
    assert response.json() == {
        "error": "internal_error", "detail": "an unexpected error; it was logged"}  # fmt: skip
    assert "Retry-After" not in response.headers
    assert _stored(api) == before
