"""Her CanRisk file imported as her risk questionnaire, and exported for CanRisk.

The files are the hand-built ones of ``tests/data/canrisk`` (their README gives what each
carries); the expected answers are read off them, her recorded answers are written here, and
the SHA-256 of the audit event is computed here with :mod:`hashlib`. The demo study requires
every input (``src/pebs/trial/studies/mypebs-demo.toml``).
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from pebs.services.errors import Conflict, InvalidFields, InvalidInput, NotFound, PermissionDenied
from pebs.services.trial import (
    OutcomeRecord,
    RiskFactors,
    record_outcome,
    record_risk_questionnaire,
)
from pebs.services.trial.canrisk import export_canrisk, import_canrisk
from pebs.store.models import AuditEvent, RiskQuestionnaire

DATA = Path(__file__).resolve().parents[2] / "data" / "canrisk"
BORN_1977 = date(1977, 6, 1)
"""The year of birth of the target of ``three_generations.txt``."""
EARLIER = RiskFactors(n_biopsies=1, atypical_hyperplasia=False, age_at_menarche=11,
                      age_at_first_birth=32, n_relatives=0)  # fmt: skip


def _file(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _woman(trial, *, born: date = BORN_1977, answers: RiskFactors | None = EARLIER) -> str:
    study_id = trial.allocated("risk-based", born=born)
    if answers is not None:
        record_risk_questionnaire(trial.sessions, trial.staff, trial.keys, study_id, answers,
                                  answered_on=trial.TODAY, at=trial.AT)  # fmt: skip
    return study_id


def test_the_file_replaces_the_answers_it_carries_and_keeps_the_others(trial) -> None:
    study_id = _woman(trial)
    data = _file("three_generations.txt")
    report = import_canrisk(trial.sessions, trial.staff, trial.keys, study_id, data, at=trial.AT)
    expected = {"n_biopsies": 1, "atypical_hyperplasia": False, "age_at_menarche": 13,
                "age_at_first_birth": 27, "n_relatives": 2}  # fmt: skip
    assert report.answers == expected
    assert set(report.from_file) == {"age_at_menarche", "age_at_first_birth", "n_relatives"}
    assert report.not_imported == {"density": "c", "prs_z": 0.85}
    assert [(r.relation, r.age_at_diagnosis) for r in report.relatives] == [
        ("mother", 52), ("sister", 46)]  # fmt: skip
    assert report.n_other_affected == 4
    assert report.missing == ("density", "prs")  # the trial measures them
    with trial.sessions() as session:
        stored = session.get(RiskQuestionnaire, report.questionnaire_id)
        assert stored.answers == expected
        assert stored.answered_on == trial.TODAY
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.entity, event.reason) == (
        "record", "risk_questionnaire", "risk questionnaire from a CanRisk file")  # fmt: skip
    assert event.new["answers"] == expected
    assert event.new["source"]["file_sha256"] == hashlib.sha256(data).hexdigest()
    assert event.new["source"]["relatives"] == [
        {"relation": "mother", "age_at_diagnosis": 52},
        {"relation": "sister", "age_at_diagnosis": 46}]  # fmt: skip
    for name in ("Mum", "Grandma", "PM", "SIS", "FAM3G"):  # nothing of the file's names or IDs
        assert name not in str(event.new)
    assert trial.db.chain_ok()


def test_a_dry_run_checks_everything_and_stores_nothing(trial) -> None:
    study_id = _woman(trial, born=date(1970, 3, 1))  # the year of half_sisters.txt's target
    before = trial.db.rows()
    report = import_canrisk(trial.sessions, trial.staff, trial.keys, study_id,
                            _file("half_sisters.txt"), dry_run=True, at=trial.AT)  # fmt: skip
    assert report.dry_run
    assert report.questionnaire_id is None
    assert report.answers["n_relatives"] == 0  # half-sisters are second-degree
    assert report.answers["age_at_first_birth"] == "nulliparous"
    assert trial.db.rows() == before


def test_a_bad_file_is_refused_line_by_line_and_nothing_is_stored(trial) -> None:
    study_id = _woman(trial)
    before = trial.db.rows()
    with pytest.raises(InvalidFields) as caught:
        import_canrisk(trial.sessions, trial.staff, trial.keys, study_id, _file("bad_ages.txt"),
                       at=trial.AT)  # fmt: skip
    assert set(caught.value.fields) == {"file.line_3.Age", "file.line_4.Yob", "file.line_5.BC1"}
    assert caught.value.message_code == "error.canrisk_file"
    with pytest.raises(InvalidFields) as caught:
        import_canrisk(trial.sessions, trial.staff, trial.keys, study_id, _file("latin1.txt"),
                       at=trial.AT)  # fmt: skip
    assert list(caught.value.fields) == ["file.line_6"]
    assert trial.db.rows() == before


def test_a_file_of_another_woman_is_refused(trial) -> None:
    study_id = _woman(trial, born=date(1972, 5, 10))
    with pytest.raises(Conflict) as caught:
        import_canrisk(trial.sessions, trial.staff, trial.keys, study_id,
                       _file("three_generations.txt"), at=trial.AT)  # fmt: skip
    assert caught.value.message_code == "error.canrisk_not_hers"
    assert "1977" in str(caught.value)


def test_answers_the_file_cannot_give_must_be_recorded_first(trial) -> None:
    study_id = _woman(trial, answers=None)
    with pytest.raises(InvalidFields) as caught:
        import_canrisk(trial.sessions, trial.staff, trial.keys, study_id,
                       _file("three_generations.txt"), at=trial.AT)  # fmt: skip
    assert "n_biopsies" in caught.value.absent


def test_a_file_without_questionnaire_answers_is_refused(trial) -> None:
    study_id = _woman(trial)
    data = _file("target_alone_v2.txt").replace(b"##Menarche=11\n", b"")
    with pytest.raises(InvalidInput) as caught:
        import_canrisk(trial.sessions, trial.staff, trial.keys, study_id, data, at=trial.AT)
    assert caught.value.message_code == "error.canrisk_nothing"


def test_scope_role_and_arm_are_the_questionnaires(trial) -> None:
    data = _file("three_generations.txt")
    paris = trial.allocated("risk-based", site="FR-PA", born=BORN_1977)
    with pytest.raises(NotFound):
        import_canrisk(trial.sessions, trial.staff, trial.keys, paris, data, at=trial.AT)
    with pytest.raises(PermissionDenied):
        import_canrisk(trial.sessions, trial.actor("monitor"), trial.keys, paris, data)
    with pytest.raises(PermissionDenied):
        export_canrisk(trial.sessions, trial.actor("statistician"), trial.keys, paris)
    standard = trial.allocated("standard", born=BORN_1977)
    with pytest.raises(Conflict):
        import_canrisk(trial.sessions, trial.staff, trial.keys, standard, data, at=trial.AT)


def _fields(text: str) -> list[dict[str, str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("##FamID"))
    columns = lines[start][2:].split("\t")
    return [dict(zip(columns, line.split("\t"), strict=True)) for line in lines[start + 1 :]]


def test_her_file_carries_her_age_year_of_birth_and_answers(trial) -> None:
    answers = RiskFactors(n_biopsies=0, age_at_menarche=12, age_at_first_birth="nulliparous",
                          n_relatives=2)  # fmt: skip
    study_id = _woman(trial, born=date(1972, 5, 10), answers=answers)
    export = export_canrisk(trial.sessions, trial.staff, trial.keys, study_id, at=trial.AT)
    assert export.media_type == "text/tab-separated-values"
    lines = export.text.splitlines()
    assert lines[:3] == ["##CanRisk 4.0", "##menarche=12", "##parity=0"]
    members = _fields(export.text)
    her = members[0]
    assert (her["FamID"], her["Target"], her["Age"], her["Yob"]) == (study_id, "1", "52", "1972")
    assert [(m["IndivID"], m["BC1"]) for m in members[1:]] == [
        ("PF", "0"), ("PM", "AU"), ("PS1", "AU")]  # fmt: skip
    with trial.sessions() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.entity, event.entity_id) == ("canrisk_export", "participant",
                                                             study_id)  # fmt: skip
    assert event.new["file_sha256"] == hashlib.sha256(export.text.encode()).hexdigest()


def test_export_then_import_gives_her_the_same_answers(trial) -> None:
    answers = RiskFactors(n_biopsies=2, atypical_hyperplasia="unknown", age_at_menarche=14,
                          age_at_first_birth=29, n_relatives=1)  # fmt: skip
    study_id = _woman(trial, born=date(1972, 5, 10), answers=answers)
    export = export_canrisk(trial.sessions, trial.staff, trial.keys, study_id, at=trial.AT)
    report = import_canrisk(trial.sessions, trial.staff, trial.keys, study_id,
                            export.text.encode(), at=trial.AT)  # fmt: skip
    assert report.answers == {k: v for k, v in answers.answers().items()
                              if k not in ("density", "prs_z")}  # fmt: skip
    assert set(report.from_file) == {"age_at_menarche", "age_at_first_birth", "n_relatives"}


def test_her_own_breast_cancer_is_in_her_file(trial) -> None:
    study_id = _woman(trial, born=date(1972, 5, 10))
    diagnosis = OutcomeRecord(date(2025, 1, 10), "clinical", "invasive")
    record_outcome(trial.sessions, trial.staff, study_id, diagnosis, at=trial.AT)
    export = export_canrisk(trial.sessions, trial.staff, trial.keys, study_id, at=trial.AT)
    assert _fields(export.text)[0]["BC1"] == "52"
