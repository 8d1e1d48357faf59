"""``/dashboards``: recruitment, CONSORT flow, allocation balance, risk levels (aggregates)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import SessionMakerDep
from pebs.services.errors import Conflict, NotFound
from pebs.services.trial.dashboards import (
    AllocationBalance,
    ConsortFlow,
    Recruitment,
    RiskLevels,
    allocation_balance,
    consort_flow,
    recruitment,
    risk_levels,
)

# Every dashboard: no such study (404); a study stored without its configuration (409).
router = Router(
    prefix="/dashboards", tags=["dashboards"], responses=error_responses(NotFound, Conflict)
)

Study = Annotated[Text, Query(min_length=1, max_length=64, examples=["mypebs-demo"])]


@router.get("/recruitment", response_model=Recruitment)
def recruitment_route(
    study: Study,
    actor: CurrentActor,
    sessions: SessionMakerDep,
    by: Annotated[str, Query(max_length=16, description="country or site")] = "country",
    period: Annotated[str, Query(max_length=16)] = "month",
):
    """Cumulative registrations and randomisations per country or site, against targets."""
    return recruitment(sessions, actor, study, by=by, period=period)


@router.get("/consort", response_model=ConsortFlow)
def consort_route(study: Study, actor: CurrentActor, sessions: SessionMakerDep):
    """The CONSORT flow: assessed, eligible, consented, randomised per arm, followed."""
    return consort_flow(sessions, actor, study)


@router.get("/allocation-balance", response_model=AllocationBalance)
def allocation_balance_route(study: Study, actor: CurrentActor, sessions: SessionMakerDep):
    """Allocations per arm and stratum (never the next allocation)."""
    return allocation_balance(sessions, actor, study)


@router.get("/risk-levels", response_model=RiskLevels)
def risk_levels_route(study: Study, actor: CurrentActor, sessions: SessionMakerDep):
    """Risk-level distribution in the risk-based arm, per country."""
    return risk_levels(sessions, actor, study)
