"""``run_dsmb_report`` end to end on a seeded demo trial: the files, the audit event, the
permissions of each kind, reproducible tables, readable PDFs, and the open report's silence on
arms."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlalchemy import func, select

from factories import DEMO_ACCOUNTS, STUDY
from pebs.services.actor import Actor, actor_for
from pebs.services.analysis.dsmb import dsmb_archive, dsmb_report_files, run_dsmb_report
from pebs.services.errors import PermissionDenied
from pebs.services.keys import IdentityKeys
from pebs.services.monitoring import lock_study
from pebs.services.trial import load_study_config, seed_demo_participants
from pebs.store.crypto import IdentityCipher
from pebs.store.models import Allocation, AuditEvent, Participant

TODAY = date(2026, 6, 30)
ARMS = ("standard", "risk-based")


@pytest.fixture
def seeded(session_maker):
    load_study_config(session_maker, Actor.system("test"), STUDY, demo_users=True)
    keys = IdentityKeys.from_settings_values([IdentityCipher.generate_key()], b"k" * 32)
    seed_demo_participants(
        session_maker, actor_for(session_maker, DEMO_ACCOUNTS["data_manager"]), keys, STUDY,
        n=120, seed=5, today=TODAY,
        statistician=actor_for(session_maker, DEMO_ACCOUNTS["statistician"]),
        laboratory=actor_for(session_maker, DEMO_ACCOUNTS["laboratory"]),
    )  # fmt: skip
    return keys


def _run(session_maker, role: str, kind: str, folder, today: date = TODAY):
    actor = actor_for(session_maker, DEMO_ACCOUNTS[role])
    return run_dsmb_report(session_maker, actor, STUDY, kind=kind, folder=folder,
                           software_version="9.9", today=today)  # fmt: skip


def test_open_report_files_audit_and_no_arm(session_maker, seeded, tmp_path) -> None:
    report = _run(session_maker, "data_manager", "open", tmp_path / "open")
    names = sorted(p.name for p in (tmp_path / "open").iterdir())
    assert names == sorted(dsmb_report_files("open"))
    for name in names:
        digest = hashlib.sha256((tmp_path / "open" / name).read_bytes()).hexdigest()
        assert report.files[name] == digest
    text = (tmp_path / "open" / "tables.json").read_text(encoding="utf-8")
    for arm in ARMS:  # nothing by arm: no arm's name anywhere in the open tables
        assert arm not in text.replace('"reference_arm": "standard"', "")
    for name in names:
        if name.endswith(".csv"):
            assert all(a not in (tmp_path / "open" / name).read_text() for a in ARMS), name
    with session_maker() as session:
        randomised = session.scalar(
            select(func.count()).select_from(Participant)
            .join(Allocation, Allocation.participant_id == Participant.id)
            .where(Participant.is_test.is_(False))
        )  # fmt: skip
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "dsmb_report")).one()
    women = report.document["tables"]["baseline"]["rows"][0]
    assert women[:3] == ["women", "all", "all"]
    assert women[3] + report.document["counts"]["randomised_after_data_cut"] <= randomised
    assert event.actor == DEMO_ACCOUNTS["data_manager"]
    assert event.new["kind"] == "open"
    assert event.new["software"] == "9.9"
    assert event.new["seed"] is None
    assert event.new["files"] == report.files
    assert event.new["data_cut"] == "2026-06-30"


def test_closed_report_by_arm_with_monitoring(session_maker, seeded, tmp_path) -> None:
    # the demo randomises in 2025-2026: a data cut in 2031 has every woman past the 4-year
    # horizon (no record after the seed's day, so each is followed to it without the endpoint
    # unless she had it, died or withdrew)
    report = _run(session_maker, "statistician", "closed", tmp_path / "closed",
                  today=date(2031, 6, 30))  # fmt: skip
    assert report.document["groups"] == [*ARMS, "all"]
    watch = report.document["monitoring"]
    assert watch["look"] == 1
    assert watch["looks_planned"] == 3
    assert "not_computed" not in watch, watch.get("not_computed")
    assert watch["statement"].startswith("The efficacy (non-inferiority) boundary was")
    first = watch["looks"][0]
    assert first["information_fraction"] == pytest.approx(
        (first["n_ref"] + first["n_new"]) / 85_000
    )
    assert sorted(p.name for p in (tmp_path / "closed").iterdir()) == sorted(
        dsmb_report_files("closed")
    )
    # a closed report at a later cut is look 2: the first report's cut is its look 1, and
    # the first look's counts are those at that cut
    later = _run(session_maker, "statistician", "closed", tmp_path / "later",
                 today=date(2032, 6, 30)).document["monitoring"]  # fmt: skip
    assert later["look"] == 2
    assert later["looks"][0]["data_cut"] == "2031-06-30"
    assert later["looks"][1]["data_cut"] == "2032-06-30"
    for key in ("n_ref", "events_ref", "n_new", "events_new"):
        assert later["looks"][0][key] == first[key]
        assert later["looks"][1][key] >= first[key]


def test_reports_are_reproducible_from_a_snapshot(session_maker, url, backend, seeded,
                                                  tmp_path) -> None:  # fmt: skip
    if backend != "sqlite":
        pytest.skip("a PostgreSQL lock writes a pg_dump archive, analysed after a restore")
    manager = actor_for(session_maker, DEMO_ACCOUNTS["data_manager"])
    snapshot = tmp_path / "locked.sqlite"
    lock_study(session_maker, manager, STUDY, reason="DSMB meeting", snapshot=snapshot,
               database_url=url, installation_key=seeded.hmac_key)  # fmt: skip
    sha256 = hashlib.sha256(snapshot.read_bytes()).hexdigest()
    statistician = actor_for(session_maker, DEMO_ACCOUNTS["statistician"])
    runs = [
        run_dsmb_report(session_maker, statistician, STUDY, kind="closed",
                        folder=tmp_path / f"run{i}", software_version="9.9", snapshot=snapshot)
        for i in (1, 2)
    ]  # fmt: skip
    tables = [n for n in dsmb_report_files("closed") if n.endswith((".csv", ".json"))]
    assert len(tables) == 12  # tables.json and 11 CSV tables
    for name in tables:
        first = (tmp_path / "run1" / name).read_bytes()
        assert first == (tmp_path / "run2" / name).read_bytes(), name
    assert runs[0].document["source"]["sha256"] == sha256
    assert runs[0].document["monitoring"]["look"] == 1  # the first run's event is not in it
    from pypdf import PdfReader

    pages = PdfReader(tmp_path / "run1" / "report.pdf").pages
    cover = pages[0].extract_text()
    assert sha256[:32] in cover
    assert sha256[32:] in cover
    assert "pebs 9.9" in cover
    assert "data cut-off" in cover
    assert "seed" in cover
    text = "".join(page.extract_text() for page in pages)
    assert "Group-sequential monitoring" in text
    # the lock is dated by the clock: the look is computed, or its reason is given
    assert "boundary was" in text or "Monitoring not computed: no woman of the" in text
    assert b"report.pdf" in dsmb_archive(statistician, tmp_path / "run1")


@pytest.mark.parametrize("role", sorted(set(DEMO_ACCOUNTS) - {"statistician"}))
def test_only_the_statistician_produces_the_closed_report(session_maker, role, tmp_path) -> None:
    load_study_config(session_maker, Actor.system("test"), STUDY, demo_users=True)
    with session_maker() as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(PermissionDenied, match=r"allowed roles: statistician$"):
        _run(session_maker, role, "closed", tmp_path / "out")
    if role != "data_manager":
        with pytest.raises(PermissionDenied, match="allowed roles: data_manager, statistician"):
            _run(session_maker, role, "open", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with session_maker() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_a_closed_report_without_a_test_is_no_look(session_maker, seeded, tmp_path) -> None:
    # 2026-06-30: no woman of the demo (randomised 2025-2026) is 4 years past randomisation
    early = _run(session_maker, "statistician", "closed", tmp_path / "early")
    assert early.document["monitoring"]["not_computed"].startswith("no woman of the")
    with session_maker() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "dsmb_report")).one()
    assert event.new["look"] is None
    later = _run(session_maker, "statistician", "closed", tmp_path / "later",
                 today=date(2031, 6, 30))  # fmt: skip
    assert later.document["monitoring"]["look"] == 1
