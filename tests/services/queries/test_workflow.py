"""A data query's workflow: each step, its thread note and its audit event; permissions per role;
scope; the values checked against the catalogue of forms; corrections through the use cases.

Expected values come from the workflow's specification (``docs/trial/queries.md``: states
open -> answered -> closed, re-opened -> open; who may do what) and from the values recorded in
each test, not from the implementation's output.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from pebs.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from pebs.services.operations.deep_audit import deep_verify
from pebs.services.queries.listing import list_queries
from pebs.services.queries.workflow import (
    answer_query,
    close_query,
    get_query,
    raise_query,
    reopen_query,
)
from pebs.services.trial import create_screening_plan, record_outcome
from pebs.services.trial.outcomes import OutcomeRecord
from pebs.store.audit import verify_chain
from pebs.store.models import DataQuery, RiskQuestionnaire, Visit


def _birads_query(q, study_id: str, visit_id: int, **extra):
    return raise_query(q.sessions, q["data_manager"], study_id, form="visit", item="birads",
                       key=visit_id, question="BI-RADS 4 but no recall?", **extra)  # fmt: skip


def test_every_step_is_a_note_and_an_audit_event(q) -> None:
    woman = q.woman()
    visit_id = q.visit(woman, birads=4, recall=False)
    raised = _birads_query(q, woman, visit_id, proposed_value="3")
    summary = raised.query
    assert (summary.state, summary.form, summary.item, summary.key) == (
        "open",
        "visit",
        "birads",
        visit_id,
    )
    assert (summary.value, summary.proposed_value, raised.current_value) == ("4", "3", "4")
    assert (summary.kind, summary.raised_by) == ("manual", "demo-data-manager")

    answered = answer_query(
        q.sessions,
        q["site_staff"],
        summary.id,
        text="Read again: BI-RADS 4 is right; recall booked.",
    )
    assert answered.query.state == "answered"
    closed = close_query(q.sessions, q["monitor"], summary.id, text="Fine.")
    assert (closed.query.state, closed.query.closed_by) == ("closed", "demo-monitor")
    reopened = reopen_query(
        q.sessions, q["data_manager"], summary.id, text="The recall is not on her record yet."
    )
    assert (reopened.query.state, reopened.query.closed_by) == ("open", None)

    steps = [(n.step, n.actor, n.text) for n in reopened.notes]
    assert steps == [
        ("raise", "demo-data-manager", "BI-RADS 4 but no recall?"),
        ("answer", "demo-site-staff", "Read again: BI-RADS 4 is right; recall booked."),
        ("close", "demo-monitor", "Fine."),
        ("reopen", "demo-data-manager", "The recall is not on her record yet."),
    ]
    assert reopened.notes[0].value == "3"
    events = q.events(summary.id)
    assert [(e.action, e.actor) for e in events] == [
        ("raise", "demo-data-manager"), ("answer", "demo-site-staff"), ("close", "demo-monitor"),
        ("reopen", "demo-data-manager")]  # fmt: skip
    assert events[0].new["participant"] == woman
    assert events[0].new["value"] == "4"
    assert [(e.old or {}).get("state") for e in events] == [None, "open", "answered", "closed"]
    assert [e.new["state"] for e in events] == ["open", "answered", "closed", "open"]
    assert [e.reason for e in events][1] == "Read again: BI-RADS 4 is right; recall booked."
    with q.sessions() as session:
        assert verify_chain(session).ok


def test_a_non_repeating_form_is_queried_without_a_key(q) -> None:
    woman = q.woman()
    detail = raise_query(q.sessions, q["monitor"], woman, form="allocation", item="arm",
                         question="Is the arm on the paper form the same?")  # fmt: skip
    assert (detail.query.key, detail.query.value, detail.correctable) == (None, "standard", False)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("site_staff", False), ("site_investigator", False), ("country_coordinator", False),
     ("data_manager", True), ("monitor", True), ("statistician", False),
     ("administrator", False), ("laboratory", False)],
)  # fmt: skip
def test_who_raises(q, role, allowed) -> None:
    woman = q.woman()
    call = lambda: raise_query(q.sessions, q[role], woman, form="allocation", item="arm",  # noqa: E731
                               question="check")  # fmt: skip
    if allowed:
        assert call().query.state == "open"
    else:
        with pytest.raises(PermissionDenied):
            call()


@pytest.mark.parametrize(
    ("role", "step", "allowed"),
    [("site_staff", "answer", True), ("site_investigator", "answer", True),
     ("country_coordinator", "answer", True), ("data_manager", "answer", False),
     ("monitor", "answer", False), ("site_staff", "close", False),
     ("site_investigator", "close", False), ("data_manager", "close", True),
     ("monitor", "close", True), ("country_coordinator", "close", False)],
)  # fmt: skip
def test_who_answers_and_who_closes(q, role, step, allowed) -> None:
    woman = q.woman()
    query_id = raise_query(q.sessions, q["data_manager"], woman, form="allocation", item="arm",
                           question="check").query.id  # fmt: skip
    if step == "answer":
        call = lambda: answer_query(q.sessions, q[role], query_id, text="checked")  # noqa: E731
    else:
        call = lambda: close_query(q.sessions, q[role], query_id)  # noqa: E731
    if allowed:
        assert call().query.state == ("answered" if step == "answer" else "closed")
    else:
        with pytest.raises(PermissionDenied):
            call()
        assert q.events(query_id)[-1].action == "raise"


def test_another_sites_query_does_not_exist_for_a_site_user(q) -> None:
    french = q.woman(site="FR-PA")
    query_id = raise_query(q.sessions, q["data_manager"], french, form="allocation", item="arm",
                           question="check").query.id  # fmt: skip
    for call in (
        lambda: get_query(q.sessions, q["site_staff"], query_id),
        lambda: answer_query(q.sessions, q["site_staff"], query_id, text="not mine"),
        lambda: list_queries(q.sessions, q["site_staff"], site="FR-PA"),
        lambda: list_queries(q.sessions, q["site_staff"], study_id=french),
        lambda: get_query(q.sessions, q["country_coordinator"], query_id),  # she is Italian
    ):
        with pytest.raises(NotFound):
            call()
    assert list_queries(q.sessions, q["site_staff"]).total == 0
    assert list_queries(q.sessions, q["monitor"], site="FR-PA").total == 1


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [({"form": "biopsy"}, "form", "error.choice"),
     ({"item": "bi_rads"}, "item", "error.choice"),
     ({"key": None}, "key", "error.form_key_needed"),
     ({"proposed_value": "7"}, "proposed_value", "error.integer"),
     ({"proposed_value": "two"}, "proposed_value", "error.integer"),
     ({"question": "  "}, "question", "error.required"),
     ({"question": "x" * 2001}, "question", "error.too_long")],
)  # fmt: skip
def test_a_bad_query_is_refused_naming_the_field(q, kwargs, field, code) -> None:
    woman = q.woman()
    visit_id = q.visit(woman, birads=2)
    arguments = {"form": "visit", "item": "birads", "key": visit_id, "question": "check",
                 **kwargs}  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        raise_query(q.sessions, q["data_manager"], woman, **arguments)
    assert (refused.value.field, refused.value.message_code) == (field, code)
    assert q.stored() == []


def test_a_key_of_a_form_that_does_not_repeat_or_of_no_instance(q) -> None:
    woman = q.woman()
    with pytest.raises(InvalidInput, match="does not repeat") as refused:
        raise_query(q.sessions, q["data_manager"], woman, form="death", item="cause", key=3,
                    question="check")  # fmt: skip
    assert refused.value.field == "key"
    with pytest.raises(NotFound, match="has no visit 999999"):
        raise_query(q.sessions, q["data_manager"], woman, form="visit", item="birads",
                    key=999999, question="check")  # fmt: skip


def test_steps_out_of_order_are_refused(q) -> None:
    woman = q.woman()
    query_id = raise_query(q.sessions, q["data_manager"], woman, form="allocation", item="arm",
                           question="check").query.id  # fmt: skip
    with pytest.raises(Conflict, match="is open: cannot re-open it"):
        reopen_query(q.sessions, q["data_manager"], query_id, text="why")
    close_query(q.sessions, q["data_manager"], query_id)
    with pytest.raises(Conflict, match="is closed: cannot answer it"):
        answer_query(q.sessions, q["site_staff"], query_id, text="late")
    with pytest.raises(Conflict, match="is closed: cannot close it"):
        close_query(q.sessions, q["monitor"], query_id)


def test_a_risk_factor_is_corrected_by_a_new_risk_questionnaire(q) -> None:
    woman = q.woman("risk-based")
    q.assess(woman, age_at_menarche=14)
    query_id = raise_query(q.sessions, q["monitor"], woman, form="risk_factors",
                           item="age_at_menarche", question="Source says 12?",
                           proposed_value="12").query.id  # fmt: skip
    detail = answer_query(q.sessions, q["site_staff"], query_id, text="Typo; she was 12.",
                          corrected_value="12", keys=q.db.keys)  # fmt: skip
    note = detail.notes[-1]
    assert (note.step, note.value) == ("answer", "12")
    table, _, row_id = (note.correction or "").partition(":")
    assert table == "risk_questionnaire"
    with q.sessions() as session:
        stored = session.get(RiskQuestionnaire, int(row_id))
        assert stored is not None
        assert stored.answers == {"n_biopsies": 0, "atypical_hyperplasia": None,
                                  "age_at_menarche": 12, "age_at_first_birth": 28,
                                  "n_relatives": 0}  # fmt: skip
    assert q.events(query_id)[-1].new["correction"] == note.correction


def test_an_expected_visit_is_recorded_by_a_correction(q) -> None:
    woman = q.woman()
    create_screening_plan(q.sessions, q["data_manager"], q.db.keys, woman)
    with q.sessions() as session:
        visit_id = session.scalars(select(Visit.id).order_by(Visit.id.desc())).first()
    query_id = raise_query(q.sessions, q["data_manager"], woman, form="visit",
                           item="performed_date", key=visit_id,
                           question="Was this mammogram done?").query.id  # fmt: skip
    yesterday = (q.db.today() - timedelta(days=1)).isoformat()
    detail = answer_query(q.sessions, q["site_investigator"], query_id, text="Done yesterday.",
                          corrected_value=yesterday)  # fmt: skip
    assert detail.notes[-1].correction == f"visit:{visit_id}"
    assert detail.current_value == yesterday


def test_an_item_without_a_correcting_use_case_is_answered_in_words(q) -> None:
    woman = q.woman()
    outcome = record_outcome(q.sessions, q["data_manager"], woman, OutcomeRecord(
        q.db.today(), "clinical", "invasive", "T1c", "N0", "M0"))  # fmt: skip
    query_id = raise_query(q.sessions, q["monitor"], woman, form="outcome", item="t_category",
                           key=outcome.outcome_id, question="pT or cT?").query.id  # fmt: skip
    assert get_query(q.sessions, q["site_staff"], query_id).correctable is False
    with pytest.raises(InvalidInput) as refused:
        answer_query(q.sessions, q["site_staff"], query_id, text="pT1c",
                     corrected_value="pT1c")  # fmt: skip
    assert (refused.value.field, refused.value.message_code) == (
        "corrected_value",
        "error.not_correctable",
    )
    assert get_query(q.sessions, q["site_staff"], query_id).query.state == "open"


def test_lists_filter_by_state_and_page_by_id(q) -> None:
    woman = q.woman()
    ids = [raise_query(q.sessions, q["data_manager"], woman, form="allocation", item="arm",
                       question=f"check {i}").query.id for i in range(3)]  # fmt: skip
    answer_query(q.sessions, q["site_staff"], ids[1], text="ok")
    page = list_queries(q.sessions, q["site_staff"], state="open", limit=1)
    assert ([e.id for e in page.entries], page.total, page.next_after) == ([ids[0]], 2, ids[0])
    second = list_queries(q.sessions, q["site_staff"], state="open", after=page.next_after)
    assert [e.id for e in second.entries] == [ids[2]]
    assert [e.id for e in list_queries(q.sessions, q["monitor"], state="answered").entries] == [
        ids[1]]  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        list_queries(q.sessions, q["monitor"], state="pending")
    assert refused.value.field == "state"
    with pytest.raises(PermissionDenied):
        list_queries(q.sessions, q["statistician"])


def test_queries_match_their_audit_trail_and_an_edited_state_is_caught(q) -> None:
    """``pebs check``'s deep verification replays the trail: every query's fields as its events
    set them; a state changed in the database behind the use cases is a mismatch."""
    woman = q.woman("risk-based")
    q.assess(woman, age_at_menarche=18)  # an edit check's query (its check, no proposed value)
    manual = raise_query(q.sessions, q["monitor"], woman, form="allocation", item="arm",
                         question="check", proposed_value="standard").query.id  # fmt: skip
    answer_query(q.sessions, q["site_staff"], manual, text="It is risk-based.")
    close_query(q.sessions, q["monitor"], manual)
    with q.sessions.begin() as session:
        report = deep_verify(session.connection())
    (checked,) = [t for t in report.tables if t.table == "data_queries"]
    assert (report.ok, checked.n_rows, checked.n_mismatches) == (True, 2, 0)
    with q.sessions.begin() as session:
        session.execute(update(DataQuery).where(DataQuery.id == manual).values(state="open"))
    with q.sessions.begin() as session:
        report = deep_verify(session.connection())
    assert [(m.table, m.row) for m in report.mismatches] == [
        ("data_queries", f"data query {manual}")
    ]
