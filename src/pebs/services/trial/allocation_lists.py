"""Generate (and verify) concealed allocation lists: statistician only.

One generation covers the study's strata (all of them, or the ones named: an extension when a
stratum runs low) with one seed, the study's block design and :func:`pebs.trial.generate_list`.
The list is stored with its algorithm name and version, seed, design, SHA-256 of the canonical
text, and one row per slot; slots are used in (list version, position) order within a stratum.
Test/training lists (``is_test``) are numbered and used apart from the real ones, and only by
test participants.

A seed is never used twice in a study: since a stratum's list depends only on (seed, stratum,
design), reusing a seed would repeat the same sequence (and a test list would reveal the real
one). The audit event records the list's hash and size, not its seed or contents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, InvalidInput, NotFound
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import instant, transaction
from pebs.services.trial.study_rules import (
    design_from_json,
    design_json,
    design_of,
    strata_json,
    strata_of,
    study_named,
)
from pebs.store.audit import append_event
from pebs.store.models import AllocationList as ListRow
from pebs.store.models import AllocationSlot, Country, Site
from pebs.store.randomisation import refresh_slot_statistics
from pebs.trial import (
    AllocationList,
    AllocationListError,
    ListVerification,
    Slot,
    StratumList,
    all_strata,
    fresh_seed,
    generate_list,
    verify_list,
)

__all__ = [
    "GeneratedList",
    "StoredList",
    "allocation_lists",
    "generate_allocation_list",
    "verify_allocation_list",
]


@dataclass(frozen=True)
class GeneratedList:
    """A stored list. ``seed`` goes to the statistician's sealed record, nowhere else."""

    list_id: int
    study: str
    version: int
    is_test: bool
    algorithm: str
    algorithm_version: str
    seed: int
    sha256: str
    n_strata: int
    n_slots: int


def _study_strata(session: Session, study_name: str) -> tuple[str, ...]:
    """Every stratum label of a stored study (its sites/countries x age bands)."""
    study = study_named(session, study_name)
    sites = session.scalars(
        select(Site.code).join(Country).where(Country.study_id == study.id).order_by(Site.code)
    ).all()
    countries = session.scalars(
        select(Country.code).where(Country.study_id == study.id).order_by(Country.code)
    ).all()
    return all_strata(strata_of(study), sites=sites, countries=countries)


def _lengths(
    labels: tuple[str, ...],
    slots_per_stratum: int | Mapping[str, int],
    strata: Sequence[str] | None,
) -> dict[str, int]:
    chosen = labels if strata is None else tuple(strata)
    unknown = [label for label in chosen if label not in labels]
    if unknown:
        raise InvalidInput(
            f"unknown stratum {unknown[0]!r}; the study's strata are like {labels[0]!r}",
            field="strata",
        )
    if not chosen:
        raise InvalidInput("name at least one stratum", field="strata")
    if isinstance(slots_per_stratum, Mapping):
        missing = [label for label in chosen if label not in slots_per_stratum]
        if missing:
            raise InvalidInput(f"no length for stratum {missing[0]!r}", field="slots_per_stratum")
        return {label: slots_per_stratum[label] for label in chosen}
    return dict.fromkeys(chosen, slots_per_stratum)


