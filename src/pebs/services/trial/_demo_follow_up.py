"""Follow-up of the demo participants: visits, recalls, cancers, questionnaires, exits.

Run by :func:`pebs.services.trial.demo_data.seed_demo_participants` after every woman is
enrolled, through the use cases:

1. the visits each site's worklist shows as due the day before ``today`` are performed (85%; the
   rest stay overdue on the worklists; the latest planned risk-based women have none yet) with a
   BI-RADS result; BI-RADS 0, 3, 4 or 5 leads to a recall visit two to four weeks later, where
   BI-RADS 4-5 are biopsied; a malignant histology is recorded as a screen-detected cancer with
   its TNM;
2. if that gave fewer cancers than wanted, interval cancers are added;
3. questionnaires at 3 and 12 months (when that time has passed);
4. withdrawals at each of the three levels, and deaths (one woman in 60, at least two), after
   each woman's last event.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Protocol

from pebs.services.actor import Actor
from pebs.services.trial.consent import withdraw
from pebs.services.trial.deaths import record_death
from pebs.services.trial.outcomes import OutcomeRecord, record_outcome
from pebs.services.trial.visits import VisitRecord, record_visit
from pebs.services.trial.worklists import WorklistEntry, worklist

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from pebs.services.trial._demo_cohort import DemoWoman

__all__ = ["Enrolled", "FollowUpTally", "follow_up"]


class Seeding(Protocol):
    """What the follow-up needs from the seeding run that enrolled the women."""

    sessions: sessionmaker[Session]
    actor: Actor
    study: str
    today: date

    def questionnaire(self, study_id: str, months: int, on: date, rng: random.Random) -> None:
        """Record her questionnaire at ``months`` completed ``on``."""


_BIRADS = ((1, 0.55), (2, 0.35), (0, 0.05), (3, 0.02), (4, 0.02), (5, 0.01))
"""Screening BI-RADS category -> probability (synthetic, roughly a screening population)."""
_INVASIVE_TNM = (("pT1c", "pN0", "cM0"), ("pT1b", "pN0", "cM0"), ("pT2", "pN1a", "cM0"),
                 ("pT1a", "pN0", "cM0"), ("pT2", "pN0", "cM0"), ("pT1c", "pN1a", "cM0"),
                 ("pT3", "pN1a", "cM0"))  # fmt: skip
"""Stage groups IA, IA, IIB, IA, IIA, IIA, IIIA: enough stage II+ cancers in a demo of a few
hundred women for every analysis of ``pebs analyse`` to have events."""
_DCIS_TNM = ("pTis", "pN0", "cM0")
_WITHDRAWALS = (
    ("no_further_contact", "does not want to be contacted any more (demo)"),
    ("no_further_data_collection", "moved abroad (demo)"),
    ("withdraw_data_use", "asked that her data not be used (demo)"),
)
_DEATHS = (("other", "I21.9"), ("other_cancer", "C34.9"))


@dataclass
class Enrolled:
    """A randomised demo woman, and the last day something happened to her."""

    study_id: str
    site: str
    arm: str
    consent_day: date
    plan_day: date | None
    planned_at: datetime
    """When her plan is made: due (standard arm), or when her risk was assessed (risk-based
    arm)."""
    woman: DemoWoman
    allocated_at: datetime
    kit_id: str | None
    """Her saliva kit given at randomisation (risk-based arm, studies that assign it then)."""
    last_day: date | None = None
    has_cancer: bool = False
    left: bool = False

    def touch(self, day: date) -> None:
        self.last_day = day if self.last_day is None else max(self.last_day, day)

    @property
    def latest(self) -> date:
        return self.last_day or self.plan_day or self.consent_day


@dataclass
class FollowUpTally:
    n_visits: int = 0
    n_recalls: int = 0
    n_biopsies: int = 0
    n_cancers: int = 0
    n_deaths: int = 0
    n_withdrawals: int = 0
    n_questionnaires: int = 0


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def _draw(rng: random.Random, table: tuple[tuple[object, float], ...]) -> object:
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights=weights)[0]


class _FollowUp:
    def __init__(self, seeder: Seeding, enrolled: list[Enrolled], rng: random.Random) -> None:
        self.seeder = seeder
        self.s = seeder.sessions
        self.actor = seeder.actor
        self.rng = rng
        self.last = seeder.today - timedelta(days=1)
        self.women = {e.study_id: e for e in enrolled}
        self.tally = FollowUpTally()

    def due_entries(self) -> list[WorklistEntry]:
        entries: list[WorklistEntry] = []
        for site in sorted({e.site for e in self.women.values()}):
            after = None
            while True:
                page = worklist(self.s, self.actor, self.seeder.study, site, on=self.last,
                                after=after, limit=1000)  # fmt: skip
                entries += page.entries
                if page.next_after is None:
                    break
                after = page.next_after
        return entries

    def visits(self) -> None:
        planned = sorted(
            (e for e in self.women.values() if e.arm == "risk-based" and e.plan_day is not None),
            key=lambda e: e.planned_at,
        )
        waiting = {e.study_id for e in planned[-max(1, round(0.03 * len(planned))) :]}
        for entry in self.due_entries():
            woman = self.women.get(entry.study_id)
            if woman is None or woman.study_id in waiting or woman.has_cancer:
                continue  # the latest planned risk-based women wait for their first visit
            if self.rng.random() >= 0.85:
                continue
            late = timedelta(days=self.rng.randint(0, 20))
            day = max(entry.window_start, min(entry.due_date + late, self.last))
            birads = int(_draw(self.rng, _BIRADS))  # type: ignore[call-overload]
            recall = birads in (0, 3, 4, 5)
            record_visit(self.s, self.actor, woman.study_id,
                         VisitRecord(day, birads=birads, recall=recall, biopsy=False),
                         visit_id=entry.visit_id, at=_at(day, 15))  # fmt: skip
            self.tally.n_visits += 1
            woman.touch(day)
            if recall:
                self.recall(woman, day, birads)

    def recall(self, woman: Enrolled, screened: date, birads: int) -> None:
        day = screened + timedelta(days=self.rng.randint(14, 28))
        if day > self.last:
            return  # recalled, not seen yet
        final = birads if birads >= 4 else (4 if self.rng.random() < 0.2 else 2)
        histology = None
        if final == 5:
            histology = "invasive" if self.rng.random() < 0.85 else "dcis"
        elif final == 4:
            histology = str(_draw(self.rng, (("benign", 0.6), ("high_risk_lesion", 0.1),
                                             ("dcis", 0.1), ("invasive", 0.2))))  # fmt: skip
        record = VisitRecord(
            day, birads=final, recall=False, biopsy=histology is not None, histology=histology,
            modality="ultrasound" if histology is None else "mammography", visit_type="recall",
        )  # fmt: skip
        record_visit(self.s, self.actor, woman.study_id, record, at=_at(day, 15))
        self.tally.n_visits += 1
        self.tally.n_recalls += 1
        self.tally.n_biopsies += histology is not None
        woman.touch(day)
        if histology in ("invasive", "dcis"):
            self.cancer(woman, day, "screen_detected", histology)

    def cancer(self, woman: Enrolled, day: date, mode: str, behaviour: str) -> None:
        t, n, m = _DCIS_TNM if behaviour == "dcis" else self.rng.choice(_INVASIVE_TNM)
        record_outcome(self.s, self.actor, woman.study_id,
                       OutcomeRecord(day, mode, behaviour, t, n, m),
                       at=_at(min(day + timedelta(days=7), self.last), 16))  # fmt: skip
        self.tally.n_cancers += 1
        woman.has_cancer = True
        woman.touch(day)

    def interval_cancers(self, target: int) -> None:
        candidates = [
            e for e in self.women.values()
            if not e.has_cancer and e.plan_day is not None
            and e.latest <= self.last - timedelta(days=45)
        ]  # fmt: skip
        for woman in self.rng.sample(
            candidates, min(len(candidates), target - self.tally.n_cancers)
        ):
            span = (self.last - woman.latest).days
            day = woman.latest + timedelta(days=self.rng.randint(30, span))
            self.cancer(woman, day, "interval" if woman.last_day else "clinical", "invasive")

    def questionnaires(self) -> None:
        for woman in self.women.values():
            for months, days, share in ((3, 91, 0.75), (12, 365, 0.6)):
                day = woman.consent_day + timedelta(days=days + self.rng.randint(0, 20))
                if day <= self.last and self.rng.random() < share:
                    self.seeder.questionnaire(woman.study_id, months, day, self.rng)
                    woman.touch(day)

    def exits(self) -> None:
        """Withdrawals at each level, then deaths, each after the woman's last event."""
        pool = sorted(
            (e for e in self.women.values() if e.latest <= self.last - timedelta(days=5)),
            key=lambda e: e.study_id,
        )
        per_level = max(1, round(0.01 * len(self.women)))
        n_deaths = max(2, round(len(self.women) / 60))
        chosen = self.rng.sample(pool, min(len(pool), 3 * per_level + n_deaths))
        for i, woman in enumerate(chosen):
            day = woman.latest + timedelta(
                days=self.rng.randint(1, (self.last - woman.latest).days)
            )
            if i < 3 * per_level:
                level, reason = _WITHDRAWALS[i % 3]
                withdraw(self.s, self.actor, woman.study_id, level=level, reason=reason,
                         at=_at(day, 11))  # fmt: skip
                self.tally.n_withdrawals += 1
            else:
                cause, icd10 = _DEATHS[i % 2]
                record_death(self.s, self.actor, woman.study_id, date_of_death=day, cause=cause,
                             cause_icd10=icd10, at=_at(self.last, 12))  # fmt: skip
                self.tally.n_deaths += 1
            woman.left = True


def follow_up(
    seeder: Seeding, enrolled: list[Enrolled], rng: random.Random, *, n_target_cancers: int
) -> FollowUpTally:
    """Run the follow-up phases (module docstring) for the randomised demo women."""
    phase = _FollowUp(seeder, enrolled, rng)
    phase.visits()
    if phase.tally.n_cancers < n_target_cancers:
        phase.interval_cancers(n_target_cancers)
    phase.questionnaires()
    phase.exits()
    return phase.tally
