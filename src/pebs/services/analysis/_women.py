"""The analysis data set: one record per randomised woman, read from a trial database.

For every randomised (non-test) woman of the study: arm, country, site, latest risk level,
randomisation date, end of follow-up, her diagnoses and her examinations. Follow-up ends at the
first of: death, withdrawal with ``no_further_data_collection``, the data cut. A woman who
withdrew with ``withdraw_data_use`` is left out of every analysis (counted). A withdrawal with
``no_further_contact`` does not end follow-up (data from records continue to be collected).
Records dated after a woman's end of follow-up are not counted (counted in ``n_records_after_end``).

Each table is read with one query (no loop over women in SQL); the records are merged here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pebs.services.participant_pages import in_study
from pebs.store.models import (
    Allocation,
    Consent,
    Country,
    Death,
    Outcome,
    Participant,
    RiskAssessment,
    Site,
    Visit,
)
from pebs.trial.staging import T_CODES

__all__ = ["Diagnosis", "WomanRecord", "WomenData", "read_women"]

DAYS_PER_YEAR = 365.25
_ENDING_WITHDRAWAL = "no_further_data_collection"
_NO_DATA_USE = "withdraw_data_use"


@dataclass(frozen=True)
class Diagnosis:
    day: date
    behaviour: str
    """``invasive`` or ``dcis``."""
    stage_group: str | None
    detection_mode: str
    """``screen_detected``, ``interval`` or ``clinical``."""
    t_group: str | None = None
    """AJCC T group of the tumour size (``T1``: up to 20 mm, ``T2``: over 20 up to 50 mm...)."""


@dataclass
class WomanRecord:
    """One randomised woman (module docstring); times are dates, UTC."""

    study_id: str
    arm: str
    country: str
    site: str
    randomised: date
    end: date
    end_reason: str
    """``death``, ``withdrawal`` or ``data_cut``."""
    risk_level: str | None = None
    died: date | None = None
    withdrawn: date | None = None
    """Date of a withdrawal at any level (the per-protocol rules use it)."""
    diagnoses: list[Diagnosis] = field(default_factory=list)
    screens: Counter[str] = field(default_factory=Counter)
    """Modality -> screening examinations performed."""
    first_screen: date | None = None
    n_recalls: int = 0
    n_benign_biopsies: int = 0
    n_mri: int = 0
    """Examinations by MRI (any visit type)."""

    def years(self, day: date) -> float:
        """Years from randomisation to ``day``."""
        return (day - self.randomised).days / DAYS_PER_YEAR

    @property
    def follow_up_years(self) -> float:
        return self.years(self.end)


@dataclass(frozen=True)
class WomenData:
    women: tuple[WomanRecord, ...]
    data_cut: date
    n_data_use_withdrawn: int
    """Randomised women left out because they withdrew the use of their data."""
    n_records_after_end: int
    """Diagnoses and examinations dated after the woman's end of follow-up (not counted)."""


def _day(value) -> date:
    return value.date() if hasattr(value, "date") else value


