"""Load a study configuration (``pebs study load FILE|mypebs-demo``) into the database.

Idempotent: loading the same configuration again changes nothing and writes no audit event.
Loading a changed file adds what is new (countries, sites, protocol versions, consent document
versions) and updates what may change (names, titles, targets, languages, time zones, policies);
it refuses, with :class:`~.errors.Conflict`, changes that would rewrite history: a stored protocol
version's date or criteria, a consent document's effective date, a site moved to another country,
or the randomisation design or strata once an allocation list exists. Nothing is deleted: an
entry missing from the file stays in the database and is reported in ``not_in_file``.

Every created or updated row has its audit event, in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import Action, Actor, require
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.transaction import transaction
from pebs.services.trial.study_rules import criteria_json, design_json, strata_json
from pebs.store.audit import append_event, canonical_json
from pebs.store.models import (
    AllocationList,
    Arm,
    ConsentDocument,
    Country,
    ProtocolVersion,
    Site,
    Study,
    User,
)
from pebs.trial import Study as StudyConfig
from pebs.trial import StudyError, load_study
from pebs.trial.edit_checks import edit_checks_json
from pebs.trial.instruments import instruments_json
from pebs.trial.monitoring_plan import DEFAULT_MONITORING_PLAN
from pebs.trial.samples import DEFAULT_LAB_RULES, DEFAULT_SAMPLE_RULES

__all__ = ["DEMO_USERS", "StudyLoadResult", "load_study_config"]

DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("demo-site-staff", "site_staff", "site"),
    ("demo-site-investigator", "site_investigator", "site"),
    ("demo-country-coordinator", "country_coordinator", "country"),
    ("demo-data-manager", "data_manager", ""),
    ("demo-statistician", "statistician", ""),
    ("demo-monitor", "monitor", ""),
    ("demo-administrator", "administrator", ""),
    ("demo-laboratory", "laboratory", ""),
)
"""(username, role, scope) of the demo accounts: site roles at the study's first site, the
coordinator in its country, the central laboratory (kits only, no participant). They have no
password: set one before they can log in."""


@dataclass(frozen=True)
class StudyLoadResult:
    """What a load did. ``created``/``updated`` count rows per kind (``"site"``: 16)."""

    study: str
    config_sha256: str
    created: Mapping[str, int]
    updated: Mapping[str, int]
    not_in_file: tuple[str, ...]
    demo_users: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def config_json(config: StudyConfig) -> dict[str, Any]:
    """The whole configuration as JSON (stored in ``studies.config``; its hash detects change).

    Dates are ISO text, as stored and hashed.
    """
    document = {
        "name": config.name,
        "title": config.title,
        "notes": config.notes,
        "source": config.source,
        "design": design_json(config.design),
        "strata": strata_json(config.strata),
        "arms": [{"name": a.name, "ratio": a.ratio, "policy": a.policy} for a in config.arms],
        "countries": [
            {
                "code": c.code,
                "name": c.name,
                "languages": list(c.languages),
                "time_zone": c.time_zone,
                "standard_policy": c.standard_policy,
                "target": c.target,
            }
            for c in config.countries
        ],
        "sites": [
            {
                "code": s.code,
                "name": s.name,
                "country": s.country,
                "target": s.target,
                **{
                    part: getattr(s, part)
                    for part in ("address", "phone", "email")
                    if getattr(s, part) is not None
                },
            }  # contact only when given: configs compare
            for s in config.sites
        ],
        "protocols": [
            {
                "version": p.version,
                "effective": p.effective,
                "criteria": criteria_json(p.eligibility),
            }
            for p in config.protocols
        ],
        "consents": [
            {
                "country": c.country,
                "language": c.language,
                "version": c.version,
                "effective": c.effective,
                "title": c.title,
            }
            for c in config.consents
        ],
        "risk_assessment": config.risk_assessment.as_json(),
        "instruments": instruments_json(config.instruments),
    }
    # Written only when the study file says something, so that a configuration stored before
    # these sections existed reads, and compares, the same.
    if config.samples != DEFAULT_SAMPLE_RULES:
        document["samples"] = config.samples.as_json()
    if config.laboratory != DEFAULT_LAB_RULES:
        document["laboratory"] = config.laboratory.as_json()
    if config.monitoring != DEFAULT_MONITORING_PLAN:
        document["monitoring"] = config.monitoring.as_json()
    if config.analysis is not None:
        document["analysis"] = config.analysis.as_json()
    if config.edit_checks:
        document["edit_checks"] = edit_checks_json(config.edit_checks)
    if config.translations:
        document["translations"] = {language: dict(table)
                                    for language, table in config.translations.items()}  # fmt: skip
    return json.loads(canonical_json(document))


class _Loader:
    """Upserts rows of one study and writes their audit events."""

    def __init__(self, session: Session, actor: Actor, reason: str) -> None:
        self.session = session
        self.actor = actor
        self.reason = reason
        self.created: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()

    def audit(self, action: str, entity: str, key: str, old: Any, new: Any) -> None:
        append_event(
            self.session, actor=self.actor.username, action=action, entity=entity,
            entity_id=key, reason=self.reason, old=old, new=new,
        )  # fmt: skip

    def create(self, entity: str, key: str, row: Any, values: dict[str, Any]) -> None:
        self.session.add(row)
        self.session.flush()
        self.created[entity] += 1
        self.audit("create", entity, key, None, values)

    def update(self, entity: str, key: str, row: Any, values: dict[str, Any]) -> None:
        """Set the attributes of ``values`` that differ; audit old and new values."""
        old = {name: getattr(row, name) for name in values if getattr(row, name) != values[name]}
        if not old:
            return
        new = {name: values[name] for name in old}
        for name, value in new.items():
            setattr(row, name, value)
        self.session.flush()
        self.updated[entity] += 1
        self.audit("update", entity, key, old, new)


def _read_config(name_or_path: str | Path) -> StudyConfig:
    try:
        return load_study(name_or_path)
    except StudyError as error:
        raise InvalidInput(str(error)) from None


@refuses_unstorable_text
def load_study_config(
    session_maker: sessionmaker[Session],
    actor: Actor,
    name_or_path: str | Path,
    *,
    demo_users: bool = False,
) -> StudyLoadResult:
    """Load (or update) the study in a study file, or a shipped study by name.

    Parameters
    ----------
    session_maker
        Sessions on a migrated database.
    actor
        An administrator (or :meth:`Actor.system` from the command line).
    name_or_path
        ``"mypebs-demo"`` or the path of a study ``.toml`` file (:func:`pebs.trial.load_study`).
    demo_users
        Also create one account per role (:data:`DEMO_USERS`), unless they exist.
    """
    require(actor, Action.LOAD_STUDY)
    config = _read_config(name_or_path)
    document = config_json(config)
    digest = hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()
    reason = f"study configuration {config.name} ({Path(str(name_or_path)).name})"
    with transaction(session_maker) as session:
        loader = _Loader(session, actor, reason)
        study = _study(loader, config, document, digest)
        countries = _countries(loader, study, config)
        sites = _sites(loader, countries, config)
        _arms(loader, study, config)
        _protocols(loader, study, config)
        _consents(loader, countries, config)
        users = _demo_users(loader, config, countries, sites) if demo_users else ()
        not_in_file = _not_in_file(session, study, config)
    return StudyLoadResult(
        study=config.name,
        config_sha256=digest,
        created=dict(loader.created),
        updated=dict(loader.updated),
        not_in_file=not_in_file,
        demo_users=users,
    )


def _study(loader: _Loader, config: StudyConfig, document: dict, digest: str) -> Study:
    session = loader.session
    study = session.scalar(select(Study).where(Study.name == config.name))
    if study is None:
        study = Study(name=config.name, title=config.title, config=document, config_sha256=digest)
        loader.create("study", config.name, study, {"title": config.title, "config_sha256": digest})
        return study
    if study.config_sha256 == digest:
        return study
    if study.config is not None and _has_lists(session, study):
        for part in ("design", "strata"):
            stored = canonical_json(study.config.get(part))
            if stored != canonical_json(document[part]):
                raise Conflict(
                    f"study {config.name!r}: the {part} cannot change once an allocation list "
                    f"exists (stored {stored}, file {canonical_json(document[part])})"
                )
    loader.update("study", config.name, study, {"title": config.title, "config_sha256": digest})
    study.config = document  # its hash, audited above, identifies it
    return study


def _has_lists(session: Session, study: Study) -> bool:
    count = session.scalar(
        select(func.count()).select_from(AllocationList).where(AllocationList.study_id == study.id)
    )
    return bool(count)


def _countries(loader: _Loader, study: Study, config: StudyConfig) -> dict[str, Country]:
    stored = {
        c.code: c for c in loader.session.scalars(select(Country).where(Country.study == study))
    }
    for country in config.countries:
        values = {
            "name": country.name, "languages": list(country.languages),
            "time_zone": country.time_zone, "standard_policy": country.standard_policy,
            "recruitment_target": country.target,
        }  # fmt: skip
        row = stored.get(country.code)
        if row is None:
            row = Country(study=study, code=country.code, **values)
            loader.create("country", country.code, row, values)
            stored[country.code] = row
        else:
            loader.update("country", country.code, row, values)
    return stored


def _sites(loader: _Loader, countries: dict[str, Country], config: StudyConfig) -> dict[str, Site]:
    ids = [c.id for c in countries.values()]
    stored = {
        s.code: s for s in loader.session.scalars(select(Site).where(Site.country_id.in_(ids)))
    }
    for site in config.sites:
        country = countries[site.country]
        values = {"name": site.name, "recruitment_target": site.target}
        row = stored.get(site.code)
        if row is None:
            row = Site(country=country, code=site.code, **values)
            loader.create("site", site.code, row, {"country": site.country, **values})
            stored[site.code] = row
        elif row.country_id != country.id:
            raise Conflict(f"site {site.code} is stored in another country than {site.country}")
        else:
            loader.update("site", site.code, row, values)
    return stored


def _arms(loader: _Loader, study: Study, config: StudyConfig) -> None:
    stored = {a.name: a for a in loader.session.scalars(select(Arm).where(Arm.study == study))}
    for arm in config.arms:
        values = {"ratio": arm.ratio, "policy": arm.policy}
        row = stored.get(arm.name)
        if row is None:
            loader.create("arm", arm.name, Arm(study=study, name=arm.name, **values), values)
        else:
            loader.update("arm", arm.name, row, values)


def _protocols(loader: _Loader, study: Study, config: StudyConfig) -> None:
    query = select(ProtocolVersion).where(ProtocolVersion.study == study)
    stored = {p.version: p for p in loader.session.scalars(query)}
    for protocol in config.protocols:
        criteria = criteria_json(protocol.eligibility)
        row = stored.get(protocol.version)
        if row is None:
            row = ProtocolVersion(
                study=study, version=protocol.version, effective_from=protocol.effective,
                eligibility_criteria=criteria,
            )  # fmt: skip
            values = {"effective_from": protocol.effective, "eligibility_criteria": criteria}
            loader.create("protocol_version", protocol.version, row, values)
        elif row.effective_from != protocol.effective or canonical_json(
            row.eligibility_criteria
        ) != canonical_json(criteria):
            raise Conflict(
                f"protocol version {protocol.version} is already loaded with another effective "
                "date or other criteria; a stored protocol version never changes (add a new "
                "version to the file instead)"
            )


def _consents(loader: _Loader, countries: dict[str, Country], config: StudyConfig) -> None:
    ids = {c.id: code for code, c in countries.items()}
    query = select(ConsentDocument).where(ConsentDocument.country_id.in_(list(ids)))
    stored = {(ids[d.country_id], d.language, d.version): d for d in loader.session.scalars(query)}
    for document in config.consents:
        key = (document.country, document.language, document.version)
        label = "/".join(key)
        row = stored.get(key)
        if row is None:
            row = ConsentDocument(
                country=countries[document.country], language=document.language,
                version=document.version, title=document.title,
                effective_from=document.effective,
            )  # fmt: skip
            values = {"title": document.title, "effective_from": document.effective}
            loader.create("consent_document", label, row, values)
        elif row.effective_from != document.effective:
            raise Conflict(
                f"consent document {label} is already loaded with effective date "
                f"{row.effective_from}; a stored version never changes (add a new version)"
            )
        else:
            loader.update("consent_document", label, row, {"title": document.title})


def _demo_users(
    loader: _Loader, config: StudyConfig, countries: dict[str, Country], sites: dict[str, Site]
) -> tuple[str, ...]:
    site = sites[config.sites[0].code]
    country = countries[config.sites[0].country]
    names = []
    for username, role, scope in DEMO_USERS:
        names.append(username)
        if loader.session.scalar(select(User.id).where(User.username == username)) is not None:
            continue
        user = User(
            username=username,
            full_name=f"Demo {role.replace('_', ' ')}",
            role=role,
            site=site if scope == "site" else None,
            country=country if scope == "country" else None,
        )
        values = {
            "role": role,
            "site": site.code if scope == "site" else None,
            "country": country.code if scope == "country" else None,
        }
        loader.create("user", username, user, values)
    return tuple(names)


def _not_in_file(session: Session, study: Study, config: StudyConfig) -> tuple[str, ...]:
    missing = []
    countries = {c.code for c in config.countries}
    sites = {s.code for s in config.sites}
    for code in session.scalars(select(Country.code).where(Country.study_id == study.id)):
        if code not in countries:
            missing.append(f"country {code}")
    query = select(Site.code).join(Country).where(Country.study_id == study.id)
    missing += [f"site {code}" for code in session.scalars(query) if code not in sites]
    versions = {p.version for p in config.protocols}
    query = select(ProtocolVersion.version).where(ProtocolVersion.study_id == study.id)
    missing += [f"protocol {v}" for v in session.scalars(query) if v not in versions]
    return tuple(missing)
