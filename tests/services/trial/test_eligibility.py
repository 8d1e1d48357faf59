"""Eligibility: protocol version in force on the date, screen failures with reasons, pathway."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, select

from pebs.services.errors import Conflict, InvalidInput
from pebs.services.trial import assess_eligibility
from pebs.store.models import EligibilityAssessment, Participant, ParticipantIdentity


def _assess(trial, study_id, answers=None, **kwargs):
    return assess_eligibility(
        trial.sessions, trial.staff, trial.keys, study_id,
        trial.ELIGIBLE if answers is None else answers, at=trial.AT, **kwargs,
    )  # fmt: skip


def _status(trial, study_id: str) -> str:
    with trial.sessions() as session:
        return session.scalar(select(Participant.status).where(Participant.study_id == study_id))


def test_an_eligible_woman_moves_to_eligible_with_the_assessment_stored(trial) -> None:
    study_id = trial.register()
    outcome = _assess(trial, study_id)
    assert (outcome.status, outcome.protocol_version, outcome.pathway_state) == (
        "eligible", "2.0", "eligible",
    )  # fmt: skip
    assert outcome.assessed_on == trial.TODAY
    assert outcome.reasons == ()
    with trial.sessions() as session:
        row = session.scalar(select(EligibilityAssessment))
        assert row.result == "eligible"
        assert row.answers == trial.ELIGIBLE
        assert row.protocol_version.version == "2.0"
        assert row.assessed_by_id == trial.staff.user_id
    event = trial.db.events()[-1]
    assert (event.action, event.entity, event.entity_id) == ("assess", "eligibility_assessment",
                                                            str(row.id))  # fmt: skip
    assert event.old == {"status": "registered"}
    assert event.new["status"] == "eligible"
    assert event.new["protocol_version"] == "2.0"


def test_a_screen_failure_records_every_reason(trial) -> None:
    study_id = trial.register(born=date(1950, 1, 1))  # 75 on the assessment date
    answers = {**trial.ELIGIBLE, "history_lcis": True, "health_coverage": False}
    outcome = _assess(trial, study_id, answers)
    assert outcome.status == "screen_failure"
    assert outcome.pathway_state == "screen_failure"
    assert outcome.reasons == (
        "aged 75 on 2025-03-03; the protocol requires 40 to 70",
        "personal history of lobular carcinoma in situ (LCIS)",
        "not covered by a health system",
    )
    with trial.sessions() as session:
        reasons = session.scalar(select(EligibilityAssessment.reasons))
    assert [r["criterion"] for r in reasons] == ["age", "history_lcis", "health_coverage"]


def test_an_incomplete_assessment_is_stored_and_leaves_the_state(trial) -> None:
    study_id = trial.register()
    answers = {**trial.ELIGIBLE, "health_coverage": None}
    outcome = _assess(trial, study_id, answers)
    assert outcome.status == "incomplete"
    assert outcome.missing == ("health_coverage",)
    assert _status(trial, study_id) == "registered"
    assert _assess(trial, study_id).status == "eligible"  # re-assessment


def test_the_protocol_version_in_force_on_the_date_is_used(trial) -> None:
    study_id = trial.register()
    for on, version in ((date(2020, 6, 1), "1.0"), (date(2021, 2, 28), "1.0"),
                        (date(2021, 3, 1), "2.0")):  # fmt: skip
        assert _assess(trial, study_id, on_date=on).protocol_version == version


def test_an_unknown_criterion_writes_nothing(trial) -> None:
    study_id = trial.register()
    before = trial.db.rows()
    with pytest.raises(InvalidInput, match="unknown criterion 'smoker'"):
        _assess(trial, study_id, {**trial.ELIGIBLE, "smoker": False})
    assert trial.db.rows() == before


def test_eligibility_is_settled_once_she_consented(trial) -> None:
    study_id = trial.consented()
    with pytest.raises(Conflict, match="'consented': cannot assess eligibility"):
        _assess(trial, study_id)


def test_no_protocol_in_force_on_the_date_writes_nothing(trial) -> None:
    study_id = trial.register()  # the demo study's first protocol is in force from 2018-07-01
    before = trial.db.rows()
    with pytest.raises(Conflict, match="'mypebs-demo': no protocol version is in force on 2018-"):
        _assess(trial, study_id, on_date=date(2018, 6, 30))
    assert trial.db.rows() == before
    assert _status(trial, study_id) == "registered"


def test_a_woman_without_an_identity_record_is_refused(trial) -> None:
    study_id = trial.register()
    with trial.sessions.begin() as session:
        session.execute(delete(ParticipantIdentity))
    before = trial.db.rows()
    with pytest.raises(Conflict, match="has no identity record") as refused:
        _assess(trial, study_id)
    assert refused.value.message_code == "error.no_identity"
    assert trial.db.rows() == before
    assert _status(trial, study_id) == "registered"
