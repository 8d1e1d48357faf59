"""Participant export: streamed in pages, scoped, pseudonymised by default, audited."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from pebs.io.exports import WRITERS
from pebs.services.errors import InvalidInput, PermissionDenied
from pebs.services.trial import data_dictionary, dictionary_csv, export_participants_csv, withdraw
from pebs.services.trial import exports as exports_module
from pebs.services.trial.exports import ExportSummary, export_dictionary, export_participants
from pebs.store.models import AuditEvent


def _rows(chunks: list[str]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("".join(chunks))))


def _export_events(trial) -> list[AuditEvent]:
    with trial.sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == "participant_export")
                .order_by(AuditEvent.id)
            )
        )


def _women(trial) -> dict[str, list[str]]:
    """Five women at IT-TO (two randomised by override), two at FR-PA."""
    it = [trial.allocated("standard"), trial.allocated("risk-based"), trial.consented(),
          trial.register(), trial.register()]  # fmt: skip
    fr = [trial.allocated("standard", "FR-PA"), trial.register("FR-PA")]
    return {"IT-TO": it, "FR-PA": fr}


def test_the_export_streams_pages_after_one_header_and_is_audited(trial) -> None:
    women = _women(trial)
    chunks = list(export_participants_csv(
        trial.sessions, trial.actor("data_manager"), trial.STUDY, chunk_rows=3))  # fmt: skip
    assert len(chunks) == 4  # header, then pages of 3, 3 and 1 women
    assert chunks[0] == ",".join(c.name for c in data_dictionary()) + "\n"
    assert sum(chunk.startswith("study_id,") for chunk in chunks) == 1
    rows = _rows(chunks)
    assert sorted(r["study_id"] for r in rows) == sorted(women["IT-TO"] + women["FR-PA"])
    arms = {r["study_id"]: r["arm"] for r in rows}
    assert arms[women["IT-TO"][0]] == "standard"
    assert arms[women["IT-TO"][1]] == "risk-based"
    assert arms[women["IT-TO"][2]] == ""
    assert {r["age_at_entry"] for r in rows} == {"52"}
    assert "name" not in rows[0]  # pseudonymised by default
    started, ended = _export_events(trial)
    assert (started.action, ended.action) == ("export", "export_end")
    assert started.actor == ended.actor == "demo-data-manager"
    assert started.new["include_identity"] is False
    assert ended.new == {"study": trial.STUDY, "n_rows": 7, "n_withheld": 0,
                         "status": "completed"}  # fmt: skip
    assert trial.db.chain_ok()


def test_an_export_stopped_early_is_audited_with_the_rows_sent(trial) -> None:
    _women(trial)
    stream = export_participants_csv(trial.sessions, trial.actor("data_manager"), trial.STUDY,
                                     chunk_rows=2)  # fmt: skip
    header = next(stream)
    first_page = next(stream)
    stream.close()
    assert header.startswith("study_id,")
    assert first_page.count("\n") == 2
    assert _export_events(trial)[-1].new["status"] == "stopped"
    assert _export_events(trial)[-1].new["n_rows"] == 2


def test_a_site_user_exports_only_her_site_and_may_add_identity(trial) -> None:
    women = _women(trial)
    stream = export_participants_csv(
        trial.sessions, trial.staff, trial.STUDY, include_identity=True, keys=trial.keys
    )
    rows = _rows(list(stream))
    assert sorted(r["study_id"] for r in rows) == sorted(women["IT-TO"])
    assert {r["name"] for r in rows} == {"Test Woman"}
    assert {r["birth_date"] for r in rows} == {trial.BORN_52.isoformat()}
    assert _export_events(trial)[0].new["scope"]["role"] == "site_staff"


def test_identity_is_refused_to_roles_that_do_not_register(trial) -> None:
    _women(trial)
    before = trial.db.rows()
    for name in ("statistician", "monitor"):
        with pytest.raises(PermissionDenied, match="identifying"):
            export_participants_csv(trial.sessions, trial.actor(name), trial.STUDY,
                                    include_identity=True, keys=trial.keys)  # fmt: skip
    with pytest.raises(PermissionDenied):
        export_participants_csv(trial.sessions, trial.actor("administrator"), trial.STUDY)
    with pytest.raises(InvalidInput, match="keys"):
        export_participants_csv(trial.sessions, trial.staff, trial.STUDY, include_identity=True)
    with pytest.raises(InvalidInput, match="chunk_rows"):
        export_participants_csv(trial.sessions, trial.staff, trial.STUDY, chunk_rows=0)
    assert trial.db.rows() == before  # refused before anything, audit included


def test_withdrawn_data_use_keeps_the_row_without_research_data(trial) -> None:
    women = _women(trial)
    gone = women["IT-TO"][0]
    withdraw(trial.sessions, trial.actor("data_manager"), gone, level="withdraw_data_use",
             reason="asked", at=trial.AT)  # fmt: skip
    rows = {r["study_id"]: r for r in _rows(list(export_participants_csv(
        trial.sessions, trial.actor("statistician"), trial.STUDY)))}  # fmt: skip
    assert len(rows) == 7
    row = rows[gone]
    assert (row["site"], row["status"], row["data_use_withdrawn"]) == (
        "IT-TO", "withdrawn_data_use", "true")  # fmt: skip
    names = [c.name for c in data_dictionary()]
    assert all(row[n] == "" for n in names[names.index("data_use_withdrawn") + 1 :])
    assert rows[women["IT-TO"][1]]["arm"] == "risk-based"
    assert _export_events(trial)[-1].new["n_withheld"] == 1


def test_the_data_dictionary_describes_every_column() -> None:
    lines = list(csv.DictReader(io.StringIO(dictionary_csv(include_identity=True))))
    assert [line["column"] for line in lines] == [c.name for c in data_dictionary(
        include_identity=True)]  # fmt: skip
    assert all(line["type"] and line["description"] for line in lines)
    units = {line["column"]: line["unit"] for line in lines}
    assert units["risk_5y"] == "proportion"
    assert units["age_at_entry"] == "years"
    assert {line["column"] for line in lines if line["identifying"] == "true"} == {
        "name", "birth_date", "contact", "national_id"}  # fmt: skip


UNKNOWN_FORMAT = "format: 'xlsx' is not an export format; allowed: csv, parquet, odm, fhir"

PYTHON_TYPES = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
                "date": (date,), "datetime": (datetime,)}  # fmt: skip
"""The values a writer receives for each column type (pebs.io.exports.columns)."""


class RowsWriter:
    """A writer of another format: keeps the columns and pages it is given."""

    name = "rows"
    media_type = "application/x-rows"
    extension = "rows"

    def __init__(self) -> None:
        self.columns: tuple = ()
        self.pages: list[list[tuple]] = []

    def chunks(self, columns, pages):
        self.columns = tuple(columns)
        for page in pages:
            self.pages.append(list(page))
            yield b"page"


def test_any_writer_gets_the_columns_and_pages_of_plain_values(trial, monkeypatch) -> None:
    _women(trial)
    writer = RowsWriter()
    monkeypatch.setattr(exports_module, "WRITERS", {**WRITERS, "rows": writer})
    export = export_participants(trial.sessions, trial.staff, trial.STUDY, format="rows",
                                 include_identity=True, keys=trial.keys, chunk_rows=2)  # fmt: skip
    assert (export.media_type, export.extension) == ("application/x-rows", "rows")
    assert list(export.chunks) == [b"page"] * 3  # her site's five women, in pages of two
    assert writer.columns == data_dictionary(include_identity=True)
    rows = [row for page in writer.pages for row in page]
    assert len(rows) == 5
    for row in rows:
        assert len(row) == len(writer.columns)
        for column, value in zip(writer.columns, row, strict=True):
            assert value is None or isinstance(value, PYTHON_TYPES[column.type]), column.name
            assert not (column.type in ("integer", "number") and isinstance(value, bool))
    by_name = dict(zip((c.name for c in writer.columns), rows[0], strict=True))
    assert by_name["birth_date"] == trial.BORN_52
    assert by_name["data_use_withdrawn"] is False
    assert by_name["age_at_entry"] == 52
    assert export.summary == ExportSummary(5, 0, "completed")
    started, ended = _export_events(trial)
    assert started.new["format"] == "rows"
    assert ended.new["n_rows"] == 5


def test_the_csv_file_is_the_csv_text_in_utf8(trial) -> None:
    _women(trial)
    statistician = trial.actor("statistician")
    export = export_participants(trial.sessions, statistician, trial.STUDY)
    assert (export.media_type, export.extension) == ("text/csv; charset=utf-8", "csv")
    assert export.summary is None  # until the file has been read
    data = b"".join(export.chunks)
    assert export.summary == ExportSummary(7, 0, "completed")
    text = "".join(export_participants_csv(trial.sessions, statistician, trial.STUDY))
    assert data == text.encode("utf-8")
    assert data.decode().splitlines()[0] == ",".join(c.name for c in data_dictionary())
    dictionary = export_dictionary("csv", include_identity=True)
    assert b"".join(dictionary.chunks).decode() == dictionary_csv(include_identity=True)


def test_an_unknown_format_is_refused_before_anything(trial) -> None:
    _women(trial)
    before = trial.db.rows()
    with pytest.raises(InvalidInput, match=re.escape(UNKNOWN_FORMAT)) as refused:
        export_participants(trial.sessions, trial.actor("data_manager"), trial.STUDY,
                            format="xlsx")  # fmt: skip
    assert refused.value.field == "format"
    tables = "allowed: csv, parquet"  # the dictionary is a table; a casebook file has its own
    with pytest.raises(InvalidInput, match=f"'xlsx' is not an export format; {tables}"):
        export_dictionary("xlsx")
    with pytest.raises(InvalidInput, match=f"'odm' is not a table format; {tables}"):
        export_dictionary("odm")
    assert trial.db.rows() == before  # nothing audited


def test_the_parquet_export_holds_the_rows_the_writer_was_given_and_is_audited(
    trial, monkeypatch
) -> None:
    import pyarrow.parquet as pq

    _women(trial)
    withdraw(trial.sessions, trial.actor("data_manager"), trial.allocated("standard"),
             level="withdraw_data_use", reason="asked", at=trial.AT)  # fmt: skip
    statistician = trial.actor("statistician")
    rows_writer = RowsWriter()
    monkeypatch.setattr(exports_module, "WRITERS", {**WRITERS, "rows": rows_writer})
    list(export_participants(trial.sessions, statistician, trial.STUDY, format="rows").chunks)
    given = [row for page in rows_writer.pages for row in page]

    export = export_participants(trial.sessions, statistician, trial.STUDY, format="parquet",
                                 chunk_rows=3)  # fmt: skip
    assert (export.media_type, export.extension) == ("application/vnd.apache.parquet", "parquet")
    parquet = pq.ParquetFile(io.BytesIO(b"".join(export.chunks)))
    assert parquet.metadata.num_row_groups == 3  # eight women in pages of 3, 3 and 2
    table = parquet.read(use_threads=False)
    names = [c.name for c in data_dictionary()]
    assert table.column_names == names
    read = [tuple(row.values()) for row in table.to_pylist()]
    expected = [tuple(v.replace(tzinfo=UTC) if isinstance(v, datetime) else v for v in row)
                for row in given]  # fmt: skip
    assert read == expected
    assert sum(row[names.index("data_use_withdrawn")] for row in read) == 1
    assert export.summary == ExportSummary(8, 1, "completed")
    started, ended = _export_events(trial)[-2:]
    assert started.new["format"] == "parquet"
    assert ended.new == {"study": trial.STUDY, "n_rows": 8, "n_withheld": 1,
                         "status": "completed"}  # fmt: skip


def test_the_data_dictionary_exports_as_parquet() -> None:
    import pyarrow.parquet as pq

    file = export_dictionary("parquet", include_identity=True)
    assert file.extension == "parquet"
    table = pq.read_table(io.BytesIO(b"".join(file.chunks)), use_threads=False)
    columns = data_dictionary(include_identity=True)
    assert table.to_pylist() == [
        {"column": c.name, "type": c.type, "unit": c.unit, "identifying": c.identifying,
         "description": c.description} for c in columns
    ]  # fmt: skip
