"""Repositories: scoping by site/country, paging, worklists, allocation-list helpers."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.store import randomisation
from pebs.store import repositories as repo
from pebs.store.models import (
    AllocationList,
    AllocationSlot,
    Consent,
    ConsentDocument,
    EligibilityAssessment,
    Participant,
    ProtocolVersion,
    User,
    Visit,
)
from pebs.store.participant_lookup import Projection, participant_in_scope, participants_in_scope

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def people(session_maker: sessionmaker[Session], world: Any, add_participant: Any) -> Any:
    """Three participants at Grenoble, two at Paris (France), two at Milano (Italy)."""
    with session_maker.begin() as session:
        for site, prefix, n in (
            (world.fr_gr, "FR-GR", 3),
            (world.fr_pa, "FR-PA", 2),
            (world.it_mi, "IT-MI", 2),
        ):
            for i in range(1, n + 1):
                add_participant(session, site, f"{prefix}-{i:06d}")
    return world


def _study_ids(participants: list[Any]) -> list[str]:
    return [p.study_id for p in participants]


def test_scope_of_each_role(session_maker: sessionmaker[Session], people: Any) -> None:
    with session_maker() as session:
        staff = session.get(User, people.staff_gr)
        coordinator = session.get(User, people.coordinator_fr)
        manager = session.get(User, people.data_manager)
        seen = {
            name: _study_ids(repo.list_participants(session, repo.Scope.of_user(user)))
            for name, user in (("staff", staff), ("coordinator", coordinator), ("manager", manager))
        }
        assert seen["staff"] == ["FR-GR-000001", "FR-GR-000002", "FR-GR-000003"]
        assert seen["coordinator"] == seen["staff"] + ["FR-PA-000001", "FR-PA-000002"]
        assert seen["manager"] == seen["coordinator"] + ["IT-MI-000001", "IT-MI-000002"]
        staff.is_active = False
        assert repo.list_participants(session, repo.Scope.of_user(staff)) == []
        assert len(repo.list_participants(session, repo.Scope.of_user(coordinator))) == 5
        everyone = repo.Scope.everything()
        assert len(repo.list_participants(session, everyone, site_id=people.it_mi)) == 2


def _participant(session: Session, study_id: str) -> Participant:
    return session.scalars(select(Participant).where(Participant.study_id == study_id)).one()


def test_out_of_scope_participant_is_not_found(
    session_maker: sessionmaker[Session], people: Any
) -> None:
    with session_maker() as session:
        grenoble, france = repo.Scope.for_sites(people.fr_gr), repo.Scope.for_countries(people.fr)
        for projection in Projection:

            def found(
                scope: repo.Scope, study_id: str, projection: Projection = projection
            ) -> bool:
                row = participant_in_scope(session, scope, study_id, projection=projection)
                return row is not None

            assert found(grenoble, "FR-GR-000002")
            assert not found(grenoble, "FR-PA-000001")
            assert found(france, "FR-PA-000001")
            assert not found(france, "IT-MI-000001")
            assert not found(repo.Scope.nothing(), "FR-GR-000001")
        # asking for another site explicitly does not widen the scope
        assert repo.list_participants(session, grenoble, site_id=people.it_mi) == []


def test_a_list_of_study_ids_is_matched_value_for_value(
    session_maker: sessionmaker[Session], people: Any
) -> None:
    """The list's IDs are written into the statement: quotes, backslashes and SQL in an ID are
    part of the value looked up (no stored ID has them), never of the statement."""
    odd = ["FR-GR-'q'", "FR-GR-\\'", "x') OR ('1'='1", "' OR 1=1 --", "FR-GR-é"]
    everyone = repo.Scope.everything()
    with session_maker() as session:
        for projection in Projection:
            found = participants_in_scope(
                session, everyone, [*odd, "FR-PA-000001", "IT-MI-000002"], projection=projection
            )
            assert sorted(found) == ["FR-PA-000001", "IT-MI-000002"]
            assert participants_in_scope(session, everyone, odd, projection=projection) == {}
        assert session.scalar(select(func.count()).select_from(Participant)) == 7


def test_keyset_paging_visits_every_participant_once(
    session_maker: sessionmaker[Session], people: Any
) -> None:
    pages, after = [], 0
    with session_maker() as session:
        while page := repo.list_participants(
            session, repo.Scope.everything(), after_id=after, limit=3
        ):
            pages.append(_study_ids(page))
            after = page[-1].id
    assert [len(p) for p in pages] == [3, 3, 1]
    assert len({s for p in pages for s in p}) == 7


def _visit(participant_id: int, due: date, *, done: bool = False) -> Visit:
    return Visit(
        participant_id=participant_id,
        visit_type="screening",
        modality="mammography",
        due_date=due,
        window_start=due,
        window_end=due + timedelta(days=90),
        performed_date=due + timedelta(days=3) if done else None,
    )


def test_worklist_due_and_overdue(session_maker: sessionmaker[Session], people: Any) -> None:
    today = date(2025, 6, 1)
    with session_maker.begin() as session:
        gr1 = _participant(session, "FR-GR-000001")
        mi1 = _participant(session, "IT-MI-000001")
        session.add_all(
            [
                _visit(gr1.id, date(2025, 1, 10)),  # overdue (window closed 10 April)
                _visit(gr1.id, date(2025, 5, 20)),  # due
                _visit(gr1.id, date(2025, 5, 1), done=True),  # performed
                _visit(gr1.id, date(2025, 7, 1)),  # not yet open
                _visit(mi1.id, date(2025, 5, 25)),  # due, other country
            ]
        )
    with session_maker() as session:
        grenoble = repo.Scope.for_sites(people.fr_gr)
        due = repo.due_visits(session, grenoble, on=today)
        assert [v.due_date for v in due] == [date(2025, 1, 10), date(2025, 5, 20)]
        overdue = repo.due_visits(session, grenoble, on=today, overdue_only=True)
        assert [v.due_date for v in overdue] == [date(2025, 1, 10)]
        everywhere = repo.due_visits(session, repo.Scope.everything(), on=today)
        assert len(everywhere) == 3
        page1 = repo.due_visits(session, repo.Scope.everything(), on=today, limit=2)
        last = page1[-1]
        page2 = repo.due_visits(
            session, repo.Scope.everything(), on=today, after=(last.due_date, last.id)
        )
        assert [v.id for v in page1 + page2] == [v.id for v in everywhere]
        assert repo.due_visits(session, repo.Scope.everything(), on=today, site_ids=[people.it_mi])[
            0
        ].due_date == date(2025, 5, 25)


def _list(study: int, version: int, creator: int, **values: Any) -> AllocationList:
    return AllocationList(
        study_id=study,
        version=version,
        algorithm="pebs-permuted-blocks-random-size",
        algorithm_version="1",
        seed=str(version),
        parameters={},
        n_slots=1,
        sha256=f"{version % 10}" * 64,
        created_by_id=creator,
        **values,
    )


def _slot(alloc_list: AllocationList, stratum: str, position: int, **values: Any) -> AllocationSlot:
    return AllocationSlot(
        allocation_list=alloc_list,
        stratum=stratum,
        position=position,
        arm="standard" if position % 2 else "risk-based",
        block_number=(position + 1) // 2,
        block_size=2,
        **values,
    )


A, B = "FR-GR:50-59", "FR-GR:60-70"


def test_next_free_slot_follows_version_and_position(
    session_maker: sessionmaker[Session], people: Any
) -> None:
    with session_maker.begin() as session:
        p1 = _participant(session, "FR-GR-000001")
        first = _list(people.study, 1, people.data_manager)
        extension = _list(people.study, 2, people.data_manager, stratum=A)
        training = _list(people.study, 1, people.data_manager, is_test=True)
        session.add_all(
            [
                _slot(first, A, 1, used_by_participant_id=p1.id, used_at=NOW),
                _slot(first, A, 2, unusable_reason="misprinted envelope"),
                _slot(first, A, 3),
                _slot(first, B, 1),
                _slot(extension, A, 1),
                _slot(training, A, 1),
            ]
        )
    with session_maker.begin() as session:
        randomisation.lock_stratum(session, people.study, A)

        def next_free(stratum: str, is_test: bool = False) -> AllocationSlot | None:
            row = randomisation.next_free_slot(session, people.study, stratum, is_test=is_test)
            return None if row is None else session.get(AllocationSlot, row.id)

        slot = next_free(A)
        assert (slot.allocation_list.version, slot.position, slot.arm) == (1, 3, "standard")
        assert randomisation.take_slot(session, slot.id, p1.id + 1, NOW)
        assert not randomisation.take_slot(session, slot.id, p1.id + 2, NOW)  # taken: refused
        session.expire_all()
        slot = next_free(A)
        assert (slot.allocation_list.version, slot.position) == (2, 1)
        assert next_free(B).position == 1
        assert next_free(A, is_test=True).allocation_list.is_test
        assert next_free("IT-MI:40-49") is None


def test_concurrent_allocations_take_slots_in_order_once(
    session_maker: sessionmaker[Session], world: Any, add_participant: Any
) -> None:
    """The pattern for the allocation service: lock the stratum, take the next free slot."""
    n_threads, n_each = 6, 8
    with session_maker.begin() as session:
        ids = [
            add_participant(session, world.fr_gr, f"FR-GR-{i:06d}").id
            for i in range(1, n_threads * n_each + 1)
        ]
        alloc_list = _list(world.study, 1, world.data_manager)
        session.add_all(
            [_slot(alloc_list, A, p) for p in range(1, 31)]  # 30 slots for 36 women: runs out
            + [_slot(alloc_list, B, p) for p in range(1, 100)]
        )
    errors: list[BaseException] = []
    exhausted: list[int] = []
    start = threading.Barrier(n_threads)

    def allocate(mine: list[int]) -> None:
        try:
            start.wait()
            for number, participant_id in enumerate(mine):
                stratum = B if number % 4 == 3 else A
                with session_maker.begin() as session:
                    randomisation.lock_stratum(session, world.study, stratum)
                    slot = randomisation.next_free_slot(session, world.study, stratum)
                    if slot is None:
                        exhausted.append(participant_id)
                        continue
                    assert randomisation.take_slot(session, slot.id, participant_id, NOW)
        except BaseException as error:
            errors.append(error)

    chunks = [ids[i::n_threads] for i in range(n_threads)]
    threads = [threading.Thread(target=allocate, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_maker() as session:
        used = session.execute(
            select(
                AllocationSlot.stratum,
                AllocationSlot.position,
                AllocationSlot.used_by_participant_id,
            )
            .where(AllocationSlot.used_by_participant_id.is_not(None))
            .order_by(AllocationSlot.stratum, AllocationSlot.position)
        ).all()
    by_stratum = {s: [row.position for row in used if row.stratum == s] for s in (A, B)}
    assert by_stratum[A] == list(range(1, 31))  # in list order, no gap, every slot used
    assert by_stratum[B] == list(range(1, len(by_stratum[B]) + 1))
    allocated = [row.used_by_participant_id for row in used]
    assert len(allocated) == len(set(allocated))  # nobody twice
    assert sorted(allocated + exhausted) == ids  # everybody once: a slot, or "exhausted"
    assert len(by_stratum[B]) == n_threads * n_each // 4
    assert len(exhausted) == n_threads * n_each * 3 // 4 - 30


def test_gate_records_latest_eligibility_consent_and_protocol(
    session_maker: sessionmaker[Session], people: Any
) -> None:
    with session_maker.begin() as session:
        p = _participant(session, "FR-GR-000001")
        protocol = ProtocolVersion(
            study_id=people.study,
            version="1",
            effective_from=date(2025, 1, 1),
            eligibility_criteria=[],
        )
        document = ConsentDocument(
            country_id=people.fr,
            language="fr",
            version="1",
            title="C",
            effective_from=date(2025, 1, 1),
        )
        session.add_all([protocol, document])
        session.flush()
        session.add_all(
            [
                EligibilityAssessment(
                    participant_id=p.id,
                    protocol_version_id=protocol.id,
                    answers={},
                    result="screen_failure",
                    reasons=["age"],
                    assessed_at=NOW,
                ),
                EligibilityAssessment(
                    participant_id=p.id,
                    protocol_version_id=protocol.id,
                    answers={},
                    result="eligible",
                    reasons=[],
                    assessed_at=NOW + timedelta(days=1),
                ),
                Consent(
                    participant_id=p.id,
                    consent_document_id=document.id,
                    consented_at=NOW,
                    taken_by_id=people.staff_gr,
                    withdrawal_level="no_further_contact",
                    withdrawn_at=NOW + timedelta(days=2),
                ),
            ]
        )
        participant_id = p.id
    with session_maker() as session:
        eligibility, consented, protocol = randomisation.gate_records(
            session, participant_id, people.study, date(2025, 3, 1)
        )
        assert eligibility.result == "eligible"  # the later of the two assessments
        assert eligibility.protocol_version_id == protocol.id
        assert consented is False  # the only consent was withdrawn
        assert protocol.version == "1"
        _, _, before = randomisation.gate_records(
            session, participant_id, people.study, date(2024, 12, 31)
        )
        assert before is None  # no protocol in force before its effective date
        assert repo.get_allocation(session, participant_id) is None


def test_lookups(session_maker: sessionmaker[Session], people: Any) -> None:
    with session_maker() as session:
        assert repo.get_study(session, "demo").id == people.study
        assert repo.get_study(session, "nope") is None
        assert repo.get_site(session, people.study, "FR-PA").id == people.fr_pa
        assert repo.get_site(session, people.study, "IT-PA") is None
        assert repo.get_user(session, "coord-fr").id == people.coordinator_fr


def test_concurrent_registrations_get_distinct_sequence_numbers(
    session_maker: sessionmaker[Session], world: Any
) -> None:
    numbers: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def register() -> None:
        try:
            start.wait()
            for _ in range(10):
                with session_maker.begin() as session:
                    numbers.append(repo.next_participant_sequence(session, world.fr_gr))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=register) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers) == list(range(1, 61))


def test_registration_site_carries_its_country(
    session_maker: sessionmaker[Session], people: Any
) -> None:
    with session_maker() as session:
        site = repo.registration_site(session, "demo", "IT-MI")
        assert (site.study_pk, site.site_id, site.site_code) == (
            people.study,
            people.it_mi,
            "IT-MI",
        )
        assert (site.country_code, site.languages) == ("IT", ["it"])
        assert repo.registration_site(session, "demo", "IT-PA") is None
        assert repo.registration_site(session, "nope", "IT-MI") is None


def test_set_participant_status_writes_only_her_state(
    session_maker: sessionmaker[Session], people: Any
) -> None:
    with session_maker.begin() as session:
        ids = {p.study_id: p.id for p in session.scalars(select(Participant))}
        repo.set_participant_status(session, ids["FR-GR-000002"], "eligible")
    with session_maker() as session:
        rows = session.execute(select(Participant.study_id, Participant.status)).all()
        changed = {study_id: status for study_id, status in rows if status != "registered"}
    assert changed == {"FR-GR-000002": "eligible"}


def test_several_states_in_one_statement_each_woman_her_last(
    session_maker: sessionmaker[Session], people: Any
) -> None:
    with session_maker.begin() as session:
        ids = {p.study_id: p.id for p in session.scalars(select(Participant))}
        repo.set_participant_statuses(session, [
            (ids["FR-GR-000001"], "eligible"), (ids["IT-MI-000002"], "screen_failure"),
            (ids["FR-GR-000001"], "consented"),  # given twice: her last state
        ])  # fmt: skip
        repo.set_participant_statuses(session, [])
    with session_maker() as session:
        rows = session.execute(select(Participant.study_id, Participant.status)).all()
        changed = {study_id: status for study_id, status in rows if status != "registered"}
    assert changed == {"FR-GR-000001": "consented", "IT-MI-000002": "screen_failure"}
