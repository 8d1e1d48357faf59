"""Study configuration: a TOML file read into frozen values, with messages that name the key.

A study file (the shipped demo is ``pebs/trial/studies/mypebs-demo.toml``) has:

- top level: ``name`` (the file's stem), ``title``, optional ``notes`` and ``source``;
- ``[randomisation]``: ``block_sizes`` (ascending, multiples of the sum of the arm ratios),
  optional ``block_probabilities`` (one proportion per size, summing to 1; equal if absent);
- ``[[arm]]``: ``name`` (``standard`` or ``risk-based``, the arms of the pathway), ``ratio`` (whole
  number), ``policy`` (a :mod:`pebs.screening` policy name, or ``"country"`` for each country's
  ``standard_policy``);
- ``[strata]``: ``factors`` (from ``country``, ``site``, ``age_band``) and ``age_bands``
  (``[[40, 49], [50, 59], [60, 70]]``, inclusive, contiguous);
- ``[[country]]``: ``code`` (two capital letters), ``name``, ``languages`` (ISO 639-1 codes),
  ``time_zone`` (IANA, checked with :mod:`zoneinfo`), ``standard_policy``, ``target``;
- ``[[site]]``: ``code`` (``<country>-<2 to 4 capitals or digits>``, e.g. ``FR-PA``), ``name``,
  ``country``, ``target``, and optionally the contact printed on letters to participants:
  ``address``, ``phone``, ``email``; the site targets of a country add up to its target;
- ``[[protocol]]``: ``version``, ``effective`` (a TOML date; strictly later for each version),
  ``min_age``, ``max_age`` and ``[[protocol.criterion]]`` tables (``id``, ``question``,
  ``expected``, ``failure_reason``), or ``criteria_from = "<earlier version>"`` to reuse them;
- ``[[consent]]``: ``country``, ``language`` (one of the country's), ``version``, ``effective``,
  ``title``; every language of every country needs at least one consent document;
- ``[risk_assessment]`` (optional): ``required`` (the risk-model inputs that must be answered,
  with a value or ``"unknown"``) and ``allow_provisional`` (an assessment without the PRS is
  allowed, marked provisional) and ``model`` (the five-year model's id, default the personalised
  model; :mod:`pebs.risk.registry`); see :mod:`pebs.trial.risk_inputs`. Without the section every
  input is required, no assessment is provisional and the model is the personalised one.
- ``[samples]`` (optional): ``kit_prefix`` (1 to 6 digits or capitals), ``assign_at``
  (``randomisation``: a kit for every woman randomised to the risk-based arm, or ``manual``) and
  ``result_expected_weeks`` (a sample without a result after this long is overdue); and
  ``[laboratory]`` (optional): ``score`` (a PGS Catalog score shipped with pebs),
  ``min_call_rate`` (a proportion) and ``max_imputed`` (variants); see :mod:`pebs.trial.samples`.
- ``[monitoring]`` (optional): ``sdv_forms`` (the forms a monitor verifies against the source
  documents for every woman) and ``sample_fraction`` (the proportion of her other form instances
  drawn for verification); see :mod:`pebs.trial.monitoring_plan`. Without it every form is
  verified.
- ``[analysis]`` (optional): the statistical analysis plan (primary endpoint, horizon, reference
  arm, non-inferiority margins, one-sided alpha, per-protocol exclusions); see
  :mod:`pebs.trial.analysis_plan`. Without it the MyPeBS defaults apply, the first arm being the
  reference.
- ``[[instrument]]`` (optional): the questionnaires of the study, their items and the type of
  each answer (:mod:`pebs.trial.instruments`); a questionnaire response must name one of them.
- ``[[edit_check]]`` (optional): the study's edit checks (``range``, ``required_if``,
  ``date_order``, ``required_before``) and the query message of each
  (:mod:`pebs.trial.edit_checks`).
- ``[translations.<language>]`` (optional, one table per shipped language but English): the
  study's own words in that language, the file's English being the fallback:
  ``"criterion.<id>.question"``, ``"criterion.<id>.failure_reason"``,
  ``"consent.<country>.<language>.<version>.title"``, ``"instrument.<name>.title"`` and
  ``"edit_check.<id>.message"``; a key must name a criterion, consent document, instrument or
  edit check of the file (:func:`translation_keys`).

Policy names must be policies shipped in ``pebs/screening/policies/``, checked to be for the right
arm.

:func:`load_study` reads a shipped study by name, or a study file by path (the one place
:mod:`pebs.trial` reads a file that is not packaged, as :func:`pebs.screening.load_policy` does).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pebs._named_files import read_named, shipped_names
from pebs._toml_text import parse_toml
from pebs.screening import PolicyError, load_policy, shipped_policies
from pebs.trial.allocation_list import AllocationListError, BlockDesign
from pebs.trial.analysis_plan import AnalysisPlan, AnalysisPlanError, parse_analysis_plan
from pebs.trial.edit_checks import EditCheck, EditCheckError, parse_edit_checks
from pebs.trial.eligibility import CriteriaSet, Criterion, EligibilityError
from pebs.trial.instruments import Instrument, InstrumentError, parse_instruments
from pebs.trial.monitoring_plan import (
    DEFAULT_MONITORING_PLAN,
    MonitoringPlan,
    MonitoringPlanError,
    parse_monitoring_plan,
)
from pebs.trial.pathway import ARM_EVENTS
from pebs.trial.risk_inputs import DEFAULT_RULES, RiskInputRules, RiskRulesError, parse_rules
from pebs.trial.samples import (
    DEFAULT_LAB_RULES,
    DEFAULT_SAMPLE_RULES,
    LabRules,
    SampleRules,
    SampleRulesError,
    parse_lab_rules,
    parse_sample_rules,
)
from pebs.trial.strata import AgeBand, StrataDefinition, StratumError, all_strata
from pebs.trial.vocabularies import LANGUAGES

COUNTRY_POLICY = "country"
"""Arm policy meaning "each country's ``standard_policy``"."""

_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_SITE_CODE = re.compile(r"^([A-Z]{2})-[A-Z0-9]{2,4}$")

_KEYS = {
    None: {"name", "title", "notes", "source", "randomisation", "arm", "strata", "country",
           "site", "protocol", "consent", "risk_assessment", "instrument", "samples",
           "laboratory", "monitoring", "edit_check", "translations", "analysis"},
    "randomisation": {"block_sizes", "block_probabilities"},
    "arm": {"name", "ratio", "policy"},
    "strata": {"factors", "age_bands"},
    "country": {"code", "name", "languages", "time_zone", "standard_policy", "target"},
    "site": {"code", "name", "country", "target", "address", "phone", "email"},
    "protocol": {"version", "effective", "min_age", "max_age", "criterion", "criteria_from"},
    "protocol.criterion": {"id", "question", "expected", "failure_reason"},
    "consent": {"country", "language", "version", "effective", "title"},
}  # fmt: skip


class StudyError(ValueError):
    """A study file cannot be used; the message names the file, the key and what is allowed."""


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    languages: tuple[str, ...]
    time_zone: str
    """IANA time zone; times are stored in UTC and shown in this zone."""
    standard_policy: str
    target: int

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class Site:
    code: str
    """Study-wide site code, ``<country>-<code>`` (``FR-PA``); participant IDs start with it."""
    name: str
    country: str
    target: int
    address: str | None = None
    """Postal address for letters (optional)."""
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ProtocolVersion:
    version: str
    effective: date
    eligibility: CriteriaSet


@dataclass(frozen=True)
class ConsentDocument:
    country: str
    language: str
    version: str
    effective: date
    title: str


@dataclass(frozen=True)
class Arm:
    name: str
    ratio: int
    policy: str
    """A screening policy name, or :data:`COUNTRY_POLICY`."""


@dataclass(frozen=True)
class Study:
    name: str
    title: str
    arms: tuple[Arm, ...]
    design: BlockDesign
    strata: StrataDefinition
    countries: tuple[Country, ...]
    sites: tuple[Site, ...]
    protocols: tuple[ProtocolVersion, ...]
    consents: tuple[ConsentDocument, ...]
    notes: str = ""
    source: str = ""
    path: str = ""
    risk_assessment: RiskInputRules = DEFAULT_RULES
    """Which risk-model inputs must be answered; whether a provisional assessment is allowed."""
    instruments: tuple[Instrument, ...] = ()
    samples: SampleRules = DEFAULT_SAMPLE_RULES
    laboratory: LabRules = DEFAULT_LAB_RULES
    """The questionnaires a response may name, with their items and answer types."""
    monitoring: MonitoringPlan = DEFAULT_MONITORING_PLAN
    """The forms verified against the source documents (``[monitoring]``)."""
    analysis: AnalysisPlan | None = None
    """The statistical analysis plan (``[analysis]``; ``None``: the file has none)."""
    edit_checks: tuple[EditCheck, ...] = ()
    """The checks run on her data whenever it changes (``[[edit_check]]``)."""
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Language -> key (``criterion.<id>.question``...) -> the study's text in that language
    (``[translations.<language>]``; English is the file's own text)."""

    @property
    def target(self) -> int:
        """Recruitment target of the whole study (sum over countries)."""
        return sum(c.target for c in self.countries)

    def country(self, code: str) -> Country:
        for country in self.countries:
            if country.code == code:
                return country
        known = ", ".join(c.code for c in self.countries)
        raise StudyError(f"{self.name}: unknown country {code!r}; countries: {known}")

    def site(self, code: str) -> Site:
        for site in self.sites:
            if site.code == code:
                return site
        known = ", ".join(s.code for s in self.sites)
        raise StudyError(f"{self.name}: unknown site {code!r}; sites: {known}")

    def sites_in(self, country: str) -> tuple[Site, ...]:
        self.country(country)
        return tuple(s for s in self.sites if s.country == country)

    def policy_for(self, arm: str, country: str) -> str:
        """The screening policy name for a woman of ``arm`` in ``country``."""
        for candidate in self.arms:
            if candidate.name == arm:
                if candidate.policy == COUNTRY_POLICY:
                    return self.country(country).standard_policy
                self.country(country)
                return candidate.policy
        known = ", ".join(a.name for a in self.arms)
        raise StudyError(f"{self.name}: unknown arm {arm!r}; arms: {known}")

    def protocol_on(self, day: date) -> ProtocolVersion:
        """The protocol version in force on ``day`` (the latest effective on or before it)."""
        in_force = [p for p in self.protocols if p.effective <= day]
        if not in_force:
            first = self.protocols[0]
            raise StudyError(
                f"{self.name}: no protocol version is in force on {day}; the first, "
                f"{first.version}, is effective from {first.effective}"
            )
        return in_force[-1]

    def consent_document(self, country: str, language: str, day: date) -> ConsentDocument:
        """The consent document in force on ``day`` for a country and language."""
        languages = self.country(country).languages
        if language not in languages:
            raise StudyError(
                f"{self.name}: language {language!r} is not a study language of "
                f"{country}; languages: {', '.join(languages)}"
            )
        in_force = [
            c
            for c in self.consents
            if c.country == country and c.language == language and c.effective <= day
        ]
        if not in_force:
            raise StudyError(
                f"{self.name}: no consent document for {country}/{language} is in force on {day}"
            )
        return max(in_force, key=lambda c: c.effective)

    def strata_labels(self) -> tuple[str, ...]:
        """Every stratum of the study (for generating the allocation lists)."""
        return all_strata(
            self.strata,
            sites=[s.code for s in self.sites],
            countries=[c.code for c in self.countries],
        )


