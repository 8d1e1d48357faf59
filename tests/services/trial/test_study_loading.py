"""Loading a study configuration: rows and audit events together, idempotent, history kept."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
from sqlalchemy import select

from pebs.services.actor import Actor
from pebs.services.errors import Conflict, InvalidInput, PermissionDenied
from pebs.services.trial import DEMO_USERS, load_study_config
from pebs.store.audit import verify_chain
from pebs.store.models import ProtocolVersion, Site, Study, User
from pebs.trial import load_study

STUDY = "mypebs-demo"
SYSTEM = Actor.system("test")


def _demo_text() -> str:
    return files("pebs.trial").joinpath("studies", "mypebs-demo.toml").read_text("utf-8")


def test_demo_study_is_loaded_with_one_audit_event_per_row(session_maker, db) -> None:
    result = load_study_config(session_maker, SYSTEM, STUDY, demo_users=True)
    config = load_study(STUDY)
    assert result.created == {
        "study": 1,
        "country": len(config.countries),
        "site": len(config.sites),
        "arm": 2,
        "protocol_version": len(config.protocols),
        "consent_document": len(config.consents),
        "user": len(DEMO_USERS),
    }
    assert result.updated == {}
    assert result.not_in_file == ()
    events = db.events()
    assert len(events) == sum(result.created.values())
    assert {e.actor for e in events} == {"test"}
    with session_maker() as session:
        assert verify_chain(session).ok
        study = session.scalar(select(Study).where(Study.name == STUDY))
        assert study.config_sha256 == result.config_sha256
        assert study.config["strata"] == {
            "factors": ["site", "age_band"],
            "age_bands": [[40, 49], [50, 59], [60, 70]],
        }
        staff = session.scalar(select(User).where(User.username == "demo-site-staff"))
        assert staff.role == "site_staff"
        assert staff.site.code == config.sites[0].code
        protocol = session.scalar(select(ProtocolVersion).where(ProtocolVersion.version == "1.0"))
        assert protocol.eligibility_criteria[0] == {"id": "age", "min": 40, "max": 70}
        assert len(protocol.eligibility_criteria) == 11


def test_loading_again_changes_nothing_and_writes_no_event(session_maker, db) -> None:
    load_study_config(session_maker, SYSTEM, STUDY, demo_users=True)
    before = db.rows()
    again = load_study_config(session_maker, SYSTEM, STUDY, demo_users=True)
    assert not again.changed
    assert db.rows() == before


def test_a_changed_file_adds_and_updates_with_old_values_audited(
    session_maker, db, tmp_path: Path
) -> None:
    load_study_config(session_maker, SYSTEM, STUDY)
    text = _demo_text().replace(
        'name = "Turin demo breast centre (fictional)"', 'name = "Torino demo centre (fictional)"'
    )
    text = text.replace("target = 5000  # demo assumption", "target = 5001  # demo assumption")
    text += '\n[[site]]\ncode = "ES-VA"\nname = "Valencia demo"\ncountry = "ES"\ntarget = 1\n'
    path = tmp_path / "mypebs-demo.toml"
    path.write_text(text, encoding="utf-8")
    n_events = len(db.events())

    result = load_study_config(session_maker, SYSTEM, path)

    assert result.created == {"site": 1}
    assert result.updated == {"study": 1, "country": 1, "site": 1}
    events = db.events()[n_events:]
    renamed = next(e for e in events if e.entity == "site" and e.action == "update")
    assert renamed.entity_id == "IT-TO"
    assert renamed.old == {"name": "Turin demo breast centre (fictional)"}
    assert renamed.new == {"name": "Torino demo centre (fictional)"}
    with session_maker() as session:
        assert session.scalar(select(Site.name).where(Site.code == "ES-VA")) == "Valencia demo"


def test_a_stored_protocol_version_never_changes(session_maker, db, tmp_path: Path) -> None:
    load_study_config(session_maker, SYSTEM, STUDY)
    before = db.rows()
    text = _demo_text().replace("2021-03-01  # demo amendment", "2021-04-01  # demo amendment")
    text = text.replace('title = "MyPeBS-like demo', 'title = "Renamed MyPeBS-like demo', 1)
    path = tmp_path / "mypebs-demo.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(Conflict, match=r"protocol version 2\.0"):
        load_study_config(session_maker, SYSTEM, path)
    assert db.rows() == before  # the title update was rolled back too


def test_only_administrators_load_studies(trial) -> None:
    for name in ("staff", "data_manager", "statistician", "monitor"):
        with pytest.raises(PermissionDenied, match="may not load a study configuration"):
            load_study_config(trial.sessions, trial.actor(name), STUDY)
    assert not load_study_config(trial.sessions, trial.actor("administrator"), STUDY).changed


def test_an_unknown_study_is_invalid_input(session_maker, db) -> None:
    with pytest.raises(InvalidInput, match="unknown study 'nope'"):
        load_study_config(session_maker, SYSTEM, "nope")
