"""Scope, as a matrix: use case x caller outside the participant's site or country.

Out-of-scope participants are not found (as if they did not exist) and nothing is written; roles
without the permission are refused before any query.
"""

from __future__ import annotations

from datetime import date

import pytest

from pebs.services.errors import NotFound, PermissionDenied
from pebs.services.trial import (
    OutcomeRecord,
    RiskFactors,
    VisitRecord,
    allocate,
    assess_eligibility,
    create_screening_plan,
    get_participant_summary,
    record_consent,
    record_death,
    record_outcome,
    record_questionnaire,
    record_risk_assessment,
    record_visit,
    withdraw,
)

USE_CASES = {
    "read": lambda t, a, p: get_participant_summary(t.sessions, a, p),
    "assess": lambda t, a, p: assess_eligibility(t.sessions, a, t.keys, p, t.ELIGIBLE),
    "consent": lambda t, a, p: record_consent(t.sessions, a, p, language="it"),
    "withdraw": lambda t, a, p: withdraw(t.sessions, a, p, level="no_further_contact", reason="x"),
    "allocate": lambda t, a, p: allocate(t.sessions, a, t.keys, p),
    "risk": lambda t, a, p: record_risk_assessment(t.sessions, a, t.keys, p, RiskFactors()),
    "plan": lambda t, a, p: create_screening_plan(t.sessions, a, t.keys, p),
    "visit": lambda t, a, p: record_visit(t.sessions, a, p, VisitRecord(date(2025, 1, 2))),
    "outcome": lambda t, a, p: record_outcome(
        t.sessions, a, p, OutcomeRecord(date(2025, 1, 2), "clinical", "invasive")
    ),
    "death": lambda t, a, p: record_death(
        t.sessions, a, p, date_of_death=date(2025, 1, 2), cause="other"
    ),
    "questionnaire": lambda t, a, p: record_questionnaire(
        t.sessions,
        a,
        p,
        instrument="STAI-6 demo",
        timepoint_months=0,
        answers={"item_1": 1},
        completed_on=date(2025, 1, 2),
    ),
}

OUTSIDERS = {
    "site staff of another site, same country": ("site_staff", {"site": "IT-MI"}),
    "investigator of another country": ("site_investigator", {"site": "FR-PA"}),
    "coordinator of another country": ("country_coordinator", {"country": "FR"}),
}


@pytest.fixture
def woman(trial) -> str:
    """A randomised woman at IT-TO (the demo site staff's site)."""
    return trial.allocated("risk-based", site="IT-TO")


def test_outside_her_scope_she_does_not_exist(trial, woman, subtests) -> None:
    outsiders = {
        name: trial.add_user(f"outsider-{i}", role, **scope)
        for i, (name, (role, scope)) in enumerate(sorted(OUTSIDERS.items()))
    }
    before = trial.db.rows()
    for name, actor in outsiders.items():
        for use_case, call in sorted(USE_CASES.items()):
            with subtests.test(use_case=use_case, caller=name):
                with pytest.raises(NotFound, match=f"no participant '{woman}'"):
                    call(trial, actor, woman)
                assert trial.db.rows() == before


def test_in_scope_roles_read_her(trial, woman) -> None:
    for insider in ("staff", "investigator", "coordinator", "data_manager", "monitor",
                    "statistician"):  # fmt: skip
        summary = get_participant_summary(trial.sessions, trial.actor(insider), woman)
        assert (summary.study_id, summary.arm, summary.stratum) == (
            woman, "risk-based", "IT-TO:50-59",
        )  # fmt: skip


def test_roles_without_data_entry_write_nothing(trial, woman, subtests) -> None:
    before = trial.db.rows()
    for reader in ("monitor", "statistician", "administrator"):
        for use_case, call in sorted(USE_CASES.items()):
            if use_case == "read" and reader != "administrator":
                continue
            with subtests.test(use_case=use_case, caller=reader):
                with pytest.raises(PermissionDenied):
                    call(trial, trial.actor(reader), woman)
                assert trial.db.rows() == before
