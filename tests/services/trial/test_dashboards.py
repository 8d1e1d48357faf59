"""Dashboards: counts of women entered through the use cases, scope, and blinding."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from pebs.services.errors import InvalidInput, PermissionDenied
from pebs.services.trial import (
    NewParticipant,
    RiskFactors,
    VisitRecord,
    allocation_balance,
    assess_eligibility,
    consort_flow,
    record_death,
    record_risk_assessment,
    record_visit,
    recruitment,
    register_participant,
    risk_levels,
    withdraw,
)

JANUARY = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
FACTORS = RiskFactors(n_biopsies=1, atypical_hyperplasia=False, age_at_menarche=11,
                      age_at_first_birth=32, n_relatives=1, density="d", prs_z=1.2)  # fmt: skip


def _women(trial) -> dict[str, object]:
    """Seven women, by the use cases: what each dashboard must count (see the test names).

    IT-TO (the demo site user's site): A standard (a visit), B standard (withdrew from contact),
    C risk-based (assessed), D screen failure (chest irradiation), E registered in January only.
    FR-PA: F risk-based (assessed, died), G consented, not randomised.
    """
    manager = trial.actor("data_manager")
    a = trial.allocated("standard", "IT-TO")
    b = trial.allocated("standard", "IT-TO")
    c = trial.allocated("risk-based", "IT-TO")
    d = trial.register("IT-TO")
    answers = {**trial.ELIGIBLE, "chest_irradiation": True}
    assess_eligibility(trial.sessions, manager, trial.keys, d, answers, at=trial.AT)
    new = NewParticipant("IT-TO", "January Woman", trial.BORN_52)
    register_participant(trial.sessions, manager, trial.keys, trial.STUDY, new, at=JANUARY)
    f = trial.allocated("risk-based", "FR-PA")
    trial.consented("FR-PA")
    record_visit(trial.sessions, manager, a, VisitRecord(trial.TODAY, birads=1), at=trial.AT)
    withdraw(trial.sessions, manager, b, level="no_further_contact", reason="moved", at=trial.AT)
    levels = {}
    for study_id in (c, f):
        recorded = record_risk_assessment(trial.sessions, manager, trial.keys, study_id, FACTORS,
                                          at=trial.AT)  # fmt: skip
        levels[study_id] = recorded.level
    record_death(trial.sessions, manager, f, date_of_death=trial.TODAY, cause="other",
                 at=trial.AT)  # fmt: skip
    return {"levels": (levels[c], levels[f])}


def test_consort_flow_counts_each_box(trial) -> None:
    _women(trial)
    flow = consort_flow(trial.sessions, trial.actor("data_manager"), trial.STUDY)
    assert (flow.registered, flow.not_assessed, flow.assessed) == (7, 1, 6)
    assert (flow.screen_failures, flow.eligible, flow.not_consented) == (1, 5, 0)
    assert [(r.criterion, r.reason, r.n) for r in flow.screen_failure_reasons] == [
        ("chest_irradiation", "previous chest irradiation", 1)
    ]
    assert (flow.consented, flow.not_randomised, flow.randomised) == (5, 1, 4)
    arms = {arm.arm: arm for arm in flow.arms}
    assert (arms["standard"].randomised, arms["standard"].followed) == (2, 1)
    assert arms["standard"].withdrawn == {"no_further_contact": 1,
                                          "no_further_data_collection": 0,
                                          "withdraw_data_use": 0}  # fmt: skip
    assert (arms["risk-based"].randomised, arms["risk-based"].followed) == (2, 0)
    assert (arms["risk-based"].died, arms["standard"].died) == (1, 0)
    assert flow.status_counts == {"consented": 1, "died": 1, "in_follow_up": 1, "plan_given": 1,
                                  "registered": 1, "screen_failure": 1,
                                  "withdrawn_no_contact": 1}  # fmt: skip
    asdict(flow)  # plain values, ready for JSON


def test_site_and_country_users_see_only_their_participants(trial) -> None:
    _women(trial)
    for name in ("staff", "coordinator"):  # IT-TO, and Italy (where only IT-TO has women)
        flow = consort_flow(trial.sessions, trial.actor(name), trial.STUDY)
        assert (flow.registered, flow.randomised, flow.screen_failures) == (5, 3, 1)
    by_site = recruitment(trial.sessions, trial.staff, trial.STUDY, by="site")
    assert [s.key for s in by_site.series] == ["IT-TO"]
    by_country = recruitment(trial.sessions, trial.staff, trial.STUDY, by="country")
    assert [(s.key, s.target) for s in by_country.series] == [("IT", 10_000)]  # her site's part
    levels = risk_levels(trial.sessions, trial.staff, trial.STUDY)
    assert [c.country for c in levels.by_country] == ["IT"]


def test_recruitment_is_cumulative_per_period_against_the_target(trial) -> None:
    _women(trial)
    result = recruitment(trial.sessions, trial.actor("data_manager"), trial.STUDY, by="site")
    assert result.periods == ("2025-01", "2025-02", "2025-03")
    series = {s.key: s for s in result.series}
    assert len(series) == 16  # every site, also those without women
    assert series["IT-TO"].registered == (1, 1, 5)
    assert series["IT-TO"].randomised == (0, 0, 3)
    assert series["FR-PA"].registered == (0, 0, 2)
    assert series["IT-TO"].target == 10_000
    assert series["IT-TO"].percent_of_target == pytest.approx(100 * 3 / 10_000)
    assert series["BE-AN"].registered == (0, 0, 0)
    assert result.total.registered == (1, 1, 7)
    assert result.total.target == 90_000  # the demo study's site targets
    quarterly = recruitment(trial.sessions, trial.staff, trial.STUDY, period="quarter")
    assert quarterly.periods == ("2025-Q1",)
    assert quarterly.series[0].registered == (5,)
    with pytest.raises(InvalidInput, match="period"):
        recruitment(trial.sessions, trial.staff, trial.STUDY, period="week")
    with pytest.raises(InvalidInput, match="by"):
        recruitment(trial.sessions, trial.staff, trial.STUDY, by="arm")


def test_allocation_balance_only_for_roles_that_never_randomise(trial) -> None:
    _women(trial)
    for name in ("staff", "investigator", "coordinator", "data_manager", "administrator"):
        with pytest.raises(PermissionDenied):
            allocation_balance(trial.sessions, trial.actor(name), trial.STUDY)
    for name in ("statistician", "monitor"):
        balance = allocation_balance(trial.sessions, trial.actor(name), trial.STUDY)
        strata = {s.stratum: s for s in balance.strata}
        assert set(strata) == {"IT-TO:50-59", "FR-PA:50-59"}
        assert strata["IT-TO:50-59"].counts == {"standard": 2, "risk-based": 1}
        assert strata["IT-TO:50-59"].imbalance == 1.0
        assert strata["FR-PA:50-59"].counts == {"standard": 0, "risk-based": 1}
        assert balance.totals == {"standard": 2, "risk-based": 2}
        shown = str(asdict(balance))
        assert "position" not in shown
        assert "block" not in shown  # nothing about the list


def test_risk_levels_of_the_risk_based_arm(trial) -> None:
    level_c, level_f = _women(trial)["levels"]  # type: ignore[misc]
    levels = risk_levels(trial.sessions, trial.actor("monitor"), trial.STUDY)
    by_country = {c.country: c for c in levels.by_country}
    assert by_country["IT"].counts[level_c] == 1
    assert sum(by_country["IT"].counts.values()) == 1
    assert by_country["FR"].counts[level_f] == 1
    assert levels.total.n_in_arm == levels.total.n_assessed == 2
    assert sum(levels.total.percent.values()) == pytest.approx(100.0)
    with pytest.raises(PermissionDenied):
        risk_levels(trial.sessions, trial.actor("administrator"), trial.STUDY)


def test_queries_do_not_grow_with_the_participants(trial) -> None:
    """Aggregate SQL: the number of statements is the same for 7 and for 10 women."""
    _women(trial)
    engine = trial.sessions.kw["bind"]
    counted: list[int] = []

    def count_queries() -> int:
        statements = []
        listener = lambda *args: statements.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            actor = trial.actor("monitor")
            consort_flow(trial.sessions, actor, trial.STUDY)
            recruitment(trial.sessions, actor, trial.STUDY)
            risk_levels(trial.sessions, actor, trial.STUDY)
            allocation_balance(trial.sessions, actor, trial.STUDY)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    counted.append(count_queries())
    for site in ("IT-MI", "BE-AN", "UK-LO"):
        trial.allocated("risk-based", site)
    counted.append(count_queries())
    assert counted[0] == counted[1]
    assert counted[0] <= 25
