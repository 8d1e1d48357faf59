"""Reading kits: a woman's kits for roles that see her, one kit by its ID for the laboratory
without any participant, a shipment and its kits."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from pebs.services.errors import NotFound, PermissionDenied
from pebs.services.samples import (
    abandon_sample,
    assign_kit,
    sample_by_kit,
    samples_of,
    ship_samples,
    shipment_by_reference,
)


def test_her_kits_oldest_first_with_shipment_and_reason(kits) -> None:
    study_id, first = kits.collected()
    box = ship_samples(kits.sessions, kits.actor("staff"), kits.STUDY, "IT-TO", [first],
                       date(2025, 3, 20), at=kits.LATER)  # fmt: skip
    abandon_sample(kits.sessions, kits.actor("staff"), first, reason="lost by the courier",
                   at=kits.LATER)  # fmt: skip
    second = assign_kit(kits.sessions, kits.actor("staff"), study_id, at=kits.LATER).kit_id
    for role in ("staff", "coordinator", "data_manager", "monitor"):
        mine = samples_of(kits.sessions, kits.actor(role), study_id)
        assert mine.study_id == study_id
        assert [(k.kit_id, k.state) for k in mine.kits] == [
            (first, "abandoned"), (second, "assigned")]  # fmt: skip
        old = mine.kits[0]
        assert (old.collected_on, old.shipment, old.shipped_on) == (
            kits.COLLECTED_ON, box.reference, date(2025, 3, 20))  # fmt: skip
        assert old.abandoned_reason == "lost by the courier"
        assert old.assigned_at == kits.AT


def test_the_laboratory_never_finds_a_woman_and_others_only_in_scope(kits) -> None:
    study_id, _ = kits.kit("IT-TO")
    for outsider in ("laboratory", "staff_fr"):
        with pytest.raises(NotFound):
            samples_of(kits.sessions, kits.actor(outsider), study_id)
    for role in ("statistician", "administrator"):
        with pytest.raises(PermissionDenied):
            samples_of(kits.sessions, kits.actor(role), study_id)


def test_the_laboratory_reads_a_kit_without_her_study_id_identity_arm_or_reason(kits) -> None:
    study_id, kit_id = kits.collected("FR-PA")
    abandon_sample(kits.sessions, kits.actor("staff_fr"), kit_id, reason="Mrs Dupont declined",
                   at=kits.LATER)  # fmt: skip
    seen = sample_by_kit(kits.sessions, kits.actor("laboratory"), kit_id)
    assert (seen.kit_id, seen.state, seen.site, seen.collected_on) == (
        kit_id, "abandoned", "FR-PA", kits.COLLECTED_ON)  # fmt: skip
    assert seen.study_id is None
    values = dataclasses.asdict(seen)
    text = repr(values)
    assert study_id not in text
    assert "Dupont" not in text
    assert "declined" not in text
    assert not {"arm", "name", "birth_date", "abandoned_reason", "participant"} & set(values)
    staff = sample_by_kit(kits.sessions, kits.actor("staff_fr"), kit_id.lower())
    assert staff.study_id == study_id
    with pytest.raises(NotFound):
        sample_by_kit(kits.sessions, kits.actor("staff"), kit_id)  # IT-TO staff
    with pytest.raises(PermissionDenied):
        sample_by_kit(kits.sessions, kits.actor("statistician"), kit_id)


def test_a_recollection_kit_names_the_kit_it_replaces(kits) -> None:
    from pebs.services.samples import request_recollection

    _, kit_id = kits.collected()
    kits.set_state(kit_id, "failed_qc")
    new = request_recollection(kits.sessions, kits.actor("staff"), kit_id, reason="low call rate",
                               at=kits.LATER).kit_id  # fmt: skip
    assert sample_by_kit(kits.sessions, kits.actor("laboratory"), new).replaces == kit_id


def test_a_shipment_and_its_kits(kits) -> None:
    kit_ids = sorted(kits.collected("FR-PA")[1] for _ in range(2))
    box = ship_samples(kits.sessions, kits.actor("staff_fr"), kits.STUDY, "FR-PA", kit_ids,
                       date(2025, 3, 20), at=kits.LATER)  # fmt: skip
    for role in ("laboratory", "staff_fr", "data_manager", "monitor"):
        view = shipment_by_reference(kits.sessions, kits.actor(role), box.reference)
        assert (view.reference, view.site, view.shipped_on, view.received_at) == (
            "FR-PA-S0001", "FR-PA", date(2025, 3, 20), None)  # fmt: skip
        assert [(k.kit_id, k.state, k.collected_on) for k in view.kits] == [
            (k, "shipped", kits.COLLECTED_ON) for k in kit_ids]  # fmt: skip
    with pytest.raises(NotFound):
        shipment_by_reference(kits.sessions, kits.actor("staff"), box.reference)  # IT-TO staff
