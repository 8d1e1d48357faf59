"""The demo's saliva kits, and the risk of its risk-based women the way the trial computes it.

Run by :func:`pebs.services.trial.demo_data.seed_demo_participants` between the enrolment and the
follow-up. Every date is planned first (:class:`_Plan`, from one seeded ``random.Random``); then
the use cases run in the order of their synthetic instants, every woman, site and the laboratory
on one timeline, so that each step sees what happened before it:

- a woman randomised to the risk-based arm got her kit at randomisation (by hand when her study
  assigns kits manually); she answers her risk questionnaire within two weeks and has her
  baseline screening mammogram, with its breast density, within six. A few have not yet: her risk
  waits for it, on the risk-pending worklist;
- she gives saliva within ten days. A few decline: the kit is abandoned with the reason, and a
  clinician records her risk by hand with the PRS "unknown". A few tubes leak before shipping:
  abandoned, and a new kit by hand the next day;
- every 14 days each site ships the kits collected before that day in one shipment; the
  laboratory receives it two to four days later;
- every 6 weeks the laboratory imports a genotype batch (:mod:`._demo_lab_batch`) of the kits it
  received at least 6 weeks before, about 5% of them failing quality control (at least one):
  :func:`pebs.services.laboratory.import_genotype_batch` stores the results, gives a woman whose
  sample failed a new kit (she gives saliva again one to four weeks later) and computes the risk
  and plan of each woman whose data is then complete.

So that a small demo shows every kit state and worklist, a kit stops early where no kit would rest
otherwise: the latest randomised woman's stays assigned, the latest collected one is not packed,
the latest shipment is not received, the latest received kit waits for the next batch, the
latest kit replacing a failed one is not collected yet.

The kit and laboratory use cases are imported where they are called: they import
:mod:`pebs.services.trial` (its study rules), whose package imports this module.
"""

from __future__ import annotations

import random
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from pebs.services.actor import PERMISSIONS, Action, Actor
from pebs.services.errors import Conflict
from pebs.services.keys import IdentityKeys
from pebs.services.samples.at_randomisation import KIT_ARM
from pebs.services.trial._demo_lab_batch import write_genotype_batch
from pebs.services.trial._risk_factors import NULLIPAROUS, UNKNOWN, RiskFactors
from pebs.services.trial.risk_assessment import record_risk_assessment
from pebs.services.trial.risk_questionnaire import record_risk_questionnaire
from pebs.services.trial.study_rules import lab_rules_of, study_named
from pebs.services.trial.visits import VisitRecord, record_visit
from pebs.store.models import Participant, RiskAssessment

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from pebs.services.trial._demo_cohort import DemoWoman
    from pebs.services.trial._demo_follow_up import Enrolled

__all__ = ["SamplesTally", "plan_kits", "samples_and_risk"]

QUESTIONNAIRE_DAYS = (0, 14)
"""Days from randomisation to her risk questionnaire."""
MAMMOGRAM_DAYS = (7, 42)
"""Days from randomisation to her baseline mammogram."""
COLLECTION_DAYS = (0, 10)
"""Days from randomisation (or from a new kit) to her saliva."""
RECOLLECTION_DAYS = (7, 28)
"""Days from a failed quality control to her saliva in the new kit."""
SHIP_EVERY_DAYS = 14
TRANSIT_DAYS = (2, 4)
BATCH_EVERY_DAYS = 42
LAB_WAIT_DAYS = 42
"""The laboratory genotypes a kit in its first batch at least 6 weeks after receiving it: its
result comes 6 to 15 weeks after she gave saliva (a few are overdue at 12 weeks)."""
FAIL_QC = 0.05
"""Share of genotyped samples failing quality control (proportion)."""
FEW = 0.03
"""Share of the risk-based women (proportion, at least one each) without a risk questionnaire
yet, without a baseline mammogram yet, declining to give saliva, and whose tube leaked."""
DENSITY_READER = "DEMO radiologist"
DECLINED = "she declined to give saliva (demo)"
LEAKED = "the tube leaked before shipping (demo)"
NEW_KIT = "a new kit: the first one leaked (demo)"


