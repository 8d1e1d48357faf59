"""Listing a study's shipments: newest first (by the day the box left), a page at a time, each
with its site, days and number of kits; scoped as kits are (site roles their site, coordinators
their country, central roles and the laboratory every site)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pebs.services.errors import InvalidInput, NotFound, PermissionDenied
from pebs.services.samples import list_shipments, receive_shipment, ship_samples

ARRIVED = datetime(2025, 3, 28, 9, 30, tzinfo=UTC)


def _boxes(kits) -> dict[str, tuple[str, date, int]]:
    """Five boxes at three sites (two in Italy, one in France), sent on days given out of
    order: reference -> (site, shipped on, kits in it)."""
    plan = [("IT-TO", date(2025, 3, 20), 2), ("FR-PA", date(2025, 3, 25), 1),
            ("IT-MI", date(2025, 3, 18), 1), ("IT-TO", date(2025, 3, 25), 3),
            ("IT-TO", date(2025, 3, 12), 1)]  # fmt: skip
    boxes = {}
    for site, day, n in plan:
        kit_ids = [kits.collected(site)[1] for _ in range(n)]
        box = ship_samples(kits.sessions, kits.actor("data_manager"), kits.STUDY, site, kit_ids,
                           day, at=kits.LATER)  # fmt: skip
        boxes[box.reference] = (site, day, n)
    return boxes


def _all_pages(kits, actor: str, limit: int, **options) -> list[list[str]]:
    pages, after = [], None
    while True:
        page = list_shipments(kits.sessions, kits.actor(actor), kits.STUDY, limit=limit,
                              after=after, **options)  # fmt: skip
        pages.append([row.reference for row in page.rows])
        after = page.next_after
        if after is None:
            return pages


def test_newest_first_a_page_at_a_time_with_the_kits_counted(kits) -> None:
    boxes = _boxes(kits)
    assert set(boxes) == {"IT-TO-S0001", "FR-PA-S0001", "IT-MI-S0001", "IT-TO-S0002",
                          "IT-TO-S0003"}  # fmt: skip
    receive_shipment(kits.sessions, kits.actor("laboratory"), "IT-TO-S0001",
                     received_at=ARRIVED, at=kits.LATER)  # fmt: skip
    page = list_shipments(kits.sessions, kits.actor("data_manager"), kits.STUDY)
    # 25 March twice (the later recorded first), then 20, 18 and 12 March
    newest_first = ["IT-TO-S0002", "FR-PA-S0001", "IT-TO-S0001", "IT-MI-S0001", "IT-TO-S0003"]
    assert [row.reference for row in page.rows] == newest_first
    assert page.next_after is None
    assert (page.study, page.site) == (kits.STUDY, None)
    for row in page.rows:
        assert (row.site, row.shipped_on, row.n_kits) == boxes[row.reference]
        assert row.received_at == (ARRIVED if row.reference == "IT-TO-S0001" else None)
    assert _all_pages(kits, "data_manager", 2) == [newest_first[:2], newest_first[2:4],
                                                   newest_first[4:]]  # fmt: skip
    assert _all_pages(kits, "data_manager", 5) == [newest_first, []]  # a full last page
    second = list_shipments(kits.sessions, kits.actor("data_manager"), kits.STUDY, limit=2,
                            after=newest_first[1])  # fmt: skip
    assert (page.total, len(second.rows), second.total) == (5, 2, 5)  # every page: all five
    open_boxes = [r for r in newest_first if r != "IT-TO-S0001"]
    waiting = list_shipments(kits.sessions, kits.actor("laboratory"), kits.STUDY, limit=3,
                             open_only=True)  # fmt: skip
    assert (len(waiting.rows), waiting.total) == (3, 4)  # received boxes not counted
    assert _all_pages(kits, "laboratory", 3, open_only=True) == [open_boxes[:3], open_boxes[3:]]
    one_site = list_shipments(kits.sessions, kits.actor("monitor"), kits.STUDY, "IT-TO")
    assert (one_site.site, one_site.total) == ("IT-TO", 3)
    assert [r.reference for r in one_site.rows] == ["IT-TO-S0002", "IT-TO-S0001", "IT-TO-S0003"]


@pytest.mark.parametrize(
    ("role", "sites"),
    [("staff", {"IT-TO"}), ("investigator", {"IT-TO"}), ("staff_fr", {"FR-PA"}),
     ("coordinator", {"IT-TO", "IT-MI"}), ("data_manager", {"IT-TO", "IT-MI", "FR-PA"}),
     ("monitor", {"IT-TO", "IT-MI", "FR-PA"}), ("laboratory", {"IT-TO", "IT-MI", "FR-PA"})],
)  # fmt: skip
def test_each_role_lists_the_shipments_of_its_sites(kits, role: str, sites: set[str]) -> None:
    boxes = _boxes(kits)
    page = list_shipments(kits.sessions, kits.actor(role), kits.STUDY)
    assert {row.reference for row in page.rows} == {r for r, b in boxes.items() if b[0] in sites}
    for site in ("IT-TO", "IT-MI", "FR-PA"):
        if site in sites:
            found = list_shipments(kits.sessions, kits.actor(role), kits.STUDY, site)
            assert {row.site for row in found.rows} == {site}
        else:
            with pytest.raises(NotFound, match=site):
                list_shipments(kits.sessions, kits.actor(role), kits.STUDY, site)


def test_who_may_not_list_and_what_is_refused(kits) -> None:
    _boxes(kits)
    for role in ("statistician", "administrator"):
        with pytest.raises(PermissionDenied):
            list_shipments(kits.sessions, kits.actor(role), kits.STUDY)
    staff = kits.actor("staff")
    with pytest.raises(NotFound, match="no-such-study"):
        list_shipments(kits.sessions, staff, "no-such-study")
    # a shipment of another site is no cursor of her list: refused as one that does not exist
    messages = set()
    for after in ("FR-PA-S0001", "IT-TO-S0099"):
        with pytest.raises(InvalidInput) as refused:
            list_shipments(kits.sessions, staff, kits.STUDY, after=after)
        assert refused.value.field == "after"
        messages.add(str(refused.value).replace(after, "REF"))
    assert len(messages) == 1
    for limit in (0, 501, True):
        with pytest.raises(InvalidInput) as refused:
            list_shipments(kits.sessions, staff, kits.STUDY, limit=limit)
        assert refused.value.field == "limit"
    typed = list_shipments(kits.sessions, staff, kits.STUDY, after=" it-to-s0002 ")
    assert [row.reference for row in typed.rows] == ["IT-TO-S0001", "IT-TO-S0003"]
