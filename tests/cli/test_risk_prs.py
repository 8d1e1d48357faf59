"""`pebs risk prs`: CanRisk's numbers through the CLI, missing and mismatched variants, errors.

Expected raw and z scores come from ``tests/data/prs/reference_scores_sample.csv`` (CanRisk's
``vcf2prs``). Where a test changes the VCF, the expected change is worked out here from the
original genotypes (split by hand) and the scoring file's weights and frequencies.
"""

from __future__ import annotations

import csv
import gzip
import struct
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pebs.cli import main
from pebs.services import prs_scoring

DATA = Path(__file__).parents[1] / "data" / "prs"
GT_VCF = DATA / "synthetic_bcac313_gt.vcf"
DS_VCF = DATA / "synthetic_bcac313_ds.vcf"
REFERENCE = DATA / "reference_scores_sample.csv"
SCORE_FILE = Path(prs_scoring.__file__).parents[1] / "io" / "scores" / "PGS000004.txt"
COLUMNS = ["sample", "raw_score", "z_score", "n_variants", "n_matched", "n_missing", "n_imputed"]
TOLERANCE = 1e-9
"""Absolute, on raw_score and z_score (both of order 1)."""


def bgzip(data: bytes, block_size: int = 8192) -> bytes:
    """BGZF: gzip members with a 'BC' extra field, then an empty end-of-file member."""
    out = bytearray()
    for start in [*range(0, len(data), block_size), len(data)]:
        block = data[start : start + block_size]
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        deflated = packer.compress(block) + packer.flush()
        out += struct.pack("<BBBBIBBH", 31, 139, 8, 4, 0, 0, 255, 6)
        out += b"BC" + struct.pack("<HH", 2, 12 + 6 + len(deflated) + 8 - 1)
        out += deflated + struct.pack("<II", zlib.crc32(block), len(block))
    return bytes(out)


def score_rows() -> dict[tuple[str, int], dict[str, str]]:
    with SCORE_FILE.open() as stream:
        rows = csv.DictReader((x for x in stream if not x.startswith("#")), delimiter="\t")
        return {(r["chr_name"], int(r["chr_position"])): r for r in rows}


def vcf_lines(path: Path) -> tuple[list[str], list[str]]:
    lines = path.read_text().splitlines()
    return [x for x in lines if x.startswith("#")], [x for x in lines if not x.startswith("#")]


def gt_dosages(line: str) -> np.ndarray:
    """ALT dosage per sample of one GT line, by splitting."""
    cells = line.split("\t")[9:]
    return np.array([sum(a == "1" for a in c.replace("|", "/").split("/")) for c in cells], float)


def reference_for(vcf: Path) -> pd.DataFrame:
    table = pd.read_csv(REFERENCE)
    return table[table["vcf"] == vcf.name].set_index("sample")


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def read_output(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"sample": str}, keep_default_na=False, na_values=[""])


@pytest.mark.parametrize("vcf", [GT_VCF, DS_VCF], ids=["GT", "DS"])
@pytest.mark.parametrize("compression", ["plain", "gzip", "bgzip"])
def test_reproduces_canrisk_vcf2prs(tmp_path, capsys, vcf, compression):
    source = vcf
    if compression != "plain":
        source = tmp_path / f"{vcf.name}.gz"
        pack = gzip.compress if compression == "gzip" else bgzip
        source.write_bytes(pack(vcf.read_bytes()))
    output = tmp_path / "scores.csv"
    code, out, err = run(["risk", "prs", str(source), "-o", str(output)], capsys)
    assert code == 0, err
    assert out == ""
    scores = read_output(output)
    assert list(scores.columns) == COLUMNS
    header_samples = vcf_lines(vcf)[0][-1].split("\t")[9:]
    assert list(scores["sample"]) == header_samples
    assert (scores[["n_variants", "n_matched"]] == 313).all().all()
    assert (scores[["n_missing", "n_imputed"]] == 0).all().all()
    reference = reference_for(vcf)
    mine = scores.set_index("sample").loc[reference.index]
    raw_diff = np.abs(mine["raw_score"] - reference["raw_PRS"]).max()
    z_diff = np.abs(mine["z_score"] - reference["z_score"]).max()
    assert raw_diff <= TOLERANCE, f"largest raw_score difference {raw_diff:.2e}"
    assert z_diff <= TOLERANCE, f"largest z_score difference {z_diff:.2e}"
    assert "313 variants matched, 0 not in the VCF, 0 with mismatched alleles" in err
    assert "-0.423912567501208" in err
    assert "0.611145385948092" in err


