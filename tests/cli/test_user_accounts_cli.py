"""`pebs user create`, `pebs user list` and `pebs user enable`, on a SQLite file."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from pebs.cli import main


@pytest.fixture
def loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    path = tmp_path / "accounts.db"
    monkeypatch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    assert main(["db", "upgrade"]) == 0
    assert main(["study", "load", "mypebs-demo"]) == 0
    capsys.readouterr()
    return path


def _row(path: Path, username: str) -> tuple | None:
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT u.role, s.code, c.code, u.is_active, u.password_hash FROM users u "
            "LEFT JOIN sites s ON s.id = u.site_id LEFT JOIN countries c ON c.id = u.country_id "
            "WHERE u.username = ?", (username,)).fetchone()  # fmt: skip


def _actions(path: Path, username: str) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [r[0] for r in connection.execute(
            "SELECT action FROM audit_events WHERE entity = 'user' AND entity_id = ? "
            "ORDER BY id", (username,))]  # fmt: skip


@pytest.mark.slow
def test_create_list_disable_enable(loaded: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    assert main(["user", "create", "lucia", "--role", "site_staff", "--site", "IT-TO"]) == 0
    out = capsys.readouterr().out
    password = out.split("hand it to her): ")[1].strip()
    role, site, country, active, stored = _row(loaded, "lucia")
    assert (role, site, country, active) == ("site_staff", "IT-TO", None, 1)
    assert PasswordHasher().verify(stored, password)
    assert _actions(loaded, "lucia") == ["create", "set_password"]
    monkeypatch.setattr("sys.stdin", io.StringIO("a given long password\n"))
    assert main(["user", "create", "marco", "--role", "country_coordinator", "--country", "IT",
                 "--password-stdin"]) == 0  # fmt: skip
    assert "shown once" not in capsys.readouterr().out
    assert _row(loaded, "marco")[:3] == ("country_coordinator", None, "IT")
    assert main(["user", "disable", "lucia", "--reason", "on leave"]) == 0
    assert main(["user", "enable", "lucia"]) == 0
    assert "lucia enabled" in capsys.readouterr().out
    assert _row(loaded, "lucia")[3] == 1
    assert main(["user", "list"]) == 0
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert lines["lucia"][1:] == ["site_staff", "IT-TO", "yes", "no", "no"]
    assert lines["marco"][1:3] == ["country_coordinator", "IT"]


def test_a_refused_account_names_the_field_and_stores_nothing(loaded: Path, capsys) -> None:
    assert main(["user", "create", "nina", "--role", "site_staff"]) != 0
    assert "site" in capsys.readouterr().err
    assert main(["user", "create", "nina", "--role", "pilot"]) != 0
    assert "role" in capsys.readouterr().err
    assert _row(loaded, "nina") is None
    assert _actions(loaded, "nina") == []
