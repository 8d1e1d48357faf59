"""Allocation lists: statistician only, stored with seed, algorithm and SHA-256, reproducible."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pebs.services.errors import Conflict, InvalidInput, PermissionDenied
from pebs.services.trial import generate_allocation_list, verify_allocation_list
from pebs.store.models import AllocationList, AllocationSlot
from pebs.trial import ALGORITHM, ALGORITHM_VERSION, generate_list, load_study


def test_a_list_is_stored_with_everything_that_regenerates_it(trial) -> None:
    generated = trial.lists(["IT-TO:50-59", "FR-PA:40-49"], slots=10, seed=2024)
    expected = generate_list({"IT-TO:50-59": 10, "FR-PA:40-49": 10}, 2024,
                             load_study(trial.STUDY).design)  # fmt: skip
    assert generated.sha256 == expected.sha256
    assert (generated.algorithm, generated.algorithm_version) == (ALGORITHM, ALGORITHM_VERSION)
    assert (generated.version, generated.n_strata, generated.is_test) == (1, 2, False)
    with trial.sessions() as session:
        row = session.get(AllocationList, generated.list_id)
        assert (row.seed, row.sha256, row.n_slots) == ("2024", expected.sha256, generated.n_slots)
        assert row.parameters["design"]["block_sizes"] == [2, 4, 6]
        slots = session.execute(
            select(AllocationSlot.stratum, AllocationSlot.position, AllocationSlot.arm).order_by(
                AllocationSlot.stratum, AllocationSlot.position
            )
        ).all()
    stored = {(s, p, a) for s, p, a in slots}
    assert stored == {
        (stratum.stratum, slot.position, slot.arm)
        for stratum in expected.strata
        for slot in stratum.slots
    }
    verification = verify_allocation_list(trial.sessions, trial.actor("statistician"),
                                          generated.list_id, 2024)  # fmt: skip
    assert verification.matches
    assert not verify_allocation_list(trial.sessions, trial.actor("statistician"),
                                      generated.list_id, 2025).matches  # fmt: skip


def test_the_audit_event_records_the_hash_but_not_the_seed(trial) -> None:
    generated = trial.lists(["IT-TO:50-59"], seed=987654321)
    event = trial.db.events()[-1]
    assert (event.action, event.entity, event.actor) == ("generate", "allocation_list",
                                                        "demo-statistician")  # fmt: skip
    assert event.new["sha256"] == generated.sha256
    assert "987654321" not in repr(event.new)


def test_a_fresh_seed_is_drawn_when_none_is_given(trial) -> None:
    generated = generate_allocation_list(trial.sessions, trial.actor("statistician"), trial.STUDY,
                                         slots_per_stratum=2, strata=["IT-TO:40-49"])  # fmt: skip
    assert generated.seed.bit_length() > 64


def test_every_stratum_of_the_study_by_default(trial) -> None:
    generated = generate_allocation_list(trial.sessions, trial.actor("statistician"), trial.STUDY,
                                         slots_per_stratum=2, seed=5)  # fmt: skip
    assert generated.n_strata == len(load_study(trial.STUDY).strata_labels()) == 48


def test_test_lists_are_numbered_apart_and_seeds_never_reused(trial) -> None:
    assert trial.lists(["IT-TO:50-59"], seed=1).version == 1
    assert trial.lists(["IT-TO:50-59"], seed=2, is_test=True).version == 1
    assert trial.lists(["IT-TO:50-59"], seed=3).version == 2
    before = trial.db.rows()
    with pytest.raises(Conflict, match="seed was already used"):
        trial.lists(["IT-TO:60-70"], seed=2)
    with pytest.raises(InvalidInput, match="unknown stratum 'IT-XX:50-59'"):
        trial.lists(["IT-XX:50-59"], seed=9)
    assert trial.db.rows() == before


def test_only_the_statistician_generates_or_verifies_lists(trial, subtests) -> None:
    for role in ("staff", "investigator", "data_manager", "monitor"):
        with subtests.test(role=role):
            with pytest.raises(PermissionDenied, match="may not generate or verify an allocation"):
                generate_allocation_list(trial.sessions, trial.actor(role), trial.STUDY,
                                         slots_per_stratum=2, seed=1)  # fmt: skip
            with pytest.raises(PermissionDenied):
                verify_allocation_list(trial.sessions, trial.actor(role), 1, 1)
