"""The DSMB tables and monitoring counts on a hand-built trial of four women, against values
worked out by hand (day counts from the calendar, 365.25 days a year).

=====  ==========  ========  ==========  ==========================================  ============
woman  arm         country   randomised  follow-up ends                              diagnoses
=====  ==========  ========  ==========  ==========================================  ============
W1     standard    FR        2020-01-01  data cut 2026-01-01 (2,192 days)            invasive IIA,
                                                                                     interval,
                                                                                     2022-01-01
W2     standard    IT        2021-01-01  death 2023-01-01 (730 days)                 none
W3     risk-based  FR        2020-06-01  data cut (2,040 days)                       none
W4     risk-based  IT        2023-01-01  withdrawal from data collection 2024-01-01  DCIS
                                         (365 days)                                  2023-06-01
=====  ==========  ========  ==========  ==========================================  ============

Ages 45, 55, 62, 48; densities b, none, c, a; risk levels none, none, high, low.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from pebs.services.analysis._dsmb_data import DsmbData, DsmbWoman
from pebs.services.analysis._dsmb_monitoring import evaluable, look_counts, monitoring
from pebs.services.analysis._dsmb_tables import women_tables
from pebs.services.analysis._women import Diagnosis, WomanRecord
from pebs.stats import noninferiority_ratio
from pebs.trial.analysis_plan import parse_analysis_plan

CUT = date(2026, 1, 1)
Y = 365.25
PLAN = parse_analysis_plan(
    {"reference_arm": "standard",
     "interim": {"information_rates": [0.5, 1.0], "max_women": 8}},
    arms=("standard", "risk-based"),
)  # fmt: skip


def _women() -> list[DsmbWoman]:
    w1 = WomanRecord(
        "W1",
        "standard",
        "FR",
        "FR-PA",
        date(2020, 1, 1),
        CUT,
        "data_cut",
        first_screen=date(2020, 2, 1),
        diagnoses=[Diagnosis(date(2022, 1, 1), "invasive", "IIA", "interval")],
    )
    w2 = WomanRecord(
        "W2",
        "standard",
        "IT",
        "IT-TO",
        date(2021, 1, 1),
        date(2023, 1, 1),
        "death",
        died=date(2023, 1, 1),
    )
    w3 = WomanRecord(
        "W3",
        "risk-based",
        "FR",
        "FR-PA",
        date(2020, 6, 1),
        CUT,
        "data_cut",
        risk_level="high",
        first_screen=date(2020, 7, 1),
    )
    w4 = WomanRecord(
        "W4",
        "risk-based",
        "IT",
        "IT-TO",
        date(2023, 1, 1),
        date(2024, 1, 1),
        "withdrawal",
        risk_level="low",
        withdrawn=date(2024, 1, 1),
        diagnoses=[Diagnosis(date(2023, 6, 1), "dcis", "0", "screen_detected")],
    )
    return [DsmbWoman(w1, 45, "40-49", "b", None), DsmbWoman(w2, 55, "50-59", None, None),
            DsmbWoman(w3, 62, "60-70", "c", None),
            DsmbWoman(w4, 48, "40-49", "a", "no_further_data_collection")]  # fmt: skip


def _data() -> DsmbData:
    withdrawals = Counter({("risk-based", "no_further_data_collection"): 1,
                           ("standard", "withdraw_data_use"): 1})  # fmt: skip
    return DsmbData(tuple(_women()), CUT, withdrawals, 0, 0)


def _rows(tables, name: str) -> list[dict]:
    return [dict(zip(tables[name]["columns"], r, strict=True)) for r in tables[name]["rows"]]


def test_open_tables_pool_the_arms() -> None:
    tables = women_tables(_data(), PLAN, None)
    baseline = {(r["characteristic"], r["category"]): (r["women"], r["percent"])
                for r in _rows(tables, "baseline")}  # fmt: skip
    assert {r["group"] for r in _rows(tables, "baseline")} == {"all"}
    assert baseline["women", "all"] == (4, 100.0)
    assert baseline["country", "FR"] == (2, 50.0)
    assert baseline["age_band", "40-49"] == (2, 50.0)
    assert baseline["risk_level", "high"] == (1, 25.0)
    assert baseline["risk_level", "not assessed"] == (2, 50.0)
    assert baseline["density", "not read"] == (1, 25.0)
    (age,) = _rows(tables, "age")
    # ages 45, 48, 55, 62: mean 52.5; squared deviations 173, sd sqrt(173 / 3); quartiles by
    # linear interpolation at positions 0.75, 1.5, 2.25 of the sorted ages
    assert age["mean"] == 52.5
    assert age["sd"] == pytest.approx((173 / 3) ** 0.5)
    assert (age["q1"], age["median"], age["q3"]) == (47.25, 51.5, 56.75)
    assert (age["min"], age["max"]) == (45, 62)
    (follow,) = _rows(tables, "follow_up")
    assert follow["woman_years"] == pytest.approx((2192 + 730 + 2040 + 365) / Y)
    assert follow["median_years"] == pytest.approx((730 + 2040) / 2 / Y)
    assert follow["followed_to_horizon"] == 2  # W1 and W3: over 4 years
    assert (follow["ended_data_cut"], follow["ended_death"], follow["ended_withdrawal"]) == (
        2,
        1,
        1,
    )
    events = {r["event"]: r for r in _rows(tables, "events")}
    # primary endpoint: W1 only, her years to the diagnosis (731 days), the others' whole
    primary_years = (731 + 730 + 2040 + 365) / Y
    assert events["primary_endpoint"]["women_with"] == 1
    assert events["primary_endpoint"]["woman_years"] == pytest.approx(primary_years)
    assert events["primary_endpoint"]["per_1000_woman_years"] == pytest.approx(1000 / primary_years)
    assert events["primary_endpoint"]["per_100000_women"] == 25_000.0
    any_years = (731 + 730 + 2040 + 151) / Y  # W4 to her DCIS
    assert events["any_cancer"]["women_with"] == 2
    assert events["any_cancer"]["woman_years"] == pytest.approx(any_years)
    assert events["interval_cancer"]["women_with"] == 1
    assert events["death"]["women_with"] == 1
    withdrawals = {r["level"]: r["women"] for r in _rows(tables, "withdrawals")}
    assert withdrawals == {"no_further_contact": 0, "no_further_data_collection": 1,
                           "withdraw_data_use": 1}  # fmt: skip
    deviations = {r["rule"]: r["women"] for r in _rows(tables, "deviations")}
    # W4 withdrew before any screen; W2 had no screen; W3 and W1 stay
    assert deviations == {"withdrew_before_first_screen": 1, "no_screen": 1,
                          "no_risk_assessment": 0, "per_protocol_set": 2}  # fmt: skip


def test_closed_tables_split_by_arm_then_all() -> None:
    tables = women_tables(_data(), PLAN, ("standard", "risk-based"))
    countries = {(r["category"], r["group"]): r["women"] for r in _rows(tables, "baseline")
                 if r["characteristic"] == "country"}  # fmt: skip
    assert countries == {(c, g): 2 if g == "all" else 1 for c in ("FR", "IT")
                         for g in ("standard", "risk-based", "all")}  # fmt: skip
    ages = {r["group"]: r["mean"] for r in _rows(tables, "age")}
    assert ages == {"standard": 50.0, "risk-based": 55.0, "all": 52.5}
    withdrawals = {(r["level"], r["group"]): r["women"] for r in _rows(tables, "withdrawals")}
    assert withdrawals["withdraw_data_use", "standard"] == 1
    assert withdrawals["withdraw_data_use", "risk-based"] == 0
    deaths = {r["group"]: r["women_with"] for r in _rows(tables, "events") if r["event"] == "death"}
    assert deaths == {"standard": 1, "risk-based": 0, "all": 1}


def test_evaluable_days_and_look_counts() -> None:
    women = [w.record for w in _women()]
    days = [evaluable(w, "stage_2_plus", 4.0) for w in women]
    # each woman enters one horizon (ceil(4 x 365.25) = 1,461 days) after her randomisation,
    # whether or not she had the endpoint
    assert days == [
        (date(2024, 1, 1), True),  # W1: her stage IIA within 4 years
        (date(2025, 1, 1), False),  # W2: died before 4 years, without it
        (date(2024, 6, 1), False),  # W3: followed 4 years, without it
        (None, False),  # W4: left data collection after one year
    ]
    counts = look_counts(women, PLAN, [date(2024, 3, 1), date(2024, 12, 31), CUT])
    assert counts == [
        {"n_ref": 1, "events_ref": 1, "n_new": 0, "events_new": 0},
        {"n_ref": 1, "events_ref": 1, "n_new": 1, "events_new": 0},
        {"n_ref": 2, "events_ref": 1, "n_new": 1, "events_new": 0},
    ]


def test_monitoring_z_is_the_score_statistic_and_a_missing_arm_is_reported() -> None:
    women = [w.record for w in _women()]
    section = monitoring(women, PLAN, CUT, [])
    look = section["looks"][0]
    assert (look["n_ref"], look["events_ref"], look["n_new"], look["events_new"]) == (2, 1, 1, 0)
    assert look["information_fraction"] == 3 / 8
    score = noninferiority_ratio(0, 1, 1, 2, margin=1.25, alpha=0.025)
    assert look["z"] == pytest.approx(-score.statistic)
    assert section["boundary_crossed"] is False
    assert section["statement"] == (
        "The efficacy (non-inferiority) boundary was not crossed at look 1."
    )
    # an earlier look without a risk-based woman evaluable: not computed, and said why
    early = monitoring(women, PLAN, CUT, [date(2024, 3, 1)])
    assert early["not_computed"] == (
        "no woman of the risk-based arm is evaluable at look 1 (randomised at least 4 years "
        "before its data cut, 2024-03-01)"
    )
    assert early["look"] == 2
