"""Letters due, consultations and her language: the use cases without rendering."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from factories import AT
from pebs.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from pebs.services.letters import (
    consultations,
    letters_due,
    record_consultation,
    set_language,
)
from pebs.services.records import participant_record
from pebs.services.trial import NewParticipant, register_participant
from pebs.store.audit import append_event
from pebs.store.models import (
    AuditEvent,
    IssuedLetter,
    Participant,
    ScreeningPlan,
    Visit,
)


def _plan_id(women, study_id: str) -> int:
    with women.sessions() as session:
        return session.scalar(
            select(ScreeningPlan.id)
            .join(Participant, Participant.id == ScreeningPlan.participant_id)
            .where(Participant.study_id == study_id, ScreeningPlan.superseded_at.is_(None))
        )  # fmt: skip


def _due(women, actor=None, **kwargs) -> set[tuple[str, str, str, str]]:
    found = letters_due(women.sessions, actor or women.lab.manager, women.lab.STUDY,
                        at=women.ISSUED, **kwargs)  # fmt: skip
    return {(d.study_id, d.kind, d.basis, d.language) for d in found}


def _record_issued(women, study_id: str, kind: str, basis: str) -> None:
    """An issued letter recorded as the service records one (row and event), without a PDF."""
    with women.sessions.begin() as session:
        her = session.scalar(select(Participant).where(Participant.study_id == study_id))
        row = IssuedLetter(participant_id=her.id, kind=kind, recipient="woman", language="it",
                           basis=basis, template_version="t", pdf_sha256="0" * 64, pdf_bytes=1,
                           issued_at=women.ISSUED, issued_by="test")  # fmt: skip
        session.add(row)
        session.flush()
        append_event(session, actor="test", action="issue", entity="issued_letter",
                     entity_id=row.id, at=women.ISSUED,
                     new={"participant": study_id, "kind": kind, "recipient": "woman",
                          "language": "it", "basis": basis, "template_version": "t",
                          "pdf_sha256": "0" * 64, "pdf_bytes": 1, "issued_by": "test"})  # fmt: skip


def test_the_letters_due_name_each_woman_kind_and_basis(women) -> None:
    standard = women.standard(site="FR-PA")
    expected = {
        (women.result, "risk_result", f"plan:{_plan_id(women, women.result)}", "it"),
        (women.failed, "recollection", f"kit:{women.new_kit}", "it"),
        (standard, "standard_arm", f"plan:{_plan_id(women, standard)}", "fr"),
    }
    assert _due(women) == expected
    # the site staff at IT-TO sees her own site's women only
    assert _due(women, women.lab.staff) == {x for x in expected if x[0] != standard}
    # a letter issued for the same basis is no longer due
    _record_issued(women, women.result, "risk_result", f"plan:{_plan_id(women, women.result)}")
    assert women.result not in {x[0] for x in _due(women)}
    women.deep_ok()


def test_since_keeps_the_plans_and_kits_made_on_or_after_that_day(women) -> None:
    women.standard(site="FR-PA")  # planned at AT
    imported = women.lab.IMPORTED.date()  # the result's plan and the new kit: that day
    assert {x[1] for x in _due(women, since=imported)} == {"risk_result", "recollection"}
    assert _due(women, since=imported + timedelta(days=1)) == set()
    with pytest.raises(InvalidInput) as refused:
        _due(women, since="2025-01-01")
    assert refused.value.field == "since"


def test_the_end_of_study_invitation_is_due_eight_weeks_before_the_visit(women) -> None:
    with women.sessions() as session:
        visit_id, due = session.execute(
            select(Visit.id, Visit.due_date).join(Participant)
            .where(Participant.study_id == women.result, Visit.visit_type == "end_of_study")
        ).one()  # fmt: skip
    found = letters_due(women.sessions, women.lab.manager, women.lab.STUDY,
                        at=AT.replace(year=due.year, month=due.month, day=due.day)
                        - timedelta(weeks=8))  # fmt: skip
    assert (women.result, f"visit:{visit_id}") in {(d.study_id, d.basis) for d in found
                                                   if d.kind == "end_of_study"}  # fmt: skip
    earlier = letters_due(women.sessions, women.lab.manager, women.lab.STUDY,
                          at=AT.replace(year=due.year, month=due.month, day=due.day)
                          - timedelta(weeks=8, days=1))  # fmt: skip
    assert "end_of_study" not in {d.kind for d in earlier}


def test_a_consultation_is_recorded_audited_and_listed(women) -> None:
    staff = women.lab.staff
    held = record_consultation(women.sessions, staff, women.result, date(2025, 5, 30), "phone",
                               "Dr Rossi", "Asked whether MRI hurts.", at=women.ISSUED)  # fmt: skip
    assert (held.mode, held.held_by, held.questions) == ("phone", "Dr Rossi",
                                                         "Asked whether MRI hurts.")  # fmt: skip
    assert consultations(women.sessions, staff, women.result) == (held,)
    with women.sessions() as session:
        event = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert (event.entity, event.action, event.new["held_on"]) == (
        "consultation",
        "record",
        "2025-05-30",
    )
    women.deep_ok()


@pytest.mark.parametrize(
    ("change", "field"),
    [({"held_on": date(2025, 6, 2)}, "held_on"),  # the day after ISSUED
     ({"held_on": date(2025, 3, 2)}, "held_on"),  # the day before her randomisation
     ({"mode": "letter"}, "mode"),
     ({"held_by": "  "}, "held_by"),
     ({"questions": "x" * 4001}, "questions")],
)  # fmt: skip
def test_a_bad_consultation_is_refused_naming_its_field_and_stores_nothing(
    women, change, field
) -> None:
    values = {"held_on": date(2025, 5, 30), "mode": "visit", "held_by": "Dr Rossi",
              "questions": None, **change}  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        record_consultation(women.sessions, women.lab.staff, women.result, at=women.ISSUED,
                            **values)  # fmt: skip
    assert refused.value.field == field
    assert consultations(women.sessions, women.lab.staff, women.result) == ()


def test_a_consultation_needs_a_randomised_woman_in_scope_and_the_permission(women) -> None:
    new = NewParticipant(site="IT-TO", name="Anna Test", birth_date=date(1970, 1, 1))
    registered = register_participant(women.sessions, women.lab.manager, women.lab.keys,
                                      women.lab.STUDY, new, at=AT).study_id  # fmt: skip
    args = (date(2025, 5, 30), "visit", "Dr Rossi")
    with pytest.raises(Conflict):
        record_consultation(women.sessions, women.lab.staff, registered, *args, at=women.ISSUED)
    standard = women.standard(site="FR-PA")
    with pytest.raises(NotFound):
        record_consultation(women.sessions, women.lab.staff, standard, *args, at=women.ISSUED)
    with pytest.raises(PermissionDenied):
        record_consultation(women.sessions, women.lab.laboratory, women.result, *args)


def test_her_language_is_stored_at_registration_and_changed_with_an_audit_event(women) -> None:
    manager = women.lab.manager
    new = NewParticipant(site="BE-BR", name="Els Test", birth_date=date(1970, 1, 1))
    default = register_participant(women.sessions, manager, women.lab.keys, women.lab.STUDY, new,
                                   at=AT)  # fmt: skip
    assert default.language == "nl"  # the demo study's Belgium: languages ["nl", "fr"]
    chosen = register_participant(women.sessions, manager, women.lab.keys, women.lab.STUDY,
                                  NewParticipant(site="BE-BR", name="Lea Test",
                                                 birth_date=date(1970, 1, 1), language="fr"),
                                  at=AT)  # fmt: skip
    assert chosen.language == "fr"
    with pytest.raises(InvalidInput) as refused:  # Italian is not a Belgian study language
        register_participant(women.sessions, manager, women.lab.keys, women.lab.STUDY,
                             NewParticipant(site="BE-BR", name="X", birth_date=date(1970, 1, 1),
                                            language="it"))  # fmt: skip
    assert (refused.value.field, refused.value.values["allowed"]) == ("language", "nl, fr")

    changed = set_language(women.sessions, manager, default.study_id, "fr")
    assert (changed.previous, changed.language) == ("nl", "fr")
    assert participant_record(women.sessions, manager, default.study_id).language == "fr"
    with pytest.raises(InvalidInput):
        set_language(women.sessions, manager, default.study_id, "es")
    with women.sessions() as session:
        stored = session.scalar(select(Participant.language)
                                .where(Participant.study_id == default.study_id))  # fmt: skip
        event = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert stored == "fr"
    assert (event.action, event.old, event.new) == ("set_language", {"language": "nl"},
                                                    {"language": "fr"})  # fmt: skip
    women.deep_ok()


def test_the_deep_audit_finds_a_language_changed_outside_pebs(women) -> None:
    with women.sessions.begin() as session:
        her = session.scalar(select(Participant).where(Participant.study_id == women.result))
        her.language = "en"
    with pytest.raises(AssertionError, match="language"):
        women.deep_ok()
