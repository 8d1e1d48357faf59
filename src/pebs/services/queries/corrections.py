"""Corrections from a query's answer: the corrected value recorded by the use case that records
the form, never written into the form's row behind its back.

Items a query's answer may correct, and how:

================================  ============================================================
form.item                         use case
================================  ============================================================
``registration.language``         :func:`pebs.services.letters.set_language`
``risk_factors.<answered item>``  :func:`pebs.services.trial.record_risk_questionnaire`: her
                                  latest answers (her latest questionnaire, or her latest
                                  assessment's inputs) with the item corrected, on the day of
                                  that questionnaire; her risk follows if her data is complete
``visit.performed_date``          :func:`pebs.services.trial.record_visit` of an expected visit
                                  not yet recorded
================================  ============================================================

Every other item is answered in words only: no use case changes a recorded visit's results, a
diagnosis, a consent or a questionnaire response after the fact (the site records what is
missing on her pages, and explains the rest in the answer). The use case checks its own
permission and rules, runs in its own transaction and writes its own audit event; the answer
names the row it recorded (``correction``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Actor
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.keys import IdentityKeys
from pebs.services.letters.language import set_language
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.subject import find_participant
from pebs.services.transaction import local_date
from pebs.services.trial.risk_assessment import RiskFactors, latest_assessments
from pebs.services.trial.risk_completion import inputs_of
from pebs.services.trial.risk_questionnaire import record_risk_questionnaire
from pebs.services.trial.visits import VisitRecord, record_visit
from pebs.trial.risk_inputs import RISK_INPUTS

__all__ = ["CORRECTABLE", "correct"]

_ANSWERED = tuple(name for name in RISK_INPUTS if name not in ("density", "prs_z"))
"""The risk factors she answers (density and the PRS are measured, never corrected here)."""

Sessions = sessionmaker[Session]
Correction = Callable[[Sessions, Actor, IdentityKeys | None, str, int | None, str, Any], str]
"""(sessions, actor, keys, study ID, form key, item, value) -> the row recorded."""


def _language(
    sessions: Sessions, actor: Actor, keys: IdentityKeys | None, study_id: str, key: int | None,
    item: str, value: Any,
) -> str:  # fmt: skip
    set_language(sessions, actor, study_id, value)
    return f"participant:{study_id}"


def _factor(item: str, value: Any) -> Any:
    """A ``risk_factors`` text value as the risk questionnaire takes it."""
    if item == "atypical_hyperplasia":
        return {"yes": True, "no": False}.get(value, value)
    try:
        return int(value)
    except ValueError:
        return value  # unknown, nulliparous


def _risk_factor(
    sessions: Sessions, actor: Actor, keys: IdentityKeys | None, study_id: str, key: int | None,
    item: str, value: Any,
) -> str:  # fmt: skip
    if keys is None:
        raise InvalidInput("a risk factor's correction needs the identity keys (her age)",
                           field="corrected_value")  # fmt: skip
    with sessions() as session, session.begin():
        subject = find_participant(session, actor, study_id)
        participant_id = subject.participant.id
        found = inputs_of(session, participant_id)
        latest = latest_assessments(session, [participant_id]).get(participant_id)
        if found.questionnaire is not None:
            answers, day = dict(found.questionnaire.answers), found.questionnaire.answered_on
        elif latest is not None:
            answers = dict(latest.inputs)
            day = local_date(latest.assessed_at, subject.country.time_zone)
        else:
            raise Conflict(
                f"{study_id} has no risk factors to correct: record her risk questionnaire",
                message_code="error.no_risk_factors",
            )
    answers = {name: answers.get(name) for name in _ANSWERED}
    answers[item] = _factor(item, value)
    recorded = record_risk_questionnaire(
        sessions, actor, keys, study_id, RiskFactors(**answers), answered_on=day
    )
    return f"risk_questionnaire:{recorded.questionnaire_id}"


def _performed(
    sessions: Sessions, actor: Actor, keys: IdentityKeys | None, study_id: str, key: int | None,
    item: str, value: Any,
) -> str:  # fmt: skip
    done = record_visit(sessions, actor, study_id, VisitRecord(performed_date=value),
                        visit_id=key, keys=keys)  # fmt: skip
    return f"visit:{done.visit_id}"


_CORRECTIONS: dict[tuple[str, str], Correction] = {
    ("registration", "language"): _language,
    **{("risk_factors", name): _risk_factor for name in _ANSWERED},
    ("visit", "performed_date"): _performed,
}
CORRECTABLE = frozenset(_CORRECTIONS)
"""(form, item) pairs an answer may correct."""


@refuses_unstorable_text
def correct(
    sessions: sessionmaker[Session], actor: Actor, keys: IdentityKeys | None, study_id: str,
    form: str, key: int | None, item: str, value: Any,
) -> str:  # fmt: skip
    """Record ``value`` as her ``form.item`` through its use case; the row it recorded
    (``table:id``). :class:`InvalidInput` for an item no use case corrects."""
    correction = _CORRECTIONS.get((form, item))
    if correction is None:
        raise InvalidInput(
            f"{form}.{item} cannot be corrected from a query: answer in words, and correct "
            "the form on her page where it can be",
            field="corrected_value", message_code="error.not_correctable",
            values={"form": form, "item": item},
        )  # fmt: skip
    return correction(sessions, actor, keys, study_id, key, item, value)
