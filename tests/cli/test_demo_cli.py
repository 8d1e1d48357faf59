"""`pebs demo seed`, `pebs demo lab-batch` and `pebs export` on a SQLite file (what `make run`
does first, and the laboratory import it suggests)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import sqlite3
from pathlib import Path

import pytest
from lxml import etree

from factories import odm_schema
from pebs.cli import main
from pebs.store.crypto import IdentityCipher


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "demo.db"
    monkeypatch.setenv("PEBS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("PEBS_ENVIRONMENT", "development")
    return path


@pytest.mark.slow
def test_demo_seed_then_if_empty_keeps_the_data(database: Path, tmp_path: Path, capsys) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["demo", "seed", "-n", "40", "--today", "2025-03-03"]) == 0
    out = capsys.readouterr().out
    assert "40 demo participants entered in mypebs-demo" in out
    # Again: refused (the study has participants) unless --if-empty, which changes nothing.
    assert main(["demo", "seed", "-n", "40"]) == 65
    assert "already has 40 participants" in capsys.readouterr().err
    assert main(["demo", "seed", "-n", "40", "--if-empty"]) == 0
    assert "already has 40 participants; kept" in capsys.readouterr().out
    # The export sees the same 40 women, pseudonymised (no identity columns).
    target = tmp_path / "participants.csv"
    assert main(["export", "participants", "-o", str(target), "--user", "demo-data-manager"]) == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == 40
    assert "name" not in rows[0]
    assert len({row["study_id"] for row in rows}) == 40
    # The same women's casebooks as CDISC ODM, valid against the official schema.
    odm = tmp_path / "participants.xml"
    assert main(["export", "participants", "-o", str(odm), "--user", "demo-data-manager",
                 "--format", "odm"]) == 0  # fmt: skip
    assert f"pebs: 40 participants exported to {odm} (audited)" in capsys.readouterr().out
    document = etree.parse(str(odm))
    assert odm_schema().validate(document)
    subjects = document.iterfind(".//{http://www.cdisc.org/ns/odm/v1.3}SubjectData")
    assert {s.get("SubjectKey") for s in subjects} == {row["study_id"] for row in rows}


@pytest.mark.slow
def test_a_demo_lab_batch_imports_with_every_report_category(database: Path, tmp_path: Path,
                                                             capsys) -> None:  # fmt: skip
    assert main(["db", "upgrade"]) == 0
    assert main(["demo", "seed", "-n", "40", "--today", "2025-03-03"]) == 0
    assert "saliva kits: abandoned" in capsys.readouterr().out
    with sqlite3.connect(database) as connection:
        waiting = {kit for (kit,) in connection.execute(
            "SELECT kit_id FROM samples WHERE state IN ('shipped', 'received')")}  # fmt: skip
    assert len(waiting) >= 2  # a box on its way and a kit received (at least)
    batch = tmp_path / "plate.vcf.gz"
    assert main(["demo", "lab-batch", "--study", "mypebs-demo", "-o", str(batch)]) == 0
    out = capsys.readouterr().out
    assert f"pebs lab import {batch} --study mypebs-demo --as demo-laboratory" in out
    with gzip.open(batch, "rt", encoding="utf-8") as stream:
        header = next(line for line in stream if line.startswith("#CHROM"))
    names = header.rstrip("\n").split("\t")[9:]
    assert set(names[:-1]) == waiting
    assert names[-1] not in waiting
    assert main(["lab", "import", str(batch), "--study", "mypebs-demo", "--as", "demo-laboratory",
                 "--json"]) == 0  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert report["counts"] == {
        "accepted": len(waiting) - 1, "failed_qc": 1, "unknown_kit": 1, "not_shipped": 0,
        "duplicate": 0, "unchanged": 0, "conflict": 0, "already_failed": 0, "abandoned": 0,
    }  # fmt: skip
    assert report["kits"]["unknown_kit"] == [names[-1]]
    assert report["reference"].startswith("LB-")
    with sqlite3.connect(database) as connection:
        states = dict(connection.execute(
            f"SELECT kit_id, state FROM samples WHERE kit_id IN ({','.join('?' * len(names))})",
            names,
        ).fetchall())  # fmt: skip
    assert sorted(states.values()) == sorted(["genotyped"] * (len(waiting) - 1)
                                             + ["recollection_requested"])  # fmt: skip
    # nothing is left to genotype: a clear refusal, no file
    again = tmp_path / "again.vcf"
    assert main(["demo", "lab-batch", "-o", str(again)]) == 65
    assert "nothing to genotype" in capsys.readouterr().err
    assert not again.exists()
    assert main(["demo", "lab-batch", "-o", str(tmp_path / "plate.csv")]) == 65
    assert "ending with .vcf or .vcf.gz" in capsys.readouterr().err


def test_demo_seed_is_refused_in_production(database: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PEBS_ENVIRONMENT", "production")
    monkeypatch.setenv("PEBS_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PEBS_IDENTITY_KEY", IdentityCipher.generate_key())
    monkeypatch.setenv("PEBS_HMAC_KEY", "h" * 40)
    assert main(["demo", "seed"]) == 77
    assert "never entered in production" in capsys.readouterr().err
    assert main(["demo", "lab-batch", "-o", "plate.vcf"]) == 77
    assert "never entered in production" in capsys.readouterr().err


def test_the_dictionary_is_written_in_the_format_asked(tmp_path: Path, capsys) -> None:
    target = tmp_path / "dictionary.csv"
    assert main(["export", "dictionary", "-o", str(target), "--format", "csv", "--identity"]) == 0
    lines = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert lines[0]["column"] == "study_id"
    assert (lines[0]["type"], lines[0]["identifying"]) == ("string", "false")
    identifying = {line["column"] for line in lines if line["identifying"] == "true"}
    assert identifying == {"name", "birth_date", "contact", "national_id"}
    assert f"pebs: {len(lines)} columns described in {target}" in capsys.readouterr().out


def test_the_dictionary_is_written_as_parquet(tmp_path: Path, capsys) -> None:
    import pyarrow.parquet as pq

    target = tmp_path / "dictionary.parquet"
    assert main(["export", "dictionary", "-o", str(target), "--format", "parquet"]) == 0
    table = pq.read_table(target, use_threads=False)
    assert table.column("column").to_pylist()[:3] == ["study_id", "site", "country"]
    assert table.schema.field("identifying").type == "bool"
    assert f"pebs: {table.num_rows} columns described in {target}" in capsys.readouterr().out
