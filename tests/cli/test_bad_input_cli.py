"""Bad input on the command line: one line on stderr and an exit code, never a traceback.

A command-line argument that is not UTF-8 reaches Python as lone surrogates (``\\udcff`` for the
byte 0xFF, PEP 383): no database can store or even look it up. A wrong ``PEBS_IDENTITY_KEY``
cannot open the identifying data: a configuration error (EX_CONFIG, 78) that says so.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from pebs.cli import main


@pytest.fixture
def loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    path = tmp_path / "bad-input.db"
    monkeypatch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    assert main(["db", "upgrade"]) == 0
    assert main(["study", "load", "mypebs-demo", "--demo-users"]) == 0
    capsys.readouterr()
    return path


def _n_events(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM audit_events").fetchone()[0]


def test_an_argument_that_is_not_utf8_is_one_line_naming_it(loaded: Path, capsys) -> None:
    before = _n_events(loaded)
    assert main(["user", "disable", "demo-monitor\udcff", "--reason", "left"]) == 65
    err = capsys.readouterr().err
    assert err == (
        "pebs: error: username: contains U+DCFF, half of a UTF-16 surrogate pair and not a "
        "character; send the text as UTF-8\n"
    )
    assert main(["user", "disable", "demo-monitor", "--reason", "left\udcff"]) == 65
    assert capsys.readouterr().err.startswith("pebs: error: reason: contains U+DCFF")
    assert _n_events(loaded) == before


def test_a_wrong_identity_key_is_a_configuration_error(
    loaded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """The demo seed (registrations encrypted with the development key) then an identity export
    with another key."""
    assert main(["demo", "seed", "-n", "40", "--today", "2025-03-03"]) == 0
    other_key = Fernet.generate_key().decode()
    monkeypatch.setenv("PEBS_IDENTITY_KEY", other_key)
    capsys.readouterr()
    target = tmp_path / "identity.csv"
    code = main(["export", "participants", "-o", str(target), "-u", "demo-data-manager",
                 "--identity"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 78
    assert len(err.splitlines()) == 1
    assert "identity key (PEBS_IDENTITY_KEY) does not match" in err
    assert other_key not in err
    assert not target.exists()


@pytest.mark.parametrize(
    ("command", "allowed"),
    [
        (["export", "participants", "-u", "demo-data-manager"], "csv, parquet, odm, fhir"),
        (["export", "dictionary"], "csv, parquet"),  # a table: a casebook file has its own
    ],
)
def test_an_unknown_export_format_is_one_line_naming_the_formats(
    loaded: Path, tmp_path: Path, capsys, command: list[str], allowed: str
) -> None:
    before = _n_events(loaded)
    target = tmp_path / "export.xlsx"
    assert main([*command, "-o", str(target), "--format", "xlsx"]) == 65
    assert capsys.readouterr().err == (
        f"pebs: error: format: 'xlsx' is not an export format; allowed: {allowed}\n"
    )
    assert list(tmp_path.glob("export.*")) == []
    assert _n_events(loaded) == before
