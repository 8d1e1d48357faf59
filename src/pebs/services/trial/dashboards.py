"""Dashboards: recruitment vs target, CONSORT flow, allocation balance, risk levels.

Read-only use cases. Each checks the caller's role, reads only the participants in her scope
(site roles: their site; country coordinators: their country; central roles: everything), counts
with aggregate SQL (``GROUP BY``, a handful of queries whatever the number of participants) and
returns frozen dataclasses of plain values, ready for JSON (:func:`dataclasses.asdict`) and
charts. Test/training participants are never counted.

Who may see what (``docs/trial/dashboards-and-exports.md``):

- :func:`recruitment`, :func:`consort_flow`, :func:`risk_levels`: roles that may read participant
  data (:data:`~.actor.PERMISSIONS` ``READ_PARTICIPANT``), within their scope. Arms appear only
  as totals, which sites know anyway in this open trial (each woman learns her arm).
- :func:`allocation_balance`: only :data:`ALLOCATION_BALANCE_ROLES`, the roles that read
  participant data but never randomise (statistician, monitor). Per-stratum counts under permuted
  blocks tell whoever recruits into a stratum where the current block stands, and so sometimes
  the next allocation; no role that allocates may see them. The balance never includes list
  positions, block sizes or remaining slots, for any role.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.services.actor import PERMISSIONS, Action, Actor, require
from pebs.services.errors import InvalidInput, PermissionDenied
from pebs.services.storable_text import refuses_unstorable_text
from pebs.services.trial._dashboard_consort import (
    ArmFlow,
    ConsortFlow,
    ReasonCount,
    consort_flow,
)
from pebs.services.trial._dashboard_sql import (
    PERIODS,
    in_study,
    latest_per_participant,
    month_of,
    period_range,
    roll_up,
)
from pebs.services.trial.study_rules import design_of, study_named
from pebs.store.models import Allocation, Country, Participant, RiskAssessment, Site
from pebs.trial.vocabularies import RISK_LEVELS

__all__ = [
    "ALLOCATION_BALANCE_ROLES",
    "GROUPINGS",
    "AllocationBalance",
    "ArmFlow",
    "ConsortFlow",
    "CountryRiskLevels",
    "ReasonCount",
    "Recruitment",
    "RecruitmentSeries",
    "RiskLevels",
    "StratumBalance",
    "allocation_balance",
    "consort_flow",
    "recruitment",
    "risk_levels",
]

ALLOCATION_BALANCE_ROLES: frozenset[str] = (
    PERMISSIONS[Action.READ_PARTICIPANT] - PERMISSIONS[Action.ALLOCATE]
)
"""Roles that may see allocation balance per stratum: they read participant data and never
randomise (statistician, monitor)."""

GROUPINGS = ("country", "site")
"""What recruitment can be grouped by."""


# --- recruitment ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RecruitmentSeries:
    """Cumulative recruitment of one country or site at the end of each period."""

    key: str
    """Country (``IT``) or site (``IT-TO``) code; ``all`` for the total over the caller's scope."""
    name: str
    target: int
    """Recruitment target (women randomised), from the study configuration. For a country seen
    only in part (a site user), the sum of the targets of the sites she sees."""
    registered: tuple[int, ...]
    """Women registered up to the end of each period (cumulative)."""
    randomised: tuple[int, ...]
    """Women randomised up to the end of each period (cumulative)."""
    percent_of_target: float | None
    """Randomised so far as a **percent** of the target (``None`` without a target)."""


@dataclass(frozen=True)
class Recruitment:
    study: str
    by: str
    """``country`` or ``site``."""
    period: str
    """``month``, ``quarter`` or ``year`` (calendar periods in UTC)."""
    periods: tuple[str, ...]
    """Labels (``2024-05``, ``2024-Q2``, ``2024``) from the first registration to the last
    event, without gaps; every series has one value per label."""
    series: tuple[RecruitmentSeries, ...]
    """One per country or site in the caller's scope (also those without participants)."""
    total: RecruitmentSeries


def _cumulative(counts: Mapping[str, int], periods: tuple[str, ...]) -> tuple[int, ...]:
    running, values = 0, []
    for label in periods:
        running += counts.get(label, 0)
        values.append(running)
    return tuple(values)


def _series(key: str, name: str, target: int, registered, randomised, periods) -> RecruitmentSeries:
    reg = _cumulative(registered, periods)
    ran = _cumulative(randomised, periods)
    done = ran[-1] if ran else 0
    percent = 100.0 * done / target if target else None
    return RecruitmentSeries(key, name, target, reg, ran, percent)