@dataclass
class SamplesTally:
    """What the kit and risk phase entered."""

    n_risk_questionnaires: int = 0
    n_baseline_mammograms: int = 0
    n_shipments: int = 0
    n_lab_batches: int = 0
    n_automatic_risks: int = 0
    """Risk assessments computed when her data became complete (questionnaire, density, PRS)."""
    n_risks_by_hand: int = 0


@dataclass(eq=False)
class _Kit:
    """One kit's planned days (``None``: not by ``today``)."""

    owner: Enrolled
    kit_id: str | None
    """Known for a kit given at randomisation; else once it is assigned."""
    by_hand_on: date | None = None
    """The day a kit is given by hand (first kit of a study assigning kits manually; after a
    leak)."""
    by_hand_reason: str | None = None
    replaces: _Kit | None = None
    """The failed kit it replaces (the import assigns it)."""
    collect: date | None = None
    abandon: tuple[date, str] | None = None
    ship: date | None = None
    receive: date | None = None
    genotype: date | None = None
    fails: bool = False
    replaced_by: _Kit | None = None

    @property
    def stage(self) -> str:
        if self.abandon is not None:
            return "abandoned"
        for stage, day in (("assigned", self.collect), ("collected", self.ship),
                           ("shipped", self.receive), ("received", self.genotype)):  # fmt: skip
            if day is None:
                return stage
        return "genotyped"


@dataclass(eq=False)
class _Woman:
    enrolled: Enrolled
    questionnaire: date | None
    mammogram: date | None
    birads: int
    by_hand: date | None = None
    """The day a clinician records her risk by hand (she declined to give saliva)."""


def _few(rng: random.Random, items: Sequence[Enrolled]) -> set[str]:
    if not items:
        return set()
    return {e.study_id for e in rng.sample(list(items), max(1, round(FEW * len(items))))}


