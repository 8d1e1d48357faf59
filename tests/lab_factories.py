"""Set-ups of the laboratory tests (services, command line, API): risk-based women whose kits
went through the site's use cases (assigned, collected, shipped), and genotype files written by
hand from the packaged PGS000004 scoring file.

Imported by name (``from lab_factories import Lab``), like :mod:`factories`.

Genotype files are written here as text, independently of :mod:`pebs.io.vcf_writer`: one record
per score variant with REF = the other allele and ALT = the effect allele, so a sample's GT
counts her effect alleles.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from factories import AT, CONSENT_LANGUAGE, DEMO_ACCOUNTS, ELIGIBLE, STUDY
from pebs.services.actor import Actor, actor_for
from pebs.services.keys import IdentityKeys
from pebs.services.samples import assign_kit, record_collection, ship_samples
from pebs.services.trial import (
    NewParticipant,
    RiskFactors,
    VisitRecord,
    assess_eligibility,
    load_study_config,
    override_allocation,
    record_consent,
    record_risk_questionnaire,
    record_visit,
    register_participant,
)
from pebs.store.audit import append_event
from pebs.store.crypto import IdentityCipher
from pebs.store.models import Participant, Sample, Study, User
from pebs.trial.samples import DEFAULT_LAB_RULES

LAB_USER = "test-laboratory"
"""The laboratory's account."""
TODAY = date(2025, 3, 3)
"""The day of ``AT``."""
IMPORTED = AT + timedelta(days=84)
"""When the laboratory imports its batch (12 weeks later)."""
QUESTIONNAIRE = RiskFactors(n_biopsies=0, age_at_menarche=13, age_at_first_birth=28,
                            n_relatives=0)  # fmt: skip


@dataclass(frozen=True)
class Variant:
    """One row of the packaged PGS000004 scoring file."""

    chromosome: str
    position: int
    effect: str
    other: str
    weight: float
    frequency: float


def _read_score() -> list[Variant]:
    text = files("pebs.io").joinpath("scores", "PGS000004.txt").read_text(encoding="utf-8")
    rows = csv.DictReader((line for line in text.splitlines() if not line.startswith("#")),
                          delimiter="\t")  # fmt: skip
    return [Variant(r["chr_name"], int(r["chr_position"]), r["effect_allele"],
                    r["other_allele"], float(r["effect_weight"]),
                    float(r["allelefrequency_effect"])) for r in rows]  # fmt: skip


VARIANTS = _read_score()
"""The 313 variants of PRS313, in the scoring file's order."""
PRS313_MEAN, PRS313_SD = -0.423912567501208, 0.611145385948092
"""CanRisk's European mean and SD of the PRS313 raw score (Carver et al., Cancer Epidemiol
Biomarkers Prev 2021), as documented for the score."""

GT = {0: "0/0", 1: "0/1", 2: "1/1", None: "./."}


def write_vcf(path: Path, samples: dict[str, list[int | None]] | list[tuple[str, list]],
              *, absent: frozenset[int] = frozenset()) -> Path:  # fmt: skip
    """A VCF with a GT per sample and variant (``None``: no call), leaving out the variants
    whose index is in ``absent``. ``samples``: name -> dosages, or (name, dosages) pairs (a name
    may repeat)."""
    pairs = list(samples.items()) if isinstance(samples, dict) else list(samples)
    lines = ["##fileformat=VCFv4.2",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT",
                        *(name for name, _ in pairs)])]  # fmt: skip
    for j, v in enumerate(VARIANTS):
        if j in absent:
            continue
        cells = [GT[dosages[j]] for _, dosages in pairs]
        lines.append("\t".join([v.chromosome, str(v.position), ".", v.other, v.effect, ".",
                                "PASS", ".", "GT", *cells]))  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def dosages(seed: int, *, no_calls: int = 0) -> list[int | None]:
    """A fixed pattern of dosages 0, 1, 2 (no random numbers), the first ``no_calls`` missing."""
    values: list[int | None] = [(seed + 7 * j) % 3 for j in range(len(VARIANTS))]
    for j in range(no_calls):
        values[j] = None
    return values


