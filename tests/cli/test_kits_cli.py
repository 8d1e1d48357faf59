"""``pebs kits ...`` on a SQLite file with the demo study and a few women of the risk-based arm
(each got her kit at randomisation). The use cases themselves are tested on SQLite and
PostgreSQL in tests/services/samples."""

from __future__ import annotations

import csv
import shutil
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from factories import ELIGIBLE, site_today
from pebs.cli import main

STAFF = "demo-site-staff"  # site staff at IT-TO, the demo study's first site
MANAGER = "demo-data-manager"
STUDY = ["--study", "mypebs-demo"]


def _risk_based_women(path: Path, sites: dict[str, int]) -> None:
    """Women at each site, randomised to the risk-based arm two days ago (through the
    services, as the data manager): each gets her kit."""
    from pebs.cli.db import load_settings
    from pebs.cli.demo import identity_keys
    from pebs.services.actor import actor_for
    from pebs.services.trial import (
        NewParticipant,
        assess_eligibility,
        open_database,
        override_allocation,
        record_consent,
        register_participant,
    )

    settings = load_settings()
    keys = identity_keys(settings)
    database = open_database(settings.database_url)
    at = datetime.now(UTC) - timedelta(days=2)
    try:
        sessions = database.sessions
        manager = actor_for(sessions, MANAGER)
        for site, n in sites.items():
            for _ in range(n):
                new = NewParticipant(site=site, name="Test Woman", birth_date=date(1970, 1, 15))
                study_id = register_participant(sessions, manager, keys, "mypebs-demo", new,
                                                at=at).study_id  # fmt: skip
                assess_eligibility(sessions, manager, keys, study_id, ELIGIBLE, at=at)
                record_consent(sessions, manager, study_id, language="it", at=at)
                override_allocation(sessions, manager, keys, study_id, arm="risk-based",
                                    reason="test set-up", confirm=True, at=at)  # fmt: skip
    finally:
        database.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kits") / "seeded.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
        patch.setenv("PEBS_ENVIRONMENT", "development")
        assert main(["db", "upgrade"]) == 0
        assert main(["study", "load", "mypebs-demo", "--demo-users"]) == 0
        _risk_based_women(path, {"IT-TO": 3, "IT-MI": 1})
    return path


