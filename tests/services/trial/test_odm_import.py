"""Whole-trial import from CDISC ODM 1.3.2: the round trip (an ODM file exported by pebs imports
into an empty database with the study loaded and exports again byte for byte, apart from the
file's identity and creation instant), subjects refused with their line and item, and a file
with a DTD refused before it is parsed (no entity is ever expanded).

The first database is filled from hand-written CSV files; its own ODM export is the expected
output. Normalised before comparing: the ``ODM`` element's ``FileOID`` and
``CreationDateTime`` and the sites' ``EffectiveDate`` (the export's own identity and date)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from factories import AT, DEMO_ACCOUNTS, ELIGIBLE, STUDY
from pebs.services.actor import Actor, actor_for
from pebs.services.errors import InvalidInput
from pebs.services.keys import IdentityKeys
from pebs.services.trial import export_participants, load_study_config
from pebs.services.trial.trial_import import import_files
from pebs.store import migrate
from pebs.store.crypto import IdentityCipher
from pebs.store.engine import create_engine_for, session_factory
from pebs.store.models import AuditEvent, Participant

STEP = [AT.replace(minute=k).isoformat() for k in range(5)]
CRITERIA = {f"eligibility.{name}": ("yes" if ok else "no") for name, ok in ELIGIBLE.items()}
NAMES = {"S1": "Anna Rossi", "S2": "Bianca Neri", "S3": "Carla Verdi", "S4": "Dora Blu",
         "S5": "Elsa Gialli"}  # fmt: skip


@dataclass
class _Db:
    sessions: object
    keys: IdentityKeys
    actor: Actor


@pytest.fixture
def databases(tmp_path):
    made = []

    def make(name: str) -> _Db:
        url = f"sqlite:///{tmp_path / name}.db"
        migrate.upgrade(url)
        engine = create_engine_for(url)
        made.append(engine)
        sessions = session_factory(engine)
        load_study_config(sessions, Actor.system("test"), STUDY, demo_users=True)
        keys = IdentityKeys.from_settings_values([IdentityCipher.generate_key()], b"k" * 32)
        return _Db(sessions, keys, actor_for(sessions, DEMO_ACCOUNTS["data_manager"]))

    yield make
    for engine in made:
        engine.dispose()


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _woman(source_id: str, born: str, **changes: str) -> dict[str, str]:
    row = {
        "source_id": source_id, "site": "IT-TO", "name": NAMES[source_id], "birth_date": born,
        "national_id": f"N{source_id}", "registered_at": STEP[0], **CRITERIA,
        "assessed_at": STEP[1], "consented_at": STEP[2], "consent_language": "it",
        "allocated_at": STEP[3], "arm": "risk-based", "allocation_method": "minimisation",
        "n_biopsies": "1", "atypical_hyperplasia": "no", "age_at_menarche": "12",
        "age_at_first_birth": "nulliparous", "n_relatives": "unknown", "density": "c",
        "prs_z": "0.25", "risk_at": STEP[3], "date_of_death": "", "death_cause": "",
    }  # fmt: skip
    row.update(changes)
    return row


def _export(db: _Db) -> bytes:
    return b"".join(export_participants(db.sessions, db.actor, STUDY, format="odm").chunks)


def _normalised(odm: bytes) -> bytes:
    odm = re.sub(rb'FileOID="[^"]*"', b'FileOID="-"', odm)
    odm = re.sub(rb'CreationDateTime="[^"]*"', b'CreationDateTime="-"', odm)
    return re.sub(rb'EffectiveDate="[^"]*"', b'EffectiveDate="-"', odm)


def test_an_exported_trial_imports_and_exports_again_identically(databases, tmp_path) -> None:
    source = databases("source")
    women = _write(tmp_path / "women.csv", [
        _woman("S1", "1972-05-10"),
        _woman("S2", "1968-11-02", arm="standard"),
        _woman("S3", "1960-01-20", **{"eligibility.history_breast_cancer": "yes"}),
        _woman("S4", "1975-07-07", allocated_at="", arm="", allocation_method=""),
        _woman("S5", "1958-02-28", arm="standard", date_of_death="2025-03-02",
               death_cause="other"),
    ])  # fmt: skip
    visits = _write(tmp_path / "visits.csv", [
        {"source_id": "S1", "visit_type": "screening", "modality": "mammography",
         "performed_date": "2025-03-01", "birads": "4", "recall": "yes", "biopsy": "yes",
         "histology": "invasive"},
        {"source_id": "S2", "visit_type": "diagnostic", "modality": "ultrasound",
         "performed_date": "2025-03-02", "birads": "2"},
    ])  # fmt: skip
    diagnoses = _write(tmp_path / "diagnoses.csv", [
        {"source_id": "S1", "diagnosis_date": "2025-03-02", "detection_mode": "screen_detected",
         "behaviour": "invasive", "t": "pT1c", "n": "pN0", "m": "cM0"},
    ])  # fmt: skip
    outcomes = []
    first = import_files(source.sessions, source.actor, source.keys, STUDY, women, visits=visits,
                         diagnoses=diagnoses, on_outcome=outcomes.append)  # fmt: skip
    assert sum(first.refused.values()) == 1  # S3's consent: a screen failure
    expected = _export(source)
    assert expected.count(b"<SubjectData ") == 5
    for held in (b'"IT.ALLOCATION.METHOD" Value="imported"', b'"IT.OUTCOME.STAGE_GROUP" Value="IA"',
                 b'"IT.DEATH.CAUSE" Value="other"', b'"IT.VISIT.HISTOLOGY" Value="invasive"',
                 b'"IT.RISK_FACTORS.PRS_Z" Value="0.25"'):  # fmt: skip
        assert held in expected
    odm = tmp_path / "trial.xml"
    odm.write_bytes(expected)

    study_ids = {o.line: o.study_id for o in outcomes if o.file == "women"}
    identities = _write(tmp_path / "identities.csv", [
        {"source_id": study_ids[line], "site": "IT-TO", "name": row["name"],
         "birth_date": row["birth_date"], "national_id": row["national_id"]}
        for line, row in enumerate(csv.DictReader(women.read_text("utf-8").splitlines()), 2)
    ])  # fmt: skip
    target = databases("target")
    summary = import_files(target.sessions, target.actor, target.keys, STUDY, odm,
                           file_format="odm", identities=identities)  # fmt: skip
    assert summary.refused == {}  # S3 has no consent to refuse: the file holds none
    assert summary.recorded == first.recorded == {"visit": 2, "outcome": 1, "death": 1}
    assert _normalised(_export(target)) == _normalised(expected)


def _odm_with(body: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" FileType="Snapshot" FileOID="x" '
            'CreationDateTime="2025-03-03T10:00:00Z" ODMVersion="1.3.2">\n'
            f'<ClinicalData StudyOID="ST.{STUDY}" MetaDataVersionOID="MDV.CASEBOOK">\n'
            f"{body}</ClinicalData>\n</ODM>\n")  # fmt: skip


def test_subjects_refused_name_their_line_and_item(databases, tmp_path) -> None:
    target = databases("target")
    odm = tmp_path / "bad.xml"
    odm.write_text(_odm_with(
        '<SubjectData SubjectKey="IT-TO-000001"><SiteRef LocationOID="LOC.IT-TO"/>\n'
        '<StudyEventData StudyEventOID="SE.CASEBOOK"><FormData FormOID="F.REGISTRATION">'
        '<ItemGroupData ItemGroupOID="IG.REGISTRATION">'
        '<ItemData ItemOID="IT.REGISTRATION.REGISTERED_AT" Value="03/03/2025"/>'
        "</ItemGroupData></FormData></StudyEventData></SubjectData>\n"
        '<SubjectData SubjectKey="IT-TO-000002"><SiteRef LocationOID="LOC.IT-TO"/>\n'
        '<StudyEventData StudyEventOID="SE.CASEBOOK"><FormData FormOID="F.VISIT">'
        '<ItemGroupData ItemGroupOID="IG.VISIT" ItemGroupRepeatKey="1">'
        '<ItemData ItemOID="IT.VISIT.BIRADS" Value="7x"/>'
        "</ItemGroupData></FormData></StudyEventData></SubjectData>\n"
        '<SubjectData SubjectKey="IT-TO-000003"><SiteRef LocationOID="LOC.IT-TO"/>'
        "</SubjectData>\n"
    ), encoding="utf-8")  # fmt: skip
    identities = _write(tmp_path / "identities.csv", [
        {"source_id": "IT-TO-000001", "site": "IT-TO", "name": "A", "birth_date": "1970-01-01"},
    ])  # fmt: skip
    outcomes = []
    import_files(target.sessions, target.actor, target.keys, STUDY, odm, file_format="odm",
                 identities=identities, on_outcome=outcomes.append)  # fmt: skip
    refused = [(o.file, o.line, o.refused_step, o.refused_field) for o in outcomes]
    assert refused == [
        ("odm", 4, "read", "IT.REGISTRATION.REGISTERED_AT"),
        ("odm", 6, "read", "IT.VISIT.BIRADS"),
        ("odm", 8, "read", "SubjectKey"),  # no identity for her
    ]
    assert "03/03/2025" in outcomes[0].message


def test_a_file_with_a_dtd_is_refused_and_no_entity_is_expanded(databases, tmp_path) -> None:
    target = databases("target")
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET", encoding="utf-8")
    odm = tmp_path / "xxe.xml"
    text = _odm_with('<SubjectData SubjectKey="&xxe;"><SiteRef LocationOID="LOC.IT-TO"/>'
                     "</SubjectData>\n")  # fmt: skip
    doctype = f'<!DOCTYPE ODM [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
    odm.write_text(text.replace("?>\n", f"?>\n{doctype}\n", 1), encoding="utf-8")
    identities = _write(tmp_path / "identities.csv", [
        {"source_id": "SECRET", "site": "IT-TO", "name": "A", "birth_date": "1970-01-01"},
    ])  # fmt: skip
    with pytest.raises(InvalidInput, match="DTD"):
        import_files(target.sessions, target.actor, target.keys, STUDY, odm, file_format="odm",
                     identities=identities)  # fmt: skip
    with target.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Participant)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent)) > 0  # study load
