"""record_visits_in, the list form of record_visit: the same checks, rows, pathway moves and
audit events as recording the visits one at a time (the single use case is the reference),
an expected visit of her plan found by its due date and modality, a refused visit writing
nothing. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from pebs.services.casebook_content import casebook_of, casebooks_of
from pebs.services.errors import InvalidInput
from pebs.services.trial import VisitRecord, create_screening_plan, record_visit
from pebs.services.trial.study_rules import study_named
from pebs.services.trial.visit_list import VisitRequest, record_visits_in
from pebs.store.models import DataQuery, Participant, Visit

_FIELDS = ("visit_type", "modality", "due_date", "window_start", "window_end", "performed_date",
           "birads", "recall", "biopsy", "histology", "planned_exam_id")  # fmt: skip


def _planned(trial) -> str:
    """A standard-arm woman with her plan (Italy: biennial mammography from 50)."""
    study_id = trial.allocated("standard")
    create_screening_plan(trial.sessions, trial.actor("data_manager"), trial.keys, study_id,
                          at=trial.AT)  # fmt: skip
    return study_id


def _visits(trial, study_id: str) -> list[tuple]:
    """Her recorded visits' values (``planned_exam_id`` as whether it is set), by due date."""
    with trial.sessions() as session:
        rows = session.scalars(
            select(Visit).join(Participant, Participant.id == Visit.participant_id)
            .where(Participant.study_id == study_id, Visit.performed_date.is_not(None))
            .order_by(Visit.due_date, Visit.id)
        ).all()  # fmt: skip
        return [tuple(getattr(v, name) is not None if name == "planned_exam_id"
                      else getattr(v, name) for name in _FIELDS) for v in rows]  # fmt: skip


def _queries(trial, study_id: str) -> list[tuple]:
    with trial.sessions() as session:
        rows = session.execute(
            select(DataQuery.check_id, DataQuery.form, DataQuery.item, DataQuery.state)
            .join(Participant, Participant.id == DataQuery.participant_id)
            .where(Participant.study_id == study_id)
        ).all()  # fmt: skip
        return [tuple(row) for row in rows]


def _status(trial, study_id: str) -> str:
    with trial.sessions() as session:
        return session.scalar(select(Participant.status).where(Participant.study_id == study_id))


def _first_expected(trial, study_id: str) -> Visit:
    with trial.sessions() as session:
        return session.scalar(
            select(Visit).join(Participant, Participant.id == Visit.participant_id)
            .where(Participant.study_id == study_id).order_by(Visit.due_date).limit(1)
        )  # fmt: skip


def test_the_list_form_records_as_one_at_a_time(trial) -> None:
    listed, single = _planned(trial), _planned(trial)
    due = _first_expected(trial, listed).due_date
    modality = _first_expected(trial, listed).modality
    records = [
        (VisitRecord(date(2025, 3, 20), birads=4, recall=True, biopsy=True, histology="benign",
                     modality=modality, visit_type="screening"), due),  # her expected visit
        (VisitRecord(date(2025, 3, 25), birads=0, modality="ultrasound",
                     visit_type="diagnostic"), None),  # unplanned
        (VisitRecord(date(2025, 3, 26), histology="dcis", modality="mammography"), None),
        (VisitRecord(date(2025, 3, 27), birads=1, modality="mammography"), due),  # none left
        (VisitRecord(date(2025, 3, 27), birads=3, biopsy=True, modality="mammography"),
         None),  # a biopsy without its histology: the demo study's edit check raises a query
    ]  # fmt: skip
    at = trial.AT.replace(day=28)
    staff = trial.staff
    with trial.sessions.begin() as session:
        requests = [VisitRequest(listed, record, due, at) for record, due in records]
        results = record_visits_in(session, staff, trial.keys, requests)
    singles = []
    for record, due_date in records:
        try:
            singles.append(record_visit(trial.sessions, staff, single, record, keys=trial.keys,
                                        at=at, due_date=due_date))  # fmt: skip
        except InvalidInput as error:
            singles.append(error)

    assert isinstance(results[2], InvalidInput)
    assert results[2].field == "histology"  # a histology needs a biopsy
    assert isinstance(singles[2], InvalidInput)
    assert [r.planned for r in (results[0], results[1], results[3])] == [True, False, False]
    assert results[0].due_date == due
    assert _visits(trial, listed) == _visits(trial, single)
    assert len(_visits(trial, listed)) == 4
    expected_queries = [("histology-after-biopsy", "visit", "histology", "open")]
    assert _queries(trial, listed) == _queries(trial, single) == expected_queries
    assert _status(trial, listed) == _status(trial, single) == "in_follow_up"
    events = [e for e in trial.db.events() if e.entity == "visit"]
    by_woman = {study_id: [{k: v for k, v in e.new.items() if k != "participant"}
                           for e in events if e.new["participant"] == study_id]
                for study_id in (listed, single)}  # fmt: skip
    assert by_woman[listed] == by_woman[single]
    assert trial.db.chain_ok()


def test_casebooks_of_reads_each_woman_as_casebook_of(trial) -> None:
    women = [_planned(trial) for _ in range(3)] + [trial.register() for _ in range(9)]
    with trial.sessions() as session:
        ids = dict(session.execute(select(Participant.study_id, Participant.id)).all())
        study_pk = study_named(session, trial.STUDY).id
        for wanted in ([ids[women[0]], ids[women[2]], ids[women[3]]],  # close: one page
                       [ids[women[0]], ids[women[-1]]]):  # far apart: one at a time  # fmt: skip
            one_by_one = {pid: casebook_of(session, pid, study_pk) for pid in wanted}
            assert casebooks_of(session, wanted, study_pk) == one_by_one


def test_a_list_of_womens_planned_visits_is_searched_through_their_index(tmp_path) -> None:
    # SQLite only: its planner, without statistics, takes any index with an equality, and an
    # index on performed_date would read every unperformed visit of the trial.
    from pebs.services.trial.screening_plan import _PLANNED_VISITS
    from pebs.services.trial.visit_list import _PLANNED
    from pebs.store import migrate
    from pebs.store.engine import create_engine_for

    url = f"sqlite:///{tmp_path / 'plans.db'}"
    migrate.upgrade(url)
    engine = create_engine_for(url)
    try:
        for statement, name in ((_PLANNED, "participant_ids"), (_PLANNED_VISITS, "owners")):
            sql = statement.params({name: [1, 2, 3]}).compile(
                dialect=engine.dialect, compile_kwargs={"literal_binds": True})  # fmt: skip
            with engine.connect() as connection:
                steps = [row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
            assert any("USING INDEX ix_visits_participant_id_due_date" in s for s in steps), steps
    finally:
        engine.dispose()