def read_women(session: Session, actor, study_pk: int, data_cut: date) -> WomenData:
    """The records of the study's randomised women (module docstring)."""
    base = in_study(
        select(
            Participant.id,
            Participant.study_id,
            Allocation.arm,
            Allocation.allocated_at,
            Site.code,
            Country.code.label("country"),
        )
        .select_from(Participant)
        .join(Allocation, Allocation.participant_id == Participant.id),
        actor,
        study_pk,
    )
    rows = session.execute(base.order_by(Participant.id)).all()
    ids = select(Participant.id).select_from(Participant)
    ids = in_study(
        ids.join(Allocation, Allocation.participant_id == Participant.id), actor, study_pk
    ).scalar_subquery()
    deaths = dict(
        session.execute(
            select(Death.participant_id, Death.date_of_death).where(Death.participant_id.in_(ids))
        ).all()
    )
    withdrawals: dict[int, tuple[str, date]] = {}
    for pid, level, at in session.execute(
        select(Consent.participant_id, Consent.withdrawal_level, Consent.withdrawn_at)
        .where(Consent.participant_id.in_(ids), Consent.withdrawal_level.is_not(None))
        .order_by(Consent.withdrawn_at)
    ).all():
        withdrawals.setdefault(pid, (level, _day(at)))
    levels: dict[int, str] = {}
    for pid, level in session.execute(
        select(RiskAssessment.participant_id, RiskAssessment.level)
        .where(RiskAssessment.participant_id.in_(ids))
        .order_by(RiskAssessment.assessed_at, RiskAssessment.id)
    ).all():
        levels[pid] = level  # the latest wins
    women: dict[int, WomanRecord] = {}
    n_withheld = 0
    for pid, study_id, arm, allocated_at, site, country in rows:
        withdrawal = withdrawals.get(pid)
        if withdrawal is not None and withdrawal[0] == _NO_DATA_USE:
            n_withheld += 1
            continue
        randomised = _day(allocated_at)
        ends = [(data_cut, "data_cut")]
        if pid in deaths:
            ends.append((deaths[pid], "death"))
        if withdrawal is not None and withdrawal[0] == _ENDING_WITHDRAWAL:
            ends.append((withdrawal[1], "withdrawal"))
        end, reason = min(ends, key=lambda e: (e[0], e[1] != "death"))
        women[pid] = WomanRecord(
            study_id=study_id,
            arm=arm,
            country=country,
            site=site,
            randomised=randomised,
            end=max(end, randomised),
            end_reason=reason,
            risk_level=levels.get(pid),
            died=deaths.get(pid),
            withdrawn=None if withdrawal is None else withdrawal[1],
        )
    after = _add_diagnoses(session, ids, women) + _add_visits(session, ids, women)
    return WomenData(tuple(women.values()), data_cut, n_withheld, after)


def _add_diagnoses(session: Session, ids, women: dict[int, WomanRecord]) -> int:
    n_after = 0
    for pid, day, behaviour, stage, mode, t in session.execute(
        select(
            Outcome.participant_id,
            Outcome.diagnosis_date,
            Outcome.behaviour,
            Outcome.stage_group,
            Outcome.detection_mode,
            Outcome.t_category,
        )
        .where(Outcome.participant_id.in_(ids))
        .order_by(Outcome.diagnosis_date, Outcome.id)
    ).all():
        woman = women.get(pid)
        if woman is None:
            continue
        if day > woman.end:
            n_after += 1
            continue
        woman.diagnoses.append(Diagnosis(day, behaviour, stage, mode, _t_group(t)))
    return n_after


def _t_group(t_category: str | None) -> str | None:
    """``pT1c`` -> ``T1`` (stored categories are normalised, with their c/p prefix)."""
    if t_category is None:
        return None
    return T_CODES.get(t_category.removeprefix("c").removeprefix("p"))


def _add_visits(session: Session, ids, women: dict[int, WomanRecord]) -> int:
    n_after = 0
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for pid, day, kind, modality, recall, biopsy, histology in session.execute(
        select(
            Visit.participant_id,
            Visit.performed_date,
            Visit.visit_type,
            Visit.modality,
            Visit.recall,
            Visit.biopsy,
            Visit.histology,
        )
        .where(Visit.participant_id.in_(ids), Visit.performed_date.is_not(None))
        .order_by(Visit.performed_date, Visit.id)
    ).all():
        woman = women.get(pid)
        if woman is None:
            continue
        if day > woman.end:
            n_after += 1
            continue
        if kind == "screening":
            woman.screens[modality or "unspecified"] += 1
            if woman.first_screen is None:
                woman.first_screen = day
        counts[pid]["recall"] += bool(recall)
        counts[pid]["benign"] += bool(biopsy) and histology == "benign"
        counts[pid]["mri"] += modality == "mri"
    for pid, tally in counts.items():
        women[pid].n_recalls = tally["recall"]
        women[pid].n_benign_biopsies = tally["benign"]
        women[pid].n_mri = tally["mri"]
    return n_after