def _groups(session: Session, actor: Actor, study_pk: int, by: str) -> dict[str, tuple[str, int]]:
    """key -> (name, target) of the countries or sites in the actor's scope."""
    rows = session.execute(
        select(Site, Country)
        .join(Country, Site.country_id == Country.id)
        .where(Country.study_id == study_pk)
        .order_by(Site.code)
    ).all()
    if by == "site":
        return {
            site.code: (site.name, site.recruitment_target)
            for site, country in rows
            if actor.sees_site(site.id, country.id)
        }
    groups: dict[str, tuple[str, int]] = {}
    seen_all: dict[str, bool] = {}
    site_targets: dict[str, int] = defaultdict(int)
    for site, country in rows:
        sees = actor.sees_site(site.id, country.id)
        seen_all[country.code] = seen_all.get(country.code, True) and sees
        if sees:
            site_targets[country.code] += site.recruitment_target
            groups[country.code] = (country.name, country.recruitment_target)
    return {
        code: (name, target if seen_all[code] else site_targets[code])
        for code, (name, target) in sorted(groups.items())
    }


@refuses_unstorable_text
def recruitment(
    session_maker: sessionmaker[Session],
    actor: Actor,
    study: str,
    *,
    by: str = "country",
    period: str = "month",
) -> Recruitment:
    """Cumulative registered and randomised women per country or site and period, vs target.

    Two aggregate queries (registrations, randomisations) grouped by country/site and month.
    """
    require(actor, Action.READ_PARTICIPANT)
    if by not in GROUPINGS:
        raise InvalidInput(f"{by!r} is not allowed; allowed: {', '.join(GROUPINGS)}", field="by")
    if period not in PERIODS:
        raise InvalidInput(
            f"{period!r} is not allowed; allowed: {', '.join(PERIODS)}", field="period"
        )
    with session_maker() as session, session.begin():
        study_row = study_named(session, study)
        group = Country.code if by == "country" else Site.code
        counts = {}
        for name, instant, extra in (
            ("registered", Participant.registered_at, None),
            ("randomised", Allocation.allocated_at, Allocation),
        ):
            month = month_of(session, instant)
            statement = select(group, month, func.count()).select_from(Participant)
            if extra is not None:
                statement = statement.join(extra, extra.participant_id == Participant.id)
            statement = in_study(statement, actor, study_row.id).group_by(group, month)
            counts[name] = session.execute(statement).all()
        groups = _groups(session, actor, study_row.id, by)
    months = sorted({m for rows in counts.values() for _, m, _ in rows})
    periods = period_range(months[0], months[-1], period) if months else ()
    per_group: dict[str, dict[str, dict[str, int]]] = {
        name: defaultdict(lambda: defaultdict(int)) for name in counts
    }
    for name, rows in counts.items():
        for key, month, n in rows:
            per_group[name][key][roll_up(month, period)] += n
            per_group[name]["\x00all"][roll_up(month, period)] += n
    series = tuple(
        _series(key, name, target, per_group["registered"][key],
                per_group["randomised"][key], periods)
        for key, (name, target) in groups.items()
    )  # fmt: skip
    total = _series("all", "all (your scope)", sum(t for _, t in groups.values()),
                    per_group["registered"]["\x00all"], per_group["randomised"]["\x00all"],
                    periods)  # fmt: skip
    return Recruitment(study, by, period, periods, series, total)


# --- allocation balance --------------------------------------------------------------------


@dataclass(frozen=True)
class StratumBalance:
    stratum: str
    """Stratum label (``IT-TO:50-59``)."""
    counts: Mapping[str, int]
    """Arm -> women allocated (list and override allocations alike)."""
    total: int
    imbalance: float
    """``max(n_arm / ratio_arm) - min(n_arm / ratio_arm)`` over the arms: for 1:1, the
    difference in women between the arms."""


@dataclass(frozen=True)
class AllocationBalance:
    study: str
    arms: tuple[str, ...]
    ratio: tuple[int, ...]
    strata: tuple[StratumBalance, ...]
    """Strata with at least one allocation, by label."""
    totals: Mapping[str, int]
    """Arm -> women allocated over every stratum."""
    max_imbalance: float


def _imbalance(counts: Mapping[str, int], arms: tuple[str, ...], ratio: tuple[int, ...]) -> float:
    scaled = [counts.get(arm, 0) / weight for arm, weight in zip(arms, ratio, strict=True)]
    return float(max(scaled) - min(scaled))


