"""`pebs user ...` and what `pebs serve` hands to uvicorn, on a SQLite file."""

from __future__ import annotations

import importlib
import io
import sqlite3
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pebs.cli import main
from pebs.cli.serve import APP_FACTORY


@pytest.fixture
def loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    path = tmp_path / "users.db"
    monkeypatch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    assert main(["db", "upgrade"]) == 0
    assert main(["study", "load", "mypebs-demo", "--demo-users"]) == 0
    capsys.readouterr()
    return path


def _audit_actions(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("SELECT action FROM audit_events")]


@pytest.mark.slow
def test_demo_logins_set_a_password_per_account_and_disable_ends_access(
    loaded: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    assert main(["user", "demo-logins"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("  demo-")]
    # the study's 7 demo accounts and the second site's staff account, each with a password
    # and a 32-character base32 TOTP secret
    assert {row[0] for row in rows} >= {"demo-site-staff", "demo-site-staff-2", "demo-statistician"}
    assert len(rows) == 8
    assert all(len(row[-1]) == 32 and row[-1].isalnum() for row in rows)
    with sqlite3.connect(loaded) as connection:
        hashes = dict(connection.execute("SELECT username, password_hash FROM users"))
    assert all(hashes[row[0]].startswith("$argon2id$") for row in rows)
    assert main(["user", "disable", "demo-monitor", "--reason", "left the study team"]) == 0
    assert "demo-monitor disabled" in capsys.readouterr().out
    with sqlite3.connect(loaded) as connection:
        active = connection.execute(
            "SELECT is_active FROM users WHERE username = 'demo-monitor'"
        ).fetchone()
    assert active == (0,)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough new password\n"))
    assert main(["user", "set-password", "demo-statistician", "--password-stdin"]) == 0
    assert "password of demo-statistician set" in capsys.readouterr().out
    actions = _audit_actions(loaded)
    assert actions.count("disable") == 1
    assert actions[-1] == "set_password"


def test_demo_logins_are_refused_in_production(loaded: Path, monkeypatch, capsys) -> None:
    from pebs.store.crypto import IdentityCipher

    monkeypatch.setenv("PEBS_ENVIRONMENT", "production")
    monkeypatch.setenv("PEBS_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PEBS_IDENTITY_KEY", IdentityCipher.generate_key())
    monkeypatch.setenv("PEBS_HMAC_KEY", "h" * 40)
    assert main(["user", "demo-logins"]) == 2
    assert "refused in production" in capsys.readouterr().err


def test_serve_hands_uvicorn_the_site_factory(loaded: Path) -> None:
    module_name, _, name = APP_FACTORY.partition(":")
    app = getattr(importlib.import_module(module_name), name)()
    assert isinstance(app, FastAPI)
    with TestClient(app) as client:  # the lifespan opens the database of PEBS_DATABASE_URL
        assert client.get("/login").status_code == 200  # the pages
        schema = client.get("/api/openapi.json").json()  # and the API, in one app
    assert "/api/v1/participants" in schema["paths"]
