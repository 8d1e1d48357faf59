"""The invariant checker of these tests finds what it guards against (a checker that always
passes would make every concurrency test pass)."""

from __future__ import annotations

import trial_harness as harness
from sqlalchemy import select, update

from pebs.store.models import Allocation, AllocationSlot, Participant


def test_the_checker_reports_a_gap_a_foreign_slot_and_a_partial_participant(trial_db) -> None:
    trial_db.lists(["IT-TO:50-59"], 6)
    women = [trial_db.pathway.enrol(job) for job in harness.jobs(["IT-TO"], ["50-59"], 2, "CHK")]
    assert all(o.created for o in women)
    assert trial_db.report().problems == []
    with trial_db.sessions.begin() as session:  # behind the services' back
        second = session.scalar(
            select(Participant.id).where(Participant.study_id == women[1].study_id)
        )
        slot_2, slot_4 = (
            session.scalar(select(AllocationSlot.id).where(AllocationSlot.position == position))
            for position in (2, 4)
        )
        session.execute(
            update(AllocationSlot)
            .where(AllocationSlot.id == slot_2)
            .values(used_by_participant_id=None, used_at=None)
        )
        session.execute(
            update(AllocationSlot)
            .where(AllocationSlot.id == slot_4)
            .values(used_by_participant_id=second, used_at=harness.AT)
        )
        session.execute(
            update(Allocation)
            .where(Allocation.participant_id == second)
            .values(allocation_slot_id=slot_4)
        )
        site_id = session.scalar(select(Participant.site_id).limit(1))
        session.add(
            Participant(
                study_id="IT-TO-000099", site_id=site_id, age_at_entry=52, registered_at=harness.AT
            )
        )
    problems = "\n".join(trial_db.report().problems)
    assert "stratum IT-TO:50-59: 2 used slots are not the first 2" in problems
    assert "IT-TO-000099 has no identity record" in problems
    assert "IT-TO-000099 has 0 register events" in problems
    assert "sequence 99 above the site counter" in problems