@refuses_unstorable_text
def allocation_balance(
    session_maker: sessionmaker[Session], actor: Actor, study: str
) -> AllocationBalance:
    """Women per arm in each stratum, and the imbalance; never the list or the next allocation.

    Only :data:`ALLOCATION_BALANCE_ROLES` (:class:`PermissionDenied` for every other role).
    """
    if actor.role not in ALLOCATION_BALANCE_ROLES:
        raise PermissionDenied(
            f"{actor.username} ({actor.role}) may not see the allocation balance per stratum "
            f"(it can reveal the next allocation); allowed roles: "
            + ", ".join(sorted(ALLOCATION_BALANCE_ROLES))
        )
    with session_maker() as session, session.begin():
        study_row = study_named(session, study)
        design = design_of(study_row)
        statement = (
            select(Participant.stratum, Allocation.arm, func.count())
            .select_from(Participant)
            .join(Allocation, Allocation.participant_id == Participant.id)
        )
        statement = in_study(statement, actor, study_row.id).where(Participant.stratum.is_not(None))
        rows = session.execute(statement.group_by(Participant.stratum, Allocation.arm)).all()
    by_stratum: dict[str, dict[str, int]] = defaultdict(dict)
    totals: dict[str, int] = dict.fromkeys(design.arms, 0)
    for stratum, arm, n in rows:
        by_stratum[stratum][arm] = n
        totals[arm] = totals.get(arm, 0) + n
    strata = tuple(
        StratumBalance(
            label,
            {arm: counts.get(arm, 0) for arm in design.arms},
            sum(counts.values()),
            _imbalance(counts, design.arms, design.ratio),
        )
        for label, counts in sorted(by_stratum.items())
    )
    return AllocationBalance(
        study, design.arms, design.ratio, strata, totals,
        max((s.imbalance for s in strata), default=0.0),
    )  # fmt: skip


# --- risk levels ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CountryRiskLevels:
    country: str
    """Country code, or ``all``."""
    n_in_arm: int
    """Women randomised to the risk-based arm."""
    n_assessed: int
    """Of them, women with a risk assessment."""
    counts: Mapping[str, int]
    """Risk level (every level, low to high) -> women, by their latest assessment."""
    percent: Mapping[str, float]
    """Risk level -> **percent** of the assessed women (0.0 when none is assessed)."""


@dataclass(frozen=True)
class RiskLevels:
    study: str
    arm: str
    levels: tuple[str, ...]
    by_country: tuple[CountryRiskLevels, ...]
    total: CountryRiskLevels


RISK_BASED_ARM = "risk-based"


def _levels(country: str, n_in_arm: int, counts: Mapping[str, int]) -> CountryRiskLevels:
    full = {level: counts.get(level, 0) for level in RISK_LEVELS}
    assessed = sum(full.values())
    percent = {k: (100.0 * v / assessed if assessed else 0.0) for k, v in full.items()}
    return CountryRiskLevels(country, n_in_arm, assessed, full, percent)


@refuses_unstorable_text
def risk_levels(session_maker: sessionmaker[Session], actor: Actor, study: str) -> RiskLevels:
    """Distribution of the latest risk level of the risk-based arm's women, by country."""
    require(actor, Action.READ_PARTICIPANT)
    with session_maker() as session, session.begin():
        study_row = study_named(session, study)
        latest = latest_per_participant(
            RiskAssessment, RiskAssessment.level, at=RiskAssessment.assessed_at
        )
        arm_filter = Allocation.arm == RISK_BASED_ARM
        assessed = in_study(
            select(Country.code, latest.c.level, func.count())
            .select_from(Participant)
            .join(Allocation, Allocation.participant_id == Participant.id)
            .join(latest, latest.c.participant_id == Participant.id)
            .where(arm_filter),
            actor, study_row.id,
        ).group_by(Country.code, latest.c.level)  # fmt: skip
        randomised = in_study(
            select(Country.code, func.count()).select_from(Participant)
            .join(Allocation, Allocation.participant_id == Participant.id).where(arm_filter),
            actor, study_row.id,
        ).group_by(Country.code)  # fmt: skip
        level_rows = session.execute(assessed).all()
        arm_rows = session.execute(randomised).all()
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    total: dict[str, int] = defaultdict(int)
    for country, level, n in level_rows:
        counts[country][level] = n
        total[level] += n
    n_arm = dict(arm_rows)
    countries = sorted(set(n_arm) | set(counts))
    return RiskLevels(
        study, RISK_BASED_ARM, tuple(RISK_LEVELS),
        tuple(_levels(c, n_arm.get(c, 0), counts[c]) for c in countries),
        _levels("all", sum(n_arm.values()), total),
    )  # fmt: skip
