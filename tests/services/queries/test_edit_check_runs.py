"""The demo study's edit checks run when her data is recorded: each kind fires and stays quiet,
never twice on one item, closes by itself when the data is fixed, stays quiet on a value a
reviewer accepted; and ``check_study`` over the whole study, its counts worked out by hand.

The checks are the demo study file's (``mypebs-demo.toml``): histology required after a biopsy,
a visit not before consent, a diagnosis not before registration, a stage group for an invasive
cancer, age at menarche 8-17, at most 8 relatives, a density (not unknown) before a risk
assessment.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from pebs.services.errors import PermissionDenied
from pebs.services.queries.edit_check_runs import check_study
from pebs.services.queries.workflow import close_query, reopen_query
from pebs.services.trial import record_outcome, withdraw
from pebs.services.trial.outcomes import OutcomeRecord
from pebs.store.models import DataQuery

STUDY = "mypebs-demo"


def _checks(q, **where) -> list[tuple]:
    return [(x.check_id, x.form, x.item, x.form_key, x.state, x.value)
            for x in q.stored(kind="edit_check", **where)]  # fmt: skip


def test_required_if_fires_on_a_biopsy_without_histology(q) -> None:
    woman = q.woman()
    quiet = q.visit(woman, biopsy=True, histology="benign")
    fired = q.visit(woman, biopsy=True)
    assert quiet != fired
    assert _checks(q) == [("histology-after-biopsy", "visit", "histology", fired, "open", None)]
    (query,) = q.stored(kind="edit_check")
    assert (query.raised_by, query.raised_by_id) == ("system", None)
    assert query.question.startswith("A biopsy was taken at this visit")
    (event,) = q.events(query.id)
    assert (event.action, event.actor, event.new["check"]) == (
        "raise",
        "system",
        "histology-after-biopsy",
    )


def test_date_order_fires_on_a_visit_before_her_consent(q) -> None:
    woman = q.woman()  # consented today
    q.visit(woman, days_ago=0)
    assert _checks(q) == []
    before = q.visit(woman, days_ago=3)
    day = (q.db.today() - timedelta(days=3)).isoformat()
    assert _checks(q) == [("visit-after-consent", "visit", "performed_date", before, "open", day)]


def test_an_invasive_cancer_without_stage_and_before_registration(q) -> None:
    woman = q.woman()  # registered today
    staged = record_outcome(q.sessions, q["data_manager"], woman, OutcomeRecord(
        q.db.today(), "clinical", "invasive", "T1c", "N0", "M0")).outcome_id  # fmt: skip
    assert _checks(q) == []
    earlier = q.db.today() - timedelta(days=10)
    unstaged = record_outcome(q.sessions, q["data_manager"], woman, OutcomeRecord(
        earlier, "clinical", "invasive")).outcome_id  # fmt: skip
    assert staged != unstaged
    assert sorted(_checks(q)) == [
        ("diagnosis-after-registration", "outcome", "diagnosis_date", unstaged, "open",
         earlier.isoformat()),
        ("stage-of-invasive-cancer", "outcome", "stage_group", unstaged, "open", None),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("factors", "expected"),
    [({}, []),
     ({"age_at_menarche": 18}, [("menarche-age", "risk_factors", "age_at_menarche", 0, "open",
                                 "18")]),
     ({"age_at_menarche": 8, "n_relatives": 8}, []),
     ({"n_relatives": 9}, [("relatives-count", "risk_factors", "n_relatives", 0, "open", "9")]),
     ({"density": "unknown"}, [("density-before-risk", "risk_factors", "density", 0, "open",
                                "unknown")])],
)  # fmt: skip
def test_range_and_required_before_on_her_risk_factors(q, factors, expected) -> None:
    woman = q.woman("risk-based")
    q.assess(woman, **factors)
    assert _checks(q) == expected


def test_a_check_never_raises_twice_and_closes_itself_when_the_data_is_fixed(q) -> None:
    woman = q.woman("risk-based")
    q.assess(woman, age_at_menarche=18)
    q.assess(woman, age_at_menarche=19, n_biopsies=1, atypical_hyperplasia=False)
    (query,) = q.stored(kind="edit_check")
    assert (query.state, query.value) == ("open", "18")
    q.assess(woman, age_at_menarche=12)
    (query,) = q.stored(kind="edit_check")
    assert (query.state, query.closed_by) == ("closed", "system")
    assert [e.action for e in q.events(query.id)] == ["raise", "close"]
    q.assess(woman, age_at_menarche=18)  # broken again: a new query
    assert [(x.state, x.value) for x in q.stored(kind="edit_check")] == [
        ("closed", "18"), ("open", "18")]  # fmt: skip


def test_a_value_a_reviewer_accepted_is_not_queried_again(q) -> None:
    woman = q.woman("risk-based")
    q.assess(woman, age_at_menarche=18)
    (query,) = q.stored(kind="edit_check")
    close_query(q.sessions, q["data_manager"], query.id, text="Confirmed with her: 18.")
    report = check_study(q.sessions, q["data_manager"], STUDY)
    assert (report.n_findings, report.n_accepted, report.n_raised) == (1, 1, 0)
    q.assess(woman, age_at_menarche=19)
    assert [(x.state, x.value) for x in q.stored(kind="edit_check")] == [
        ("closed", "18"), ("open", "19")]  # fmt: skip


def test_reopening_refuses_a_second_open_query_of_the_same_check(q) -> None:
    woman = q.woman("risk-based")
    q.assess(woman, age_at_menarche=18)
    (first,) = q.stored(kind="edit_check")
    close_query(q.sessions, q["data_manager"], first.id)
    q.assess(woman, age_at_menarche=19)
    with pytest.raises(Exception, match=r"already has query \d+ open on this item"):
        reopen_query(q.sessions, q["data_manager"], first.id, text="again")


def test_the_database_refuses_a_duplicate_open_query_of_a_check(q) -> None:
    woman = q.woman("risk-based")
    q.assess(woman, age_at_menarche=18)
    (query,) = q.stored(kind="edit_check")
    with pytest.raises(IntegrityError), q.sessions.begin() as session:
        session.add(DataQuery(
            participant_id=query.participant_id, form=query.form, item=query.item, form_key=0,
            kind="edit_check", check_id=query.check_id, state="answered", question="again",
            raised_by="system",
        ))  # fmt: skip


def test_check_study_counts_what_it_did(q) -> None:
    # A: a biopsy without histology (1 finding, raised on entry); B: menarche 18 and an unknown
    # density (2 findings, raised on entry); C: nothing wrong; D: a visit before her consent,
    # then she withdrew the use of her data (not checked).
    a, b, c, d = q.woman(), q.woman("risk-based"), q.woman(), q.woman()
    q.visit(a, biopsy=True)
    q.assess(b, age_at_menarche=18, density="unknown")
    q.visit(c)
    q.visit(d, days_ago=2)
    assert len(q.stored(kind="edit_check")) == 3 + 1
    withdraw(q.sessions, q["data_manager"], d, level="withdraw_data_use", reason="asked")
    report = check_study(q.sessions, q["data_manager"], STUDY, page_size=2)
    assert (report.n_checks, report.n_women, report.n_withheld) == (7, 4, 1)
    assert (report.n_findings, report.n_already_open, report.n_raised, report.n_closed) == (
        3, 3, 0, 0)  # fmt: skip
    assert report.raised_by_check["menarche-age"] == 0
    assert set(report.raised_by_check) == {
        "menarche-age", "relatives-count", "histology-after-biopsy", "stage-of-invasive-cancer",
        "visit-after-consent", "diagnosis-after-registration", "density-before-risk"}  # fmt: skip
    with pytest.raises(PermissionDenied):
        check_study(q.sessions, q["monitor"], STUDY)


def test_the_checks_read_the_forms_they_name() -> None:
    from pebs.services.queries.edit_check_runs import forms_read
    from pebs.trial import load_study

    checks = load_study(STUDY).edit_checks
    # The module docstring's checks: their own forms (visit, outcome, risk_factors), the date
    # each must not precede (consent, registration), what needs a density (risk_assessment).
    assert forms_read(checks) == {"visit", "outcome", "risk_factors", "consent", "registration",
                                  "risk_assessment"}  # fmt: skip


def test_a_study_stored_again_with_other_checks_is_checked_by_them(q) -> None:
    from sqlalchemy import select, update

    from pebs.store.models import Study

    woman = q.woman()
    with q.sessions.begin() as session:
        study = session.scalar(select(Study).where(Study.name == STUDY))
        kept = [c for c in study.config["edit_checks"] if c["id"] != "histology-after-biopsy"]
        session.execute(update(Study).where(Study.id == study.id).values(
            config={**study.config, "edit_checks": kept}, config_sha256="f" * 64))  # fmt: skip
    q.visit(woman, biopsy=True)
    assert _checks(q) == []