@pytest.fixture
def database(seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    path = tmp_path / "kits.db"
    shutil.copyfile(seeded, path)
    monkeypatch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    capsys.readouterr()
    return path


def _assigned_kits(path: Path, site: str) -> list[tuple[str, str]]:
    """(kit ID, study ID) of the site's kits in state assigned, read from the tables."""
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT s.kit_id, p.study_id FROM samples s JOIN participants p ON p.id = "
            "s.participant_id JOIN sites t ON t.id = p.site_id WHERE t.code = ? AND s.state = "
            "'assigned' ORDER BY s.kit_id", (site,)
        ).fetchall()  # fmt: skip


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_site_collects_ships_and_the_box_is_received(database: Path, tmp_path: Path,
                                                       capsys) -> None:  # fmt: skip
    kits = _assigned_kits(database, "IT-TO")
    assert len(kits) == 3
    (first, first_woman), (second, _), (third, third_woman) = kits[:3]
    day = (site_today("IT-TO") - timedelta(days=1)).isoformat()

    code, out, err = _run(["kits", "list", first_woman, "-u", STAFF], capsys)
    assert code == 0, err
    assert first in out
    assert "assigned" in out
    for kit in (first, second):
        code, out, err = _run(["kits", "collect", kit, "--on", day, "-u", STAFF], capsys)
        assert code == 0, err
        assert out == f"pebs: kit {kit} collected on {day}\n"

    code, out, err = _run(["kits", "worklist", *STUDY, "--site", "IT-TO", "-u", STAFF], capsys)
    assert code == 0, err
    to_send = out.split("to send: ")[1].split("overdue")[0]
    assert first in to_send
    assert second in to_send
    assert third not in to_send
    assert third in out.split("not collected: ")[1]

    packing = tmp_path / "packing.csv"
    code, out, err = _run(["kits", "manifest", *STUDY, "--site", "IT-TO", "-o", str(packing),
                           "-u", STAFF], capsys)  # fmt: skip
    assert code == 0, err
    rows = list(csv.DictReader(packing.read_text(encoding="utf-8").splitlines()))
    assert sorted(r["kit_id"] for r in rows) == sorted([first, second])
    assert {r["site"] for r in rows} == {"IT-TO"}
    assert {r["shipment"] for r in rows} == {""}

    code, out, err = _run(["kits", "ship", first, second, *STUDY, "--site", "IT-TO",
                           "--on", day, "-u", STAFF], capsys)  # fmt: skip
    assert code == 0, err
    assert out == f"pebs: shipment IT-TO-S0001: 2 kits shipped on {day}\n"
    box = tmp_path / "box.csv"
    code, out, err = _run(["kits", "manifest", *STUDY, "--site", "IT-TO", "--shipment",
                           "IT-TO-S0001", "-o", str(box), "-u", STAFF], capsys)  # fmt: skip
    assert code == 0, err
    text = box.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "kit_id,collected_on,shipment,site"
    assert f"{min(first, second)},{day},IT-TO-S0001,IT-TO" in text
    assert first_woman not in text

    code, out, err = _run(["kits", "receive", "IT-TO-S0001", "-u", MANAGER], capsys)
    assert code == 0, err
    assert out == "pebs: shipment IT-TO-S0001 received: 2 kits received\n"
    code, out, err = _run(["kits", "show", first, "-u", MANAGER], capsys)
    assert code == 0, err
    assert "state        received" in out
    assert f"participant  {first_woman}" in out

    code, out, err = _run(["kits", "abandon", third, "--reason", "declined", "-u", STAFF],
                          capsys)  # fmt: skip
    assert code == 0, err
    assert out == f"pebs: kit {third} abandoned (was assigned)\n"
    code, out, err = _run(["kits", "assign", third_woman, "-u", STAFF], capsys)
    assert code == 0, err
    assert out.startswith("pebs: kit MP-")
    assert out.endswith(f" assigned to {third_woman}\n")


def test_a_failed_kit_is_replaced(database: Path, capsys) -> None:
    kit, woman = _assigned_kits(database, "IT-TO")[0]
    with sqlite3.connect(database) as connection:  # what the laboratory import does to it
        connection.execute("UPDATE samples SET state = 'failed_qc' WHERE kit_id = ?", (kit,))
    code, out, err = _run(["kits", "recollect", kit, "--reason", "call rate 0.80", "-u", STAFF],
                          capsys)  # fmt: skip
    assert code == 0, err
    assert out.startswith("pebs: kit MP-")
    assert out.endswith(f"assigned to {woman}, replacing {kit}\n")


def test_refusals_are_one_line_with_their_exit_code(database: Path, capsys) -> None:
    kit, _ = _assigned_kits(database, "IT-MI")[0]  # not demo-site-staff's site
    own, _ = _assigned_kits(database, "IT-TO")[0]
    cases = [
        (["kits", "collect", kit, "--on", "2025-03-01", "-u", STAFF], 66, "in your sites"),
        (["kits", "collect", own, "--on", "2025-03-01", "-u", "demo-monitor"], 77, "may not"),
        (["kits", "collect", own, "--on", "1 March", "-u", STAFF], 65, "--on: '1 March' is not"),
        (["kits", "ship", own, *STUDY, "--site", "IT-TO", "--on", "2025-03-01", "-u", STAFF],
         65, "a assigned sample cannot ship"),
        (["kits", "receive", "IT-TO-S0001", "--received-at", "yesterday", "-u", MANAGER], 65,
         "--received-at: 'yesterday' is not"),
        (["kits", "receive", "IT-TO-S0001", "-u", STAFF], 77, "may not"),
    ]  # fmt: skip
    for argv, expected, message in cases:
        code, out, err = _run(argv, capsys)
        assert code == expected, (argv, out, err)
        assert err.startswith("pebs: error: "), err
        assert message in err, err
        assert err.count("\n") == 1, err
