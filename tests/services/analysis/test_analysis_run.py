"""``run_analysis`` end to end on a seeded demo trial: the outputs, their numbers against counts
made here by direct SQL, the audit event, the snapshot's SHA-256, and the statistician-only
permission."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest
from sqlalchemy import distinct, func, select

from factories import DEMO_ACCOUNTS, STUDY
from pebs.services.actor import Actor, actor_for
from pebs.services.analysis import OUTPUT_FILES, analysis_archive, run_analysis
from pebs.services.errors import PermissionDenied
from pebs.services.keys import IdentityKeys
from pebs.services.monitoring import lock_study
from pebs.services.trial import load_study_config, seed_demo_participants
from pebs.store.crypto import IdentityCipher
from pebs.store.models import (
    Allocation,
    AuditEvent,
    Consent,
    Outcome,
    Participant,
    Visit,
)

TODAY = date(2026, 6, 30)
STAGE_II_PLUS = ("IIA", "IIB", "IIIA", "IIIB", "IIIC", "IV")  # AJCC 8th anatomic groups


@pytest.fixture
def seeded(session_maker):
    load_study_config(session_maker, Actor.system("test"), STUDY, demo_users=True)
    keys = IdentityKeys.from_settings_values([IdentityCipher.generate_key()], b"k" * 32)
    seed_demo_participants(
        session_maker, actor_for(session_maker, DEMO_ACCOUNTS["data_manager"]), keys, STUDY,
        n=250, seed=3, today=TODAY,
        statistician=actor_for(session_maker, DEMO_ACCOUNTS["statistician"]),
        laboratory=actor_for(session_maker, DEMO_ACCOUNTS["laboratory"]),
    )  # fmt: skip
    return keys


def _sql_counts(session_maker) -> dict[str, dict[str, int]]:
    """Per arm: women analysed, women with a stage II+ invasive cancer, women recalled."""
    no_data_use = select(Consent.participant_id).where(
        Consent.withdrawal_level == "withdraw_data_use"
    )
    base = (
        select(Allocation.arm, func.count(distinct(Participant.id)))
        .join(Allocation, Allocation.participant_id == Participant.id)
        .where(Participant.is_test.is_(False), Participant.id.not_in(no_data_use))
        .group_by(Allocation.arm)
    )
    with session_maker() as session:
        women = dict(session.execute(base).all())
        stage = dict(session.execute(
            base.join(Outcome, Outcome.participant_id == Participant.id)
            .where(Outcome.behaviour == "invasive", Outcome.stage_group.in_(STAGE_II_PLUS))
        ).all())  # fmt: skip
        n_t2 = session.scalar(
            select(func.count(Outcome.id))
            .join(Allocation, Allocation.participant_id == Outcome.participant_id)
            .where(Outcome.t_category.in_(("pT2", "cT2")),
                   Outcome.participant_id.not_in(no_data_use))
        )  # fmt: skip
        recalled = dict(session.execute(
            base.join(Visit, Visit.participant_id == Participant.id)
            .where(Visit.recall.is_(True), Visit.performed_date.is_not(None))
        ).all())  # fmt: skip
    return {"women": women, "stage": stage, "recalled": recalled, "t2": n_t2}


def test_live_analysis_matches_direct_counts(session_maker, seeded, tmp_path) -> None:
    statistician = actor_for(session_maker, DEMO_ACCOUNTS["statistician"])
    run = run_analysis(session_maker, statistician, STUDY, folder=tmp_path / "out",
                       software_version="9.9", today=TODAY)  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(OUTPUT_FILES)
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    for key in (
        "study",
        "software",
        "source",
        "plan",
        "data_cut",
        "counts",
        "primary",
        "alternative_endpoints",
        "time_to_event",
        "secondary",
        "screens",
        "consort",
    ):
        assert key in results
    assert results["source"] == {"kind": "live", "name": session_maker.kw["bind"].dialect.name,
                                 "sha256": None, "study_lock": None}  # fmt: skip
    assert results["software"] == {"pebs": "9.9"}
    assert results["data_cut"] == "2026-06-30"
    counts = _sql_counts(session_maker)
    itt = results["primary"]["intention_to_treat"]
    for arm in ("standard", "risk-based"):
        assert itt["arms"][arm]["n"] == counts["women"][arm]
        assert itt["arms"][arm]["events"] == counts["stage"].get(arm, 0)
        by_arm = {r["endpoint"]: r for r in results["secondary"]["by_arm"] if r["arm"] == arm}
        assert by_arm["recall"]["events"] == counts["recalled"].get(arm, 0)
        assert results["time_to_event"]["arms"][arm]["events"] == counts["stage"].get(arm, 0)
    assert sum(counts["stage"].values()) >= 2  # the demo gives the analyses events
    x_new, n_new = counts["stage"]["risk-based"], counts["women"]["risk-based"]
    x_ref, n_ref = counts["stage"]["standard"], counts["women"]["standard"]
    assert itt["ratio"]["estimate"] == pytest.approx((x_new / n_new) / (x_ref / n_ref))
    assert itt["difference"]["estimate"] == pytest.approx(x_new / n_new - x_ref / n_ref)
    assert "statistic" in results["time_to_event"]["tests"]["log_rank"]
    # AJCC T2: a tumour over 20 mm up to 50 mm
    assert counts["t2"] >= 1
    assert sum(r["n"] for r in results["cancers"] if r["t_group"] == "T2") == counts["t2"]
    text = (tmp_path / "out" / "results.json").read_bytes()
    assert run.results_sha256 == hashlib.sha256(text).hexdigest()
    with session_maker() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "analysis_run")).one()
    assert event.actor == DEMO_ACCOUNTS["statistician"]
    assert event.new["results_sha256"] == run.results_sha256
    assert event.new["source"] == "live"
    assert b"report.html" in analysis_archive(statistician, tmp_path / "out")


def test_snapshot_analysis_records_its_sha256(session_maker, url, backend, seeded,
                                              tmp_path) -> None:  # fmt: skip
    if backend != "sqlite":
        pytest.skip("a PostgreSQL lock writes a pg_dump archive, analysed after a restore")
    manager = actor_for(session_maker, DEMO_ACCOUNTS["data_manager"])
    snapshot = tmp_path / "locked.sqlite"
    locked = lock_study(session_maker, manager, STUDY, reason="final analysis",
                        snapshot=snapshot, database_url=url,
                        installation_key=seeded.hmac_key)  # fmt: skip
    sha256 = hashlib.sha256(snapshot.read_bytes()).hexdigest()
    assert locked.snapshot_sha256 == sha256
    statistician = actor_for(session_maker, DEMO_ACCOUNTS["statistician"])
    run = run_analysis(session_maker, statistician, STUDY, folder=tmp_path / "out",
                       software_version="9.9", snapshot=snapshot)  # fmt: skip
    assert run.results["source"]["kind"] == "snapshot"
    assert run.results["source"]["sha256"] == sha256
    assert run.results["source"]["study_lock"].startswith(DEMO_ACCOUNTS["data_manager"])
    assert hashlib.sha256(snapshot.read_bytes()).hexdigest() == sha256  # not changed by reading
    counts = _sql_counts(session_maker)
    itt = run.results["primary"]["intention_to_treat"]
    assert {arm: a["n"] for arm, a in itt["arms"].items()} == counts["women"]
    with session_maker() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "analysis_run")).one()
    assert event.new["sha256"] == sha256
    assert event.new["file"] == "locked.sqlite"
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert sha256 in html
    assert "pebs 9.9" in html
    from pypdf import PdfReader

    cover = PdfReader(tmp_path / "out" / "report.pdf").pages[0].extract_text()
    assert sha256[:32] in cover
    assert sha256[32:] in cover
    assert "pebs 9.9" in cover


@pytest.mark.parametrize("role", sorted(set(DEMO_ACCOUNTS) - {"statistician"}))
def test_only_the_statistician_may_analyse(session_maker, role, tmp_path) -> None:
    load_study_config(session_maker, Actor.system("test"), STUDY, demo_users=True)
    actor = actor_for(session_maker, DEMO_ACCOUNTS[role])
    with session_maker() as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(PermissionDenied, match="allowed roles: statistician"):
        run_analysis(session_maker, actor, STUDY, folder=tmp_path / "out", software_version="1")
    assert not (tmp_path / "out").exists()
    with session_maker() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
