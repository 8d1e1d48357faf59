"""The page and the API give a woman the same plan length when none is asked for."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from sqlalchemy import select

from pebs.store.models import Participant, ScreeningPlan

MYPEBS_FOLLOW_UP_YEARS = 4  # MyPeBS protocol: each woman is followed for 4 years


def _years_later(day: date, years: int) -> date:
    """The same day ``years`` later (29 February: the 28th in a common year)."""
    year = day.year + years
    if (day.month, day.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def _plan_period(site: Any, study_id: str) -> tuple[date, date]:
    with site.db.sessions() as session:
        plan = session.scalars(
            select(ScreeningPlan).join(Participant)
            .where(Participant.study_id == study_id, ScreeningPlan.superseded_at.is_(None))
        ).one()  # fmt: skip
        return plan.start_date, plan.end_date


def test_page_and_api_plan_the_same_length_by_default(site: Any) -> None:
    by_page, by_api = (site.db.participant(state="standard") for _ in range(2))
    site.login("site_staff")
    response = site.post_form(f"/participants/{by_page}/plan", {},
                              page=f"/participants/{by_page}")  # fmt: skip
    assert response.status_code == 303, response.text
    csrf = site.client.get("/api/v1/auth/me").json()["csrf_token"]
    response = site.client.post(f"/api/v1/participants/{by_api}/screening-plan", json={},
                                headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert response.status_code == 201, response.text
    periods = [_plan_period(site, study_id) for study_id in (by_page, by_api)]
    for start, end in periods:  # her country's programme has no study period of its own
        assert end == _years_later(start, MYPEBS_FOLLOW_UP_YEARS)
    assert periods[0][1] - periods[0][0] == periods[1][1] - periods[1][0]
