"""The stored study configuration read back as the core's values (design, strata, criteria)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, NamedTuple

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


_PROTOCOL_VERSIONS = (
    select(
        ProtocolVersion.study_id,
        ProtocolVersion.id,
        ProtocolVersion.version,
        ProtocolVersion.eligibility_criteria,
        ProtocolVersion.effective_from,
    )
    .where(ProtocolVersion.study_id.in_(bindparam("study_pks", expanding=True)))
    .order_by(ProtocolVersion.effective_from.desc(), ProtocolVersion.id.desc())
)


def protocol_in_force(session: Session, study_pk: int, day: date) -> Row[Any]:
    """The protocol version in force on ``day`` (latest effective on or before it) of the study
    with key ``study_pk``: its ``id``, ``version`` and ``eligibility_criteria``."""
    protocol = protocols_in_force(session, [(study_pk, day)])[study_pk, day]
    if isinstance(protocol, Conflict):
        raise protocol
    return protocol


def protocols_in_force(
    session: Session, wanted: Iterable[tuple[int, date]]
) -> dict[tuple[int, date], Row[Any] | Conflict]:
    """:func:`protocol_in_force` for several (study key, day) pairs, read in one query: each
    pair's protocol version, or the :class:`Conflict` saying none is in force that day."""
    pairs = set(wanted)
    if not pairs:
        return {}
    connection = session.connection()
    versions: dict[int, list[Row[Any]]] = {}
    rows = connection.execute(_PROTOCOL_VERSIONS, {"study_pks": sorted({s for s, _ in pairs})})
    for row in rows:  # latest first
        versions.setdefault(row.study_id, []).append(row)
    found: dict[tuple[int, date], Row[Any] | Conflict] = {}
    for study_pk, day in pairs:
        protocol = next((v for v in versions.get(study_pk, ()) if v.effective_from <= day), None)
        if protocol is None:
            name = connection.execute(select(Study.name).where(Study.id == study_pk)).scalar()
            found[study_pk, day] = Conflict(
                f"study {name!r}: no protocol version is in force on {day}"
            )
        else:
            found[study_pk, day] = protocol
    return found


class ConsentTerms(NamedTuple):
    """A country's study languages and its consent document in one language in force on a day
    (``None`` when there is none, which :func:`consent_document_of` refuses)."""

    languages: list[str]
    document_id: int | None
    document_version: str | None


_COUNTRY_DOCUMENTS = (
    select(
        Country.study_id,
        Country.code,
        Country.languages,
        ConsentDocument.id.label("document_id"),
        ConsentDocument.language,
        ConsentDocument.version,
        ConsentDocument.effective_from,
    )
    .outerjoin(ConsentDocument, ConsentDocument.country_id == Country.id)
    .where(
        Country.study_id.in_(bindparam("study_pks", expanding=True)),
        Country.code.in_(bindparam("country_codes", expanding=True)),
    )
    .order_by(ConsentDocument.effective_from.desc(), ConsentDocument.id.desc())
)


def consent_terms_of(
    session: Session, wanted: Iterable[tuple[int, str, str, date]]
) -> dict[tuple[int, str, str, date], ConsentTerms]:
    """For each (study key, country code, language, day), read in one query: the country's study
    languages and its consent document in that language in force on that day (latest effective
    on or before it); :class:`LookupError` for a country the study does not have."""
    keys = set(wanted)
    if not keys:
        return {}
    parameters = {
        "study_pks": sorted({k[0] for k in keys}), "country_codes": sorted({k[1] for k in keys})
    }  # fmt: skip
    countries: dict[tuple[int, str], list[Row[Any]]] = {}
    for row in session.connection().execute(_COUNTRY_DOCUMENTS, parameters):  # latest first
        countries.setdefault((row.study_id, row.code), []).append(row)
    terms = {}
    for study_pk, country_code, language, day in keys:
        rows = countries.get((study_pk, country_code))
        if rows is None:
            raise LookupError(f"study id {study_pk} has no country {country_code!r}")
        document = next((r for r in rows if r.document_id is not None and r.language == language
                         and r.effective_from <= day), None)  # fmt: skip
        terms[study_pk, country_code, language, day] = ConsentTerms(
            list(rows[0].languages or ()),
            None if document is None else document.document_id,
            None if document is None else document.version,
        )
    return terms


def consent_document_of(
    terms: ConsentTerms, country_code: str, language: str, day: date
) -> tuple[int, str]:
    """(id, version) of the consent document in :func:`consent_terms_of`; :class:`Conflict` when
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
