"""`pebs user ...` and what `pebs serve` hands to uvicorn, on a SQLite file."""

from __future__ import annotations

import importlib
import io
import socket
import sqlite3
from pathlib import Path
from typing import Any

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
    # the study's 8 demo accounts (one per role) and the second site's staff account, each with
    # a password and a 32-character base32 TOTP secret
    assert {row[0] for row in rows} >= {"demo-site-staff", "demo-site-staff-2", "demo-statistician",
                                        "demo-laboratory"}  # fmt: skip
    assert len(rows) == 9
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


def test_serve_hands_uvicorn_the_site_factory(loaded: Path, monkeypatch) -> None:
    from pebs.http import worker_cpu

    pinned: list[bool] = []  # the factory keeps its process on one CPU; not this test's process
    monkeypatch.setattr(worker_cpu, "pin_to_one_cpu", lambda: pinned.append(True))
    module_name, _, name = APP_FACTORY.partition(":")
    app = getattr(importlib.import_module(module_name), name)()
    assert isinstance(app, FastAPI)
    assert pinned == [True]
    with TestClient(app) as client:  # the lifespan opens the database of PEBS_DATABASE_URL
        assert client.get("/login").status_code == 200  # the pages
        schema = client.get("/api/openapi.json").json()  # and the API, in one app
    assert "/api/v1/participants" in schema["paths"]


def _failed_logins(url: str, username: str, n: int, client: str) -> None:
    from factories import FAST_HASHER
    from pebs.services.auth import AuthPolicy, login
    from pebs.services.errors import NotAuthenticated, TooManyAttempts
    from pebs.services.trial import open_database
    from pebs.store.crypto import IdentityCipher

    policy = AuthPolicy(secret=b"s" * 32, hasher=FAST_HASHER)
    database = open_database(url)
    cipher = IdentityCipher([IdentityCipher.generate_key()])
    try:
        for _ in range(n):
            with pytest.raises((NotAuthenticated, TooManyAttempts)):
                login(database.sessions, cipher, policy, username, "not her password",
                      client=client)  # fmt: skip
    finally:
        database.close()


def _throttle_keys(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return sorted(row[0] for row in connection.execute("SELECT key FROM login_throttles"))


def test_user_unlock_forgets_her_failed_logins_and_is_audited(loaded: Path, capsys) -> None:
    _failed_logins(f"sqlite:///{loaded}", "demo-monitor", 7, "10.1.1.1")
    _failed_logins(f"sqlite:///{loaded}", "demo-monitor", 2, "10.2.2.2")
    _failed_logins(f"sqlite:///{loaded}", "demo-statistician", 1, "10.1.1.1")
    assert len(_throttle_keys(loaded)) == 5  # 3 username+address keys, 2 address keys
    assert main(["user", "unlock", "demo-monitor"]) == 0
    assert "demo-monitor unlocked (2 failed-login count(s) cleared)" in capsys.readouterr().out
    left = _throttle_keys(loaded)
    assert left == ["addr:10.1.1.1", "addr:10.2.2.2", "user:demo-statistician\x1f10.1.1.1"]
    assert _audit_actions(loaded)[-1] == "unlock_logins"
    assert main(["user", "unlock", "demo-statistician", "--address", "10.1.1.1"]) == 0
    assert _throttle_keys(loaded) == ["addr:10.2.2.2"]
    assert main(["user", "unlock", "nobody"]) == 66  # EX_NOINPUT, one line
    assert capsys.readouterr().err.strip() == "pebs: error: no user 'nobody'"


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What ``pebs serve`` hands ``uvicorn.run`` (which is not started)."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **options: calls.append(options))
    return calls


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_refuses_a_taken_port_before_announcing_the_site(
    loaded: Path, uvicorn_calls: list, capsys
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["serve", "--port", str(port)])
    captured = capsys.readouterr()
    assert code == 69  # EX_UNAVAILABLE, as documented
    assert uvicorn_calls == []
    assert "serving" not in captured.out
    [line] = captured.err.splitlines()
    assert line.startswith(f"pebs: error: cannot listen on 127.0.0.1:{port} ")
    assert "--port" in line


def test_serve_trusts_no_proxy_headers_unless_proxies_are_listed(
    loaded: Path, uvicorn_calls: list, capsys
) -> None:
    port = _free_port()
    assert main(["serve", "--port", str(port)]) == 0
    assert f"serving the site at http://127.0.0.1:{port}/" in capsys.readouterr().out
    assert (
        main(["serve", "--port", str(port), "--forwarded-allow-ips", "10.0.0.5, 192.0.2.0/24"]) == 0
    )
    default, listed = uvicorn_calls
    assert default["proxy_headers"] is False  # X-Forwarded-For of anyone is ignored
    assert listed["proxy_headers"] is True
    assert listed["forwarded_allow_ips"] == ["10.0.0.5", "192.0.2.0/24"]
    for bad in ("*", "proxy.example.org"):
        assert main(["serve", "--port", str(port), "--forwarded-allow-ips", bad]) == 2
        assert "--forwarded-allow-ips" in capsys.readouterr().err
    assert len(uvicorn_calls) == 2
