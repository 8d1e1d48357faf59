"""Shipments: collected kits of one site leave in a numbered box, refused as a whole if any kit
cannot go; the laboratory receives the box and its shipped kits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from pebs.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from pebs.services.samples import (
    abandon_sample,
    receive_shipment,
    ship_samples,
    shipment_by_reference,
)
from pebs.store.models import Shipment

SHIPPED_ON = date(2025, 3, 20)
ARRIVED = datetime(2025, 3, 24, 9, 30, tzinfo=UTC)


def _ship(kits, kit_ids, site="IT-TO", actor="staff", day=SHIPPED_ON):
    return ship_samples(kits.sessions, kits.actor(actor), kits.STUDY, site, kit_ids, day,
                        at=kits.LATER)  # fmt: skip


def test_collected_kits_leave_in_a_box_numbered_for_the_site(kits) -> None:
    women = [kits.collected("FR-PA") for _ in range(3)]
    start = kits.last_event_id()
    first = _ship(kits, [women[1][1], women[0][1]], site="FR-PA", actor="staff_fr")
    assert first.reference == "FR-PA-S0001"
    assert first.kit_ids == tuple(sorted([women[0][1], women[1][1]]))
    second = _ship(kits, [women[2][1]], site="FR-PA", actor="staff_fr")
    assert second.reference == "FR-PA-S0002"
    it_to = _ship(kits, [kits.collected("IT-TO")[1]])
    assert it_to.reference == "IT-TO-S0001"  # each site numbers its own boxes
    for study_id, _kit_id in women[:2]:
        (kit,) = kits.kits_of(study_id)
        assert kit.state == "shipped"
    with kits.sessions() as session:
        box = session.scalar(select(Shipment).where(Shipment.reference == "FR-PA-S0001"))
        assert (box.shipped_on, box.shipped_at, box.received_at) == (SHIPPED_ON, kits.LATER, None)
        assert box.shipped_by_id == kits.actor("staff_fr").user_id
    events = [e for e in kits.events(start) if e.entity in ("shipment", "sample")]
    box_events = [e for e in events if e.entity == "shipment"]
    assert [(e.action, e.entity_id) for e in box_events] == [
        ("ship", "FR-PA-S0001"), ("ship", "FR-PA-S0002"), ("ship", "IT-TO-S0001")]  # fmt: skip
    assert box_events[0].new == {"site": "FR-PA", "shipped_on": "2025-03-20",
                                 "kits": sorted([women[0][1], women[1][1]])}  # fmt: skip
    shipped = {e.entity_id: e for e in events if e.entity == "sample" and e.action == "ship"}
    assert shipped[women[0][1]].old == {"state": "collected", "shipment": None}
    assert shipped[women[0][1]].new == {"participant": women[0][0], "state": "shipped",
                                        "shipment": "FR-PA-S0001"}  # fmt: skip
    assert kits.chain_ok()


def test_a_shipment_is_refused_as_a_whole_when_one_kit_cannot_go(kits) -> None:
    ready = kits.collected()[1]
    not_collected = kits.kit()[1]
    elsewhere = kits.collected("IT-MI")[1]
    before = kits.rows()
    with pytest.raises(Conflict, match=f"kit {not_collected}: a assigned sample cannot ship"):
        _ship(kits, [ready, not_collected])
    with pytest.raises(Conflict, match=f"kit {elsewhere} is from site IT-MI, not IT-TO"):
        _ship(kits, [ready, elsewhere], actor="coordinator")
    with pytest.raises(NotFound, match="in your sites"):  # site staff of IT-TO: not her kit
        _ship(kits, [ready, elsewhere])
    with pytest.raises(InvalidInput, match="given more than once") as refused:
        _ship(kits, [ready, ready.lower()])
    assert refused.value.field == "kit_ids"
    with pytest.raises(InvalidInput, match="1 to 500 kits"):
        _ship(kits, [])
    with pytest.raises(InvalidInput, match="is in the future") as refused:
        _ship(kits, [ready], day=date(2025, 4, 3))  # LATER is 2025-04-02
    assert refused.value.field == "shipped_on"
    with pytest.raises(InvalidInput, match=r"before kit .* was collected"):
        _ship(kits, [ready], day=kits.COLLECTED_ON - timedelta(days=1))
    assert kits.rows() == before


def test_only_site_recorders_ship_and_only_to_their_sites(kits) -> None:
    _, kit_id = kits.collected()
    for role in ("monitor", "statistician", "laboratory", "administrator"):
        with pytest.raises(PermissionDenied):
            _ship(kits, [kit_id], actor=role)
    with pytest.raises(NotFound, match="no site 'IT-TO' \\(in your sites\\)"):
        _ship(kits, [kit_id], actor="staff_fr")
    with pytest.raises(NotFound, match="no site 'XX-YY'"):
        _ship(kits, [kit_id], site="XX-YY")


def test_the_laboratory_receives_the_box_and_its_shipped_kits(kits) -> None:
    (a_woman, a_kit), (b_woman, b_kit), (_c_woman, c_kit) = (kits.collected() for _ in range(3))
    reference = _ship(kits, [a_kit, b_kit, c_kit]).reference
    abandon_sample(kits.sessions, kits.actor("staff"), c_kit, reason="tube leaked in the box",
                   at=kits.LATER)  # fmt: skip
    start = kits.last_event_id()
    received = receive_shipment(kits.sessions, kits.actor("laboratory"), reference,
                                received_at=ARRIVED, at=kits.LATER)  # fmt: skip
    assert received.received == tuple(sorted([a_kit, b_kit]))
    assert [(u.kit_id, u.state) for u in received.unchanged] == [(c_kit, "abandoned")]
    assert received.received_at == ARRIVED
    for woman in (a_woman, b_woman):
        (kit,) = kits.kits_of(woman)
        assert (kit.state, kit.received_at) == ("received", ARRIVED)
    events = kits.events(start)
    assert [(e.entity, e.action) for e in events] == [("shipment", "receive")] + [
        ("sample", "receive")] * 2  # fmt: skip
    assert all(e.actor == "laboratory" and e.at == kits.LATER for e in events)
    assert events[0].new == {"received_at": "2025-03-24T09:30:00.000000Z"}  # the chain's form
    view = shipment_by_reference(kits.sessions, kits.actor("laboratory"), reference)
    assert view.received_at == ARRIVED
    with pytest.raises(Conflict, match="already received"):
        receive_shipment(kits.sessions, kits.actor("data_manager"), reference, at=kits.LATER)


def test_a_receipt_is_not_in_the_future_nor_before_the_box_left(kits) -> None:
    reference = _ship(kits, [kits.collected()[1]]).reference
    before = kits.rows()
    lab = kits.actor("laboratory")
    cases = [
        (kits.LATER + timedelta(seconds=1), "is in the future"),
        # 19 March at 23:30 in Rome is still before the 20 March on which the box left
        (datetime(2025, 3, 19, 22, 30, tzinfo=UTC), "before the shipment was sent"),
        (datetime(2025, 3, 24, 9, 30), "naive datetime"),
        (datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=5))), "outside the years"),
    ]
    for received_at, message in cases:
        with pytest.raises(InvalidInput, match=message) as refused:
            receive_shipment(kits.sessions, lab, reference, received_at=received_at,
                             at=kits.LATER)  # fmt: skip
        assert refused.value.field == "received_at"
    assert kits.rows() == before
    done = receive_shipment(kits.sessions, lab, reference, received_at=datetime(
        2025, 3, 19, 23, 30, tzinfo=UTC), at=kits.LATER)  # 00:30 on the 20th in Rome  # fmt: skip
    assert len(done.received) == 1


def test_only_the_laboratory_and_the_data_manager_receive(kits) -> None:
    reference = _ship(kits, [kits.collected()[1]]).reference
    for role in ("staff", "investigator", "coordinator", "monitor", "statistician"):
        with pytest.raises(PermissionDenied):
            receive_shipment(kits.sessions, kits.actor(role), reference, at=kits.LATER)
    with pytest.raises(NotFound):
        receive_shipment(kits.sessions, kits.actor("laboratory"), "IT-TO-S9999", at=kits.LATER)
    done = receive_shipment(kits.sessions, kits.actor("data_manager"), reference.lower(),
                            at=kits.LATER)  # fmt: skip
    assert done.received_at == kits.LATER  # default: when it is recorded
