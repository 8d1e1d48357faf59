"""The data of the DSMB reports: the randomised women as the analysis reads them, with the
baseline items the reports add, and the withdrawals at every level.

The women are those of :func:`~pebs.services.analysis._women.read_women` (randomised, not test
participants, whose data may be used) randomised on or before the data cut (the later ones are
counted, not used). Added per woman: her age at entry and age band (the stratification values
recorded at randomisation) and her breast density, the BI-RADS category (a to d) of her first
screening examination with a density reading within her follow-up (both arms have one, so the
pooled figure reveals nothing of an arm). Withdrawals are counted per level and arm from the
consents, including the women who withdrew the use of their data (counted only).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pebs.services.actor import Actor
from pebs.services.analysis._women import WomanRecord, read_women
from pebs.services.participant_pages import in_study
from pebs.store.models import Allocation, Consent, Participant, Visit

__all__ = ["DsmbData", "DsmbWoman", "read_dsmb_data"]


@dataclass(frozen=True)
class DsmbWoman:
    record: WomanRecord
    age: int | None
    """Age at entry, whole years (``None``: not recorded)."""
    age_band: str | None
    density: str | None
    """BI-RADS density category ``a`` to ``d`` of her first screening reading (module docstring)."""
    withdrawal_level: str | None


@dataclass(frozen=True)
class DsmbData:
    women: tuple[DsmbWoman, ...]
    data_cut: date
    withdrawals: Counter[tuple[str, str]]
    """(arm, level) -> women randomised by the data cut who withdrew at that level by then."""
    n_randomised_after_cut: int
    """Women randomised after the data cut (not in any table)."""
    n_records_after_end: int


def read_dsmb_data(session: Session, actor: Actor, study_pk: int, data_cut: date) -> DsmbData:
    """The DSMB reports' women (module docstring), in one read transaction of ``session``."""
    data = read_women(session, actor, study_pk, data_cut)
    extra = {
        study_id: (age, band)
        for study_id, age, band in session.execute(
            in_study(
                select(Participant.study_id, Participant.age_at_entry, Participant.age_band)
                .select_from(Participant)
                .join(Allocation, Allocation.participant_id == Participant.id),
                actor,
                study_pk,
            )
        ).all()
    }
    densities: dict[str, str] = {}
    for study_id, day, density in session.execute(
        in_study(
            select(Participant.study_id, Visit.performed_date, Visit.density)
            .select_from(Participant)
            .join(Visit, Visit.participant_id == Participant.id)
            .where(Visit.visit_type == "screening", Visit.density.is_not(None),
                   Visit.performed_date.is_not(None)),
            actor,
            study_pk,
        ).order_by(Visit.performed_date, Visit.id)
    ).all():  # fmt: skip
        densities.setdefault(study_id, (day, density))  # type: ignore[arg-type]
    levels: dict[str, str] = {}
    arms: dict[str, str] = {}
    for study_id, arm, allocated, level, withdrawn in session.execute(
        in_study(
            select(Participant.study_id, Allocation.arm, Allocation.allocated_at,
                   Consent.withdrawal_level, Consent.withdrawn_at)
            .select_from(Participant)
            .join(Allocation, Allocation.participant_id == Participant.id)
            .join(Consent, Consent.participant_id == Participant.id)
            .where(Consent.withdrawal_level.is_not(None)),
            actor,
            study_pk,
        ).order_by(Consent.withdrawn_at, Consent.id)
    ).all():  # fmt: skip
        if _day(allocated) <= data_cut and _day(withdrawn) <= data_cut:
            levels.setdefault(study_id, level)
            arms[study_id] = arm
    women = []
    n_after = 0
    for record in data.women:
        if record.randomised > data_cut:
            n_after += 1
            continue
        age, band = extra.get(record.study_id, (None, None))
        first = densities.get(record.study_id)
        density = first[1] if first is not None and first[0] <= record.end else None
        women.append(DsmbWoman(record, age, band, density, levels.get(record.study_id)))
    withdrawals = Counter((arms[s], level) for s, level in levels.items())
    return DsmbData(tuple(women), data_cut, withdrawals, n_after, data.n_records_after_end)


def _day(value) -> date:
    return value.date() if hasattr(value, "date") else value
