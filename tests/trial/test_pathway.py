"""The participant pathway: every (state, event) pair against the pathway written out by hand,
and the allocation gate."""

from __future__ import annotations

import itertools

import pytest

from pebs.trial import (
    DEFAULT_STRATA,
    WITHDRAWAL_LEVELS,
    AllocationGateError,
    Event,
    State,
    StrataDefinition,
    TransitionError,
    allocation_gate,
    allowed_events,
    is_terminal,
    transition,
)

S, E = State, Event

FLOW = {
    (S.REGISTERED, E.ASSESSED_ELIGIBLE): S.ELIGIBLE,
    (S.REGISTERED, E.ASSESSED_INELIGIBLE): S.SCREEN_FAILURE,
    (S.ELIGIBLE, E.ASSESSED_ELIGIBLE): S.ELIGIBLE,
    (S.ELIGIBLE, E.ASSESSED_INELIGIBLE): S.SCREEN_FAILURE,
    (S.SCREEN_FAILURE, E.ASSESSED_ELIGIBLE): S.ELIGIBLE,
    (S.SCREEN_FAILURE, E.ASSESSED_INELIGIBLE): S.SCREEN_FAILURE,
    (S.ELIGIBLE, E.CONSENT_RECORDED): S.CONSENTED,
    (S.CONSENTED, E.RANDOMISED_STANDARD): S.RANDOMISED_STANDARD,
    (S.CONSENTED, E.RANDOMISED_RISK_BASED): S.RANDOMISED_RISK_BASED,
    (S.RANDOMISED_RISK_BASED, E.RISK_ASSESSED): S.RISK_ASSESSED,
    (S.RISK_ASSESSED, E.PLAN_GIVEN): S.PLAN_GIVEN,
    (S.RANDOMISED_STANDARD, E.FOLLOW_UP_STARTED): S.IN_FOLLOW_UP,
    (S.PLAN_GIVEN, E.FOLLOW_UP_STARTED): S.IN_FOLLOW_UP,
    (S.IN_FOLLOW_UP, E.FOLLOW_UP_COMPLETED): S.COMPLETED,
}
"""The main flow of the pathway (module docstring of pebs.trial.pathway)."""

IN_STUDY = [
    S.REGISTERED, S.ELIGIBLE, S.CONSENTED, S.RANDOMISED_STANDARD, S.RANDOMISED_RISK_BASED,
    S.RISK_ASSESSED, S.PLAN_GIVEN, S.IN_FOLLOW_UP,
]  # fmt: skip
WITHDRAWALS = [  # mildest first
    (E.WITHDREW_NO_CONTACT, S.WITHDRAWN_NO_CONTACT),
    (E.WITHDREW_NO_DATA, S.WITHDRAWN_NO_DATA),
    (E.WITHDREW_DATA_USE, S.WITHDRAWN_DATA_USE),
]


def expected_transitions():
    expected = dict(FLOW)
    for state in [*IN_STUDY, S.SCREEN_FAILURE]:  # withdraw at any level before completion
        for event, after in WITHDRAWALS:
            expected[state, event] = after
    for (_, milder), (event, stricter) in itertools.combinations(WITHDRAWALS, 2):
        expected[milder, event] = stricter  # only ever to a stricter level
    for state in [*IN_STUDY, S.WITHDRAWN_NO_CONTACT]:
        expected[state, E.DIED] = S.DIED
    return expected


EXPECTED = expected_transitions()


@pytest.mark.parametrize(("state", "event"), list(itertools.product(State, Event)))
def test_every_state_event_pair(state, event):
    if (state, event) in EXPECTED:
        assert transition(state, event) is EXPECTED[state, event]
    else:
        with pytest.raises(TransitionError) as info:
            transition(state, event)
        assert f"cannot apply {event.value!r} to a participant in state {state.value!r}" in str(
            info.value
        )


def run(events, state=S.REGISTERED):
    for event in events:
        state = transition(state, event)
    return state