@dataclass
class Lab:
    """The demo study with a laboratory account and helpers to make kits and files."""

    sessions: sessionmaker[Session]
    keys: IdentityKeys
    manager: Actor
    staff: Actor
    laboratory: Actor
    tmp: Path
    _files: int = field(default=0)

    STUDY = STUDY
    AT = AT
    TODAY = TODAY
    IMPORTED = IMPORTED

    def woman(self, *, questionnaire: bool = True, density: bool = True) -> str:
        """A risk-based woman (study ID) at IT-TO with her questionnaire and baseline density
        (each unless asked otherwise)."""
        new = NewParticipant(site="IT-TO", name="Test Woman", birth_date=date(1972, 5, 10))
        study_id = register_participant(self.sessions, self.manager, self.keys, STUDY, new,
                                        at=AT).study_id  # fmt: skip
        assess_eligibility(self.sessions, self.manager, self.keys, study_id, ELIGIBLE, at=AT)
        record_consent(self.sessions, self.manager, study_id, language=CONSENT_LANGUAGE["IT"],
                       at=AT)  # fmt: skip
        override_allocation(self.sessions, self.manager, self.keys, study_id, arm="risk-based",
                            reason="test set-up", confirm=True, at=AT)  # fmt: skip
        if questionnaire:
            record_risk_questionnaire(self.sessions, self.staff, self.keys, study_id,
                                      QUESTIONNAIRE, answered_on=TODAY, at=AT)  # fmt: skip
        if density:
            record = VisitRecord(performed_date=TODAY, modality="mammography",
                                 visit_type="screening", birads=1, density="b",
                                 density_reader="Dr Radiologist")  # fmt: skip
            record_visit(self.sessions, self.staff, study_id, record, keys=self.keys, at=AT)
        return study_id

    def kit(self, study_id: str) -> str:
        """Her kit that counts (assigned at randomisation, or by hand here)."""
        with self.sessions() as session:
            kit_id = session.scalar(
                select(Sample.kit_id).join(Participant)
                .where(Participant.study_id == study_id,
                       Sample.state.not_in(("abandoned", "failed_qc", "recollection_requested")))
                .order_by(Sample.id.desc()).limit(1)
            )  # fmt: skip
        if kit_id is None:
            kit_id = assign_kit(self.sessions, self.manager, study_id, at=AT).kit_id
        return kit_id

    def collected(self, **woman) -> str:
        """The kit ID of a new woman's collected kit."""
        kit_id = self.kit(self.woman(**woman))
        record_collection(self.sessions, self.manager, kit_id, TODAY, at=AT)
        return kit_id

    def shipped(self, n: int = 1, **woman) -> list[str]:
        """Kit IDs of ``n`` new women's kits, collected and shipped together."""
        kit_ids = [self.collected(**woman) for _ in range(n)]
        ship_samples(self.sessions, self.manager, STUDY, "IT-TO", kit_ids, TODAY, at=AT)
        return kit_ids

    def file(self, samples, *, absent: frozenset[int] = frozenset(), name: str = "") -> Path:
        self._files += 1
        return write_vcf(self.tmp / (name or f"batch{self._files}.vcf"), samples, absent=absent)

    def state(self, kit_id: str) -> str:
        with self.sessions() as session:
            return session.scalar(select(Sample.state).where(Sample.kit_id == kit_id))

    def set_lab_rules(self, **rules) -> None:
        """Change the stored study's ``[laboratory]`` rules (as a new study file would)."""
        with self.sessions.begin() as session:
            study = session.scalar(select(Study).where(Study.name == STUDY))
            current = {**DEFAULT_LAB_RULES.as_json(), **study.config.get("laboratory", {})}
            study.config = {**study.config, "laboratory": {**current, **rules}}


def lab_for(
    session_maker: sessionmaker[Session], tmp_path: Path, keys: IdentityKeys | None = None
) -> Lab:
    """The demo study loaded in a fresh database, with a laboratory account (``keys``: the
    installation's identity keys; default: new ones)."""
    load_study_config(session_maker, Actor.system("test"), STUDY, demo_users=True)
    if keys is None:
        keys = IdentityKeys.from_settings_values([IdentityCipher.generate_key()], b"k" * 32)
    with session_maker.begin() as session:  # as account creation does: with its audit event
        session.add(User(username=LAB_USER, full_name="Central laboratory", role="laboratory"))
        session.flush()
        append_event(session, actor="test", action="create", entity="user", entity_id=LAB_USER,
                     new={"role": "laboratory", "site": None, "country": None}, at=AT)  # fmt: skip
    return Lab(
        session_maker, keys, actor_for(session_maker, DEMO_ACCOUNTS["data_manager"]),
        actor_for(session_maker, DEMO_ACCOUNTS["site_staff"]),
        actor_for(session_maker, LAB_USER), tmp_path,
    )  # fmt: skip
