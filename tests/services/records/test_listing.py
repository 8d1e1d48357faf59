"""The participant list: each caller's scope, the filters, the search, the keyset pages and the
count of every page, on women registered through the use cases (so the expected rows are known
from how they were made, not from the list)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from factories import DEMO_ACCOUNTS, DemoDatabase, demo_database
from pebs.services.actor import Actor, actor_for
from pebs.services.errors import InvalidInput, NotFound, PermissionDenied
from pebs.services.records import ParticipantPage, list_participants

WOMEN = (
    ("IT-TO", "registered"), ("IT-TO", "consented"), ("IT-TO", "standard"),
    ("IT-TO", "risk-based"), ("IT-MI", "registered"), ("IT-MI", "standard"),
    ("FR-PA", "consented"), ("FR-PA", "risk-based"), ("UK-MA", "registered"),
)  # fmt: skip
"""(site, state) of each woman, in registration order."""


@pytest.fixture
def made(empty_url: str) -> Iterator[tuple[DemoDatabase, list[tuple]]]:
    """The demo database with :data:`WOMEN`: (database, [(study ID, site, state)])."""
    db = demo_database(empty_url, slots_per_stratum=4)
    women = [(db.participant(site, state), site, state) for site, state in WOMEN]
    yield db, women
    db.close()


def _actor(db: DemoDatabase, role: str) -> Actor:
    return actor_for(db.sessions, DEMO_ACCOUNTS[role])


def _ids(page: ParticipantPage) -> list[str]:
    return [row.study_id for row in page.rows]


def _all_pages(db: DemoDatabase, actor: Actor, limit: int, **filters: object) -> list[str]:
    seen, after = [], 0
    while True:
        page = list_participants(db.sessions, actor, limit=limit, after=after, **filters)
        seen += _ids(page)
        if page.next_after is None:
            return seen
        after = page.next_after


def test_each_role_sees_its_scope_in_registration_order(made: tuple) -> None:
    db, women = made
    everyone = [w[0] for w in women]
    italy = [w[0] for w in women if w[1].startswith("IT-")]
    turin = [w[0] for w in women if w[1] == "IT-TO"]
    for role, expected in (("data_manager", everyone), ("country_coordinator", italy),
                           ("site_staff", turin), ("data_manager", everyone)):  # fmt: skip
        page = list_participants(db.sessions, _actor(db, role))
        assert (_ids(page), page.total, page.next_after) == (expected, len(expected), None), role


def test_a_row_carries_site_country_status_and_arm(made: tuple) -> None:
    db, women = made
    rows = {r.study_id: r for r in list_participants(db.sessions, _actor(db, "data_manager")).rows}
    for study_id, site, state in women:
        row = rows[study_id]
        arm = state if state in ("standard", "risk-based") else None
        assert (row.site, row.country, row.arm, row.is_test) == (site, site[:2], arm, False)
        assert row.study_id.startswith(f"{site}-")
        assert row.registered_at.tzinfo is not None
        assert row.status == {"standard": "randomised_standard",
                              "risk-based": "randomised_risk_based"}.get(state, state)  # fmt: skip


def test_pages_follow_one_another_without_gap_or_repeat(made: tuple) -> None:
    db, women = made
    manager = _actor(db, "data_manager")
    assert _all_pages(db, manager, 2) == [w[0] for w in women]
    first = list_participants(db.sessions, manager, limit=4)
    assert (len(first.rows), first.total) == (4, len(women))  # the count is of every page
    second = list_participants(db.sessions, manager, limit=4, after=first.next_after)
    assert (_ids(second), second.total) == ([w[0] for w in women[4:8]], len(women))


FILTERS = [
        ("data_manager", {"site": "FR-PA"}, lambda s, st: s == "FR-PA"),
        ("data_manager", {"status": "consented"}, lambda s, st: st == "consented"),
        ("data_manager", {"arm": "standard"}, lambda s, st: st == "standard"),
        ("data_manager", {"arm": "risk-based", "site": "IT-TO"},
         lambda s, st: st == "risk-based" and s == "IT-TO"),
        ("country_coordinator", {"arm": "standard"},
         lambda s, st: st == "standard" and s.startswith("IT-")),
        ("site_staff", {"status": "registered"}, lambda s, st: st == "registered" and s == "IT-TO"),
        ("country_coordinator", {"site": "IT-MI"}, lambda s, st: s == "IT-MI"),
]  # fmt: skip
"""(role, filters, which (site, state) the filters keep)."""


def test_filters_narrow_the_rows_and_the_count(made: tuple) -> None:
    db, women = made
    for role, filters, expected in FILTERS:
        wanted = [w[0] for w in women if expected(w[1], w[2])]
        page = list_participants(db.sessions, _actor(db, role), **filters)
        assert (_ids(page), page.total) == (wanted, len(wanted)), (role, filters)
        assert _all_pages(db, _actor(db, role), 1, **filters) == wanted, (role, filters)


def test_the_search_matches_part_of_the_study_id_and_no_wildcard(made: tuple) -> None:
    db, women = made
    manager = _actor(db, "data_manager")
    milan = [w[0] for w in women if w[1] == "IT-MI"]
    page = list_participants(db.sessions, manager, search=" it-mi ")  # trimmed, any case
    assert (_ids(page), page.total) == (milan, 2)
    one = women[3][0]
    assert _ids(list_participants(db.sessions, manager, search=one)) == [one]
    for wildcard in ("%", "_", "IT_TO", "\\"):  # study IDs have none of these characters
        page = list_participants(db.sessions, manager, search=wildcard)
        assert (_ids(page), page.total) == ([], 0), wildcard
    staff = list_participants(db.sessions, _actor(db, "site_staff"), search="IT-MI")
    assert (_ids(staff), staff.total) == ([], 0)  # Milan is outside her scope


def test_a_site_outside_the_scope_or_unknown_is_not_found(made: tuple) -> None:
    db, _ = made
    for role, site in (("site_staff", "IT-MI"), ("country_coordinator", "FR-PA"),
                       ("data_manager", "XX-NO")):  # fmt: skip
        with pytest.raises(NotFound, match=site):
            list_participants(db.sessions, _actor(db, role), site=site)


def test_bad_values_are_refused_by_field_and_roles_without_access_denied(made: tuple) -> None:
    db, _ = made
    manager = _actor(db, "data_manager")
    for kwargs, field in (({"status": "lost"}, "status"), ({"arm": "both"}, "arm"),
                          ({"limit": 0}, "limit"), ({"limit": 501}, "limit"),
                          ({"limit": True}, "limit")):  # fmt: skip
        with pytest.raises(InvalidInput) as refused:
            list_participants(db.sessions, manager, **kwargs)
        assert refused.value.field == field
    with pytest.raises(PermissionDenied):
        list_participants(db.sessions, _actor(db, "laboratory"))