@dataclass
class _Plan:
    """Every planned day of the phase (module docstring)."""

    rng: random.Random
    last: date
    sites: list[str]
    has_lab: bool
    epoch: date = date.min
    women: list[_Woman] = field(default_factory=list)
    kits: list[_Kit] = field(default_factory=list)
    receipts: dict[tuple[str, date], date | None] = field(default_factory=dict)

    def days(self, start: date, span: tuple[int, int]) -> date | None:
        day = start + timedelta(days=self.rng.randint(*span))
        return day if day <= self.last else None

    def next_ship(self, site: str, day: date) -> date | None:
        offset = self.epoch + timedelta(days=self.sites.index(site) % SHIP_EVERY_DAYS)
        n = max(0, -(-(day - offset).days // SHIP_EVERY_DAYS))
        ship = offset + timedelta(days=n * SHIP_EVERY_DAYS)
        return ship if ship <= self.last else None

    def next_batch(self, day: date) -> date | None:
        n = max(0, -(-(day - self.epoch).days // BATCH_EVERY_DAYS))
        batch = self.epoch + timedelta(days=n * BATCH_EVERY_DAYS)
        return batch if batch <= self.last else None

    def flow(self, kit: _Kit) -> None:
        """Ship, receipt and batch days of a collected kit."""
        if kit.collect is None:
            return
        site = kit.owner.site
        kit.ship = self.next_ship(site, kit.collect + timedelta(days=1))
        if kit.ship is None:
            return
        box = (site, kit.ship)
        if box not in self.receipts:
            self.receipts[box] = self.days(kit.ship, TRANSIT_DAYS) if self.has_lab else None
        kit.receive = self.receipts[box]
        if kit.receive is not None:
            kit.genotype = self.next_batch(kit.receive + timedelta(days=LAB_WAIT_DAYS))

    def woman(self, e: Enrolled, *, answers: bool, mammogram: bool, declined: bool,
              leaked: bool) -> None:  # fmt: skip
        """Her days; ``answers``/``mammogram``: whether she answers her questionnaire and has
        her baseline mammogram (when due by ``today``)."""
        randomised = e.allocated_at.date()
        answered_on = self.days(randomised, QUESTIONNAIRE_DAYS)
        screened_on = self.days(randomised, MAMMOGRAM_DAYS)
        birads = self.rng.choice((1, 1, 1, 2, 2))
        collect = self.days(randomised, COLLECTION_DAYS)
        woman = _Woman(e, answered_on if answers else None, screened_on if mammogram else None,
                       birads)  # fmt: skip
        self.women.append(woman)
        kit = _Kit(e, e.kit_id, by_hand_on=None if e.kit_id else randomised)
        self.kits.append(kit)
        if declined:
            kit.abandon = (randomised + timedelta(days=self.rng.randint(1, 3)), DECLINED)
            if woman.questionnaire and woman.mammogram:
                woman.by_hand = self.days(max(woman.questionnaire, woman.mammogram), (1, 7))
            return
        kit.collect = collect
        if leaked and collect is not None:
            kit.abandon = (collect, LEAKED)
            new_kit_on = self.days(collect, (1, 1))
            if new_kit_on is None:
                return
            kit = _Kit(e, None, by_hand_on=new_kit_on, by_hand_reason=NEW_KIT)
            kit.collect = self.days(new_kit_on, (7, 14))
            self.kits.append(kit)
        self.flow(kit)

    def hold_stages(self) -> None:
        """Stop a kit early at each state where none rests (module docstring)."""
        held: set[int] = set()

        def pick(stage: str, key: Callable[[_Kit], object]) -> _Kit | None:
            open_kits = [k for k in self.kits if k.abandon is None]
            if any(k.stage == stage for k in open_kits):
                return None
            candidates = [k for k in open_kits if id(k) not in held and key(k) is not None]
            if not candidates:
                return None
            chosen = max(candidates, key=lambda k: (key(k), k.owner.study_id))
            held.add(id(chosen))
            return chosen

        if kit := pick("assigned", lambda k: k.owner.allocated_at):
            kit.collect = kit.ship = kit.receive = kit.genotype = None
        if kit := pick("collected", lambda k: k.collect):
            kit.ship = kit.receive = kit.genotype = None
        if (kit := pick("shipped", lambda k: k.ship)) and kit.ship is not None:
            box = (kit.owner.site, kit.ship)
            self.receipts[box] = None
            for other in self.kits:
                if (other.owner.site, other.ship) == box:
                    other.receive = other.genotype = None
        if kit := pick("received", lambda k: k.receive):
            kit.genotype = None

    def failures(self) -> None:
        """Samples failing quality control (at least one), and the kits replacing them: the
        latest is not collected yet if all the others are."""
        genotyped = sorted((k for k in self.kits if k.genotype is not None),
                           key=lambda k: (k.genotype, k.owner.study_id))  # fmt: skip
        for kit in genotyped:
            kit.fails = self.rng.random() < FAIL_QC
        if genotyped and not any(k.fails for k in genotyped):
            genotyped[0].fails = True
        replacements = []
        for kit in genotyped:
            if kit.fails and kit.genotype is not None:
                new = _Kit(kit.owner, None, replaces=kit)
                new.collect = self.days(kit.genotype, RECOLLECTION_DAYS)
                self.flow(new)
                kit.replaced_by = new
                replacements.append(new)
        if replacements and all(k.collect is not None for k in replacements):
            latest = replacements[-1]
            latest.collect = latest.ship = latest.receive = latest.genotype = None
        self.kits += replacements


def plan_kits(
    enrolled: Sequence[Enrolled], rng: random.Random, last: date, *, has_lab: bool
) -> _Plan:
    """The planned days of the risk-based women's inputs and kits (pure)."""
    women = sorted((e for e in enrolled if e.arm == KIT_ARM),
                   key=lambda e: (e.allocated_at, e.study_id))  # fmt: skip
    plan = _Plan(rng, last, sorted({e.site for e in enrolled}), has_lab)
    if not women:
        return plan
    plan.epoch = min(e.allocated_at.date() for e in women)
    no_answers, no_mammogram = _few(rng, women), _few(rng, women)
    others = [e for e in women if e.study_id not in no_answers | no_mammogram]
    declined = _few(rng, others)
    leaked = _few(rng, [e for e in others if e.study_id not in declined])
    for e in women:
        plan.woman(e, answers=e.study_id not in no_answers,
                   mammogram=e.study_id not in no_mammogram, declined=e.study_id in declined,
                   leaked=e.study_id in leaked)  # fmt: skip
    plan.hold_stages()
    plan.failures()
    return plan


def _hyperplasia(n_biopsies: int, woman: DemoWoman) -> bool | str | None:
    """Atypical hyperplasia, asked only after a biopsy; a third of those women do not know."""
    if n_biopsies == 0:
        return None
    return UNKNOWN if woman.index % 3 == 0 else False


def _answers(woman: DemoWoman) -> RiskFactors:
    """Her risk questionnaire (a few do not know their age at menarche)."""
    biopsies, menarche, first_birth, nulliparous, relatives, _density = woman.factors
    return RiskFactors(
        n_biopsies=biopsies, atypical_hyperplasia=_hyperplasia(biopsies, woman),
        age_at_menarche=UNKNOWN if woman.index % 11 == 4 else menarche,
        age_at_first_birth=NULLIPAROUS if nulliparous else first_birth, n_relatives=relatives,
    )  # fmt: skip


def _at(
    day: date, hour: int, minute: int = 0, *, after: datetime | None = None, gap: int = 30
) -> datetime:
    """An instant on ``day`` (UTC office hours), and at least ``gap`` minutes after ``after``
    (her randomisation: steps on its day keep their order)."""
    at = datetime.combine(day, time(hour, minute), tzinfo=UTC)
    return at if after is None else max(at, after + timedelta(minutes=gap))


class _Run:
    """Runs the planned steps through the use cases, in the order of their instants."""

    def __init__(
        self, sessions: sessionmaker[Session], actor: Actor, laboratory: Actor | None,
        keys: IdentityKeys, study: str, seed: int, folder: Path,
    ) -> None:  # fmt: skip
        self.s, self.actor, self.lab, self.keys = sessions, actor, laboratory, keys
        self.study, self.seed, self.folder = study, seed, folder
        self.tally = SamplesTally()
        self.boxes: dict[tuple[str, date], str] = {}
        self.steps: list[tuple[datetime, int, Callable[[datetime], None]]] = []

    def add(self, at: datetime, step: Callable[[datetime], None]) -> None:
        self.steps.append((at, len(self.steps), step))

    def schedule(self, plan: _Plan) -> None:
        """Every planned step at its instant: office hours, in the order a day's steps take."""
        for woman in plan.women:
            after = woman.enrolled.allocated_at
            if woman.questionnaire is not None:
                self.add(_at(woman.questionnaire, 10, after=after),
                         partial(self.questionnaire, woman, woman.questionnaire))  # fmt: skip
            if woman.mammogram is not None:
                self.add(_at(woman.mammogram, 15),
                         partial(self.mammogram, woman, woman.mammogram))  # fmt: skip
            if woman.by_hand is not None:
                self.add(_at(woman.by_hand, 13), partial(self.by_hand, woman, woman.by_hand))
        boxes: dict[tuple[str, date], list[_Kit]] = defaultdict(list)
        batches: dict[date, list[_Kit]] = defaultdict(list)
        for kit in plan.kits:
            after = kit.owner.allocated_at
            if kit.by_hand_on is not None:
                self.add(_at(kit.by_hand_on, 10, 30, after=after), partial(self.new_kit, kit))
            if kit.collect is not None:
                self.add(_at(kit.collect, 11, after=after, gap=40),
                         partial(self.collect, kit, kit.collect))  # fmt: skip
            if kit.abandon is not None:
                day, reason = kit.abandon
                self.add(_at(day, 13, after=after, gap=50),
                         partial(self.abandon, kit, day, reason))  # fmt: skip
            if kit.ship is not None:
                boxes[(kit.owner.site, kit.ship)].append(kit)
            if kit.genotype is not None:
                batches[kit.genotype].append(kit)
        for (site, day), kits in boxes.items():
            self.add(_at(day, 16), partial(self.ship, site, day, kits))
            received = plan.receipts.get((site, day))
            if received is not None:
                self.add(_at(received, 9, 30), partial(self.receive, site, day, kits))
        for day, kits in batches.items():
            self.add(_at(day, 14), partial(self.batch, kits))

    def run(self) -> None:
        for at, _, step in sorted(self.steps, key=lambda s: (s[0], s[1])):
            step(at)

    @staticmethod
    def _kit_id(kit: _Kit) -> str:
        if kit.kit_id is None:
            raise Conflict(f"demo data: {kit.owner.study_id}'s kit was not assigned as planned")
        return kit.kit_id

    def questionnaire(self, woman: _Woman, day: date, at: datetime) -> None:
        e = woman.enrolled
        done = record_risk_questionnaire(self.s, self.actor, self.keys, e.study_id,
                                         _answers(e.woman), answered_on=day, at=at)  # fmt: skip
        self.tally.n_risk_questionnaires += 1
        self.tally.n_automatic_risks += done.risk_level is not None
        e.touch(day)

    def mammogram(self, woman: _Woman, day: date, at: datetime) -> None:
        e = woman.enrolled
        record = VisitRecord(
            day, birads=woman.birads, recall=False, biopsy=False, modality="mammography",
            visit_type="screening", density=e.woman.factors[5], density_reader=DENSITY_READER,
        )  # fmt: skip
        done = record_visit(self.s, self.actor, e.study_id, record, keys=self.keys, at=at)
        self.tally.n_baseline_mammograms += 1
        self.tally.n_automatic_risks += done.risk_level is not None
        e.touch(day)

    def by_hand(self, woman: _Woman, day: date, at: datetime) -> None:
        """A clinician's assessment: the PRS will never come (she declined to give saliva)."""
        e = woman.enrolled
        factors = replace(_answers(e.woman), density=e.woman.factors[5], prs_z=UNKNOWN)
        record_risk_assessment(self.s, self.actor, self.keys, e.study_id, factors, on_date=day,
                               last_screen=woman.mammogram, at=at)  # fmt: skip
        self.tally.n_risks_by_hand += 1
        e.touch(day)

    def new_kit(self, kit: _Kit, at: datetime) -> None:
        from pebs.services.samples.kits import assign_kit

        kit.kit_id = assign_kit(self.s, self.actor, kit.owner.study_id,
                                reason=kit.by_hand_reason, at=at).kit_id  # fmt: skip
        kit.owner.touch(at.date())

    def collect(self, kit: _Kit, day: date, at: datetime) -> None:
        from pebs.services.samples.kits import record_collection

        record_collection(self.s, self.actor, self._kit_id(kit), day, at=at)
        kit.owner.touch(day)

    def abandon(self, kit: _Kit, day: date, reason: str, at: datetime) -> None:
        from pebs.services.samples.kits import abandon_sample

        abandon_sample(self.s, self.actor, self._kit_id(kit), reason=reason, at=at)
        kit.owner.touch(day)

    def ship(self, site: str, day: date, kits: list[_Kit], at: datetime) -> None:
        from pebs.services.samples.shipments import ship_samples

        shipped = ship_samples(self.s, self.actor, self.study, site,
                               [self._kit_id(k) for k in kits], day, at=at)  # fmt: skip
        self.boxes[(site, day)] = shipped.reference
        self.tally.n_shipments += 1
        for kit in kits:
            kit.owner.touch(day)

    def receive(self, site: str, day: date, kits: list[_Kit], at: datetime) -> None:
        from pebs.services.samples.shipments import receive_shipment

        assert self.lab is not None  # planned only with a laboratory
        receive_shipment(self.s, self.lab, self.boxes[(site, day)], received_at=at, at=at)
        for kit in kits:
            kit.owner.touch(at.date())

    def batch(self, kits: list[_Kit], at: datetime) -> None:
        """The laboratory's synthetic batch, imported through the real path."""
        from pebs.services.laboratory.batch_import import import_genotype_batch
        from pebs.services.laboratory.report import Outcome
        from pebs.services.samples.views import samples_of

        assert self.lab is not None  # planned only with a laboratory
        kits = sorted(kits, key=lambda k: k.owner.study_id)
        names = [self._kit_id(k) for k in kits]
        failing = {self._kit_id(k) for k in kits if k.fails}
        with self.s() as session:
            rules = lab_rules_of(study_named(session, self.study))
        path = write_genotype_batch(
            self.folder / f"demo-batch-{at:%Y%m%d}.vcf.gz", rules, names, failing=failing,
            seed=self.seed * 1_000 + self.tally.n_lab_batches,
        )  # fmt: skip
        report = import_genotype_batch(self.s, self.lab, self.keys, self.study, path, at=at)
        path.unlink()
        counts = {k: v for k, v in report.counts.items() if v}
        planned = {Outcome.ACCEPTED.value: len(names) - len(failing),
                   Outcome.FAILED_QC.value: len(failing)}  # fmt: skip
        if counts != {k: v for k, v in planned.items() if v}:
            raise Conflict(f"demo laboratory batch of {at:%Y-%m-%d}: {counts}, not {planned}")
        self.tally.n_lab_batches += 1
        self.tally.n_automatic_risks += report.n_risks_completed
        for kit in kits:
            kit.owner.touch(at.date())
            if kit.replaced_by is not None:
                held = samples_of(self.s, self.actor, kit.owner.study_id).kits
                kit.replaced_by.kit_id = next(k.kit_id for k in held if k.replaces == kit.kit_id)


def _may(actor: Actor | None, *actions: Action) -> bool:
    return actor is not None and all(actor.role in PERMISSIONS[a] for a in actions)


def samples_and_risk(
    sessions: sessionmaker[Session],
    actor: Actor,
    laboratory: Actor | None,
    keys: IdentityKeys,
    study: str,
    enrolled: Sequence[Enrolled],
    rng: random.Random,
    *,
    seed: int,
    today: date,
) -> SamplesTally:
    """Run the phase (module docstring) for the randomised women; set the plan day of each
    risk-based woman whose risk was assessed. ``laboratory`` receives the shipments and imports
    the batches (default: ``actor`` if her role may; without either, kits stop when shipped)."""
    lab = laboratory if laboratory is not None else actor
    has_lab = _may(lab, Action.RECEIVE_SHIPMENT, Action.IMPORT_GENOTYPES)
    plan = plan_kits(enrolled, rng, today - timedelta(days=1), has_lab=has_lab)
    with tempfile.TemporaryDirectory(prefix="pebs-demo-lab-") as folder:
        run = _Run(sessions, actor, lab if has_lab else None, keys, study, seed, Path(folder))
        run.schedule(plan)
        run.run()
    _plan_days(sessions, [w.enrolled for w in plan.women])
    return run.tally


def _plan_days(sessions: sessionmaker[Session], women: list[Enrolled]) -> None:
    """Each assessed woman's plan day: her first risk assessment (which gave her plan)."""
    by_id = {e.study_id: e for e in women}
    with sessions() as session:
        rows = session.execute(
            select(Participant.study_id, func.min(RiskAssessment.assessed_at))
            .join(RiskAssessment, RiskAssessment.participant_id == Participant.id)
            .where(Participant.study_id.in_(list(by_id)))
            .group_by(Participant.study_id)
        ).all()
    for study_id, assessed_at in rows:
        e = by_id[study_id]
        e.planned_at = assessed_at
        e.plan_day = assessed_at.date()
