"""Synthetic genotype batches of the demo laboratory (``pebs demo lab-batch``, the demo's imports).

:func:`write_genotype_batch` writes a VCF whose sample names are kit IDs: genotypes drawn at the
study score's effect-allele frequencies (:func:`pebs.sim.genotypes.synthetic_genotypes`, seeded;
every score variant present), with a share of the calls of the ``failing`` samples dropped so that
they fail the study's quality control. :func:`write_demo_lab_batch` writes one for the kits of a
study that were shipped or received and have no result yet, one of them failing and one unknown
kit added, for trying ``pebs lab import``.

The genotype generator and the VCF writer are imported when a file is written (the simulator's
package is slow to import, and every command imports this package).
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import LABORATORY_ROLE, Action, Actor, require
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.trial.study_rules import lab_rules_of, sample_rules_of, study_named
from pebs.store.models import Country, Participant, Sample, Site
from pebs.trial.samples import LabRules, SampleState, new_kit_id

__all__ = ["DemoLabBatch", "drop_fraction", "write_demo_lab_batch", "write_genotype_batch"]

_AWAITING = (SampleState.SHIPPED.value, SampleState.RECEIVED.value)
"""Kits the laboratory may genotype: shipped (on their way) or received."""
_SUFFIXES = (".vcf", ".vcf.gz")


@dataclass(frozen=True)
class DemoLabBatch:
    """A synthetic batch written for trying the laboratory import."""

    path: Path
    study: str
    kit_ids: tuple[str, ...]
    """The study's kits in the file (shipped or received, no result yet), in file order."""
    failing: str | None
    """The kit whose calls were dropped (fails quality control); ``None`` with a single kit."""
    unknown: str
    """A well-formed kit ID of no kit of the study (the last sample)."""


def drop_fraction(rules: LabRules) -> float:
    """Proportion of a failing sample's calls dropped: at least 0.2, and enough to fall below the
    study's minimum call rate.

    >>> from pebs.trial.samples import DEFAULT_LAB_RULES
    >>> drop_fraction(DEFAULT_LAB_RULES)
    0.2
    """
    return min(1.0, max(0.2, round(1.0 - rules.min_call_rate + 0.05, 6)))


def write_genotype_batch(
    path: Path, rules: LabRules, kit_ids: Sequence[str], *, failing: Collection[str], seed: int
) -> Path:
    """A VCF at ``path`` (gzip for ``.gz``) with a sample per name of ``kit_ids``, at every variant
    of the study's score; ``failing`` samples fail its quality control."""
    from pebs.io.vcf_writer import write_vcf
    from pebs.services.prs_scoring import load_score
    from pebs.sim.genotypes import synthetic_genotypes

    score = load_score(rules.score).score
    genotypes = synthetic_genotypes(
        score.effect_allele_frequencies, kit_ids, seed=seed, failing=failing,
        drop_fraction=drop_fraction(rules),
    )  # fmt: skip
    return write_vcf(path, score, kit_ids, genotypes.dosages)


@refuses_unstorable_text
def write_demo_lab_batch(
    session_maker: sessionmaker[Session], actor: Actor, study: str, path: Path, *, seed: int
) -> DemoLabBatch:
    """Write the synthetic batch of ``study``'s kits that are shipped or received without a result
    (those of the actor's sites; every site for the laboratory), oldest kit first: one of them
    fails quality control (when there are two or more) and an unknown kit ends the file.

    ``path`` ends with ``.vcf`` or ``.vcf.gz``. :class:`Conflict` when no kit waits for a result.
    """
    require(actor, Action.READ_SAMPLES)
    path = Path(path)
    if not path.name.endswith(_SUFFIXES):
        raise InvalidInput(
            f"{path.name!r}: give a name ending with .vcf or .vcf.gz", field="output"
        )
    with session_maker() as session, session.begin():
        study_row = study_named(session, study)
        rules, prefix = lab_rules_of(study_row), sample_rules_of(study_row).kit_prefix
        rows = session.execute(
            select(Sample.kit_id, Site.id, Site.country_id)
            .join(Participant, Participant.id == Sample.participant_id)
            .join(Site, Site.id == Participant.site_id)
            .join(Country, Country.id == Site.country_id)
            .where(Country.study_id == study_row.id, Sample.state.in_(_AWAITING))
            .order_by(Sample.id)
        ).all()
        kit_ids = tuple(
            kit
            for kit, site_id, country_id in rows
            if actor.role == LABORATORY_ROLE or actor.sees_site(site_id, country_id)
        )
        if not kit_ids:
            raise Conflict(
                f"study {study!r} has no kit shipped or received without a result (in your "
                "sites): nothing to genotype"
            )
        unknown = new_kit_id(prefix)
        while session.scalar(select(Sample.id).where(Sample.kit_id == unknown)) is not None:
            unknown = new_kit_id(prefix)  # a clash among 36**8 IDs: draw again
    failing = random.Random(seed).choice(kit_ids) if len(kit_ids) > 1 else None
    write_genotype_batch(path, rules, [*kit_ids, unknown], failing=() if failing is None
                         else (failing,), seed=seed)  # fmt: skip
    return DemoLabBatch(path, study, kit_ids, failing, unknown)
