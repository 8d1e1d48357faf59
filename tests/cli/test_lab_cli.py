"""``pebs lab import|conflicts|resolve`` on a SQLite file (the services below are tested on
SQLite and PostgreSQL in tests/services/laboratory)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factories import DEMO_ACCOUNTS
from lab_factories import LAB_USER, Lab, dosages, lab_for
from pebs.cli import main
from pebs.config import Settings
from pebs.services.keys import IdentityKeys
from pebs.store.crypto import IdentityCipher
from pebs.store.engine import create_engine_for, session_factory

MANAGER = DEMO_ACCOUNTS["data_manager"]


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Lab:
    monkeypatch.setenv("PEBS_DATABASE_URL", f"sqlite:///{tmp_path / 'trial.db'}")
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    monkeypatch.setenv("PEBS_IDENTITY_KEY", IdentityCipher.generate_key())
    monkeypatch.setenv("PEBS_HMAC_KEY", "h" * 40)
    assert main(["db", "upgrade"]) == 0
    settings = Settings()
    keys = IdentityKeys.from_settings_values(settings.identity_keys(), settings.hmac_key_bytes())
    engine = create_engine_for(settings.database_url)
    capsys.readouterr()
    yield lab_for(session_factory(engine), tmp_path, keys)
    engine.dispose()


def test_import_prints_every_kit_outcome(lab: Lab, capsys) -> None:
    good, bad = lab.shipped(2)
    path = lab.file({good: dosages(0), bad: dosages(1, no_calls=50), "MP-UNKNOWN": dosages(0)})

    assert main(["lab", "import", str(path), "--study", lab.STUDY, "--as", LAB_USER]) == 0

    out = capsys.readouterr().out
    assert f"imported {path.name} (3 samples) as batch LB-" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines()[2:] if line.strip()}
    assert lines["accepted"][1:] == ["1", good]
    assert lines["failed_qc"][1:] == ["1", bad]
    assert lines["unknown_kit"][1:] == ["1", "MP-UNKNOWN"]
    assert lines["duplicate"][1:] == ["0"]
    assert "risks completed: 1" in out


def test_json_output_and_a_dry_run(lab: Lab, capsys) -> None:
    [kit] = lab.shipped()
    path = lab.file({kit: dosages(0)})
    command = ["lab", "import", str(path), "--study", lab.STUDY, "--as", LAB_USER, "--json"]
    assert main([*command, "--dry-run"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert (dry["dry_run"], dry["reference"], dry["kits"]["accepted"]) == (True, None, [kit])
    assert lab.state(kit) == "shipped"
    assert main(command) == 0
    real = json.loads(capsys.readouterr().out)
    assert real["reference"].startswith("LB-")
    assert real["counts"] == dry["counts"]
    assert lab.state(kit) == "genotyped"
    assert main([c for c in command if c != "--json"]) == 0
    out = capsys.readouterr().out
    assert "nothing new to store" in out
    assert f"imported before: {real['reference']}" in out


def test_refusals_have_their_exit_codes(lab: Lab, capsys) -> None:
    [kit] = lab.shipped()
    path = lab.file({kit: dosages(0)})
    not_a_vcf = lab.tmp / "notes.txt"
    not_a_vcf.write_text("hello\n", encoding="utf-8")
    cases = (
        (["--as", "nobody"], path, 66),
        (["--as", DEMO_ACCOUNTS["site_staff"]], path, 77),
        (["--as", LAB_USER], not_a_vcf, 65),
    )
    for user, file, code in cases:
        assert main(["lab", "import", str(file), "--study", lab.STUDY, *user]) == code
        assert capsys.readouterr().err.startswith("pebs: error: ")
    assert lab.state(kit) == "shipped"


def test_conflicts_are_listed_and_resolved(lab: Lab, capsys) -> None:
    [kit] = lab.shipped()
    for seed in (0, 1):
        path = lab.file({kit: dosages(seed)})
        assert main(["lab", "import", str(path), "--study", lab.STUDY, "--as", LAB_USER]) == 0
    capsys.readouterr()
    assert main(["lab", "conflicts", "--as", LAB_USER]) == 77
    assert main(["lab", "conflicts", "--as", MANAGER, "--json"]) == 0
    [conflict] = json.loads(capsys.readouterr().out)
    assert (conflict["kit_id"], conflict["stored_batch"] != conflict["batch"]) == (kit, True)
    assert main(["lab", "conflicts", "--as", MANAGER]) == 0
    out = capsys.readouterr().out
    assert "1 open genotype conflict(s)" in out
    assert kit in out
    assert main(["lab", "resolve", kit, "--keep", "new", "--reason", "re-run", "--as",
                 MANAGER]) == 0  # fmt: skip
    assert f"kit {kit}: kept the new result (1 other result(s) set aside)" in (
        capsys.readouterr().out)  # fmt: skip
    assert main(["lab", "resolve", kit, "--keep", "new", "--reason", "again", "--as",
                 MANAGER]) == 66  # fmt: skip
