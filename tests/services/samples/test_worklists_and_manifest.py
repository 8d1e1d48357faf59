"""A site's kit worklists on a date, and the manifest that travels with a box."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from pebs.services.errors import NotFound, PermissionDenied
from pebs.services.samples import (
    abandon_sample,
    kit_manifest,
    kit_worklists,
    request_recollection,
    ship_samples,
)
from pebs.trial import load_study

WEEKS = load_study("mypebs-demo").samples.result_expected_weeks
"""12 in the demo study file: a result is expected 12 weeks (84 days) after collection."""


def _lists(kits, on: date, actor: str = "staff", site: str = "IT-TO"):
    return kit_worklists(kits.sessions, kits.actor(actor), kits.STUDY, site, on=on)


def _ids(entries) -> list[str]:
    return [entry.kit_id for entry in entries]


def test_each_kit_is_on_the_list_that_says_what_to_do(kits) -> None:
    assert WEEKS == 12
    waiting_woman, waiting = kits.kit()
    to_send_woman, to_send = kits.collected(on=date(2025, 3, 10))
    _, in_box = kits.collected(on=date(2025, 3, 11))
    ship_samples(kits.sessions, kits.actor("staff"), kits.STUDY, "IT-TO", [in_box],
                 date(2025, 3, 20), at=kits.LATER)  # fmt: skip
    _, failed = kits.collected()
    kits.set_state(failed, "failed_qc")
    recollection = request_recollection(kits.sessions, kits.actor("staff"), failed,
                                        reason="low call rate", at=kits.LATER).kit_id  # fmt: skip
    _, gone = kits.kit()
    abandon_sample(kits.sessions, kits.actor("staff"), gone, reason="declined", at=kits.LATER)
    kits.kit("IT-MI")  # another site's kit is on none of IT-TO's lists

    early = _lists(kits, date(2025, 4, 1))
    assert (early.site, early.on, early.result_expected_weeks) == ("IT-TO", date(2025, 4, 1), 12)
    assert _ids(early.to_send) == [to_send]
    assert _ids(early.overdue) == []
    assert _ids(early.recollections_due) == [recollection]
    assert early.recollections_due[0].replaces == failed
    assert _ids(early.not_collected) == [waiting]
    assert early.not_collected[0].study_id == waiting_woman
    assert early.to_send[0].study_id == to_send_woman
    # 10 March + 84 days = 2 June: due that day, overdue from the next
    due = date(2025, 3, 10) + timedelta(days=7 * WEEKS)
    assert due == date(2025, 6, 2)
    assert early.to_send[0].result_due == due
    assert _ids(_lists(kits, due).overdue) == []
    assert _ids(_lists(kits, due + timedelta(days=1)).overdue) == [to_send]
    # the shipped kit (collected 11 March) follows a day later; the box does not stop the clock
    late = _lists(kits, date(2025, 6, 4))
    assert _ids(late.overdue) == [to_send, in_box]
    assert late.overdue[1].shipment == "IT-TO-S0001"
    assert _ids(late.to_send) == [to_send]  # still to send: on both lists


def test_a_kit_with_a_result_is_never_overdue(kits) -> None:
    _, kit_id = kits.collected(on=date(2025, 3, 10))
    kits.set_state(kit_id, "genotyped")
    lists = _lists(kits, date(2026, 1, 1))
    assert _ids(lists.overdue) == _ids(lists.to_send) == []


def test_worklists_only_for_a_site_in_scope_and_never_for_the_laboratory(kits) -> None:
    with pytest.raises(NotFound, match="in your sites"):
        _lists(kits, date(2025, 4, 1), actor="staff_fr")
    for role in ("laboratory", "statistician", "administrator"):
        with pytest.raises(PermissionDenied):
            _lists(kits, date(2025, 4, 1), actor=role)
    assert _lists(kits, date(2025, 4, 1), actor="monitor").site == "IT-TO"


def _rows(manifest) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(manifest.content.decode("utf-8"))))


def test_the_manifest_of_a_box_lists_kit_collection_day_box_and_site_only(kits) -> None:
    women = [kits.collected("FR-PA", on=date(2025, 3, 10 + i)) for i in range(3)]
    boxed = sorted([women[0][1], women[1][1]])
    box = ship_samples(kits.sessions, kits.actor("staff_fr"), kits.STUDY, "FR-PA", boxed,
                       date(2025, 3, 20), at=kits.LATER).reference  # fmt: skip
    manifest = kit_manifest(kits.sessions, kits.actor("laboratory"), kits.STUDY, "FR-PA",
                            shipment=box)  # fmt: skip
    text = manifest.content.decode("utf-8")
    assert text.splitlines()[0] == "kit_id,collected_on,shipment,site"
    collected = {kit: f"2025-03-{10 + i}" for i, (_, kit) in enumerate(women)}
    assert _rows(manifest) == [
        {"kit_id": kit, "collected_on": collected[kit], "shipment": "FR-PA-S0001",
         "site": "FR-PA"} for kit in boxed
    ]  # fmt: skip
    assert all(study_id not in text for study_id, _ in women)
    assert (manifest.n_kits, manifest.shipment, manifest.file_name) == (
        2, "FR-PA-S0001", "FR-PA-S0001-manifest.csv")  # fmt: skip
    assert manifest.media_type.startswith("text/csv")

    packing = kit_manifest(kits.sessions, kits.actor("staff_fr"), kits.STUDY, "FR-PA")
    assert _rows(packing) == [{"kit_id": women[2][1], "collected_on": "2025-03-12",
                               "shipment": "", "site": "FR-PA"}]  # fmt: skip
    assert packing.file_name == "FR-PA-to-send-manifest.csv"


def test_a_manifest_only_of_a_site_in_scope_and_its_own_boxes(kits) -> None:
    kit_id = kits.collected("FR-PA")[1]
    box = ship_samples(kits.sessions, kits.actor("staff_fr"), kits.STUDY, "FR-PA", [kit_id],
                       date(2025, 3, 20), at=kits.LATER).reference  # fmt: skip
    with pytest.raises(NotFound, match="in your sites"):
        kit_manifest(kits.sessions, kits.actor("staff"), kits.STUDY, "FR-PA", shipment=box)
    with pytest.raises(NotFound, match="has no shipment"):
        kit_manifest(kits.sessions, kits.actor("data_manager"), kits.STUDY, "IT-TO",
                     shipment=box)  # fmt: skip
    with pytest.raises(PermissionDenied):
        kit_manifest(kits.sessions, kits.actor("statistician"), kits.STUDY, "FR-PA")
    empty = kit_manifest(kits.sessions, kits.actor("staff"), kits.STUDY, "IT-TO")
    assert empty.content.decode() == "kit_id,collected_on,shipment,site\n"
    assert empty.n_kits == 0
