"""pebs.io.pgs_catalog: PGS Catalog scoring files, the packaged PGS000004, and every error path."""

from __future__ import annotations

import csv
import gzip
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from pebs.io import pgs_catalog
from pebs.io.errors import FileAccessError, InputFormatError

SCORES = Path(pgs_catalog.__file__).parent / "scores"
SHARED_COPY = SCORES / "PGS000004.txt"
HEADER = "#format_version=2.0\n#pgs_id=PGS999999\n#genome_build=GRCh37\n"
COLUMNS = "rsID\tchr_name\tchr_position\teffect_allele\tother_allele\teffect_weight"
ROWS = "rs1\t1\t100\tA\tG\t0.5\nrs2\t2\t200\tC\tT\t-0.25\n"


def write(tmp_path: Path, text: str, name: str = "score.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_pgs000004_is_the_published_score():
    scoring = pgs_catalog.load_packaged_score("PGS000004")
    score = scoring.score
    assert scoring.source == "packaged PGS000004"
    assert (score.name, score.n_variants, score.genome_build) == ("PGS000004", 313, "GRCh37")
    assert scoring.header["citation"].startswith("Mavaddat N et al. Am J Hum Genet (2019)")
    with SHARED_COPY.open() as stream:  # the same file, read with the csv module
        rows = list(csv.DictReader((x for x in stream if not x.startswith("#")), delimiter="\t"))
    assert list(score.positions) == [int(r["chr_position"]) for r in rows]
    assert list(score.chromosomes) == [r["chr_name"] for r in rows]
    assert list(score.effect_alleles) == [r["effect_allele"] for r in rows]
    assert list(score.other_alleles) == [r["other_allele"] for r in rows]
    assert list(score.weights) == [float(r["effect_weight"]) for r in rows]
    assert list(score.effect_allele_frequencies) == [
        float(r["allelefrequency_effect"]) for r in rows
    ]


def test_packaged_file_matches_its_provenance_checksum():
    provenance = (SCORES / "PROVENANCE.md").read_text(encoding="utf-8")
    recorded = re.search(r"^([0-9a-f]{64})  PGS000004\.txt$", provenance, re.MULTILINE)
    assert recorded is not None
    assert hashlib.sha256(SHARED_COPY.read_bytes()).hexdigest() == recorded.group(1)
    assert "Mavaddat" in provenance
    assert "GRCh37" in provenance


def test_unknown_packaged_score():
    with pytest.raises(
        InputFormatError, match="unknown score 'PGS999'; packaged scores: PGS000004"
    ):
        pgs_catalog.load_packaged_score("PGS999")


def test_minimal_file(tmp_path):
    path = write(tmp_path, f"{HEADER}{COLUMNS}\n{ROWS}")
    scoring = pgs_catalog.read_scoring_file(path)
    score = scoring.score
    assert scoring.source == str(path)
    assert dict(scoring.header) == {
        "format_version": "2.0", "pgs_id": "PGS999999", "genome_build": "GRCh37"
    }  # fmt: skip
    assert score.name == "PGS999999"
    assert list(score.variant_ids) == ["rs1", "rs2"]
    assert score.labels() == ["rs1 (1:100:G:A)", "rs2 (2:200:T:C)"]
    assert list(score.weights) == [0.5, -0.25]
    assert np.isnan(score.effect_allele_frequencies).all()


def test_without_header_lines_other_allele_or_ids(tmp_path):
    text = "chr_name\tchr_position\teffect_allele\teffect_weight\nchr1\t100\ta\t0.5\n"
    score = pgs_catalog.read_scoring_file(write(tmp_path, text, "my.score.txt")).score
    assert score.name == "my"
    assert (list(score.chromosomes), list(score.effect_alleles)) == (["1"], ["A"])
    assert list(score.other_alleles) == [""]
    assert list(score.variant_ids) == [""]


def test_format_1_reference_allele_column(tmp_path):
    text = "chr_name\tchr_position\teffect_allele\treference_allele\teffect_weight\n1\t5\tA\tC\t1\n"
    assert list(pgs_catalog.read_scoring_file(write(tmp_path, text)).score.other_alleles) == ["C"]


def test_frequencies_may_be_partly_empty(tmp_path):
    text = (
        f"{COLUMNS}\tallelefrequency_effect\n{ROWS.replace(chr(10), chr(9) + '0.3' + chr(10), 1)}"
    )
    text = text.replace("-0.25\n", "-0.25\t\n")
    score = pgs_catalog.read_scoring_file(write(tmp_path, text)).score
    np.testing.assert_array_equal(score.effect_allele_frequencies, [0.3, np.nan])


def test_gzip_and_crlf_files_read_the_same(tmp_path):
    text = f"{HEADER}{COLUMNS}\n{ROWS}"
    plain = pgs_catalog.read_scoring_file(write(tmp_path, text)).score
    packed = tmp_path / "score.txt.gz"
    packed.write_bytes(gzip.compress(text.replace("\n", "\r\n").encode()))
    from_gzip = pgs_catalog.read_scoring_file(packed).score
    for name in ("chromosomes", "positions", "effect_alleles", "other_alleles", "weights"):
        np.testing.assert_array_equal(getattr(from_gzip, name), getattr(plain, name))


def test_extra_columns_are_ignored(tmp_path):
    text = f"{COLUMNS}\tlocus_name\tis_haplotype\n" + "".join(
        f"{row}\tLOC\tFALSE\n" for row in ROWS.splitlines()
    )
    assert pgs_catalog.read_scoring_file(write(tmp_path, text)).score.n_variants == 2


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("", ["no table"]),
        ("#pgs_id=X\n", ["no table"]),
        (f"{HEADER}\n{COLUMNS}\n{ROWS}", ["line 4", "empty line"]),
        ("#format_version=1.0\n" + f"{COLUMNS}\n{ROWS}", ["format_version=1.0"]),
        ("rsID\teffect_allele\teffect_weight\nrs1\tA\t0.5\n",
         ["missing column(s) chr_name, chr_position", "harmonised"]),
        (f"{COLUMNS}\teffect_weight\n", ["more than once: effect_weight"]),
        (f"{COLUMNS}\n", ["no variants"]),
        (f"{HEADER}{COLUMNS}\n{ROWS}rs3\t3\t300\tA\tG\tabc\n",
         ["line 7", "'effect_weight'", "'abc'", "not a number"]),
        (f"{COLUMNS}\n{ROWS}rs3\t3\t300\tA\tG\t\n", ["line 4", "'effect_weight'", "not a number"]),
        (f"{COLUMNS}\n{ROWS}rs3\t3\t300\tA\tG\tinf\n", ["line 4", "not a number"]),
        (f"{COLUMNS}\nrs1\t1\t1e5\tA\tG\t0.5\n", ["line 2", "'chr_position'", "'1e5'"]),
        (f"{COLUMNS}\nrs1\t1\t0\tA\tG\t0.5\n", ["line 2", "'chr_position'", "'0'"]),
        (f"{COLUMNS}\nrs1\t\t10\tA\tG\t0.5\n", ["line 2", "'chr_name'", "empty"]),
        (f"{COLUMNS}\nrs1\t1\t10\tA/C\tG\t0.5\n", ["line 2", "'effect_allele'", "'A/C'"]),
        (f"{COLUMNS}\nrs1\t1\t10\t\tG\t0.5\n", ["line 2", "'effect_allele'"]),
        (f"{COLUMNS}\nrs1\t1\t10\tA\tA\t0.5\n", ["line 2", "'other_allele'", "same as the effect"]),
        (f"{COLUMNS}\tallelefrequency_effect\nrs1\t1\t10\tA\tG\t0.5\t1.2\n",
         ["line 2", "'allelefrequency_effect'", "'1.2'", "proportion"]),
        (f"{COLUMNS}\n{ROWS}rs1\t1\t100\tA\tG\t0.1\n", ["lines 2 and 4", "1:100", "twice"]),
        (f"{COLUMNS}\n{ROWS}rs3\t3\t300\tA\tG\t0.1\t9\n", ["not a tab-separated table"]),
        ("#variants_number=3\n" + f"{COLUMNS}\n{ROWS}", ["variants_number=3", "2 variants"]),
        (f"{COLUMNS}\tis_haplotype\n{ROWS.replace(chr(10), chr(9) + 'FALSE' + chr(10))}"
         .replace("-0.25\tFALSE", "-0.25\tTRUE"), ["line 3", "is_haplotype is TRUE"]),
        (f"{COLUMNS}\tdosage_0_weight\n", ["per-genotype weights"]),
    ],
)  # fmt: skip
def test_malformed_files(tmp_path, text, fragments):
    path = write(tmp_path, text)
    with pytest.raises(InputFormatError) as caught:
        pgs_catalog.read_scoring_file(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message


def test_not_utf8(tmp_path):
    path = tmp_path / "score.txt"
    path.write_bytes(b"chr_name\tchr_position\teffect_allele\teffect_weight\n1\t1\t\xff\t1\n")
    with pytest.raises(InputFormatError, match="not UTF-8"):
        pgs_catalog.read_scoring_file(path)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "score.txt.gz"
    path.write_bytes(gzip.compress(f"{COLUMNS}\n{ROWS * 50}".encode())[:-30])
    with pytest.raises(InputFormatError, match="damaged gzip"):
        pgs_catalog.read_scoring_file(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileAccessError, match=r"absent\.txt: no such file"):
        pgs_catalog.read_scoring_file(tmp_path / "absent.txt")
    with pytest.raises(FileAccessError, match="is a directory"):
        pgs_catalog.read_scoring_file(tmp_path)
