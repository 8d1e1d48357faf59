"""Demo data: every pathway stage, six countries, both arms, deterministic from the seed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from pebs.services.actor import actor_for
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.trial import seed_demo_participants
from pebs.store.engine import create_engine_for, session_factory
from pebs.store.models import (
    Allocation,
    Country,
    Death,
    EligibilityAssessment,
    GenotypeResult,
    Outcome,
    Participant,
    ParticipantIdentity,
    QuestionnaireResponse,
    RiskAssessment,
    Sample,
    Site,
    Visit,
)
from pebs.trial import State

TODAY = date(2025, 9, 1)
N = 60
RESTING_STATES = set(State) - {State.RISK_ASSESSED, State.COMPLETED}
"""``risk_assessed`` is transient (assessment and plan are one use case); no use case completes
follow-up yet."""


def _seed(trial, n: int = N, seed: int = 11):
    return seed_demo_participants(
        trial.sessions, trial.actor("data_manager"), trial.keys, trial.STUDY, n=n, seed=seed,
        today=TODAY, statistician=trial.actor("statistician"),
        laboratory=actor_for(trial.sessions, "demo-laboratory"),
    )  # fmt: skip


def test_the_demo_shows_every_stage_country_and_arm(trial) -> None:
    seeded = _seed(trial)
    with trial.sessions() as session:
        statuses = set(session.scalars(select(Participant.status).distinct()))
        countries = set(
            session.scalars(
                select(Country.code).join(Site).join(Participant, Participant.site_id == Site.id)
            )
        )
        arms = set(session.scalars(select(Allocation.arm)))
        first, last = session.execute(
            select(func.min(Participant.registered_at), func.max(Participant.registered_at))
        ).one()
        failures = session.scalars(
            select(EligibilityAssessment.reasons).where(
                EligibilityAssessment.result == "screen_failure"
            )
        ).all()
        birads = set(session.scalars(select(Visit.birads).where(Visit.birads.is_not(None))))
        n_recalls = session.scalar(select(func.count()).where(Visit.recall.is_(True)))
        n_biopsies = session.scalar(select(func.count()).where(Visit.biopsy.is_(True)))
        staged = session.scalars(select(Outcome.stage_group)).all()
        n_deaths = session.scalar(select(func.count()).select_from(Death))
        n_questionnaires = session.scalar(select(func.count()).select_from(QuestionnaireResponse))
        n_participants = session.scalar(select(func.count()).select_from(Participant))
        names = [trial.keys.cipher.decrypt_text(i.name_enc)
                 for i in session.scalars(select(ParticipantIdentity))]  # fmt: skip
    assert n_participants == N == seeded.n_participants
    assert statuses == {s.value for s in RESTING_STATES}
    assert countries == {"IT", "FR", "IL", "BE", "UK", "ES"}
    assert arms == {"standard", "risk-based"}
    assert last - first > timedelta(days=365)  # spread over the past ~18 months
    assert last.date() < TODAY
    assert failures
    assert all(reasons for reasons in failures)  # every failure has its reasons
    assert {1, 2} <= birads
    assert n_recalls >= 1
    assert n_biopsies >= 1
    assert len(staged) >= 2  # cancers with TNM, staged
    assert all(staged)
    assert n_deaths >= 1
    assert n_questionnaires >= N
    assert all(name.startswith("DEMO ") for name in names)
    assert trial.db.chain_ok()


def test_the_same_seed_gives_the_same_demo(trial, tmp_path) -> None:
    """A second, fresh SQLite database seeded alike holds the same participants and results:
    the same kit states and dates, PRS and risk levels (kit IDs are random by design)."""
    from pebs.services.actor import Actor
    from pebs.services.trial import load_study_config
    from pebs.store import migrate

    def snapshot(sessions):
        with sessions() as session:
            return session.execute(
                select(Participant.study_id, Participant.status, Participant.age_at_entry,
                       Participant.registered_at, Allocation.arm,
                       func.count(Visit.id), func.max(Visit.birads))
                .outerjoin(Allocation, Allocation.participant_id == Participant.id)
                .outerjoin(Visit, Visit.participant_id == Participant.id)
                .group_by(Participant.id, Allocation.arm)
                .order_by(Participant.study_id)
            ).all() + session.execute(
                select(Participant.study_id, Sample.state, Sample.collected_on,
                       Sample.abandoned_reason, GenotypeResult.status, GenotypeResult.prs_z)
                .join(Sample, Sample.participant_id == Participant.id)
                .outerjoin(GenotypeResult, GenotypeResult.sample_id == Sample.id)
                .order_by(Participant.study_id, Sample.id)
            ).all() + session.execute(
                select(Participant.study_id, RiskAssessment.level, RiskAssessment.assessed_at)
                .join(RiskAssessment, RiskAssessment.participant_id == Participant.id)
                .order_by(Participant.study_id, RiskAssessment.id)
            ).all()  # fmt: skip

    _seed(trial, n=40, seed=5)
    url = f"sqlite:///{tmp_path / 'second.db'}"
    migrate.upgrade(url)
    engine = create_engine_for(url)
    try:
        sessions = session_factory(engine)
        load_study_config(sessions, Actor.system("test"), trial.STUDY, demo_users=True)
        seed_demo_participants(
            sessions, actor_for(sessions, "demo-data-manager"), trial.keys, trial.STUDY, n=40,
            seed=5, today=TODAY, statistician=actor_for(sessions, "demo-statistician"),
            laboratory=actor_for(sessions, "demo-laboratory"),
        )  # fmt: skip
        second = snapshot(sessions)
    finally:
        engine.dispose()
    first = snapshot(trial.sessions)
    assert len(first) > 40 + 10  # her row, and kits and risk assessments of the risk-based arm
    assert first == second


def test_seeding_refuses_a_study_with_participants_and_bad_sizes(trial) -> None:
    trial.register()
    before = trial.db.rows()
    with pytest.raises(Conflict, match="already has 1 participants"):
        _seed(trial)
    with pytest.raises(InvalidInput, match="n: give 40"):
        _seed(trial, n=10)
    assert trial.db.rows() == before