class _Reader:
    """Builds error messages ``source: key.path: problem`` and checks values."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, key: str, message: str) -> StudyError:
        return StudyError(
            f"{self.source}: {key}: {message}" if key else f"{self.source}: {message}"
        )

    def table(self, value, key: str, kind: str | None) -> dict:
        if not isinstance(value, dict):
            raise self.error(key, f"must be a table, got {value!r}")
        for name in value:
            if name not in _KEYS[kind]:
                raise self.error(
                    f"{key}.{name}" if key else name,
                    f"unknown key; allowed: {', '.join(sorted(_KEYS[kind]))}",
                )
        return value

    def tables(self, data: dict, name: str, kind: str, required: bool = True) -> list[dict]:
        value = data.get(name, [])
        if not isinstance(value, list) or (required and not value):
            raise self.error(name, f"needs at least one [[{kind}]] table")
        return [self.table(entry, f"{name}[{i + 1}]", kind) for i, entry in enumerate(value)]

    def text(self, entry: dict, key: str, name: str, required: bool = True) -> str:
        value = entry.get(name)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.error(
                f"{key}.{name}" if key else name, f"must be a non-empty text, got {value!r}"
            )
        return value.strip()

    def whole(self, entry: dict, key: str, name: str, minimum: int) -> int:
        value = entry.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(f"{key}.{name}", f"must be a whole number >= {minimum}, got {value!r}")
        return value

    def day(self, entry: dict, key: str, name: str) -> date:
        value = entry.get(name)
        if isinstance(value, datetime) or not isinstance(value, date):
            raise self.error(f"{key}.{name}", f"must be a TOML date (2021-03-01), got {value!r}")
        return value

    def choice(self, entry: dict, key: str, name: str, allowed, what: str) -> str:
        """A text that must be one of ``allowed`` (named ``what`` in the message)."""
        value = self.text(entry, key, name)
        if value not in allowed:
            raise self.error(
                f"{key}.{name}", f"unknown {what} {value!r}; allowed: " + ", ".join(allowed)
            )
        return value

    def unique(self, key: str, value, seen, what: str) -> None:
        if value in seen:
            raise self.error(key, f"{what} {value!r} is listed twice")

    def code(self, entry: dict, key: str, name: str, pattern: re.Pattern, example: str) -> str:
        value = entry.get(name)
        if not isinstance(value, str) or not pattern.match(value):
            raise self.error(f"{key}.{name}", f"must be a code like {example!r}, got {value!r}")
        return value


def _policy(reader: _Reader, key: str, name: str, arm: str) -> None:
    shipped = shipped_policies()
    if name not in shipped:
        known = ", ".join(sorted(shipped))
        raise reader.error(key, f"unknown screening policy {name!r}; known: {known}")
    try:
        policy = load_policy(name)
    except PolicyError as exc:
        raise reader.error(key, f"policy {name!r} cannot be loaded ({exc})") from exc
    if policy.arm not in (arm, "any"):
        raise reader.error(key, f"policy {name!r} is for the {policy.arm} arm, not {arm}")


def _arms(reader: _Reader, data: dict) -> tuple[tuple[Arm, ...], BlockDesign]:
    arms = []
    for i, entry in enumerate(reader.tables(data, "arm", "arm")):
        key = f"arm[{i + 1}]"
        name = reader.choice(entry, key, "name", tuple(ARM_EVENTS), "arm")
        reader.unique(f"{key}.name", name, [a.name for a in arms], "arm")
        policy = reader.text(entry, key, "policy")
        if policy != COUNTRY_POLICY:
            _policy(reader, f"{key}.policy", policy, name)
        arms.append(Arm(name, reader.whole(entry, key, "ratio", 1), policy))
    randomisation = reader.table(data.get("randomisation"), "randomisation", "randomisation")
    sizes = randomisation.get("block_sizes")
    probabilities = randomisation.get("block_probabilities")
    try:
        design = BlockDesign(
            arms=tuple(a.name for a in arms),
            ratio=tuple(a.ratio for a in arms),
            block_sizes=tuple(sizes) if isinstance(sizes, list) else sizes,
            block_probabilities=(
                tuple(probabilities) if isinstance(probabilities, list) else probabilities
            ),
        )
    except AllocationListError as exc:
        raise reader.error("randomisation", str(exc)) from None
    return tuple(arms), design


def _strata(reader: _Reader, data: dict) -> StrataDefinition:
    entry = reader.table(data.get("strata"), "strata", "strata")
    factors, bands = entry.get("factors"), entry.get("age_bands")
    if not isinstance(factors, list):
        raise reader.error("strata.factors", f"must be a list of factor names, got {factors!r}")
    if not isinstance(bands, list) or not all(isinstance(b, list) and len(b) == 2 for b in bands):
        raise reader.error("strata.age_bands", f"must be a list of [low, high] ages, got {bands!r}")
    try:
        return StrataDefinition(tuple(factors), tuple(AgeBand(*band) for band in bands))
    except StratumError as exc:
        raise reader.error("strata", str(exc)) from None


def _countries(reader: _Reader, data: dict) -> tuple[Country, ...]:
    countries: list[Country] = []
    for i, entry in enumerate(reader.tables(data, "country", "country")):
        key = f"country[{i + 1}]"
        code = reader.code(entry, key, "code", _COUNTRY_CODE, "FR")
        reader.unique(f"{key}.code", code, [c.code for c in countries], "country")
        languages = entry.get("languages")
        if (
            not isinstance(languages, list)
            or not languages
            or not all(isinstance(v, str) and _LANGUAGE.match(v) for v in languages)
            or len(set(languages)) != len(languages)
        ):
            raise reader.error(
                f"{key}.languages",
                f"must be a non-empty list of distinct ISO 639-1 codes such as 'fr', got "
                f"{languages!r}",
            )
        zone = reader.text(entry, key, "time_zone")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise reader.error(
                f"{key}.time_zone", f"{zone!r} is not an IANA time zone (e.g. 'Europe/Paris')"
            ) from None
        policy = reader.text(entry, key, "standard_policy")
        _policy(reader, f"{key}.standard_policy", policy, "standard")
        name, target = reader.text(entry, key, "name"), reader.whole(entry, key, "target", 1)
        countries.append(Country(code, name, tuple(languages), zone, policy, target))
    return tuple(countries)


def _sites(reader: _Reader, data: dict, countries: tuple[Country, ...]) -> tuple[Site, ...]:
    sites: list[Site] = []
    known = tuple(c.code for c in countries)
    for i, entry in enumerate(reader.tables(data, "site", "site")):
        key = f"site[{i + 1}]"
        country = reader.choice(entry, key, "country", known, "country")
        code = reader.code(entry, key, "code", _SITE_CODE, f"{country}-PA")
        if not code.startswith(country + "-"):
            raise reader.error(
                f"{key}.code", f"site code {code!r} must start with its country code '{country}-'"
            )
        reader.unique(f"{key}.code", code, [s.code for s in sites], "site")
        name, target = reader.text(entry, key, "name"), reader.whole(entry, key, "target", 1)
        contact = [reader.text(entry, key, part, required=False) or None
                   for part in ("address", "phone", "email")]  # fmt: skip
        sites.append(Site(code, name, country, target, *contact))
    for country in countries:
        total = sum(s.target for s in sites if s.country == country.code)
        if total != country.target:
            raise reader.error(
                f"country[{countries.index(country) + 1}].target",
                f"{country.code} has target {country.target} but its sites' targets add up to "
                f"{total}",
            )
    return tuple(sites)


def _protocols(reader: _Reader, data: dict) -> tuple[ProtocolVersion, ...]:
    protocols: list[ProtocolVersion] = []
    for i, entry in enumerate(reader.tables(data, "protocol", "protocol")):
        key = f"protocol[{i + 1}]"
        version = reader.text(entry, key, "version")
        effective = reader.day(entry, key, "effective")
        reader.unique(f"{key}.version", version, [p.version for p in protocols], "version")
        if protocols and effective <= protocols[-1].effective:
            raise reader.error(
                f"{key}.effective",
                f"{effective} must be after the previous version's {protocols[-1].effective}",
            )
        if "criteria_from" in entry:
            if "criterion" in entry:
                raise reader.error(key, "give either criteria_from or [[protocol.criterion]]")
            base_version = reader.text(entry, key, "criteria_from")
            base = next((p for p in protocols if p.version == base_version), None)
            if base is None:
                raise reader.error(
                    f"{key}.criteria_from", f"{base_version!r} is not an earlier protocol version"
                )
            criteria = base.eligibility.criteria
            ages = {"min_age": base.eligibility.min_age, "max_age": base.eligibility.max_age}
        else:
            criteria = tuple(
                _criterion(reader, f"{key}.criterion[{j + 1}]", item)
                for j, item in enumerate(reader.tables(entry, "criterion", "protocol.criterion"))
            )
            ages = {}
        for name in ("min_age", "max_age"):
            if name in entry or name not in ages:
                ages[name] = reader.whole(entry, key, name, 0)
        try:
            eligibility = CriteriaSet(version, ages["min_age"], ages["max_age"], criteria)
        except EligibilityError as exc:
            raise reader.error(key, str(exc)) from None
        protocols.append(ProtocolVersion(version, effective, eligibility))
    return tuple(protocols)


def _criterion(reader: _Reader, key: str, entry: dict) -> Criterion:
    expected = entry.get("expected")
    if not isinstance(expected, bool):
        raise reader.error(f"{key}.expected", f"must be true or false, got {expected!r}")
    try:
        return Criterion(
            id=reader.text(entry, key, "id"),
            question=reader.text(entry, key, "question"),
            expected=expected,
            failure_reason=reader.text(entry, key, "failure_reason"),
        )
    except EligibilityError as exc:
        raise reader.error(key, str(exc)) from None


def _consents(reader: _Reader, data: dict, countries: tuple[Country, ...]):
    consents: list[ConsentDocument] = []
    known = {c.code: c for c in countries}
    for i, entry in enumerate(reader.tables(data, "consent", "consent")):
        key = f"consent[{i + 1}]"
        country = reader.choice(entry, key, "country", tuple(known), "country")
        languages = known[country].languages
        language = reader.choice(entry, key, "language", languages, f"language of {country}")
        document = ConsentDocument(
            country,
            language,
            reader.text(entry, key, "version"),
            reader.day(entry, key, "effective"),
            reader.text(entry, key, "title"),
        )
        seen = [c.version for c in consents if (c.country, c.language) == (country, language)]
        reader.unique(f"{key}.version", document.version, seen, f"{country}/{language} version")
        consents.append(document)
    for country in countries:
        for language in country.languages:
            if not any(c.country == country.code and c.language == language for c in consents):
                raise reader.error(
                    "consent",
                    f"no consent document for {country.code}/{language}"
                    " (every language of every country needs one)",
                )
    return tuple(consents)


def parse_study(text: str, source: str = "<study>") -> Study:
    """Read and validate a study from TOML text; :class:`StudyError` names the key at fault."""
    reader = _Reader(source)
    data = parse_toml(text, source, StudyError)
    reader.table(data, "", None)
    name = reader.text(data, "", "name")
    stem = Path(source).stem
    if source != "<study>" and name != stem:
        raise reader.error("name", f"is {name!r} but the file is named {stem!r}.toml")
    arms, design = _arms(reader, data)
    countries = _countries(reader, data)
    study = Study(
        name=name,
        title=reader.text(data, "", "title"),
        arms=arms,
        design=design,
        strata=_strata(reader, data),
        countries=countries,
        sites=_sites(reader, data, countries),
        protocols=_protocols(reader, data),
        consents=_consents(reader, data, countries),
        notes=reader.text(data, "", "notes", required=False),
        source=reader.text(data, "", "source", required=False),
        path=source,
        risk_assessment=_risk_rules(reader, data),
        instruments=_instruments(reader, data),
        samples=_sample_rules(reader, data),
        laboratory=_lab_rules(reader, data),
        monitoring=_monitoring(reader, data),
        analysis=_analysis(reader, data, arms),
        edit_checks=_edit_checks(reader, data),
        translations=_translations(reader, data),
    )
    known = translation_keys(study)
    for language, table in study.translations.items():
        for key in table:
            if key not in known:
                raise reader.error(
                    f"translations.{language}.{key}",
                    "names no criterion, consent document, instrument or edit check of this "
                    "study (criterion.<id>.question, criterion.<id>.failure_reason, "
                    "consent.<country>.<language>.<version>.title, instrument.<name>.title, "
                    "edit_check.<id>.message)",
                )
    return study


def translation_keys(study: Study) -> frozenset[str]:
    """The keys a ``[translations.<language>]`` table of ``study`` may give."""
    keys = {f"criterion.{c.id}.{part}" for p in study.protocols for c in p.eligibility.criteria
            for part in ("question", "failure_reason")}  # fmt: skip
    keys |= {f"consent.{c.country}.{c.language}.{c.version}.title" for c in study.consents}
    keys |= {f"instrument.{i.name}.title" for i in study.instruments}
    keys |= {f"edit_check.{c.id}.message" for c in study.edit_checks}
    return frozenset(keys)


def _translations(reader: _Reader, data: dict) -> dict[str, dict[str, str]]:
    """``[translations.<language>]``: flat tables of texts; keys checked by :func:`parse_study`."""
    tables = data.get("translations", {})
    if not isinstance(tables, dict):
        raise reader.error("translations", "must be a table of [translations.<language>] tables")
    allowed = tuple(code for code in LANGUAGES if code != "en")
    result: dict[str, dict[str, str]] = {}
    for language, table in tables.items():
        if language not in allowed:
            raise reader.error(
                f"translations.{language}", f"is not a language; allowed: {', '.join(allowed)}"
            )
        if not isinstance(table, dict):
            raise reader.error(f"translations.{language}", "must be a table of texts")
        result[language] = {
            key: reader.text(table, f"translations.{language}", key) for key in table
        }
    return result


def _risk_rules(reader: _Reader, data: dict) -> RiskInputRules:
    try:
        return parse_rules(data.get("risk_assessment"))
    except RiskRulesError as exc:
        raise reader.error("", str(exc)) from None


def _instruments(reader: _Reader, data: dict) -> tuple[Instrument, ...]:
    try:
        return parse_instruments(data.get("instrument"))
    except InstrumentError as exc:
        raise reader.error("", str(exc)) from None


def _sample_rules(reader: _Reader, data: dict) -> SampleRules:
    try:
        return parse_sample_rules(data.get("samples"))
    except SampleRulesError as exc:
        raise reader.error("", str(exc)) from None


def _lab_rules(reader: _Reader, data: dict) -> LabRules:
    try:
        return parse_lab_rules(data.get("laboratory"))
    except SampleRulesError as exc:
        raise reader.error("", str(exc)) from None


def _monitoring(reader: _Reader, data: dict) -> MonitoringPlan:
    try:
        return parse_monitoring_plan(data.get("monitoring"))
    except MonitoringPlanError as exc:
        raise reader.error("", str(exc)) from None


def _analysis(reader: _Reader, data: dict, arms: tuple[Arm, ...]) -> AnalysisPlan | None:
    if "analysis" not in data:
        return None
    try:
        return parse_analysis_plan(data["analysis"], arms=[a.name for a in arms])
    except AnalysisPlanError as exc:
        raise reader.error("", str(exc)) from None


def _edit_checks(reader: _Reader, data: dict) -> tuple[EditCheck, ...]:
    try:
        return parse_edit_checks(data.get("edit_check"))
    except EditCheckError as exc:
        raise reader.error("", str(exc)) from None


def _study_dir():
    return files("pebs.trial").joinpath("studies")


def shipped_studies() -> tuple[str, ...]:
    """Names of the studies shipped with pebs."""
    return shipped_names(_study_dir())


def load_study(name_or_path: str | Path) -> Study:
    """A shipped study by name (``"mypebs-demo"``) or a study file by path.

    Examples
    --------
    >>> study = load_study("mypebs-demo")
    >>> study.target, len(study.countries), study.policy_for("standard", "UK")
    (90000, 6, 'uk-england')
    """
    text, source = read_named(name_or_path, _study_dir(), what="study", error=StudyError)
    return parse_study(text, source)
