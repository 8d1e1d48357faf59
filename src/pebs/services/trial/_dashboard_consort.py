"""The CONSORT flow dashboard (re-exported by :mod:`pebs.services.trial.dashboards`).

Boxes, each counted once per woman in the caller's scope (test participants excluded)::

    registered
      -> not assessed (no assessment, or only incomplete ones)
      -> assessed -> screen failures (reasons counted; a woman may have several)
                  -> eligible -> not consented
                              -> consented -> not randomised
                                           -> randomised, per arm:
                                                followed (>= 1 visit performed)
                                                withdrawn (per level), died, with a cancer

Eligibility is her *latest* assessment (re-assessment is allowed until consent). Withdrawal is
the level on her latest consent; the current pathway state of every woman is given too
(``status_counts``), which adds up to ``registered``.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.trial._dashboard_sql import in_study, latest_per_participant
from pebs.services.trial.study_rules import design_of, study_named
from pebs.store.models import (
    Allocation,
    Consent,
    Death,
    EligibilityAssessment,
    Outcome,
    Participant,
    Visit,
)
from pebs.trial import AGE_CRITERION
from pebs.trial.vocabularies import WITHDRAWAL_LEVELS

__all__ = ["ArmFlow", "ConsortFlow", "ReasonCount", "consort_flow"]

_AGE_REASON = "age outside the protocol's age range"
"""Age failures are counted together (each stored reason names her age and the date)."""


@dataclass(frozen=True)
class ReasonCount:
    criterion: str
    """Criterion id (``age`` for an age outside the protocol's range)."""
    reason: str
    """The criterion's failure reason (age: one label for every age)."""
    n: int
    """Screen failures with this reason."""


@dataclass(frozen=True)
class ArmFlow:
    arm: str
    randomised: int
    followed: int
    """With at least one visit performed."""
    withdrawn: Mapping[str, int]
    """Withdrawal level -> women (every level, mildest first)."""
    died: int
    with_cancer: int
    """With at least one breast cancer diagnosis recorded."""
    status_counts: Mapping[str, int]
    """Current pathway state -> women of this arm."""


@dataclass(frozen=True)
class ConsortFlow:
    study: str
    registered: int
    not_assessed: int
    assessed: int
    screen_failures: int
    screen_failure_reasons: tuple[ReasonCount, ...]
    """Most frequent first."""
    eligible: int
    not_consented: int
    consented: int
    not_randomised: int
    """Consented, not (yet) randomised."""
    randomised: int
    arms: tuple[ArmFlow, ...]
    status_counts: Mapping[str, int]
    """Current pathway state -> women (adds up to ``registered``)."""


def _by_arm(session: Session, statement) -> dict[str, int]:
    return {arm: n for arm, n in session.execute(statement.group_by(Allocation.arm)).all()}


@refuses_unstorable_text
def consort_flow(session_maker: sessionmaker[Session], actor: Actor, study: str) -> ConsortFlow:
    """The CONSORT flow of the caller's participants (module docstring); seven aggregate queries."""
    require(actor, Action.READ_PARTICIPANT)
    with session_maker() as session, session.begin():
        study_row = study_named(session, study)
        arms = design_of(study_row).arms

        def scoped(statement):
            return in_study(statement.select_from(Participant), actor, study_row.id)

        def per_arm(model, condition):
            """Women per arm (distinct) who have a ``model`` row matching ``condition``."""
            statement = scoped(select(Allocation.arm, func.count(func.distinct(Participant.id))))
            return statement.join(Allocation, Allocation.participant_id == Participant.id).join(
                model, condition
            )

        status_rows = session.execute(
            scoped(select(Participant.status, Allocation.arm, func.count()))
            .outerjoin(Allocation, Allocation.participant_id == Participant.id)
            .group_by(Participant.status, Allocation.arm)
        ).all()
        latest = latest_per_participant(
            EligibilityAssessment, EligibilityAssessment.result,
            cast(EligibilityAssessment.reasons, Text).label("reasons"),
            at=EligibilityAssessment.assessed_at,
        )  # fmt: skip
        eligibility_rows = session.execute(
            scoped(select(latest.c.result, latest.c.reasons, func.count()))
            .join(latest, latest.c.participant_id == Participant.id)
            .group_by(latest.c.result, latest.c.reasons)
        ).all()
        consented = session.scalar(
            scoped(select(func.count(func.distinct(Participant.id)))).join(
                Consent, Consent.participant_id == Participant.id
            )
        )
        performed = (Visit.participant_id == Participant.id) & Visit.performed_date.is_not(None)
        followed = _by_arm(session, per_arm(Visit, performed))
        died = _by_arm(session, per_arm(Death, Death.participant_id == Participant.id))
        cancer = _by_arm(session, per_arm(Outcome, Outcome.participant_id == Participant.id))
        last_consent = latest_per_participant(
            Consent, Consent.withdrawal_level, at=Consent.consented_at
        )
        withdrawn_rows = session.execute(
            per_arm(last_consent, last_consent.c.participant_id == Participant.id)
            .where(last_consent.c.withdrawal_level.is_not(None))
            .group_by(Allocation.arm, last_consent.c.withdrawal_level)
            .add_columns(last_consent.c.withdrawal_level)
        ).all()
    return _flow(study, arms, status_rows, eligibility_rows, consented or 0, followed, died,
                 cancer, withdrawn_rows)  # fmt: skip


def _flow(study, arms, status_rows, eligibility_rows, consented, followed, died, cancer,
          withdrawn_rows) -> ConsortFlow:  # fmt: skip
    status_counts: Counter[str] = Counter()
    arm_status: dict[str, Counter[str]] = defaultdict(Counter)
    for status, arm, n in status_rows:
        status_counts[status] += n
        if arm is not None:
            arm_status[arm][status] += n
    results: Counter[str] = Counter()
    reasons: Counter[tuple[str, str]] = Counter()
    for result, reason_text, n in eligibility_rows:
        results[result] += n
        if result == "screen_failure":
            for item in json.loads(reason_text or "[]"):
                criterion = item["criterion"]
                reason = _AGE_REASON if criterion == AGE_CRITERION else item["reason"]
                reasons[criterion, reason] += n
    withdrawn: dict[str, Counter[str]] = defaultdict(Counter)
    for arm, n, level in withdrawn_rows:
        withdrawn[arm][level] += n
    registered = sum(status_counts.values())
    assessed = results["eligible"] + results["screen_failure"]
    randomised = sum(sum(c.values()) for c in arm_status.values())
    all_arms = tuple(arms) + tuple(sorted(set(arm_status) - set(arms)))
    return ConsortFlow(
        study=study, registered=registered, not_assessed=registered - assessed,
        assessed=assessed, screen_failures=results["screen_failure"],
        screen_failure_reasons=tuple(
            ReasonCount(criterion, reason, n)
            for (criterion, reason), n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        ),
        eligible=results["eligible"], not_consented=results["eligible"] - consented,
        consented=consented, not_randomised=consented - randomised, randomised=randomised,
        arms=tuple(
            ArmFlow(
                arm, sum(arm_status[arm].values()), followed.get(arm, 0),
                {level: withdrawn[arm][level] for level in WITHDRAWAL_LEVELS},
                died.get(arm, 0), cancer.get(arm, 0), dict(sorted(arm_status[arm].items())),
            )
            for arm in all_arms
        ),
        status_counts=dict(sorted(status_counts.items())),
    )  # fmt: skip