def test_standard_arm_pathway():
    events = [E.ASSESSED_ELIGIBLE, E.CONSENT_RECORDED, E.RANDOMISED_STANDARD,
              E.FOLLOW_UP_STARTED, E.FOLLOW_UP_COMPLETED]  # fmt: skip
    assert run(events) is S.COMPLETED


def test_risk_based_arm_pathway():
    events = [E.ASSESSED_ELIGIBLE, E.CONSENT_RECORDED, E.RANDOMISED_RISK_BASED, E.RISK_ASSESSED,
              E.PLAN_GIVEN, E.FOLLOW_UP_STARTED]  # fmt: skip
    assert run(events) is S.IN_FOLLOW_UP


def test_risk_based_women_cannot_skip_the_risk_assessment():
    with pytest.raises(TransitionError, match="allowed: risk_assessed, withdrew"):
        transition(S.RANDOMISED_RISK_BASED, E.FOLLOW_UP_STARTED)


def test_no_randomisation_without_consent_and_no_second_randomisation():
    with pytest.raises(TransitionError):
        transition(S.ELIGIBLE, E.RANDOMISED_STANDARD)
    with pytest.raises(TransitionError):
        transition(S.RANDOMISED_STANDARD, E.RANDOMISED_RISK_BASED)


def test_withdrawal_escalates_but_never_relaxes():
    state = run([E.ASSESSED_ELIGIBLE, E.CONSENT_RECORDED, E.WITHDREW_NO_CONTACT])
    assert transition(state, E.WITHDREW_DATA_USE) is S.WITHDRAWN_DATA_USE
    with pytest.raises(TransitionError):
        transition(S.WITHDRAWN_NO_DATA, E.WITHDREW_NO_CONTACT)
    assert [e for e, _ in WITHDRAWAL_LEVELS.values()] == [e for e, _ in WITHDRAWALS]


def test_terminal_states():
    terminal = {s for s in State if is_terminal(s)}
    assert terminal == {S.COMPLETED, S.WITHDRAWN_DATA_USE, S.DIED}
    with pytest.raises(TransitionError, match=r"allowed: none \(died is terminal\)"):
        transition(S.DIED, E.DIED)


def test_strings_are_accepted_and_unknown_names_listed():
    assert transition("registered", "assessed_eligible") is S.ELIGIBLE
    assert allowed_events("completed") == ()
    with pytest.raises(TransitionError, match=r"unknown state 'enrolled'; allowed: registered"):
        transition("enrolled", "died")
    with pytest.raises(TransitionError, match=r"unknown event 'randomised'; allowed: assessed"):
        transition("consented", "randomised")


GOOD = {"eligible": True, "consent_recorded": True, "strata": DEFAULT_STRATA, "site": "IT-TO"}


def test_gate_open_gives_the_stratum():
    gate = allocation_gate(S.CONSENTED, age=45, **GOOD)
    assert gate.allowed
    assert gate.reasons == ()
    assert gate.require() == "IT-TO:40-49"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"eligible": False}, "not eligible under the protocol in force"),
        ({"consent_recorded": False}, "no consent is recorded"),
        ({"site": None}, "strata values missing: site"),
        ({"age": 71}, "age 71 is outside the strata age bands"),
        ({"state": S.ELIGIBLE}, "pathway state is 'eligible'; randomisation needs 'consented'"),
        ({"state": S.RANDOMISED_STANDARD}, "already randomised or left the study"),
        ({"state": S.WITHDRAWN_NO_CONTACT}, "already randomised or left the study"),
        ({"strata": StrataDefinition(("country", "age_band"))}, "strata values missing: country"),
    ],
)
def test_gate_closed_names_the_reason(changes, reason):
    arguments = dict(GOOD, state=S.CONSENTED, age=45) | changes
    gate = allocation_gate(**arguments)
    assert not gate.allowed
    assert len(gate.reasons) == 1
    assert reason in gate.reasons[0]
    with pytest.raises(AllocationGateError, match="cannot randomise: "):
        gate.require()


def test_gate_lists_every_unmet_condition():
    gate = allocation_gate(
        S.REGISTERED, eligible=False, consent_recorded=False, strata=DEFAULT_STRATA
    )
    assert len(gate.reasons) == 4
    assert gate.stratum is None
