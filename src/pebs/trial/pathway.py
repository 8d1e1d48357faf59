"""The participant pathway: a state machine, and the gate in front of randomisation.

::

    registered --assessed_eligible--> eligible --consent_recorded--> consented
        |  (re-assessment allowed before consent)                       |
        +--assessed_ineligible--> screen_failure                         |
                                                                         |
      consented --randomised_standard--> randomised_standard --follow_up_started--+
      consented --randomised_risk_based--> randomised_risk_based                  |
          --risk_assessed--> risk_assessed --plan_given--> plan_given             |
          --follow_up_started--> in_follow_up <-----------------------------------+
      in_follow_up --follow_up_completed--> completed

Withdrawal has three levels: *no further contact*, *no
further data collection*, *withdraw data use*, each stricter than the one before. A participant
may withdraw at any level from any state before completion (including before consent, for the
data held since registration), and may later move to a stricter level, never back to a milder
one (that would need new consent, which this pathway does not model).

Death can be recorded from any state of a woman in the study (registered to in follow-up), and
after a withdrawal from contact only (deaths are still collected from registries then); not after
a screen failure (she is not followed), a completed follow-up, or a withdrawal from data
collection or data use.

``completed``, ``withdrawn_data_use`` and ``died`` are terminal.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pebs.trial.strata import StrataDefinition, StratumError, stratum_label


class State(enum.StrEnum):
    REGISTERED = "registered"
    ELIGIBLE = "eligible"
    SCREEN_FAILURE = "screen_failure"
    CONSENTED = "consented"
    RANDOMISED_STANDARD = "randomised_standard"
    RANDOMISED_RISK_BASED = "randomised_risk_based"
    RISK_ASSESSED = "risk_assessed"
    PLAN_GIVEN = "plan_given"
    IN_FOLLOW_UP = "in_follow_up"
    COMPLETED = "completed"
    WITHDRAWN_NO_CONTACT = "withdrawn_no_contact"
    WITHDRAWN_NO_DATA = "withdrawn_no_data_collection"
    WITHDRAWN_DATA_USE = "withdrawn_data_use"
    DIED = "died"


class Event(enum.StrEnum):
    ASSESSED_ELIGIBLE = "assessed_eligible"
    ASSESSED_INELIGIBLE = "assessed_ineligible"
    CONSENT_RECORDED = "consent_recorded"
    RANDOMISED_STANDARD = "randomised_standard"
    RANDOMISED_RISK_BASED = "randomised_risk_based"
    RISK_ASSESSED = "risk_assessed"
    PLAN_GIVEN = "plan_given"
    FOLLOW_UP_STARTED = "follow_up_started"
    FOLLOW_UP_COMPLETED = "follow_up_completed"
    WITHDREW_NO_CONTACT = "withdrew_no_contact"
    WITHDREW_NO_DATA = "withdrew_no_data_collection"
    WITHDREW_DATA_USE = "withdrew_data_use"
    DIED = "died"


COLLECTING: tuple[State, ...] = (
    State.RANDOMISED_STANDARD, State.RANDOMISED_RISK_BASED, State.RISK_ASSESSED,
    State.PLAN_GIVEN, State.IN_FOLLOW_UP, State.COMPLETED, State.WITHDRAWN_NO_CONTACT,
)  # fmt: skip
"""States in which follow-up data (visits, outcomes) is collected: randomised, and not withdrawn
from data collection (a woman who only declined further contact is still followed in records)."""


WITHDRAWAL_LEVELS: dict[str, tuple[Event, State]] = {
    "no_further_contact": (Event.WITHDREW_NO_CONTACT, State.WITHDRAWN_NO_CONTACT),
    "no_further_data_collection": (Event.WITHDREW_NO_DATA, State.WITHDRAWN_NO_DATA),
    "withdraw_data_use": (Event.WITHDREW_DATA_USE, State.WITHDRAWN_DATA_USE),
}
"""Withdrawal level -> (event, resulting state), mildest first."""

ARM_EVENTS: dict[str, Event] = {
    "standard": Event.RANDOMISED_STANDARD,
    "risk-based": Event.RANDOMISED_RISK_BASED,
}
"""Allocated arm -> the randomisation event."""

_IN_STUDY = (
    State.REGISTERED, State.ELIGIBLE, State.CONSENTED, State.RANDOMISED_STANDARD,
    State.RANDOMISED_RISK_BASED, State.RISK_ASSESSED, State.PLAN_GIVEN, State.IN_FOLLOW_UP,
)  # fmt: skip


def _table() -> dict[tuple[State, Event], State]:
    s, e = State, Event
    table = {
        (s.CONSENTED, e.RANDOMISED_STANDARD): s.RANDOMISED_STANDARD,
        (s.CONSENTED, e.RANDOMISED_RISK_BASED): s.RANDOMISED_RISK_BASED,
        (s.RANDOMISED_RISK_BASED, e.RISK_ASSESSED): s.RISK_ASSESSED,
        (s.RISK_ASSESSED, e.PLAN_GIVEN): s.PLAN_GIVEN,
        (s.RANDOMISED_STANDARD, e.FOLLOW_UP_STARTED): s.IN_FOLLOW_UP,
        (s.PLAN_GIVEN, e.FOLLOW_UP_STARTED): s.IN_FOLLOW_UP,
        (s.IN_FOLLOW_UP, e.FOLLOW_UP_COMPLETED): s.COMPLETED,
        (s.ELIGIBLE, e.CONSENT_RECORDED): s.CONSENTED,
    }
    for before in (s.REGISTERED, s.ELIGIBLE, s.SCREEN_FAILURE):
        table[before, e.ASSESSED_ELIGIBLE] = s.ELIGIBLE
        table[before, e.ASSESSED_INELIGIBLE] = s.SCREEN_FAILURE
    levels = list(WITHDRAWAL_LEVELS.values())
    for before in (*_IN_STUDY, s.SCREEN_FAILURE):
        for event, after in levels:
            table[before, event] = after
    for i, (_, milder) in enumerate(levels):
        for event, stricter in levels[i + 1 :]:
            table[milder, event] = stricter
    for before in (*_IN_STUDY, s.WITHDRAWN_NO_CONTACT):
        table[before, e.DIED] = s.DIED
    return table


TRANSITIONS: dict[tuple[State, Event], State] = _table()
"""(state, event) -> next state; every pair not listed is illegal."""


class TransitionError(ValueError):
    """The event cannot happen to a participant in this state."""


def _coerce(kind: type[enum.StrEnum], value: object) -> enum.StrEnum:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise TransitionError(
            f"unknown {kind.__name__.lower()} {value!r}; allowed: {allowed}"
        ) from None


def allowed_events(state: State | str) -> tuple[Event, ...]:
    """Events that may happen to a participant in ``state``, in :class:`Event` order."""
    state = _coerce(State, state)
    return tuple(event for event in Event if (state, event) in TRANSITIONS)


def is_terminal(state: State | str) -> bool:
    """Whether no event can follow ``state``."""
    return not allowed_events(state)


def transition(state: State | str, event: Event | str) -> State:
    """The state after ``event``; :class:`TransitionError` names the allowed events.

    Examples
    --------
    >>> transition("consented", "randomised_risk_based")
    <State.RANDOMISED_RISK_BASED: 'randomised_risk_based'>
    >>> try:
    ...     transition(State.RANDOMISED_STANDARD, Event.RISK_ASSESSED)
    ... except TransitionError as exc:
    ...     print(exc)  # doctest: +NORMALIZE_WHITESPACE
    cannot apply 'risk_assessed' to a participant in state 'randomised_standard'; allowed:
    follow_up_started, withdrew_no_contact, withdrew_no_data_collection, withdrew_data_use, died
    """
    state = _coerce(State, state)
    event = _coerce(Event, event)
    after = TRANSITIONS.get((state, event))
    if after is None:
        allowed = ", ".join(allowed_events(state)) or f"none ({state} is terminal)"
        raise TransitionError(
            f"cannot apply {event.value!r} to a participant in state {state.value!r}; "
            f"allowed: {allowed}"
        )
    return after


class AllocationGateError(ValueError):
    """Randomisation is not allowed yet; the message lists every unmet condition."""


@dataclass(frozen=True)
class AllocationGate:
    """Outcome of :func:`allocation_gate`: the stratum to draw from, or why not."""

    allowed: bool
    stratum: str | None
    reasons: tuple[str, ...]

    def require(self) -> str:
        """The stratum label, or :class:`AllocationGateError` with every reason."""
        if not self.allowed:
            raise AllocationGateError("cannot randomise: " + "; ".join(self.reasons))
        return self.stratum  # type: ignore[return-value]


def allocation_gate(
    state: State | str,
    *,
    eligible: bool,
    consent_recorded: bool,
    strata: StrataDefinition,
    site: str | None = None,
    country: str | None = None,
    age: int | None = None,
) -> AllocationGate:
    """Whether a participant may be randomised now, and in which stratum.

    Randomisation needs: the pathway at ``consented``, an eligible
    result under the protocol in force, a consent on record (not withdrawn), and every strata
    value present and valid. Already-randomised participants are refused here; the allocation
    service returns their existing allocation before asking (idempotence).

    Examples
    --------
    >>> from pebs.trial.strata import DEFAULT_STRATA
    >>> allocation_gate("consented", eligible=True, consent_recorded=True,
    ...                 strata=DEFAULT_STRATA, site="BE-AN", age=61).require()
    'BE-AN:60-70'
    >>> gate = allocation_gate("eligible", eligible=True, consent_recorded=False,
    ...                        strata=DEFAULT_STRATA, site="BE-AN")
    >>> for reason in gate.reasons:
    ...     print(reason)
    pathway state is 'eligible'; randomisation needs 'consented'
    no consent is recorded
    strata values missing: age (the strata factors are site, age_band)
    """
    state = _coerce(State, state)
    reasons = []
    if state in (State.REGISTERED, State.ELIGIBLE, State.SCREEN_FAILURE):
        reasons.append(f"pathway state is {state.value!r}; randomisation needs 'consented'")
    elif state is not State.CONSENTED:
        reasons.append(f"pathway state is {state.value!r}: already randomised or left the study")
    if eligible is not True:
        reasons.append("not eligible under the protocol in force")
    if consent_recorded is not True:
        reasons.append("no consent is recorded")
    stratum = None
    try:
        stratum = stratum_label(strata, site=site, country=country, age=age)
    except StratumError as exc:
        reasons.append(str(exc))
    return AllocationGate(allowed=not reasons, stratum=stratum, reasons=tuple(reasons))
