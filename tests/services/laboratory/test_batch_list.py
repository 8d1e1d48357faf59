"""Listing a study's genotype batches (latest import first, a page at a time, each with its file,
SHA-256 and count per outcome), and the study names the laboratory's forms offer."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from factories import DEMO_ACCOUNTS
from lab_factories import Lab, dosages
from pebs.services.actor import actor_for
from pebs.services.errors import InvalidInput, NotFound, PermissionDenied
from pebs.services.laboratory import (
    Outcome,
    import_genotype_batch,
    laboratory_studies,
    list_batches,
)

ZERO = {outcome.value: 0 for outcome in Outcome}


def _import(lab: Lab, samples, days: int, *, dry_run: bool = False):
    path = lab.file(samples)
    at = lab.IMPORTED + timedelta(days=days)
    report = import_genotype_batch(lab.sessions, lab.laboratory, lab.keys, lab.STUDY, path,
                                   dry_run=dry_run, at=at)  # fmt: skip
    return report.reference, path


def test_latest_first_with_file_and_counts_a_page_at_a_time(lab: Lab) -> None:
    first, second, third = lab.shipped(3)
    a, a_path = _import(lab, {first: dosages(1), "MP-NOTAKIT0": dosages(2)}, 0)
    twice = [("MP-NOTAKIT0", dosages(0))] * 2
    b, b_path = _import(lab, [(first, dosages(2)), (second, dosages(1)), *twice], 1)
    c, c_path = _import(lab, {third: dosages(5, no_calls=100)}, -2)  # recorded last, older
    nothing, _ = _import(lab, {second: dosages(3)}, 3, dry_run=True)
    assert nothing is None
    page = list_batches(lab.sessions, lab.laboratory, lab.STUDY)
    assert page.study == lab.STUDY
    assert [row.reference for row in page.rows] == [b, a, c]
    assert page.next_after is None
    rows = {row.reference: row for row in page.rows}
    for reference, path in ((a, a_path), (b, b_path), (c, c_path)):
        row = rows[reference]
        assert row.file_name == path.name
        assert row.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert rows[a].imported_at == lab.IMPORTED
    assert rows[b].imported_at == lab.IMPORTED + timedelta(days=1)
    assert rows[a].counts == ZERO | {"accepted": 1, "unknown_kit": 1}
    assert rows[b].counts == ZERO | {"conflict": 1, "accepted": 1, "duplicate": 1}
    assert rows[c].counts == ZERO | {"failed_qc": 1}
    assert list(rows[c].counts) == [outcome.value for outcome in Outcome]

    first_page = list_batches(lab.sessions, lab.manager, lab.STUDY, limit=2)
    assert [row.reference for row in first_page.rows] == [b, a]
    assert first_page.next_after == a
    last = list_batches(lab.sessions, lab.manager, lab.STUDY, limit=2, after=a)
    assert ([row.reference for row in last.rows], last.next_after) == ([c], None)
    assert (page.total, first_page.total, last.total) == (3, 3, 3)  # a, b, c; the dry run: none


def test_who_may_list_batches_and_what_is_refused(lab: Lab) -> None:
    reference, _ = _import(lab, {lab.shipped()[0]: dosages(1)}, 0)
    assert reference is not None
    for username in ("site_staff", "monitor", "statistician", "administrator"):
        with pytest.raises(PermissionDenied):
            list_batches(lab.sessions, actor_for(lab.sessions, DEMO_ACCOUNTS[username]),
                         lab.STUDY)  # fmt: skip
    with pytest.raises(NotFound, match="no-such-study"):
        list_batches(lab.sessions, lab.laboratory, "no-such-study")
    with pytest.raises(InvalidInput) as refused:
        list_batches(lab.sessions, lab.laboratory, lab.STUDY, after="LB-20250101-AAAAAA")
    assert refused.value.field == "after"
    for limit in (0, 501, False):
        with pytest.raises(InvalidInput) as refused:
            list_batches(lab.sessions, lab.laboratory, lab.STUDY, limit=limit)
        assert refused.value.field == "limit"


def test_the_laboratory_and_the_data_manager_get_the_study_names_only(lab: Lab) -> None:
    assert laboratory_studies(lab.sessions, lab.laboratory) == (lab.STUDY,)
    assert laboratory_studies(lab.sessions, lab.manager) == (lab.STUDY,)
    for role in ("site_staff", "monitor", "statistician", "administrator"):
        with pytest.raises(PermissionDenied, match="laboratory"):
            laboratory_studies(lab.sessions, actor_for(lab.sessions, DEMO_ACCOUNTS[role]))
