"""Page: the dashboards (recruitment vs target over time, CONSORT flow, risk-level distribution,
and, for the roles that never randomise, allocation balance per stratum)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from pebs.http.deps import SessionMakerDep
from pebs.services.actor import PERMISSIONS, Action
from pebs.services.errors import NotFound
from pebs.services.queries.ages import query_ages
from pebs.services.records import studies_for, study_wording
from pebs.services.trial import (
    ALLOCATION_BALANCE_ROLES,
    allocation_balance,
    consort_flow,
    recruitment,
    risk_levels,
)
from pebs.web.charts import bar_chart, consort_chart, line_chart
from pebs.web.rendering import catalogue_for, render
from pebs.web.viewer import ViewerDep

router = APIRouter(include_in_schema=False)


def _recruitment_chart(t, data, language: str) -> object:
    series = [
        (s.key, [100.0 * r / s.target for r in s.randomised]) for s in data.series if s.target
    ]
    return line_chart(t("dash.recruitment"), t("dash.recruitment_desc"), data.periods, series,
                      y_label=t("dash.percent_of_target"), language=language)  # fmt: skip


def _consort_chart(t, flow, language: str) -> object:
    steps = [(t("consort.registered"), flow.registered), (t("consort.assessed"), flow.assessed),
             (t("consort.eligible"), flow.eligible), (t("consort.consented"), flow.consented),
             (t("consort.randomised"), flow.randomised)]  # fmt: skip
    arms = [
        [(t(f"arm.{a.arm}"), a.randomised), (t("consort.followed"), a.followed),
         (t("consort.withdrawn"), sum(a.withdrawn.values())), (t("consort.died"), a.died),
         (t("consort.with_cancer"), a.with_cancer)]
        for a in flow.arms
    ]  # fmt: skip
    return consort_chart(t("dash.consort"), t("dash.consort_desc"), steps, arms,
                         language=language)  # fmt: skip


@router.get("/dashboards")
def dashboards_page(
    request: Request,
    viewer: ViewerDep,
    sessions: SessionMakerDep,
    study: Annotated[str | None, Query(max_length=64)] = None,
    by: Annotated[str, Query(max_length=16)] = "country",
    period: Annotated[str, Query(max_length=16)] = "month",
) -> HTMLResponse:
    """The dashboards of one study, over the participants in her scope."""
    actor = viewer.actor
    studies = studies_for(sessions, actor)
    if not studies:
        raise NotFound("no study is loaded (pebs study load)")
    chosen = study or studies[0]
    catalogue = catalogue_for(request)
    t, language = catalogue.text, catalogue.code
    data = recruitment(sessions, actor, chosen, by=by, period=period)
    flow = consort_flow(sessions, actor, chosen)
    levels = risk_levels(sessions, actor, chosen)
    balance = None
    balance_chart = None
    if actor.role in ALLOCATION_BALANCE_ROLES:
        balance = allocation_balance(sessions, actor, chosen)
        balance_chart = bar_chart(
            t("dash.balance"), t("dash.balance_desc"), [s.stratum for s in balance.strata],
            [(t(f"arm.{arm}"), [s.counts[arm] for s in balance.strata]) for arm in balance.arms],
            language=language,
        )  # fmt: skip
    levels_chart = bar_chart(
        t("dash.risk_levels"), t("dash.risk_levels_desc"), [t(f"level.{v}") for v in levels.levels],
        [(t("dash.women"), [levels.total.counts[level] for level in levels.levels])],
        language=language,
    )  # fmt: skip
    return render(
        request, "dashboards.html", viewer=viewer, studies=studies, study=chosen, by=by,
        period=period, data=data, flow=flow, levels=levels, balance=balance,
        recruitment_chart=_recruitment_chart(t, data, language),
        consort_chart=_consort_chart(t, flow, language),
        levels_chart=levels_chart, balance_chart=balance_chart,
        ages=query_ages(sessions, actor, chosen)
        if actor.role in PERMISSIONS[Action.READ_QUERIES] else None,
        wording=study_wording(sessions, actor, chosen),
    )  # fmt: skip
