"""One use case, one transaction: if its audit event cannot be written, nothing is written.

Each use case is run with ``append_event`` failing (for the risk assessment, on its *second*
event, after the first was appended): every table, the audit chain included, must be unchanged.
"""

from __future__ import annotations

from datetime import date

import pytest

from pebs.services.actor import Actor
from pebs.services.trial import (
    NewParticipant,
    OutcomeRecord,
    RiskFactors,
    VisitRecord,
    allocate,
    assess_eligibility,
    create_screening_plan,
    generate_allocation_list,
    load_study_config,
    override_allocation,
    record_consent,
    record_death,
    record_outcome,
    record_questionnaire,
    record_risk_assessment,
    record_visit,
    register_participant,
    withdraw,
)
from pebs.store import audit


class InjectedError(RuntimeError):
    pass


ANSWERED = RiskFactors(n_biopsies=0, age_at_menarche=13, age_at_first_birth=27, n_relatives=0,
                       density="b", prs_z="unknown")  # fmt: skip


def _failing_after(n_ok: int):
    calls = {"n": 0}

    def append_event(session, **kwargs):
        calls["n"] += 1
        if calls["n"] > n_ok:
            raise InjectedError("the audit event could not be written")
        return audit.append_event(session, **kwargs)

    return append_event


def test_a_failing_use_case_leaves_neither_data_nor_audit_event(trial, subtests) -> None:
    t, staff, manager = trial, trial.staff, trial.actor("data_manager")
    trial.lists(["IT-TO:50-59"], slots=6)
    registered = trial.register()
    eligible = trial.register()
    assess_eligibility(t.sessions, staff, t.keys, eligible, t.ELIGIBLE, at=t.AT)
    consented = trial.consented()
    risk_based = trial.allocated("risk-based")
    standard = trial.allocated("standard")
    followed = trial.allocated("standard")
    create_screening_plan(t.sessions, staff, t.keys, followed, at=t.AT)
    at = {"at": t.AT}
    cases = {
        "registration": lambda: register_participant(
            t.sessions, staff, t.keys, t.STUDY,
            NewParticipant("IT-TO", "A", t.BORN_52, national_id="X1"), **at,
        ),
        "eligibility": lambda: assess_eligibility(t.sessions, staff, t.keys, registered,
                                                  t.ELIGIBLE, **at),
        "consent": lambda: record_consent(t.sessions, staff, eligible, language="it", **at),
        "allocation_lists": lambda: generate_allocation_list(
            t.sessions, t.actor("statistician"), t.STUDY, slots_per_stratum=2, seed=99, **at
        ),
        "allocation": lambda: allocate(t.sessions, staff, t.keys, consented, **at),
        "override": lambda: override_allocation(t.sessions, manager, t.keys, consented,
                                                arm="standard", reason="r", confirm=True, **at),
        "risk_assessment": lambda: record_risk_assessment(t.sessions, staff, t.keys, risk_based,
                                                          ANSWERED, **at),
        "screening_plan": lambda: create_screening_plan(t.sessions, staff, t.keys, standard, **at),
        "visits": lambda: record_visit(t.sessions, staff, followed, VisitRecord(t.TODAY), **at),
        "outcomes": lambda: record_outcome(
            t.sessions, staff, followed, OutcomeRecord(t.TODAY, "clinical", "invasive"), **at
        ),
        "deaths": lambda: record_death(t.sessions, staff, followed, date_of_death=t.TODAY,
                                       cause="other", **at),
        "questionnaires": lambda: record_questionnaire(
            t.sessions, staff, followed, instrument="STAI-6 demo", timepoint_months=3,
            answers={"item_1": 1},
            completed_on=date(2025, 3, 1), **at,
        ),
        "consent.withdraw": lambda: withdraw(t.sessions, staff, followed,
                                             level="no_further_contact", reason="r", **at),
    }  # fmt: skip
    before = trial.db.rows()
    for name, call in cases.items():
        module = f"pebs.services.trial.{name.split('.')[0]}"
        n_ok = 1 if name == "risk_assessment" else 0
        with subtests.test(use_case=name), pytest.MonkeyPatch.context() as patch:
            patch.setattr(f"{module}.append_event", _failing_after(n_ok))
            with pytest.raises(InjectedError):
                call()
            assert trial.db.rows() == before
    assert trial.db.chain_ok()


def test_a_failing_study_load_leaves_an_empty_database(session_maker, db, monkeypatch) -> None:
    before = db.rows()
    monkeypatch.setattr("pebs.services.trial.study_loading.append_event", _failing_after(20))
    with pytest.raises(InjectedError):
        load_study_config(session_maker, Actor.system(), "mypebs-demo", demo_users=True)
    assert db.rows() == before
