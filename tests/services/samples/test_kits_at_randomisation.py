"""A kit for every woman randomised to the risk-based arm (the demo study assigns kits at
randomisation), none for the standard arm or when the study assigns kits by hand; kits follow a
manual correction of her arm."""

from __future__ import annotations

from sqlalchemy import select, update

from pebs.services.samples import abandon_sample, assign_kit
from pebs.services.trial import allocate, generate_allocation_list, override_allocation
from pebs.store.models import Study
from pebs.trial import generate_list, load_study

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
STRATUM = "IT-TO:50-59"


def iso7064_mod_37_36_holds(kit_id: str) -> bool:
    """ISO/IEC 7064 hybrid system MOD 37,36, checked as the standard verifies a number: run the
    recurrence over every character *including* the check character; the number is valid when
    the last intermediate sum is 1 (the check character was chosen to make it so)."""
    modulus, product, total = 36, 36, 0
    for character in kit_id.replace("-", ""):
        total = (product + ALPHABET.index(character)) % modulus or modulus
        product = (2 * total) % (modulus + 1)
    return total == 1


def test_the_independent_check_catches_a_typing_error() -> None:
    assert iso7064_mod_37_36_holds("MP-7QX2K9ZDL")  # the kit ID of pebs.trial.samples' example
    assert not iso7064_mod_37_36_holds("MP-7QX2K9ZDM")
    assert not iso7064_mod_37_36_holds("MP-7QX2K9DZL")  # two characters swapped


def test_a_risk_based_woman_gets_a_valid_kit_at_randomisation_and_a_standard_one_none(
    kits,
) -> None:
    generate_allocation_list(kits.sessions, kits.actor("statistician"), kits.STUDY,
                             slots_per_stratum=6, seed=5, strata=[STRATUM], at=kits.AT)  # fmt: skip
    expected_arms = list(
        generate_list({STRATUM: 6}, 5, load_study("mypebs-demo").design).stratum(STRATUM).arms[:4]
    )
    assert set(expected_arms) == {"standard", "risk-based"}  # the seed gives both arms
    women = [kits.woman_consented() for _ in range(4)]
    start = kits.last_event_id()
    results = [
        allocate(kits.sessions, kits.actor("staff"), kits.keys, w, at=kits.AT) for w in women
    ]
    assert [r.arm for r in results] == expected_arms
    for woman, arm, result in zip(women, expected_arms, results, strict=True):
        stored = kits.kits_of(woman)
        if arm == "standard":
            assert result.kit_id is None
            assert stored == []
            continue
        assert [k.kit_id for k in stored] == [result.kit_id]
        assert stored[0].state == "assigned"
        assert stored[0].assigned_at == kits.AT
        prefix, body = result.kit_id.split("-")
        assert prefix == "MP"  # [samples] kit_prefix of the demo study file
        assert len(body) == 9
        assert set(body) <= set(ALPHABET)
        assert iso7064_mod_37_36_holds(result.kit_id)
    kit_events = [e for e in kits.events(start) if e.entity == "sample"]
    assert [e.entity_id for e in kit_events] == [r.kit_id for r in results if r.kit_id]
    assert all(e.action == "kit_assigned" and e.actor == kits.actor("staff").username
               for e in kit_events)  # fmt: skip
    allocations = {e.new["participant"]: e for e in kits.events(start) if e.entity == "allocation"}
    for woman, result in zip(women, results, strict=True):
        assert allocations[woman].new.get("kit_id") == result.kit_id
    assert kits.chain_ok()


def test_a_repeated_randomisation_returns_her_kit_and_assigns_no_other(kits) -> None:
    study_id = kits.woman("risk-based")
    first = kits.kits_of(study_id)
    assert len(first) == 1
    again = allocate(kits.sessions, kits.actor("staff"), kits.keys, study_id, at=kits.LATER)
    assert again.created is False
    assert again.kit_id == first[0].kit_id
    assert len(kits.kits_of(study_id)) == 1


def test_a_study_that_assigns_kits_by_hand_gives_none_at_randomisation(kits) -> None:
    with kits.sessions.begin() as session:
        study = session.scalar(select(Study).where(Study.name == kits.STUDY))
        config = {**study.config, "samples": {"kit_prefix": "HB", "assign_at": "manual",
                                              "result_expected_weeks": 10}}  # fmt: skip
        session.execute(update(Study).where(Study.id == study.id)
                        .values(config=config, config_sha256="e" * 64))  # fmt: skip
    study_id = kits.woman("risk-based")
    assert kits.kits_of(study_id) == []
    assigned = assign_kit(kits.sessions, kits.actor("staff"), study_id, at=kits.LATER)
    assert assigned.kit_id.startswith("HB-")
    assert iso7064_mod_37_36_holds(assigned.kit_id)


def test_a_correction_out_of_the_risk_based_arm_abandons_her_kit_and_back_gives_a_new_one(
    kits,
) -> None:
    study_id = kits.woman("risk-based")
    (kit,) = kits.kits_of(study_id)
    start = kits.last_event_id()
    corrected = override_allocation(
        kits.sessions, kits.actor("data_manager"), kits.keys, study_id, arm="standard",
        reason="entered in the wrong arm", confirm=True, at=kits.LATER,
    )  # fmt: skip
    assert corrected.kit_id is None
    (abandoned,) = kits.kits_of(study_id)
    assert abandoned.state == "abandoned"
    assert abandoned.abandoned_reason == "arm corrected to standard: entered in the wrong arm"
    (event,) = [e for e in kits.events(start) if e.entity == "sample"]
    assert (event.action, event.entity_id, event.old, event.new) == (
        "abandon", kit.kit_id, {"state": "assigned"},
        {"participant": study_id, "state": "abandoned"},
    )  # fmt: skip
    back = override_allocation(
        kits.sessions, kits.actor("data_manager"), kits.keys, study_id, arm="risk-based",
        reason="the first arm was right", confirm=True, at=kits.LATER,
    )  # fmt: skip
    assert back.kit_id is not None
    assert back.kit_id != kit.kit_id
    assert [k.state for k in kits.kits_of(study_id)] == ["abandoned", "assigned"]


def test_a_kit_abandoned_by_hand_is_not_given_back_by_a_repeated_randomisation(kits) -> None:
    study_id, kit_id = kits.kit()
    abandon_sample(kits.sessions, kits.actor("staff"), kit_id, reason="lost in the post",
                   at=kits.LATER)  # fmt: skip
    again = allocate(kits.sessions, kits.actor("staff"), kits.keys, study_id, at=kits.LATER)
    assert again.created is False
    assert again.kit_id is None
