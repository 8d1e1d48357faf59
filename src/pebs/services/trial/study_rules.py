"""The stored study configuration read back as the core's values (design, strata, criteria)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from pebs.services.errors import Conflict, InvalidInput, NotFound
from pebs.store.models import Arm, ConsentDocument, Country, ProtocolVersion, Study
from pebs.store.repositories import get_study
from pebs.trial import AGE_CRITERION, AgeBand, BlockDesign, CriteriaSet, Criterion, StrataDefinition
from pebs.trial.samples import LabRules, SampleRules, lab_rules_from_json, sample_rules_from_json


def study_named(session: Session, name: str) -> Study:
    study = get_study(session, name)
    if study is None:
        raise NotFound(f"no study {name!r} is loaded (pebs study load)")
    return study


def _config(study: Study) -> dict[str, Any]:
    if not study.config or "design" not in study.config or "strata" not in study.config:
        raise Conflict(f"study {study.name!r} has no stored configuration; load it again")
    return study.config


def design_of(study: Study) -> BlockDesign:
    """Arms, ratio and block sizes of the study's randomisation."""
    return design_from_json(_config(study)["design"])


def design_from_json(design: Mapping[str, Any]) -> BlockDesign:
    """The :class:`~pebs.trial.BlockDesign` written by :func:`design_json`."""
    return BlockDesign(
        arms=tuple(design["arms"]),
        ratio=tuple(design["ratio"]),
        block_sizes=tuple(design["block_sizes"]),
        block_probabilities=tuple(design["block_probabilities"]),
    )


def strata_of(study: Study) -> StrataDefinition:
    """The study's stratification factors and age bands."""
    return strata_from_json(_config(study)["strata"])


def strata_from_json(strata: Mapping[str, Any] | None) -> StrataDefinition:
    """The :class:`~pebs.trial.StrataDefinition` written by :func:`strata_json`."""
    if not strata:
        raise Conflict("the stored study configuration has no strata; load it again")
    bands = tuple(AgeBand(low, high) for low, high in strata["age_bands"])
    return StrataDefinition(tuple(strata["factors"]), bands)


_STUDY_CONFIG = select(Study.config).where(Study.id == bindparam("study_pk"))
_STRATA_CACHE: dict[tuple[int, str], StrataDefinition] = {}


def strata_by_digest(
    session: Session, study_pk: int, config_sha256: str | None
) -> StrataDefinition:
    """:func:`strata_of` the stored study, cached by its configuration digest.

    A stored configuration never changes without its SHA-256 changing (the loader writes both),
    so the hot path (allocation) reads and parses the configuration once per process and version.
    """
    if config_sha256 is None:
        raise Conflict(f"study id {study_pk} has no stored configuration; load it again")
    key = (study_pk, config_sha256)
    strata = _STRATA_CACHE.get(key)
    if strata is None:
        config = session.connection().execute(_STUDY_CONFIG, {"study_pk": study_pk}).scalar()
        strata = strata_from_json((config or {}).get("strata"))
        if len(_STRATA_CACHE) > 64:  # studies and their versions: a handful per installation
            _STRATA_CACHE.clear()
        _STRATA_CACHE[key] = strata
    return strata


def design_json(design: BlockDesign) -> dict[str, Any]:
    return {
        "arms": list(design.arms),
        "ratio": list(design.ratio),
        "block_sizes": list(design.block_sizes),
        "block_probabilities": list(design.block_probabilities),
    }


def strata_json(strata: StrataDefinition) -> dict[str, Any]:
    return {
        "factors": list(strata.factors),
        "age_bands": [[band.low, band.high] for band in strata.age_bands],
    }


def criteria_json(criteria: CriteriaSet) -> list[dict[str, Any]]:
    """``ProtocolVersion.eligibility_criteria``: the age range first, then each criterion."""
    age = {"id": AGE_CRITERION, "min": criteria.min_age, "max": criteria.max_age}
    return [age] + [
        {
            "id": c.id,
            "question": c.question,
            "expected": c.expected,
            "failure_reason": c.failure_reason,
        }
        for c in criteria.criteria
    ]


