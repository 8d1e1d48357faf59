"""A kit at her site: assigned by hand, collected, abandoned, replaced after a failed quality
control; every refusal writes nothing, every change is audited, scope is the woman's site."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pebs.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from pebs.services.samples import (
    abandon_sample,
    assign_kit,
    record_collection,
    request_recollection,
)
from pebs.services.trial import withdraw

from .conftest import at_day


def test_a_kit_is_collected_and_the_change_audited(kits) -> None:
    study_id, kit_id = kits.kit()
    start = kits.last_event_id()
    moved = record_collection(kits.sessions, kits.actor("staff"), kit_id, kits.COLLECTED_ON,
                              at=kits.LATER)  # fmt: skip
    assert (moved.kit_id, moved.study_id, moved.previous_state, moved.state) == (
        kit_id, study_id, "assigned", "collected")  # fmt: skip
    (stored,) = kits.kits_of(study_id)
    assert (stored.state, stored.collected_on) == ("collected", kits.COLLECTED_ON)
    assert stored.collected_by_id == kits.actor("staff").user_id
    (event,) = kits.events(start)
    assert (event.entity, event.entity_id, event.action, event.actor) == (
        "sample", kit_id, "collect", kits.actor("staff").username)  # fmt: skip
    assert event.old == {"state": "assigned", "collected_on": None}
    assert event.new == {"participant": study_id, "state": "collected",
                         "collected_on": kits.COLLECTED_ON.isoformat()}  # fmt: skip
    assert kits.chain_ok()


def test_a_kit_id_typed_in_small_letters_with_blanks_is_found(kits) -> None:
    _, kit_id = kits.kit()
    moved = record_collection(kits.sessions, kits.actor("staff"), f"  {kit_id.lower()} ",
                              kits.COLLECTED_ON, at=kits.LATER)  # fmt: skip
    assert moved.kit_id == kit_id


def test_a_kit_id_with_a_wrong_check_character_is_called_a_typing_error(kits) -> None:
    _, kit_id = kits.kit()
    wrong = kit_id[:-1] + ("0" if kit_id[-1] != "0" else "1")
    with pytest.raises(NotFound, match="check character does not match"):
        record_collection(kits.sessions, kits.actor("staff"), wrong, kits.COLLECTED_ON,
                          at=kits.LATER)  # fmt: skip


@pytest.mark.parametrize(
    ("day", "field", "message"),
    [
        (date(2025, 4, 3), "collected_on", "is in the future"),  # LATER is 2025-04-02
        (date(2025, 3, 2), "collected_on", "before her randomisation on 2025-03-03"),
    ],
)
def test_a_collection_date_is_not_in_the_future_nor_before_randomisation(
    kits, day, field, message
) -> None:
    _, kit_id = kits.kit()
    before = kits.rows()
    with pytest.raises(InvalidInput, match=message) as refused:
        record_collection(kits.sessions, kits.actor("staff"), kit_id, day, at=kits.LATER)
    assert refused.value.field == field
    assert kits.rows() == before


def test_a_kit_collected_twice_is_a_conflict_naming_what_is_possible(kits) -> None:
    _, kit_id = kits.collected()
    with pytest.raises(Conflict, match=f"kit {kit_id}: a collected sample cannot collect "
                                       r"\(ship, abandon\)"):  # fmt: skip
        record_collection(kits.sessions, kits.actor("staff"), kit_id, kits.COLLECTED_ON,
                          at=kits.LATER)  # fmt: skip


@pytest.mark.parametrize("level", ["no_further_data_collection", "withdraw_data_use"])
def test_her_open_kit_is_abandoned_when_she_withdraws_from_data_collection(kits, level) -> None:
    study_id, kit_id = kits.kit()
    start = kits.last_event_id()
    withdraw(kits.sessions, kits.actor("staff"), study_id, level=level,
             reason="moved abroad", at=kits.AT + timedelta(days=1))  # fmt: skip
    (stored,) = kits.kits_of(study_id)
    assert (stored.state, stored.abandoned_reason) == ("abandoned", f"withdrawn ({level})")
    assert [(e.action, e.entity_id) for e in kits.events(start)] == [
        ("withdraw", study_id), ("abandon", kit_id)]  # fmt: skip
    with pytest.raises(Conflict):
        record_collection(kits.sessions, kits.actor("staff"), kit_id, kits.COLLECTED_ON,
                          at=kits.LATER)  # fmt: skip
    assert kits.chain_ok()


def test_her_kit_stays_when_she_only_declines_further_contact(kits) -> None:
    study_id, kit_id = kits.kit()
    withdraw(kits.sessions, kits.actor("staff"), study_id, level="no_further_contact",
             reason="no more letters", at=kits.AT + timedelta(days=1))  # fmt: skip
    (stored,) = kits.kits_of(study_id)
    assert (stored.kit_id, stored.state) == (kit_id, "assigned")


def test_a_kit_is_reached_only_through_her_site(kits) -> None:
    _, kit_id = kits.kit("IT-TO")
    other_site = kits.add_user("staff_mi", "site_staff", site="IT-MI")
    other_country = kits.add_user("coordinator_fr", "country_coordinator", country="FR")
    for outsider in (other_site, other_country, kits.actor("staff_fr")):
        with pytest.raises(NotFound, match="in your sites"):
            record_collection(kits.sessions, outsider, kit_id, kits.COLLECTED_ON, at=kits.LATER)
    for reader in ("monitor", "statistician", "administrator", "laboratory"):
        with pytest.raises(PermissionDenied):
            record_collection(kits.sessions, kits.actor(reader), kit_id, kits.COLLECTED_ON,
                              at=kits.LATER)  # fmt: skip
    coordinator = kits.actor("coordinator")  # Italy
    moved = record_collection(kits.sessions, coordinator, kit_id, kits.COLLECTED_ON,
                              at=kits.LATER)  # fmt: skip
    assert moved.state == "collected"


def test_a_kit_is_assigned_by_hand_only_to_a_risk_based_woman_without_a_kit_that_counts(
    kits,
) -> None:
    standard = kits.woman("standard")
    with pytest.raises(Conflict, match="in the standard arm: only women of the risk-based arm"):
        assign_kit(kits.sessions, kits.actor("staff"), standard, at=kits.LATER)
    consented = kits.woman_consented()
    with pytest.raises(Conflict, match="not randomised"):
        assign_kit(kits.sessions, kits.actor("staff"), consented, at=kits.LATER)
    study_id, kit_id = kits.kit()
    before = kits.rows()
    with pytest.raises(Conflict, match=f"already has kit {kit_id} \\(assigned\\)"):
        assign_kit(kits.sessions, kits.actor("staff"), study_id, at=kits.LATER)
    assert kits.rows() == before
    kits.set_state(kit_id, "genotyped")  # she has her result
    with pytest.raises(Conflict, match=f"already has kit {kit_id} \\(genotyped\\)"):
        assign_kit(kits.sessions, kits.actor("staff"), study_id, at=kits.LATER)


def test_a_new_kit_by_hand_after_the_first_was_abandoned(kits) -> None:
    study_id, kit_id = kits.kit()
    abandon_sample(kits.sessions, kits.actor("staff"), kit_id, reason="tube broken",
                   at=kits.LATER)  # fmt: skip
    start = kits.last_event_id()
    assigned = assign_kit(kits.sessions, kits.actor("staff"), study_id, reason="tube broken",
                          at=kits.LATER)  # fmt: skip
    assert assigned.kit_id != kit_id
    assert [(k.kit_id, k.state) for k in kits.kits_of(study_id)] == [
        (kit_id, "abandoned"), (assigned.kit_id, "assigned")]  # fmt: skip
    (event,) = kits.events(start)
    assert (event.action, event.entity, event.entity_id, event.reason) == (
        "kit_assigned", "sample", assigned.kit_id, "tube broken")  # fmt: skip


def test_no_kit_by_hand_once_she_withdrew(kits) -> None:
    study_id, kit_id = kits.kit()
    abandon_sample(kits.sessions, kits.actor("staff"), kit_id, reason="withdrew", at=kits.LATER)
    withdraw(kits.sessions, kits.actor("staff"), study_id, level="no_further_contact",
             reason="no more letters", at=kits.LATER)  # fmt: skip
    with pytest.raises(Conflict, match="withdrawn_no_contact"):
        assign_kit(kits.sessions, kits.actor("staff"), study_id, at=kits.LATER)


def test_an_abandonment_needs_a_reason_and_is_audited_with_it(kits) -> None:
    study_id, kit_id = kits.collected()
    with pytest.raises(InvalidInput) as refused:
        abandon_sample(kits.sessions, kits.actor("staff"), kit_id, reason="  ", at=kits.LATER)
    assert refused.value.field == "reason"
    start = kits.last_event_id()
    moved = abandon_sample(kits.sessions, kits.actor("investigator"), kit_id,
                           reason=" tube leaked ", at=kits.LATER)  # fmt: skip
    assert (moved.previous_state, moved.state, moved.abandoned_reason) == (
        "collected", "abandoned", "tube leaked")  # fmt: skip
    (event,) = kits.events(start)
    assert (event.action, event.reason, event.old, event.new) == (
        "abandon", "tube leaked", {"state": "collected"},
        {"participant": study_id, "state": "abandoned"},
    )  # fmt: skip
    (stored,) = kits.kits_of(study_id)
    assert stored.abandoned_reason == "tube leaked"


def test_a_genotyped_kit_cannot_be_abandoned(kits) -> None:
    _, kit_id = kits.kit()
    kits.set_state(kit_id, "genotyped")
    with pytest.raises(Conflict, match="a genotyped sample cannot abandon"):
        abandon_sample(kits.sessions, kits.actor("staff"), kit_id, reason="x", at=kits.LATER)


def test_a_failed_kit_is_replaced_by_a_new_kit_that_names_it(kits) -> None:
    study_id, kit_id = kits.collected()
    kits.set_state(kit_id, "failed_qc")
    start = kits.last_event_id()
    done = request_recollection(kits.sessions, kits.actor("staff"), kit_id,
                                reason="call rate 0.81", at=kits.LATER)  # fmt: skip
    assert (done.study_id, done.failed_kit_id, done.failed_state) == (
        study_id, kit_id, "recollection_requested")  # fmt: skip
    failed, new = kits.kits_of(study_id)
    assert (failed.kit_id, failed.state) == (kit_id, "recollection_requested")
    assert (new.kit_id, new.state, new.replaces_sample_id) == (done.kit_id, "assigned", failed.id)
    events = kits.events(start)
    assert [(e.action, e.entity_id) for e in events] == [
        ("kit_assigned", done.kit_id), ("request_recollection", kit_id)]  # fmt: skip
    assert events[0].new["replaces"] == kit_id
    assert events[1].new == {"participant": study_id, "state": "recollection_requested",
                             "replaced_by": done.kit_id}  # fmt: skip


def test_only_a_failed_kit_is_replaced_and_never_beside_another_kit_that_counts(kits) -> None:
    study_id, kit_id = kits.collected()
    with pytest.raises(Conflict, match="a collected sample cannot request_recollection"):
        request_recollection(kits.sessions, kits.actor("staff"), kit_id, reason="x",
                             at=kits.LATER)  # fmt: skip
    kits.set_state(kit_id, "failed_qc")
    other = assign_kit(kits.sessions, kits.actor("staff"), study_id, at=kits.LATER)
    before = kits.rows()
    with pytest.raises(Conflict, match=f"already has kit {other.kit_id}"):
        request_recollection(kits.sessions, kits.actor("staff"), kit_id, reason="x",
                             at=kits.LATER)  # fmt: skip
    assert kits.rows() == before
    assert kits.kits_of(study_id)[0].state == "failed_qc"


class InjectedError(RuntimeError):
    pass


def _failing(session, **kwargs):
    raise InjectedError("the audit event could not be written")


@pytest.mark.parametrize("module", ["kits", "kit_assignment"])
def test_a_change_whose_audit_event_fails_leaves_nothing(kits, monkeypatch, module) -> None:
    study_id, kit_id = kits.collected()
    kits.set_state(kit_id, "failed_qc")
    before = kits.rows()
    monkeypatch.setattr(f"pebs.services.samples.{module}.append_event", _failing)
    with pytest.raises(InjectedError):
        request_recollection(kits.sessions, kits.actor("staff"), kit_id, reason="x",
                             at=kits.LATER)  # fmt: skip
    assert kits.rows() == before
    assert kits.kits_of(study_id)[0].state == "failed_qc"


def test_a_collection_recorded_at_her_site_s_date(kits) -> None:
    """Noon UTC on the day is that day at every demo site."""
    _, kit_id = kits.kit()
    day = kits.RANDOMISED_ON
    moved = record_collection(kits.sessions, kits.actor("staff"), kit_id, day, at=at_day(day))
    assert moved.collected_on == day