@refuses_unstorable_text
def generate_allocation_list(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    *,
    slots_per_stratum: int | Mapping[str, int],
    seed: int | None = None,
    strata: Sequence[str] | None = None,
    is_test: bool = False,
    at: datetime | None = None,
) -> GeneratedList:
    """Generate, store and audit an allocation list for ``study``.

    Parameters
    ----------
    slots_per_stratum
        Minimum slots per stratum (each stratum's list ends at a block end), or per label.
    seed
        Give one only to reproduce a documented generation; default :func:`fresh_seed`
        (128 bits from the operating system). :class:`Conflict` if the study already used it.
    strata
        Labels to generate (default: every stratum of the study).
    is_test
        A test/training list, used only by test participants.
    """
    require(actor, Action.GENERATE_LIST, needs_account=True)
    created_at = instant(at)
    seed = fresh_seed() if seed is None else seed
    with transaction(session_maker) as session:
        study_row = study_named(session, study)
        design = design_of(study_row)
        lengths = _lengths(_study_strata(session, study), slots_per_stratum, strata)
        used = session.scalar(
            select(func.count())
            .select_from(ListRow)
            .where(ListRow.study_id == study_row.id, ListRow.seed == str(seed))
        )
        if used:
            raise Conflict("this seed was already used for a list of this study; use a new seed")
        try:
            generated = generate_list(lengths, seed, design)
        except AllocationListError as error:
            raise InvalidInput(str(error)) from None
        version = 1 + (
            session.scalar(
                select(func.max(ListRow.version)).where(
                    ListRow.study_id == study_row.id, ListRow.is_test == is_test
                )
            )
            or 0
        )
        n_slots = sum(len(s.slots) for s in generated.strata)
        row = ListRow(
            study_id=study_row.id, stratum=generated.labels[0] if len(lengths) == 1 else None,
            version=version, algorithm=generated.algorithm,
            algorithm_version=generated.algorithm_version, seed=str(seed),
            parameters={"design": design_json(design), "strata": strata_json(strata_of(study_row)),
                        "lengths": lengths},
            n_slots=n_slots, sha256=generated.sha256, is_test=is_test, created_at=created_at,
            created_by_id=actor.user_id,
        )  # fmt: skip
        session.add(row)
        session.flush()
        session.execute(
            insert(AllocationSlot),
            [
                {
                    "allocation_list_id": row.id,
                    "stratum": stratum.stratum,
                    "position": s.position,
                    "arm": s.arm,
                    "block_number": s.block_number,
                    "block_size": s.block_size,
                }
                for stratum in generated.strata
                for s in stratum.slots
            ],
        )
        refresh_slot_statistics(session)  # the import that follows takes them by id
        append_event(
            session, actor=actor.username, action="generate", entity="allocation_list",
            entity_id=row.id, reason="allocation list generation",
            new={"study": study, "version": version, "is_test": is_test,
                 "algorithm": generated.algorithm,
                 "algorithm_version": generated.algorithm_version, "sha256": generated.sha256,
                 "n_strata": len(lengths), "n_slots": n_slots},
            at=created_at,
        )  # fmt: skip
    return GeneratedList(
        row.id, study, version, is_test, generated.algorithm, generated.algorithm_version,
        seed, generated.sha256, len(lengths), n_slots,
    )  # fmt: skip


@dataclass(frozen=True)
class StoredList:
    """A stored list as the statistician's list of lists shows it: what its generation
    recorded, never its seed, slots, arms, blocks or how far it is used."""

    list_id: int
    version: int
    is_test: bool
    algorithm: str
    algorithm_version: str
    sha256: str
    n_strata: int
    n_slots: int
    created_at: datetime


@refuses_unstorable_text
def allocation_lists(
    session_maker: sessionmaker[Session], actor: Actor, study: str
) -> tuple[StoredList, ...]:
    """The lists of ``study`` (real ones first, then test lists; by version)."""
    require(actor, Action.GENERATE_LIST)
    with session_maker() as session, session.begin():
        study_row = study_named(session, study)
        rows = session.scalars(
            select(ListRow)
            .where(ListRow.study_id == study_row.id)
            .order_by(ListRow.is_test, ListRow.version)
        ).all()
        return tuple(
            StoredList(r.id, r.version, r.is_test, r.algorithm, r.algorithm_version, r.sha256,
                       len((r.parameters or {}).get("lengths") or {}), r.n_slots, r.created_at)
            for r in rows
        )  # fmt: skip


@refuses_unstorable_text
def verify_allocation_list(
    session_maker: sessionmaker[Session], actor: Actor, list_id: int, seed: int
) -> ListVerification:
    """Regenerate a stored list from ``seed`` (the sealed record) and compare byte for byte,
    and against the SHA-256 stored at creation (:func:`pebs.trial.verify_list`)."""
    require(actor, Action.GENERATE_LIST)
    with session_maker() as session, session.begin():
        row = session.get(ListRow, list_id)
        if row is None:
            raise NotFound(f"no allocation list {list_id}")
        design = design_from_json(row.parameters["design"])
        slots = session.execute(
            select(AllocationSlot)
            .where(AllocationSlot.allocation_list_id == row.id)
            .order_by(AllocationSlot.stratum, AllocationSlot.position)
        ).scalars()
        by_stratum: dict[str, list[Slot]] = {}
        for s in slots:
            by_stratum.setdefault(s.stratum, []).append(
                Slot(s.position, s.arm, s.block_number, s.block_size)
            )
        stored = AllocationList(
            seed=int(row.seed),
            design=design,
            strata=tuple(StratumList(k, tuple(v)) for k, v in sorted(by_stratum.items())),
            algorithm=row.algorithm,
            algorithm_version=row.algorithm_version,
        )
        try:
            return verify_list(stored, seed, row.sha256)
        except AllocationListError as error:
            raise InvalidInput(str(error)) from None
