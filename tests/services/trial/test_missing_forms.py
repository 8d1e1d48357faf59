"""The missing-forms report on a hand-built set of women, every count worked out by hand.

The women (randomised at ``AT``, 2025-03-03 in Italy and France; report day 2025-09-01; the demo
study's two instruments, STAI-6 demo and EQ-5D-5L, at 0, 3, 12 and 48 months):

==  ======  ==========================================  =========================================
w   site    her records                                 missing on 2025-09-01
==  ======  ==========================================  =========================================
1   IT-TO   registered only                             nothing
2   IT-TO   consented, not randomised                   nothing
3   IT-TO   standard arm; EQ-5D-5L at month 0           month-0: STAI-6; month-3: both
4   IT-TO   risk-based arm, no risk factors; visits     risk factors; month-0: 2; month-3: 2;
            due 2025-05-01 (window closed 06-01) and    visit year-1 (the first)
            2025-10-01 (window open)
5   IT-TO   standard arm, withdrew 2025-04-01           month-0: 2 (month 3 is after it)
6   FR-PA   standard arm                                month-0: 2; month-3: 2
7   IT-TO   standard arm, withdrew the use of her data  nothing
8   IT-TO   standard arm, died 2025-03-20               month-0: 2
==  ======  ==========================================  =========================================

IT-TO: randomisation/risk_factors 1; month-0 1 + 2 + 2 + 2 = 7; month-3 2 + 2 = 4; year-1 1.
FR-PA: month-0 2; month-3 2. Total 17; 8 women examined.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from pebs.services.errors import NotFound, PermissionDenied
from pebs.services.trial import record_death, record_questionnaire, withdraw
from pebs.services.trial.missing_forms import missing_forms_csv, missing_forms_report
from pebs.store.models import AuditEvent, Participant, Visit

ON = date(2025, 9, 1)


@pytest.fixture
def women(trial) -> dict[int, str]:
    manager = trial.actor("data_manager")
    w = {1: trial.register(), 2: trial.consented(), 3: trial.allocated("standard"),
         4: trial.allocated("risk-based"), 5: trial.allocated("standard"),
         6: trial.allocated("standard", site="FR-PA"), 7: trial.allocated("standard"),
         8: trial.allocated("standard")}  # fmt: skip
    record_questionnaire(trial.sessions, manager, w[3], instrument="EQ-5D-5L",
                         timepoint_months=0, answers={"mobility": 1}, completed_on=trial.TODAY,
                         at=trial.AT)  # fmt: skip
    withdraw(trial.sessions, manager, w[5], level="no_further_contact", reason="moved",
             at=datetime(2025, 4, 1, 9, 0, tzinfo=UTC))  # fmt: skip
    withdraw(trial.sessions, manager, w[7], level="withdraw_data_use", reason="asked",
             at=datetime(2025, 4, 1, 9, 0, tzinfo=UTC))  # fmt: skip
    record_death(trial.sessions, manager, w[8], date_of_death=date(2025, 3, 20), cause="other",
                 at=datetime(2025, 3, 25, 9, 0, tzinfo=UTC))  # fmt: skip
    with trial.sessions.begin() as session:  # her plan's expected visits, as the planner stores
        owner = session.scalar(select(Participant.id).where(Participant.study_id == w[4]))
        for due, start, end in (
            (date(2025, 5, 1), date(2025, 4, 1), date(2025, 6, 1)),
            (date(2025, 10, 1), date(2025, 9, 1), date(2025, 11, 1)),
        ):
            session.add(Visit(participant_id=owner, visit_type="screening",
                              modality="mammography", due_date=due, window_start=start,
                              window_end=end))  # fmt: skip
    return w


def test_counts_per_site_and_time_point(trial, women) -> None:
    report = missing_forms_report(trial.sessions, trial.actor("data_manager"), trial.STUDY,
                                  on=ON)  # fmt: skip
    assert report.n_women == 8
    assert [(c.site, c.time_point, c.form, c.n) for c in report.counts] == [
        ("FR-PA", "month-0", "questionnaire", 2),
        ("FR-PA", "month-3", "questionnaire", 2),
        ("IT-TO", "randomisation", "risk_factors", 1),
        ("IT-TO", "month-0", "questionnaire", 7),
        ("IT-TO", "month-3", "questionnaire", 4),
        ("IT-TO", "year-1", "visit", 1),
    ]
    assert report.total == 17
    hers = [(m.form, m.time_point, m.due, m.instrument) for m in report.entries
            if m.study_id == women[4]]  # fmt: skip
    assert hers == [
        ("risk_factors", "randomisation", date(2025, 3, 3), None),
        ("questionnaire", "month-0", date(2025, 3, 3), "STAI-6 demo"),
        ("questionnaire", "month-0", date(2025, 3, 3), "EQ-5D-5L"),
        ("questionnaire", "month-3", date(2025, 6, 3), "STAI-6 demo"),
        ("questionnaire", "month-3", date(2025, 6, 3), "EQ-5D-5L"),
        ("visit", "year-1", date(2025, 5, 1), None),
    ]
    assert {m.study_id for m in report.entries} == {women[i] for i in (3, 4, 5, 6, 8)}


def test_a_site_user_sees_her_site_and_a_site_narrows_the_report(trial, women) -> None:
    staff = missing_forms_report(trial.sessions, trial.staff, trial.STUDY, on=ON)
    assert (staff.n_women, staff.total) == (7, 13)
    french = missing_forms_report(trial.sessions, trial.actor("monitor"), trial.STUDY, on=ON,
                                  site="FR-PA")  # fmt: skip
    assert (french.n_women, french.total) == (1, 4)
    with pytest.raises(NotFound):
        missing_forms_report(trial.sessions, trial.staff, trial.STUDY, on=ON, site="FR-PA")
    with pytest.raises(PermissionDenied):
        missing_forms_report(trial.sessions, trial.actor("statistician"), trial.STUDY, on=ON)


def test_pages_of_entries_keep_a_womans_forms_together(trial, women) -> None:
    manager = trial.actor("data_manager")
    first = missing_forms_report(trial.sessions, manager, trial.STUDY, on=ON, limit=4)
    assert [m.study_id for m in first.entries] == [women[3]] * 3 + [women[4]] * 6
    second = missing_forms_report(trial.sessions, manager, trial.STUDY, on=ON, limit=4,
                                  after=first.next_after or 0)  # fmt: skip
    assert [m.study_id for m in second.entries] == [women[5]] * 2 + [women[6]] * 4
    assert second.counts == first.counts


def test_the_csv_lists_every_missing_form_and_is_audited(trial, women) -> None:
    file = missing_forms_csv(trial.sessions, trial.actor("monitor"), trial.STUDY, on=ON)
    rows = list(csv.DictReader(io.StringIO(b"".join(file.chunks).decode("utf-8"))))
    assert len(rows) == 17
    assert list(rows[0]) == ["study_id", "site", "form", "time_point", "due", "key",
                             "instrument"]  # fmt: skip
    visit = next(r for r in rows if r["form"] == "visit")
    assert (visit["study_id"], visit["time_point"], visit["due"]) == (
        women[4],
        "year-1",
        "2025-05-01",
    )
    assert visit["key"].isdigit()
    with trial.sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.entity == "missing_forms")
                                ).one()  # fmt: skip
    assert (event.action, event.actor, event.entity_id) == ("export", "demo-monitor", trial.STUDY)
