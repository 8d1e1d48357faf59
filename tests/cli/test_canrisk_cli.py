"""``pebs participants canrisk-import`` and ``canrisk-export`` on a SQLite file with the demo
study: the report, the dry run, one-line refusals, and the file written (the use cases are
tested in tests/services/trial/test_canrisk.py)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from pebs.cli import main

MANAGER = "demo-data-manager"
DATA = Path(__file__).resolve().parents[1] / "data" / "canrisk"


@pytest.fixture
def her(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A woman born in 1977 (as the target of three_generations.txt), in the risk-based arm,
    with her risk questionnaire recorded."""
    from factories import ELIGIBLE, site_today
    from pebs.config import Settings
    from pebs.services.actor import actor_for
    from pebs.services.keys import IdentityKeys
    from pebs.services.trial import (
        NewParticipant,
        RiskFactors,
        assess_eligibility,
        open_database,
        override_allocation,
        record_consent,
        record_risk_questionnaire,
        register_participant,
    )

    url = f"sqlite:///{tmp_path / 'pebs.db'}"
    monkeypatch.setenv("PEBS_DATABASE_URL", url)
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    assert main(["db", "upgrade"]) == 0
    assert main(["study", "load", "mypebs-demo", "--demo-users"]) == 0
    settings = Settings()
    keys = IdentityKeys.from_settings_values(settings.identity_keys(), settings.hmac_key_bytes())
    database = open_database(url)
    try:
        manager = actor_for(database.sessions, MANAGER)
        new = NewParticipant(site="IT-TO", name="Test Woman", birth_date=date(1977, 6, 1))
        study_id = register_participant(database.sessions, manager, keys, "mypebs-demo",
                                        new).study_id  # fmt: skip
        assess_eligibility(database.sessions, manager, keys, study_id, ELIGIBLE)
        record_consent(database.sessions, manager, study_id, language="it")
        override_allocation(database.sessions, manager, keys, study_id, arm="risk-based",
                            reason="test set-up", confirm=True)  # fmt: skip
        answers = RiskFactors(n_biopsies=0, age_at_menarche=11, age_at_first_birth=32,
                              n_relatives=0)  # fmt: skip
        record_risk_questionnaire(database.sessions, manager, keys, study_id, answers,
                                  answered_on=site_today("IT-TO") - timedelta(days=1))  # fmt: skip
    finally:
        database.close()
    return study_id


def _import(study_id: str, name: str, *extra: str) -> list[str]:
    return ["participants", "canrisk-import", str(DATA / name), "--participant", study_id,
            "--user", MANAGER, *extra]  # fmt: skip


def test_import_prints_what_the_file_gave(her, capsys) -> None:
    capsys.readouterr()
    assert main(_import(her, "three_generations.txt", "--dry-run")) == 0
    err = capsys.readouterr().err
    assert "checked, nothing stored (dry run)" in err
    assert "age_at_menarche=13" in err
    assert "mother (52), sister (46)" in err
    assert "other relatives with breast cancer, not counted: 4" in err
    assert "not imported (measured in the trial): density=c, prs_z=0.85" in err
    assert main(_import(her, "three_generations.txt")) == 0
    err = capsys.readouterr().err
    assert "recorded" in err.splitlines()[0]
    assert "kept from her latest questionnaire: n_biopsies=0" in err


def test_a_bad_file_is_one_line_per_refusal_and_exit_65(her, capsys) -> None:
    capsys.readouterr()
    assert main(_import(her, "two_targets.txt")) == 65
    err = capsys.readouterr().err
    assert "line 6, column Target" in err
    assert "Traceback" not in err
    assert main(_import(her, "missing.txt")) == 74  # no such file
    assert main(_import(her, "latin1.txt", "--answered-on", "yesterday")) == 2


def test_export_writes_her_file(her, tmp_path, capsys) -> None:
    output = tmp_path / "her.txt"
    capsys.readouterr()
    code = main(["participants", "canrisk-export", "--participant", her, "-o", str(output),
                 "--user", MANAGER])  # fmt: skip
    assert code == 0
    text = output.read_text(encoding="utf-8")
    assert text.startswith("##CanRisk 4.0\n##menarche=11\n##first_live_birth=32\n")
    her_line = next(line for line in text.splitlines() if "\tPB\t" in line).split("\t")
    assert (her_line[0], her_line[10]) == (her, "1977")
    assert f"written to {output}" in capsys.readouterr().err
