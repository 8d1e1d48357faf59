"""Allocation: gated, next slot in list order, idempotent, strata locked, exhaustion, overrides."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import select

from pebs.services.errors import (
    AllocationRefused,
    Conflict,
    InvalidInput,
    PermissionDenied,
    StratumExhausted,
)
from pebs.services.trial import allocate, mark_slot_unusable, override_allocation
from pebs.store.models import Allocation, AllocationSlot, Participant
from pebs.trial import generate_list, load_study

STRATUM = "IT-TO:50-59"


def _allocate(trial, study_id, actor=None, **kwargs):
    return allocate(trial.sessions, actor or trial.staff, trial.keys, study_id, at=trial.AT,
                    **kwargs)  # fmt: skip


def _arms(seed: int, n: int) -> list[str]:
    design = load_study("mypebs-demo").design
    return list(generate_list({STRATUM: n}, seed, design).stratum(STRATUM).arms[:n])


def test_the_gate_lists_every_unmet_condition_and_writes_nothing(trial) -> None:
    trial.lists([STRATUM])
    study_id = trial.register()
    before = trial.db.rows()
    with pytest.raises(AllocationRefused) as refused:
        _allocate(trial, study_id)
    assert refused.value.reasons == (
        "pathway state is 'registered'; randomisation needs 'consented'",
        "not eligible under the protocol in force",
        "no consent is recorded",
    )
    assert trial.db.rows() == before


def test_an_eligibility_under_an_older_protocol_must_be_renewed(trial) -> None:
    trial.lists([STRATUM])
    study_id = trial.consented()  # assessed under 2.0 on 2025-03-03
    renew = r"assessed under protocol 2\.0, but protocol 1\.0 is in force on 2020-01-01"
    with pytest.raises(AllocationRefused, match=renew):
        _allocate(trial, study_id, on_date=date(2020, 1, 1))


def test_allocation_takes_the_next_slot_in_list_order_and_locks_the_strata(trial) -> None:
    trial.lists([STRATUM], slots=6, seed=77)
    women = [trial.consented() for _ in range(4)]
    results = [_allocate(trial, w) for w in women]
    assert [r.arm for r in results] == _arms(77, 4)
    assert all(r.created and r.method == "list" and r.stratum == STRATUM for r in results)
    with trial.sessions() as session:
        positions = session.execute(
            select(Participant.study_id, AllocationSlot.position)
            .join(AllocationSlot, AllocationSlot.used_by_participant_id == Participant.id)
            .order_by(AllocationSlot.position)
        ).all()
        assert positions == [(w, i + 1) for i, w in enumerate(women)]
        woman = session.scalar(select(Participant).where(Participant.study_id == women[0]))
        assert woman.is_locked
        assert woman.stratum == STRATUM
        assert woman.strata == {"site": "IT-TO", "age_band": "50-59", "age": 52}
        assert woman.status == f"randomised_{results[0].arm.replace('-', '_')}"
    event = trial.db.events()[-1]
    assert (event.action, event.entity) == ("allocate", "allocation")
    assert event.new["arm"] == results[-1].arm
    assert event.new["stratum"] == STRATUM
    assert "position" not in event.new
    assert "block_size" not in event.new


def test_repeating_a_request_returns_the_same_allocation_and_writes_nothing(trial) -> None:
    trial.lists([STRATUM])
    study_id = trial.consented()
    first = _allocate(trial, study_id)
    before = trial.db.rows()
    again = _allocate(trial, study_id, actor=trial.actor("data_manager"))
    assert (again.arm, again.allocated_at, again.created) == (first.arm, first.allocated_at, False)
    assert trial.db.rows() == before


def test_an_exhausted_stratum_is_a_clear_error_never_a_fallback(trial) -> None:
    generated = trial.lists([STRATUM], slots=2, seed=3)
    trial.lists(["IT-TO:40-49"], slots=20, seed=4)  # another stratum is no fallback
    women = [trial.consented() for _ in range(generated.n_slots + 1)]
    for woman in women[:-1]:
        _allocate(trial, woman)
    before = trial.db.rows()
    with pytest.raises(StratumExhausted, match=f"stratum {STRATUM} has no unused slot") as seen:
        _allocate(trial, women[-1])
    assert seen.value.stratum == STRATUM
    assert trial.db.rows() == before
    trial.lists([STRATUM], slots=2, seed=5)  # an extension list
    assert _allocate(trial, women[-1]).created


def test_test_participants_draw_only_from_test_lists(trial) -> None:
    trial.lists([STRATUM], slots=2, seed=10, is_test=True)
    real = trial.consented()
    with pytest.raises(StratumExhausted, match="allocation lists"):
        _allocate(trial, real)
    test_woman = trial.consented(is_test=True)
    assert _allocate(trial, test_woman).created


def test_concurrent_requests_never_share_a_slot(trial) -> None:
    trial.lists([STRATUM], slots=12, seed=42)
    women = [trial.consented() for _ in range(8)]
    requests = women + women[:4]  # four women asked for twice, at the same time
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda w: _allocate(trial, w), requests))
    by_woman = {r.study_id: r.arm for r in results if r.created}
    assert sorted(by_woman) == sorted(women)
    assert all(by_woman[r.study_id] == r.arm for r in results)
    with trial.sessions() as session:
        used = session.scalars(
            select(AllocationSlot.position)
            .where(AllocationSlot.used_by_participant_id.is_not(None))
            .order_by(AllocationSlot.position)
        ).all()
        assert used == list(range(1, 9))
        assert len(session.scalars(select(Allocation.id)).all()) == 8
    assert sorted(by_woman.values()) == sorted(_arms(42, 8))
    assert trial.db.chain_ok()


def test_an_override_needs_the_role_a_reason_and_confirmation(trial) -> None:
    study_id = trial.consented()
    manager = trial.actor("data_manager")

    def override(actor=manager, **kwargs):
        args = {"arm": "risk-based", "reason": "list unavailable", "confirm": True, **kwargs}
        return override_allocation(trial.sessions, actor, trial.keys, study_id, at=trial.AT,
                                   **args)  # fmt: skip

    before = trial.db.rows()
    with pytest.raises(PermissionDenied, match="may not override"):
        override(actor=trial.staff)
    with pytest.raises(InvalidInput, match="confirmed explicitly"):
        override(confirm=False)
    with pytest.raises(InvalidInput, match="needs a reason"):
        override(reason=" ")
    with pytest.raises(InvalidInput, match="has no arm 'placebo'"):
        override(arm="placebo")
    assert trial.db.rows() == before

    made = override()
    assert (made.arm, made.method, made.stratum) == ("risk-based", "override", STRATUM)
    event = trial.db.events()[-1]
    assert (event.action, event.reason) == ("override", "list unavailable")
    assert event.old == {"status": "consented", "arm": None}
    assert _allocate(trial, study_id).arm == "risk-based"  # idempotent afterwards

    corrected = override(arm="standard", reason="wrong arm entered")
    assert corrected.arm == "standard"
    assert trial.db.events()[-1].old["arm"] == "risk-based"
    with trial.sessions() as session:
        assert session.scalar(select(Participant.status)) == "randomised_standard"


def test_an_unusable_slot_is_skipped(trial) -> None:
    trial.lists([STRATUM], slots=6, seed=77)
    with trial.sessions() as session:
        first = session.scalar(select(AllocationSlot).where(AllocationSlot.position == 1))
    with pytest.raises(PermissionDenied):
        mark_slot_unusable(trial.sessions, trial.actor("data_manager"), first.id, reason="seen",
                           confirm=True)  # fmt: skip
    marked = mark_slot_unusable(trial.sessions, trial.actor("statistician"), first.id,
                                reason="printed by mistake", confirm=True)  # fmt: skip
    assert marked.slot_id == first.id
    with pytest.raises(Conflict, match="already unusable"):
        mark_slot_unusable(trial.sessions, trial.actor("statistician"), first.id, reason="x",
                           confirm=True)  # fmt: skip
    result = _allocate(trial, trial.consented())
    assert result.arm == _arms(77, 2)[1]
