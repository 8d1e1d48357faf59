"""Models on SQLite and PostgreSQL: full round trip, UTC instants, and the constraints."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from pebs.store.models import (
    Allocation,
    AllocationList,
    AllocationSlot,
    Arm,
    Consent,
    ConsentDocument,
    Death,
    EligibilityAssessment,
    Outcome,
    Participant,
    ParticipantIdentity,
    PlannedExam,
    ProtocolVersion,
    QuestionnaireResponse,
    RiskAssessment,
    ScreeningPlan,
    Site,
    User,
    Visit,
)
from pebs.store.repositories import next_participant_sequence

PARIS = timezone(timedelta(hours=1), "CET")
CONSENTED_PARIS = datetime(2025, 3, 2, 10, 15, 30, 123456, tzinfo=PARIS)


def _full_graph(session: Session, world: Any) -> int:
    """Store one participant with a row in every table; return her id."""
    protocol = ProtocolVersion(
        study_id=world.study,
        version="1.0",
        effective_from=date(2025, 1, 1),
        eligibility_criteria=[{"id": "age", "min": 40, "max": 70}],
    )
    document = ConsentDocument(
        country_id=world.fr,
        language="fr",
        version="2.1",
        title="Consentement",
        effective_from=date(2025, 1, 1),
        sha256="a" * 64,
    )
    arm = Arm(study_id=world.study, name="risk-based", ratio=1, policy="mypebs-risk-based")
    participant = Participant(
        study_id="FR-GR-000001",
        site_id=world.fr_gr,
        age_at_entry=52,
        age_band="50-59",
        strata={"density": "c"},
        registered_by_id=world.staff_gr,
    )
    session.add_all([protocol, document, arm, participant])
    session.flush()
    identity = ParticipantIdentity(
        participant_id=participant.id,
        name_enc=b"token-name",
        date_of_birth_enc=b"token-dob",
        contact_enc=None,
        national_id_enc=b"token-nid",
        national_id_hmac="f" * 64,
    )
    eligibility = EligibilityAssessment(
        participant_id=participant.id,
        protocol_version_id=protocol.id,
        answers={"age": 52, "previous_cancer": False},
        result="eligible",
        reasons=[],
        assessed_by_id=world.staff_gr,
    )
    consent = Consent(
        participant_id=participant.id,
        consent_document_id=document.id,
        consented_at=CONSENTED_PARIS,
        taken_by_id=world.staff_gr,
    )
    alloc_list = AllocationList(
        study_id=world.study,
        stratum=None,
        algorithm="pebs-permuted-blocks-random-size",
        algorithm_version="1",
        seed="340282366920938463463374607431768211455",
        parameters={"block_sizes": [2, 4, 6], "arms": ["standard", "risk-based"]},
        n_slots=2,
        sha256="b" * 64,
        created_by_id=world.data_manager,
    )
    session.add_all([identity, eligibility, consent, alloc_list])
    session.flush()
    slot = AllocationSlot(
        allocation_list_id=alloc_list.id,
        stratum="FR-GR:50-59",
        position=1,
        arm="risk-based",
        block_number=1,
        block_size=2,
        used_by_participant_id=participant.id,
        used_at=CONSENTED_PARIS,
    )
    spare = AllocationSlot(
        allocation_list_id=alloc_list.id,
        stratum="FR-GR:40-49",
        position=1,
        arm="standard",
        block_number=1,
        block_size=2,
    )
    risk = RiskAssessment(
        participant_id=participant.id,
        model_name="pebs-personalised",
        model_version="1.0",
        inputs={"age": 52, "density": "c"},
        outputs={"risk_5y": 0.0123, "rr": [1.1, 0.9]},
        level="average",
    )
    session.add_all([slot, spare, risk])
    session.flush()
    allocation = Allocation(
        participant_id=participant.id,
        allocation_slot_id=slot.id,
        arm="risk-based",
        allocated_by_id=world.staff_gr,
    )
    plan = ScreeningPlan(
        participant_id=participant.id,
        risk_assessment_id=risk.id,
        arm="risk-based",
        policy="mypebs-risk-based",
        start_date=date(2025, 3, 2),
        end_date=date(2029, 3, 2),
        notes=["biennial mammography"],
    )
    plan.exams.append(
        PlannedExam(
            due_date=date(2027, 3, 2),
            window_start=date(2027, 3, 2),
            window_end=date(2027, 9, 2),
            modality="mammography",
            reason="average risk",
            rule="average",
        )
    )
    session.add_all([allocation, plan])
    session.flush()
    session.add_all(
        [
            Visit(
                participant_id=participant.id,
                planned_exam_id=plan.exams[0].id,
                visit_type="screening",
                modality="mammography",
                due_date=date(2027, 3, 2),
                window_start=date(2027, 3, 2),
                window_end=date(2027, 9, 2),
                performed_date=date(2027, 3, 20),
                birads=4,
                recall=True,
                biopsy=True,
                histology="invasive",
            ),
            Outcome(
                participant_id=participant.id,
                diagnosis_date=date(2027, 4, 2),
                detection_mode="screen_detected",
                behaviour="invasive",
                t_category="T1c",
                n_category="N0",
                m_category="M0",
                stage_group="IA",
            ),
            Death(
                participant_id=participant.id,
                date_of_death=date(2031, 1, 5),
                cause="other",
                cause_icd10="I21",
            ),
            QuestionnaireResponse(
                participant_id=participant.id,
                timepoint_months=3,
                instrument="STAI-6",
                answers={"q1": 2, "q2": None, "comment": "ça va"},
                completed_on=date(2025, 6, 2),
            ),
        ]
    )
    session.flush()
    return participant.id


def test_every_entity_round_trips(
    session_maker: sessionmaker[Session], world: Any, backend: str
) -> None:
    with session_maker.begin() as session:
        participant_id = _full_graph(session, world)

    with session_maker() as session:
        participant = session.get(Participant, participant_id)
        assert participant is not None
        assert (participant.study_id, participant.site.code) == ("FR-GR-000001", "FR-GR")
        assert participant.site.country.code == "FR"
        assert participant.strata == {"density": "c"}
        assert participant.identity is not None
        assert participant.identity.national_id_hmac == "f" * 64
        assert participant.identity.contact_enc is None
        assert participant.allocation is not None
        assert participant.allocation.slot is not None
        assert participant.allocation.slot.allocation_list.seed == (
            "340282366920938463463374607431768211455"
        )
        slots = participant.allocation.slot.allocation_list.slots
        assert [(s.stratum, s.position) for s in slots] == [("FR-GR:40-49", 1), ("FR-GR:50-59", 1)]

        consent = session.scalars(select(Consent)).one()
        assert consent.consented_at == CONSENTED_PARIS
        assert consent.consented_at.tzinfo == UTC
        assert consent.consented_at.hour == 9  # 10:15 CET is 09:15 UTC
        assert consent.document.version == "2.1"

        risk = session.scalars(select(RiskAssessment)).one()
        assert risk.outputs == {"risk_5y": 0.0123, "rr": [1.1, 0.9]}
        plan = session.scalars(select(ScreeningPlan)).one()
        assert [(e.due_date, e.modality) for e in plan.exams] == [(date(2027, 3, 2), "mammography")]
        visit = session.scalars(select(Visit)).one()
        assert (visit.birads, visit.recall, visit.histology) == (4, True, "invasive")
        outcome = session.scalars(select(Outcome)).one()
        assert (outcome.t_category, outcome.stage_group) == ("T1c", "IA")
        answers = session.scalars(select(QuestionnaireResponse.answers)).one()
        assert answers == {"q1": 2, "q2": None, "comment": "ça va"}
        assert session.scalars(select(Death.cause_icd10)).one() == "I21"
        eligibility = session.scalars(select(EligibilityAssessment)).one()
        assert eligibility.protocol_version.eligibility_criteria[0]["id"] == "age"
        assert eligibility.assessed_at.tzinfo == UTC


def test_naive_datetime_is_refused(session_maker: sessionmaker[Session], world: Any) -> None:
    naive = Participant(
        study_id="FR-GR-000001", site_id=world.fr_gr, registered_at=datetime(2025, 1, 1)
    )
    with session_maker() as session:
        session.add(naive)
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()


def test_instants_are_stored_as_utc(
    session_maker: sessionmaker[Session], world: Any, backend: str
) -> None:
    with session_maker.begin() as session:
        session.add(
            Participant(study_id="FR-GR-000001", site_id=world.fr_gr, registered_at=CONSENTED_PARIS)
        )
    with session_maker() as session:
        if backend == "sqlite":
            raw = session.execute(text("SELECT registered_at FROM participants")).scalar_one()
            assert raw.startswith("2025-03-02 09:15:30.123456")
        else:
            raw = session.execute(
                text("SELECT registered_at AT TIME ZONE 'UTC' FROM participants")
            ).scalar_one()
            assert raw == datetime(2025, 3, 2, 9, 15, 30, 123456)


# --- constraints -----------------------------------------------------------------------------

Change = Callable[[Session, Any, int], None]


def _visit(**overrides: Any) -> Change:
    def add(session: Session, world: Any, participant_id: int) -> None:
        values = dict(
            participant_id=participant_id,
            visit_type="screening",
            due_date=date(2026, 1, 10),
            window_start=date(2026, 1, 10),
            window_end=date(2026, 7, 10),
        )
        session.add(Visit(**{**values, **overrides}))

    return add


def _user(**overrides: Any) -> Change:
    def add(session: Session, world: Any, participant_id: int) -> None:
        session.add(User(**{"username": "u", "full_name": "U", "role": "monitor", **overrides}))

    return add


def _outcome(**overrides: Any) -> Change:
    def add(session: Session, world: Any, participant_id: int) -> None:
        values = dict(
            participant_id=participant_id,
            diagnosis_date=date(2026, 1, 1),
            detection_mode="interval",
            behaviour="invasive",
        )
        session.add(Outcome(**{**values, **overrides}))

    return add


def _questionnaire(timepoint: int, times: int = 1) -> Change:
    def add(session: Session, world: Any, participant_id: int) -> None:
        for _ in range(times):
            session.add(
                QuestionnaireResponse(
                    participant_id=participant_id,
                    timepoint_months=timepoint,
                    instrument="STAI-6",
                    answers={},
                    completed_on=date(2025, 3, 1),
                )
            )
            session.flush()

    return add


def _consent(**overrides: Any) -> Change:
    def add(session: Session, world: Any, participant_id: int) -> None:
        document = ConsentDocument(
            country_id=world.fr,
            language="fr",
            version="1",
            title="C",
            effective_from=date(2025, 1, 1),
        )
        session.add(document)
        session.flush()
        values = dict(
            participant_id=participant_id,
            consent_document_id=document.id,
            consented_at=datetime(2025, 3, 1, tzinfo=UTC),
            taken_by_id=world.staff_gr,
        )
        session.add(Consent(**{**values, **overrides}))

    return add


def _slots(*slots: dict[str, Any], allocation: dict[str, Any] | None = None) -> Change:
    def add(session: Session, world: Any, participant_id: int) -> None:
        alloc_list = AllocationList(
            study_id=world.study,
            algorithm="permuted-blocks",
            algorithm_version="1",
            seed="1",
            parameters={},
            n_slots=max(1, len(slots)),
            sha256="c" * 64,
            created_by_id=world.data_manager,
        )
        session.add(alloc_list)
        session.flush()
        for values in slots:
            session.add(
                AllocationSlot(
                    allocation_list_id=alloc_list.id,
                    stratum="FR-GR:50-59",
                    arm="standard",
                    block_number=1,
                    block_size=2,
                    **{k: (participant_id if v == "P" else v) for k, v in values.items()},
                )
            )
            session.flush()
        if allocation is not None:
            session.add(
                Allocation(
                    participant_id=participant_id,
                    arm="standard",
                    allocated_by_id=world.data_manager,
                    **allocation,
                )
            )

    return add


def _participant(**values: Any) -> Change:
    def add(session: Session, world: Any, participant_id: int) -> None:
        session.add(Participant(**{"site_id": world.fr_gr, "study_id": "FR-GR-000099", **values}))

    return add


NOW = datetime(2025, 3, 1, tzinfo=UTC)
# case -> (bad change, the constraint that must refuse it: its name, or SQLite's column list)
BAD_ROWS: dict[str, tuple[Change, str]] = {
    "birads 7": (_visit(birads=7, performed_date=date(2026, 1, 12)), "ck_visits_birads"),
    "birads -1": (_visit(birads=-1), "ck_visits_birads"),
    "window ends before due date": (_visit(window_end=date(2026, 1, 1)), "ck_visits_window"),
    "unknown visit type": (_visit(visit_type="party"), "ck_visits_visit_type"),
    "unknown histology": (_visit(histology="malignant-ish"), "ck_visits_histology"),
    "unknown modality": (_visit(modality="x-ray"), "ck_visits_modality"),
    "unknown role": (_user(role="king"), "ck_users_role"),
    "site role without site": (_user(role="site_staff"), "ck_users_scope"),
    "coordinator without country": (_user(role="country_coordinator"), "ck_users_scope"),
    "stage group V": (_outcome(stage_group="V"), "ck_outcomes_stage_group"),
    "unknown detection mode": (_outcome(detection_mode="lucky"), "ck_outcomes_detection_mode"),
    "behaviour lcis": (_outcome(behaviour="lcis"), "ck_outcomes_behaviour"),
    "T category without T": (_outcome(t_category="1c"), "ck_outcomes_t_category"),
    "questionnaire at 6 months": (
        _questionnaire(6),
        "ck_questionnaire_responses_timepoint_months",
    ),
    "questionnaire twice at 0 months": (
        _questionnaire(0, times=2),
        "uq_questionnaire_responses_timepoint"
        "|questionnaire_responses.participant_id, questionnaire_responses.timepoint_months",
    ),
    "withdrawal level without time": (
        _consent(withdrawal_level="no_further_contact"),
        "ck_consents_withdrawal",
    ),
    "unknown withdrawal level": (
        _consent(withdrawal_level="all", withdrawn_at=NOW),
        "ck_consents_withdrawal_level",
    ),
    "withdrawn before consent": (
        _consent(withdrawal_level="no_further_contact", withdrawn_at=NOW - timedelta(days=1)),
        "ck_consents_order",
    ),
    "slot used without time": (
        _slots({"position": 1, "used_by_participant_id": "P"}),
        "ck_allocation_slots_used",
    ),
    "slot position 0": (_slots({"position": 0}), "ck_allocation_slots_position"),
    "two slots at one position": (
        _slots({"position": 1}, {"position": 1}),
        "uq_allocation_slots_allocation_list_id_stratum_position"
        "|allocation_slots.allocation_list_id, allocation_slots.stratum, allocation_slots.position",
    ),
    "one participant in two slots": (
        _slots(
            {"position": 1, "used_by_participant_id": "P", "used_at": NOW},
            {"position": 2, "used_by_participant_id": "P", "used_at": NOW},
        ),
        "uq_allocation_slots_used_by_participant_id|allocation_slots.used_by_participant_id",
    ),
    "used slot marked unusable": (
        _slots(
            {"position": 1, "used_by_participant_id": "P", "used_at": NOW, "unusable_reason": "x"}
        ),
        "ck_allocation_slots_used_or_unusable",
    ),
    "override without reason": (
        _slots(allocation={"method": "override"}),
        "ck_allocations_override",
    ),
    "list allocation without slot": (
        _slots(allocation={"method": "list"}),
        "ck_allocations_list_slot",
    ),
    "study id not CC-SITE-NNNNNN": (
        _participant(study_id="FRGR123"),
        "ck_participants_study_id_format",
    ),
    "duplicate study id": (
        _participant(study_id="FR-GR-000001"),
        "uq_participants_study_id|participants.study_id",
    ),
    "site that does not exist": (
        _participant(site_id=987654),
        "fk_participants_site_id|FOREIGN KEY constraint failed",
    ),
    "age at entry 7": (_participant(age_at_entry=7), "ck_participants_age_at_entry"),
    "unknown pathway state": (_participant(status="lost"), "ck_participants_status"),
    "T category with another prefix": (_outcome(t_category="yT1"), "ck_outcomes_t_category"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_constraint_rejects(
    session_maker: sessionmaker[Session], world: Any, add_participant: Any, case: str
) -> None:
    with session_maker.begin() as session:
        participant_id = add_participant(session, world.fr_gr, "FR-GR-000001").id
    with session_maker() as session:
        change, constraint = BAD_ROWS[case]
        with pytest.raises(IntegrityError, match=constraint):  # noqa: PT012 (fails at a flush)
            change(session, world, participant_id)
            session.flush()
        session.rollback()


def test_good_rows_next_to_the_bad_ones_are_accepted(
    session_maker: sessionmaker[Session], world: Any, add_participant: Any
) -> None:
    """The constraint cases above fail for their one bad value, not for a broken base row."""
    with session_maker.begin() as session:
        participant_id = add_participant(session, world.fr_gr, "FR-GR-000001").id
    good = [
        _visit(birads=0),
        _visit(birads=6, histology="dcis"),
        _user(role="site_staff", site_id=world.fr_gr),
        _user(role="country_coordinator", country_id=world.it, username="u2"),
        _outcome(stage_group="IIIC", t_category="T4d", n_category="N3c", m_category="M0"),
        _questionnaire(48),
        _consent(withdrawal_level="withdraw_data_use", withdrawn_at=NOW),
        _slots(
            {"position": 1, "used_by_participant_id": "P", "used_at": NOW},
            {"position": 2, "unusable_reason": "x"},
        ),
        _participant(study_id="FR-GR-000002", age_at_entry=70),
    ]
    for change in good:
        with session_maker.begin() as session:
            change(session, world, participant_id)
            session.flush()
    with session_maker() as session:
        assert session.scalar(select(Visit.birads).where(Visit.birads == 6)) == 6


def test_override_allocation_with_reason_is_accepted(
    session_maker: sessionmaker[Session], world: Any, add_participant: Any
) -> None:
    with session_maker.begin() as session:
        participant_id = add_participant(session, world.fr_gr, "FR-GR-000001").id
        session.add(
            Allocation(
                participant_id=participant_id,
                arm="standard",
                method="override",
                override_reason="site closed before randomisation",
                allocated_by_id=world.data_manager,
            )
        )
    second = Allocation(
        participant_id=participant_id,
        arm="risk-based",
        method="override",
        override_reason="again",
        allocated_by_id=world.data_manager,
    )
    with session_maker() as session:
        session.add(second)
        with pytest.raises(IntegrityError, match="participant_id"):
            session.flush()


def test_site_sequence_increments(session_maker: sessionmaker[Session], world: Any) -> None:
    with session_maker.begin() as session:
        numbers = [next_participant_sequence(session, world.fr_gr) for _ in range(3)]
        other = next_participant_sequence(session, world.fr_pa)
    assert (numbers, other) == ([1, 2, 3], 1)
    with session_maker() as session:
        assert session.get(Site, world.fr_gr).last_sequence == 3
        with pytest.raises(LookupError):
            next_participant_sequence(session, 987654)
