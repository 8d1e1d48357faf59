"""Tampering with genotype results or laboratory batches is found by the deep verification, on
SQLite and PostgreSQL.

A batch is imported (an accepted and a failed sample), a second batch makes a conflict that the
data manager resolves; each test then changes the tables the way someone with write access to the
database could, and requires the change to be reported on the row it touched (named from the
tampering itself, not from the verification's output).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from lab_factories import Lab, dosages, lab_for
from pebs.services.laboratory import import_genotype_batch, resolve_genotype_conflict
from pebs.services.operations import deep_verify_database
from pebs.store.engine import create_engine_for
from pebs.store.models import GenotypeResult, LabBatch


def _edit_a_score(connection: Connection) -> tuple[str, str]:
    result_id, z = connection.execute(
        select(GenotypeResult.id, GenotypeResult.prs_z).where(GenotypeResult.status == "accepted")
        .order_by(GenotypeResult.id).limit(1)
    ).one()  # fmt: skip
    connection.execute(
        update(GenotypeResult).where(GenotypeResult.id == result_id).values(prs_z=z + 0.5)
    )
    return "genotype_results", f"genotype result {result_id}"


def _accept_a_failed_result(connection: Connection) -> tuple[str, str]:
    result_id = connection.execute(
        select(GenotypeResult.id).where(GenotypeResult.status == "failed_qc")
    ).scalar_one()
    connection.execute(
        update(GenotypeResult).where(GenotypeResult.id == result_id)
        .values(status="accepted", qc_reason=None)
    )  # fmt: skip
    return "genotype_results", f"genotype result {result_id}"


def _undo_a_resolution(connection: Connection) -> tuple[str, str]:
    result_id = connection.execute(
        select(GenotypeResult.id).where(GenotypeResult.status == "superseded")
    ).scalar_one()
    connection.execute(
        update(GenotypeResult).where(GenotypeResult.id == result_id)
        .values(status="accepted", resolved_at=None, resolution_reason=None)
    )  # fmt: skip
    return "genotype_results", f"genotype result {result_id}"


def _delete_a_result(connection: Connection) -> tuple[str, str]:
    result_id = connection.execute(select(func.min(GenotypeResult.id))).scalar_one()
    connection.execute(GenotypeResult.__table__.delete().where(GenotypeResult.id == result_id))
    return "genotype_results", f"genotype result {result_id}"


def _rewrite_a_batch_report(connection: Connection) -> tuple[str, str]:
    reference, report = connection.execute(
        select(LabBatch.reference, LabBatch.report).order_by(LabBatch.id).limit(1)
    ).one()
    edited = {**report, "counts": {**report["counts"], "failed_qc": 0}}
    connection.execute(
        update(LabBatch).where(LabBatch.reference == reference).values(report=edited)
    )
    return "lab_batches", f"genotype batch {reference}"


TAMPERINGS: dict[str, Callable[[Connection], tuple[str, str]]] = {
    "edit a score": _edit_a_score,
    "accept a failed result": _accept_a_failed_result,
    "undo a resolution": _undo_a_resolution,
    "delete a result": _delete_a_result,
    "rewrite a batch report": _rewrite_a_batch_report,
}


def _laboratory_data(lab: Lab) -> None:
    kit, failing = lab.shipped(2)
    for samples in ({kit: dosages(0), failing: dosages(1, no_calls=90)}, {kit: dosages(2)}):
        import_genotype_batch(lab.sessions, lab.laboratory, lab.keys, lab.STUDY,
                              lab.file(samples), at=lab.IMPORTED)  # fmt: skip
    resolve_genotype_conflict(lab.sessions, lab.manager, lab.keys, kit, keep="new",
                              reason="re-genotyped", at=lab.IMPORTED)  # fmt: skip


@pytest.mark.parametrize("tampering", TAMPERINGS)
def test_tampering_with_laboratory_data_is_found(
    url: str, session_maker: sessionmaker[Session], tmp_path, tampering: str
) -> None:
    _laboratory_data(lab_for(session_maker, tmp_path))
    clean = deep_verify_database(url)
    assert clean.ok, clean.mismatches
    checked = {t.table: t.n_rows for t in clean.tables}
    assert (checked["lab_batches"], checked["genotype_results"]) == (2, 3)

    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            table, row = TAMPERINGS[tampering](connection)
    finally:
        engine.dispose()

    report = deep_verify_database(url)
    assert report.chain_ok
    assert (table, row) in {(m.table, m.row) for m in report.mismatches}, report.mismatches