def test_floats_are_written_in_full_precision_and_stdout_by_default(capsys):
    code, out, err = run(["risk", "prs", str(GT_VCF)], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert len(lines) == 1 + 203
    first = dict(zip(COLUMNS, lines[1].split(","), strict=True))
    for column in ("raw_score", "z_score"):
        assert repr(float(first[column])) == first[column]
    assert "203 samples scored" in err


def test_scoring_file_gives_the_same_scores_as_the_packaged_name(tmp_path, capsys):
    copy = tmp_path / "PGS000004.txt.gz"
    copy.write_bytes(gzip.compress(SCORE_FILE.read_bytes()))
    outputs = [tmp_path / "named.csv", tmp_path / "file.csv"]
    assert main(["risk", "prs", str(GT_VCF), "--score", "PGS000004", "-o", str(outputs[0])]) == 0
    assert main(["risk", "prs", str(GT_VCF), "--scoring-file", str(copy), "-o",
                 str(outputs[1])]) == 0  # fmt: skip
    assert outputs[0].read_bytes() == outputs[1].read_bytes()
    capsys.readouterr()


def test_unknown_score_without_constants_leaves_z_empty_unless_given(tmp_path, capsys):
    text = SCORE_FILE.read_text().replace("#pgs_id=PGS000004", "#pgs_id=MY_SCORE")
    scoring = tmp_path / "mine.txt"
    scoring.write_text(text)
    output = tmp_path / "out.csv"
    code, _, err = run(["risk", "prs", str(GT_VCF), "--scoring-file", str(scoring),
                        "-o", str(output)], capsys)  # fmt: skip
    assert code == 0
    assert "z_score left empty: no standardisation constants for MY_SCORE" in err
    scores = read_output(output)
    assert scores["z_score"].isna().all()
    argv = ["risk", "prs", str(GT_VCF), "--scoring-file", str(scoring), "-o", str(output),
            "--mean", "0.5", "--sd", "0.25"]  # fmt: skip
    assert main(argv) == 0
    rescored = read_output(output)
    np.testing.assert_allclose(rescored["z_score"], (scores["raw_score"] - 0.5) / 0.25, atol=1e-12)
    capsys.readouterr()


# --- missing and mismatched variants -----------------------------------------------------------


def drop_records(tmp_path: Path, positions: list[int]) -> tuple[Path, list[str]]:
    header, body = vcf_lines(GT_VCF)
    kept = [x for x in body if int(x.split("\t")[1]) not in positions]
    dropped = [x for x in body if int(x.split("\t")[1]) in positions]
    path = tmp_path / "dropped.vcf"
    path.write_text("\n".join(header + kept) + "\n")
    return path, dropped


def test_missing_variants_stop_the_run_naming_them(tmp_path, capsys):
    path, _ = drop_records(tmp_path, [100880328, 10566215, 7917076])
    output = tmp_path / "out.csv"
    code, _, err = run(["risk", "prs", str(path), "-o", str(output)], capsys)
    assert code == 65
    assert err.startswith("pebs: error: ")
    assert err.count("\n") == 1
    assert "3 of 313 variants not in the genotypes: " in err
    for site in ("1:100880328:A:T", "1:10566215:A:G", "1:7917076:G:A"):
        assert site in err
    assert "--impute-missing" in err
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dropped.vcf"]


def test_imputing_missing_variants(tmp_path, capsys):
    path, dropped = drop_records(tmp_path, [100880328, 10566215, 7917076])
    output = tmp_path / "out.csv"
    code, _, err = run(["risk", "prs", str(path), "--impute-missing", "-o", str(output)], capsys)
    assert code == 0, err
    assert "310 variants matched, 3 not in the VCF, 0 with mismatched alleles" in err
    assert "imputed the expected dosage 2f for 609 genotypes in 203 samples" in err
    assert err.count("not in the VCF: ") == 3
    scores = read_output(output).set_index("sample")
    assert (scores["n_matched"] == 310).all()
    assert (scores["n_missing"] == 3).all()
    assert (scores["n_imputed"] == 3).all()
    # Expected: reference raw - sum(dosage * w) + sum(2f * w) over the dropped variants (the
    # VCF's ALT is each variant's effect allele).
    weights = score_rows()
    change = np.zeros(203)
    for line in dropped:
        fields = line.split("\t")
        row = weights[(fields[0], int(fields[1]))]
        assert fields[4] == row["effect_allele"]
        w, f = float(row["effect_weight"]), float(row["allelefrequency_effect"])
        change += (2 * f - gt_dosages(line)) * w
    reference = reference_for(GT_VCF)
    samples = vcf_lines(GT_VCF)[0][-1].split("\t")[9:]
    expected = pd.Series(change, index=samples).loc[reference.index] + reference["raw_PRS"]
    np.testing.assert_allclose(scores.loc[reference.index, "raw_score"], expected, rtol=0,
                               atol=TOLERANCE)  # fmt: skip


def test_allele_mismatch_is_reported_and_never_used(tmp_path, capsys):
    header, body = vcf_lines(GT_VCF)
    fields = body[0].split("\t")  # 1:7917076 G>A, effect allele A
    fields[4] = "C"
    path = tmp_path / "mismatch.vcf"
    path.write_text("\n".join([*header, "\t".join(fields), *body[1:]]) + "\n")
    code, _, err = run(["risk", "prs", str(path)], capsys)
    assert code == 65
    assert "1 of 313 variants with mismatched alleles: 1:7917076:G:A" in err
    output = tmp_path / "out.csv"
    code, _, err = run(["risk", "prs", str(path), "--impute-missing", "-o", str(output)], capsys)
    assert code == 0
    assert "312 variants matched, 0 not in the VCF, 1 with mismatched alleles" in err
    assert "mismatched: 1:7917076:G:A: line 6: effect allele A is not among REF G, ALT C" in err
    scores = read_output(output).set_index("sample")
    assert (scores["n_imputed"] == 1).all()
    w, f = -0.0409, 0.3899  # PGS000004.txt, 1:7917076
    row = score_rows()[("1", 7917076)]
    assert (float(row["effect_weight"]), float(row["allelefrequency_effect"])) == (w, f)
    reference = reference_for(GT_VCF)
    samples = vcf_lines(GT_VCF)[0][-1].split("\t")[9:]
    change = pd.Series((2 * f - gt_dosages(body[0])) * w, index=samples).loc[reference.index]
    np.testing.assert_allclose(scores.loc[reference.index, "raw_score"],
                               reference["raw_PRS"] + change, rtol=0, atol=TOLERANCE)  # fmt: skip


def test_effect_allele_on_ref_is_swapped(tmp_path, capsys):
    # Swap REF and ALT of one record and recode its genotypes: the scores must not change.
    header, body = vcf_lines(GT_VCF)
    fields = body[0].split("\t")
    fields[3], fields[4] = fields[4], fields[3]
    flip = {"0": "1", "1": "0"}
    fields[9:] = ["".join(flip.get(ch, ch) for ch in cell) for cell in fields[9:]]
    path = tmp_path / "swapped.vcf"
    path.write_text("\n".join([*header, "\t".join(fields), *body[1:]]) + "\n")
    outputs = [tmp_path / "a.csv", tmp_path / "b.csv"]
    assert main(["risk", "prs", str(GT_VCF), "-o", str(outputs[0])]) == 0
    assert main(["risk", "prs", str(path), "-o", str(outputs[1])]) == 0
    swapped, original = (read_output(path)["raw_score"] for path in reversed(outputs))
    np.testing.assert_allclose(swapped, original, rtol=0, atol=1e-12)
    capsys.readouterr()


def test_missing_genotype_of_one_sample(tmp_path, capsys):
    header, body = vcf_lines(GT_VCF)
    fields = body[5].split("\t")
    fields[9 + 2] = "./."  # S003
    path = tmp_path / "missing.vcf"
    path.write_text("\n".join([*header, *body[:5], "\t".join(fields), *body[6:]]) + "\n")
    code, _, err = run(["risk", "prs", str(path)], capsys)
    assert code == 65
    assert "1 missing genotypes in 1 samples: S003 (1)" in err
    code, out, err = run(["risk", "prs", str(path), "--impute-missing"], capsys)
    assert code == 0
    scores = pd.read_csv(pd.io.common.StringIO(out)).set_index("sample")
    assert scores.loc["S003", "n_imputed"] == 1
    assert scores.loc["S003", "n_matched"] == 312
    assert (scores.drop(index="S003")["n_imputed"] == 0).all()
    assert "imputed the expected dosage 2f for 1 genotypes in 1 samples" in err


def test_duplicate_record_is_an_error(tmp_path, capsys):
    header, body = vcf_lines(GT_VCF)
    path = tmp_path / "dup.vcf"
    path.write_text("\n".join([*header, *body, body[3]]) + "\n")
    code, _, err = run(["risk", "prs", str(path)], capsys)
    assert code == 65
    assert "lines 9 and 319 both carry" in err


@pytest.mark.parametrize("block", [1, 7, 313, 1000])
def test_block_size_does_not_change_the_scores(block):
    scoring = prs_scoring.load_score()
    base = prs_scoring.score_vcf(DS_VCF, scoring)
    other = prs_scoring.score_vcf(DS_VCF, scoring, block_variants=block)
    np.testing.assert_allclose(other.result.raw_scores, base.result.raw_scores, rtol=0,
                               atol=1e-13)  # fmt: skip


# --- errors -----------------------------------------------------------------------------------


def assert_failed(code, err, expected_code, *fragments):
    assert code == expected_code
    if expected_code == 2:
        assert "Usage" in err
    else:
        assert err.startswith("pebs: error: ")
        assert err.count("\n") == 1, "one line, no traceback"
    for fragment in fragments:
        assert fragment in err


def test_missing_vcf(tmp_path, capsys):
    code, _, err = run(["risk", "prs", str(tmp_path / "absent.vcf")], capsys)
    assert_failed(code, err, 74, "absent.vcf: no such file")


def test_malformed_vcf_names_file_and_line(tmp_path, capsys):
    header, body = vcf_lines(GT_VCF)
    path = tmp_path / "bad.vcf"
    path.write_text("\n".join([*header, *body[:10], body[10].replace("0|1", "0|x", 1),
                               *body[11:]]) + "\n")  # fmt: skip
    output = tmp_path / "out.csv"
    code, _, err = run(["risk", "prs", str(path), "-o", str(output)], capsys)
    assert_failed(code, err, 65, f"{path}: line 16: sample", "'0|x'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.vcf"]


def test_vcf_without_header(tmp_path, capsys):
    path = tmp_path / "bad.vcf"
    path.write_text("\n".join(vcf_lines(GT_VCF)[1]) + "\n")
    code, _, err = run(["risk", "prs", str(path)], capsys)
    assert_failed(code, err, 65, "line 1", "#CHROM")


def test_unknown_score_name(capsys):
    code, _, err = run(["risk", "prs", str(GT_VCF), "--score", "PGS000005"], capsys)
    assert_failed(code, err, 2, "unknown score 'PGS000005'", "PGS000004")


def test_score_and_scoring_file_together(capsys):
    argv = ["risk", "prs", str(GT_VCF), "--score", "PGS000004", "--scoring-file", str(SCORE_FILE)]
    code, _, err = run(argv, capsys)
    assert_failed(code, err, 2, "not both")


@pytest.mark.parametrize(
    ("options", "fragment"), [(["--mean", "0"], "both --mean and --sd"), (["--mean", "0",
                                                                          "--sd", "0"], "> 0")]
)  # fmt: skip
def test_normalisation_options(capsys, options, fragment):
    code, _, err = run(["risk", "prs", str(GT_VCF), *options], capsys)
    assert_failed(code, err, 2, fragment)


def test_missing_and_malformed_scoring_files(tmp_path, capsys):
    code, _, err = run(["risk", "prs", str(GT_VCF), "--scoring-file", str(tmp_path / "x.txt")],
                       capsys)  # fmt: skip
    assert_failed(code, err, 74, "x.txt: no such file")
    bad = tmp_path / "bad.txt"
    bad.write_text("chr_name\tchr_position\teffect_allele\neffect_weight\n")
    code, _, err = run(["risk", "prs", str(GT_VCF), "--scoring-file", str(bad)], capsys)
    assert_failed(code, err, 65, "missing column(s) effect_weight")


def test_output_problems(tmp_path, capsys):
    code, _, err = run(["risk", "prs", str(GT_VCF), "-o", str(tmp_path / "no" / "o.csv")], capsys)
    assert_failed(code, err, 74, "cannot be written")
    copy = tmp_path / "in.vcf"
    copy.write_bytes(GT_VCF.read_bytes())
    code, _, err = run(["risk", "prs", str(copy), "-o", str(copy)], capsys)
    assert_failed(code, err, 74, "overwrite the input")
    assert copy.read_bytes() == GT_VCF.read_bytes()


def test_interrupt_leaves_no_output(tmp_path, capsys, monkeypatch):
    output = tmp_path / "out.csv"

    def interrupted(*_, **__):
        raise KeyboardInterrupt

    monkeypatch.setattr(prs_scoring.prs, "finish_scores", interrupted)
    assert main(["risk", "prs", str(GT_VCF), "-o", str(output)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