def criteria_of(protocol: ProtocolVersion | Row[Any]) -> CriteriaSet:
    """The :class:`~pebs.trial.CriteriaSet` stored with a protocol version (its row or the row
    :func:`protocol_in_force` reads)."""
    entries = protocol.eligibility_criteria
    age = next(e for e in entries if e["id"] == AGE_CRITERION)
    criteria = tuple(
        Criterion(e["id"], e["question"], e["expected"], e["failure_reason"])
        for e in entries
        if e["id"] != AGE_CRITERION
    )
    return CriteriaSet(protocol.version, age["min"], age["max"], criteria)


_PROTOCOL_IN_FORCE = (
    select(ProtocolVersion.id, ProtocolVersion.version, ProtocolVersion.eligibility_criteria)
    .where(
        ProtocolVersion.study_id == bindparam("study_pk"),
        ProtocolVersion.effective_from <= bindparam("day"),
    )
    .order_by(ProtocolVersion.effective_from.desc())
    .limit(1)
)


def protocol_in_force(session: Session, study_pk: int, day: date) -> Row[Any]:
    """The protocol version in force on ``day`` (latest effective on or before it) of the study
    with key ``study_pk``: its ``id``, ``version`` and ``eligibility_criteria``."""
    connection = session.connection()
    protocol = connection.execute(_PROTOCOL_IN_FORCE, {"study_pk": study_pk, "day": day}).first()
    if protocol is None:
        name = connection.execute(select(Study.name).where(Study.id == study_pk)).scalar()
        raise Conflict(f"study {name!r}: no protocol version is in force on {day}")
    return protocol


_CONSENT_TERMS = (
    select(
        Country.languages,
        ConsentDocument.id.label("document_id"),
        ConsentDocument.version.label("document_version"),
    )
    .outerjoin(
        ConsentDocument,
        (ConsentDocument.country_id == Country.id)
        & (ConsentDocument.language == bindparam("language"))
        & (ConsentDocument.effective_from <= bindparam("day")),
    )
    .where(Country.study_id == bindparam("study_pk"), Country.code == bindparam("country_code"))
    .order_by(ConsentDocument.effective_from.desc(), ConsentDocument.id.desc())
    .limit(1)
)


def consent_terms(
    session: Session, study_pk: int, country_code: str, language: str, day: date
) -> Row[Any]:
    """In one query: the study ``languages`` of a country of the study with key ``study_pk``,
    and its consent document in ``language`` in force on ``day`` (``document_id``,
    ``document_version``; ``None`` when there is none, which :func:`consent_document_of`
    refuses)."""
    parameters = {
        "study_pk": study_pk, "country_code": country_code, "language": language, "day": day
    }  # fmt: skip
    terms = session.connection().execute(_CONSENT_TERMS, parameters).first()
    if terms is None:
        raise LookupError(f"study id {study_pk} has no country {country_code!r}")
    return terms


def consent_document_of(
    terms: Row[Any], country_code: str, language: str, day: date
) -> tuple[int, str]:
    """(id, version) of the consent document in :func:`consent_terms`; :class:`Conflict` when
    none of the country and language is in force on ``day``."""
    if terms.document_id is None:
        raise Conflict(f"no consent document for {country_code}/{language} is in force on {day}")
    return int(terms.document_id), str(terms.document_version)


def arm_named(session: Session, study: Study, name: str) -> Arm:
    arm = session.scalar(select(Arm).where(Arm.study_id == study.id, Arm.name == name))
    if arm is None:
        known = session.scalars(select(Arm.name).where(Arm.study_id == study.id)).all()
        raise InvalidInput(f"study {study.name!r} has no arm {name!r}; arms: {', '.join(known)}")
    return arm


def sample_rules_of(study: Study) -> SampleRules:
    """The study's kit rules (``[samples]`` of its file; the defaults when it has none)."""
    return sample_rules_from_json(_config(study).get("samples"))


def lab_rules_of(study: Study) -> LabRules:
    """The study's laboratory rules (``[laboratory]`` of its file; the defaults when none)."""
    return lab_rules_from_json(_config(study).get("laboratory"))
