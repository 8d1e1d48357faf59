"""Enrolment import: each woman of a file taken as far as her row goes, through the ordinary use
cases committed in groups; refusals named by row, step and field; nothing of a refused step
stored; the audit chain intact. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import event, select

from factories import AT, ELIGIBLE
from pebs.services.errors import InvalidInput
from pebs.services.trial.enrolment_file import RowRefused, read_enrolments
from pebs.services.trial.enrolment_import import import_enrolments
from pebs.store.models import Participant

STEP = [AT.replace(minute=k).isoformat() for k in range(5)]
CRITERIA = {f"eligibility.{name}": ("yes" if ok else "no") for name, ok in ELIGIBLE.items()}
HEADER = ["site", "name", "birth_date", "national_id", "registered_at", *CRITERIA, "assessed_at",
          "consented_at", "consent_language", "allocated_at", "n_biopsies",
          "atypical_hyperplasia", "age_at_menarche", "age_at_first_birth", "n_relatives",
          "density", "prs_z", "risk_at"]  # fmt: skip


def _row(national_id: str, **changes: str) -> dict[str, str]:
    row = {
        "site": "IT-TO", "name": "Test Woman", "birth_date": "1972-05-10",
        "national_id": national_id, "registered_at": STEP[0], **CRITERIA,
        "assessed_at": STEP[1], "consented_at": STEP[2], "consent_language": "it",
        "allocated_at": STEP[3], "n_biopsies": "0", "atypical_hyperplasia": "",
        "age_at_menarche": "13", "age_at_first_birth": "nulliparous", "n_relatives": "1",
        "density": "c", "prs_z": "0.4", "risk_at": STEP[4],
    }  # fmt: skip
    row.update(changes)
    return row


def _write(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _import(trial, path: Path, **options):
    outcomes = []
    summary = import_enrolments(
        trial.sessions, trial.actor("data_manager"), trial.keys, trial.STUDY,
        read_enrolments(path), on_outcome=outcomes.append, **options,
    )  # fmt: skip
    return summary, {outcome.line: outcome for outcome in outcomes}


def test_each_woman_goes_as_far_as_her_row_and_refusals_name_row_step_and_field(
    trial, tmp_path
) -> None:
    trial.lists(["IT-TO:50-59"], slots=8)
    no_criteria = {name: "" for name in CRITERIA}
    path = _write(tmp_path / "women.csv", [
        _row("A1"),  # line 2: all the way
        _row("A2", **no_criteria),  # line 3: registered only
        _row("A3", consented_at=""),  # line 4: assessed eligible, no consent
        _row("A4", birth_date="10/05/1972"),  # line 5: unreadable date, nothing stored
        _row("A5", site="XX-NO"),  # line 6: no such site
        _row("A6", **{"eligibility.history_breast_cancer": "yes"}),  # line 7: ineligible
        _row("A7", allocated_at=""),  # line 8: consented, not allocated
        _row("A1"),  # line 9: the same national ID again
    ])  # fmt: skip
    summary, outcome = _import(trial, path)

    assert summary.rows == 8
    assert outcome[2].reached == "plan"
    assert outcome[2].arm in ("risk-based", "standard")
    assert (outcome[2].risk_level is not None) == (outcome[2].arm == "risk-based")
    assert (outcome[3].reached, outcome[3].status) == ("register", "registered")
    assert (outcome[4].reached, outcome[4].status) == ("eligibility", "eligible")
    assert (outcome[5].reached, outcome[5].refused_step, outcome[5].refused_field) == (
        None, "read", "birth_date")  # fmt: skip
    assert "YYYY-MM-DD" in outcome[5].message
    assert (outcome[6].reached, outcome[6].refused_step) == (None, "register")
    assert "XX-NO" in outcome[6].message
    assert (outcome[7].reached, outcome[7].status, outcome[7].refused_step) == (
        "eligibility", "screen_failure", "consent")  # fmt: skip
    assert (outcome[8].reached, outcome[8].status) == ("consent", "consented")
    assert (outcome[9].reached, outcome[9].refused_step) == (None, "register")
    assert outcome[2].study_id in outcome[9].message  # the duplicate names the first
    assert summary.reached == {"plan": 1, "register": 1, "eligibility": 2, "consent": 1,
                               "none": 3}  # fmt: skip
    assert summary.refused["read: birth_date"] == 1

    with trial.sessions() as session:
        stored = dict(session.execute(select(Participant.study_id, Participant.status)).all())
    expected = {o.study_id: o.status for o in outcome.values() if o.study_id is not None}
    assert stored == expected  # exactly the women reported, in the state reported
    assert trial.db.chain_ok()
    assert summary.commits < sum(summary.steps.values())  # steps shared commits


def test_a_failed_commit_stops_the_import_and_says_who_may_not_be_stored(trial, tmp_path) -> None:
    trial.lists(["IT-TO:50-59"], slots=8)
    path = _write(tmp_path / "women.csv", [_row(f"B{i}", consented_at="") for i in range(3)])
    engine = trial.sessions.kw["bind"]

    def refuse(connection) -> None:
        raise OSError("disk full")

    event.listen(engine, "commit", refuse)
    try:
        summary, outcome = _import(trial, path, max_delay_s=3600)
    finally:
        event.remove(engine, "commit", refuse)
    assert summary.stopped is not None
    assert "disk full" in summary.stopped
    assert {o.refused_step for o in outcome.values()} == {"commit"}
    assert len(outcome) == 3
    with trial.sessions() as session:
        assert session.scalars(select(Participant.id)).all() == []


def test_the_file_itself_is_checked_before_any_row(tmp_path) -> None:
    unknown = _write(tmp_path / "u.csv", [], header=["site", "name", "birth_date", "weight"])
    with pytest.raises(InvalidInput, match="unknown columns weight"):
        list(read_enrolments(unknown))
    missing = _write(tmp_path / "m.csv", [], header=["site", "name"])
    with pytest.raises(InvalidInput, match="missing required columns birth_date"):
        list(read_enrolments(missing))
    latin1 = tmp_path / "l.csv"
    latin1.write_bytes("site,name,birth_date\nIT-TO,Andr\xe9e,1970-01-01\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        list(read_enrolments(latin1))


@pytest.mark.parametrize(
    ("column", "value", "allowed"),
    [
        ("density", "e", "a, b, c, d, unknown"),
        ("n_relatives", "two", "whole number"),
        ("prs_z", "nan", "finite number"),
        ("registered_at", "2025-03-03T10:00", "offset"),
        ("eligibility.history_lcis", "maybe", "yes or no"),
    ],
)
def test_an_unreadable_value_refuses_its_row_naming_column_and_allowed_values(
    tmp_path, column, value, allowed
) -> None:
    path = _write(tmp_path / "v.csv", [_row("C1", **{column: value}), _row("C2")])
    first, second = list(read_enrolments(path))
    assert isinstance(first, RowRefused)
    assert (first.line, first.field) == (2, column)
    assert allowed in first.message
    assert not isinstance(second, RowRefused)
