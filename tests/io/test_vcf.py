"""pebs.io.vcf: GT/DS dosages against a plain per-sample parse, compression, positions, errors.

The expected dosages come from :func:`naive_dosages`, a deliberately simple per-sample reading of
the VCF rules (split on ``:``, ``/`` and ``|``, ``float()``), independent of the vectorised
byte-level parser under test.
"""

from __future__ import annotations

import gzip
import math
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pebs.io.errors import FileAccessError, InputFormatError
from pebs.io.vcf import VcfReader

DATA = Path(__file__).parents[1] / "data" / "prs"
FIXED = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT"


def bgzip(data: bytes, block_size: int = 4096) -> bytes:
    """BGZF (the SAM/BAM specification's blocked gzip): gzip members with a 'BC' extra field."""
    blocks = [data[i : i + block_size] for i in range(0, len(data), block_size)] + [b""]
    out = bytearray()
    for block in blocks:  # the last, empty block is BGZF's end-of-file marker
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        deflated = packer.compress(block) + packer.flush()
        header = struct.pack("<BBBBIBBH", 31, 139, 8, 4, 0, 0, 255, 6)
        extra = b"BC" + struct.pack("<HH", 2, 12 + 6 + len(deflated) + 8 - 1)
        out += header + extra + deflated + struct.pack("<II", zlib.crc32(block), len(block))
    return bytes(out)


def vcf_text(samples: list[str], lines: list[str]) -> str:
    header = "##fileformat=VCFv4.3\n" + FIXED + "".join(f"\t{s}" for s in samples) + "\n"
    return header + "".join(line + "\n" for line in lines)


def write_vcf(tmp_path: Path, samples: list[str], lines: list[str], name="in.vcf") -> Path:
    path = tmp_path / name
    path.write_text(vcf_text(samples, lines), encoding="utf-8")
    return path


def record_line(cells: list[str], ref="G", alt="A", form="GT", chrom="1", pos=100) -> str:
    return "\t".join([chrom, str(pos), ".", ref, alt, ".", "PASS", ".", form, *cells])


def read_all(path: Path, positions=None):
    with VcfReader(path, positions) as vcf:
        records = list(vcf)
        return vcf.samples, records, [r.dosages() for r in records]


def naive_dosages(cell: str, keys: list[str], n_alts: int) -> tuple[list[float], float]:
    """ALT dosages and ploidy of one sample, following the VCF rules one value at a time."""
    fields = dict(zip(keys, cell.split(":"), strict=False))  # trailing fields may be dropped
    ploidy = 2.0
    if "GT" in fields:
        alleles = re.split(r"[/|]", fields["GT"])
        ploidy = float(len(alleles))
        if "." not in alleles:
            return [float(alleles.count(str(k))) for k in range(1, n_alts + 1)], ploidy
    parts = fields.get("DS", ".").split(",")
    if "." in parts:
        return [math.nan] * n_alts, math.nan
    return [float(p) for p in parts], ploidy


def assert_matches_naive(line: str, dosages, n_samples: int) -> None:
    fields = line.split("\t")
    keys, n_alts = fields[8].split(":"), (0 if fields[4] == "." else len(fields[4].split(",")))
    expected = [naive_dosages(cell, keys, n_alts) for cell in fields[9:]]
    alt = np.array([e[0] for e in expected], dtype=float).reshape(n_samples, n_alts)
    np.testing.assert_array_equal(dosages.alt_dosages, alt)
    np.testing.assert_array_equal(dosages.ploidy, [e[1] for e in expected])


# --- the reference files --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "n_samples"), [("synthetic_bcac313_gt.vcf", 203), ("synthetic_bcac313_ds.vcf", 100)]
)
def test_reference_files_match_the_naive_parse(name, n_samples):
    samples, records, dosages = read_all(DATA / name)
    assert len(samples) == n_samples
    assert len(records) == 313
    lines = [x for x in (DATA / name).read_text().splitlines() if not x.startswith("#")]
    for line, record, dosage in zip(lines, records, dosages, strict=True):
        fields = line.split("\t")
        assert (record.chromosome, record.position, record.ref) == (fields[0], int(fields[1]),
                                                                    fields[3])  # fmt: skip
        assert record.alts == (fields[4],)
        assert_matches_naive(line, dosage, n_samples)


@pytest.mark.parametrize("compress", [gzip.compress, bgzip], ids=["gzip", "bgzip"])
def test_gzip_and_bgzip_read_the_same(tmp_path, compress):
    original = (DATA / "synthetic_bcac313_gt.vcf").read_bytes()
    packed = tmp_path / "in.vcf.gz"
    packed.write_bytes(compress(original))
    if compress is bgzip:  # really many members, lines cut across them
        assert packed.read_bytes().count(b"BC\x02\x00") > len(original) // 4096
    samples, records, dosages = read_all(DATA / "synthetic_bcac313_gt.vcf")
    samples_gz, records_gz, dosages_gz = read_all(packed)
    assert samples_gz == samples
    assert [(r.position, r.line_number) for r in records_gz] == [
        (r.position, r.line_number) for r in records
    ]
    for mine, theirs in zip(dosages_gz, dosages, strict=True):
        np.testing.assert_array_equal(mine.alt_dosages, theirs.alt_dosages)


def test_only_the_positions_asked_for_are_parsed(tmp_path):
    lines = [
        record_line(["0/1", "1/1"], chrom="chr1", pos=100),
        record_line(["garbage", "x"], chrom="1", pos=150),  # not asked for: never parsed
        record_line(["1|1", "0|0"], chrom="2", pos=100),
        "2\t7\tnot parsed either",
    ]
    path = write_vcf(tmp_path, ["a", "b"], lines)
    _, records, dosages = read_all(path, positions={("1", 100), ("2", 100), ("3", 5)})
    assert [(r.chromosome, r.position, r.line_number) for r in records] == [
        ("chr1", 100, 3), ("2", 100, 5),
    ]  # fmt: skip
    np.testing.assert_array_equal(dosages[0].alt_dosages, [[1], [2]])
    np.testing.assert_array_equal(dosages[1].alt_dosages, [[2], [0]])


# --- genotype and dosage rules ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "form", "alt", "expected_alt", "expected_ploidy"),
    [
        (["0/0", "0/1", "1/0", "1/1"], "GT", "A", [[0], [1], [1], [2]], [2, 2, 2, 2]),
        (["0|0", "0|1", "1|0", "1|1"], "GT", "A", [[0], [1], [1], [2]], [2, 2, 2, 2]),
        (["0", "1", "0/1", "1|1"], "GT", "A", [[0], [1], [1], [2]], [1, 1, 2, 2]),  # haploid
        ([".", "./.", ".|.", "0/."], "GT", "A", [[np.nan]] * 4, [np.nan] * 4),
        (["1/2", "2/2", "0/2", "2"], "GT", "A,T", [[1, 1], [0, 2], [0, 1], [0, 1]], [2, 2, 2, 1]),
        (["0/1/1", "1/1/1/1"], "GT", "A", [[2], [4]], [3, 4]),  # polyploid
        (["0/10", "10|10", "3/1"], "GT", ",".join("ACTGN") + ",AA,AC,AG,AT,CA",
         [[0] * 9 + [1], [0] * 9 + [2], [1, 0, 1] + [0] * 7], [2, 2, 2]),
        (["./.:0.5", "0/1:2", "1/1:.", "./.:.", "./."], "GT:DS", "A",
         [[0.5], [1], [2], [np.nan], [np.nan]], [2, 2, 2, np.nan, np.nan]),
        ([".:0.25", ".:1"], "GT:DS", "A", [[0.25], [1]], [1, 1]),  # haploid dosage
        (["0.838", "2", "0", ".5", "1.", "1e-3", "0.12345678901234567"], "DS", "A",
         [[0.838], [2], [0], [0.5], [1], [0.001], [0.12345678901234567]], [2] * 7),
        (["0.1,0.9", "1,1", ".,."], "DS", "A,T", [[0.1, 0.9], [1, 1], [np.nan] * 2],
         [2, 2, np.nan]),
        (["0/0:9:0.5", "./.:9:1.5", "./.:9"], "GT:GQ:DS", "A", [[0], [1.5], [np.nan]],
         [2, 2, np.nan]),  # DS after another field; dropped trailing field
        (["0/1", "1/1"], "GQ", "A", [[np.nan], [np.nan]], [np.nan, np.nan]),  # no GT, no DS
        (["0/0", "0"], "GT", ".", np.zeros((2, 0)), [2, 1]),  # no ALT allele
    ],
)  # fmt: skip
def test_genotype_rules(tmp_path, cells, form, alt, expected_alt, expected_ploidy):
    line = record_line(cells, alt=alt, form=form)
    path = write_vcf(tmp_path, [f"s{i}" for i in range(len(cells))], [line])
    _, records, (dosages,) = read_all(path)
    assert records[0].alts == (() if alt == "." else tuple(alt.split(",")))
    np.testing.assert_array_equal(dosages.alt_dosages, np.array(expected_alt, dtype=float))
    np.testing.assert_array_equal(dosages.ploidy, expected_ploidy)


def test_gt_wins_over_ds_when_both_are_there(tmp_path):
    path = write_vcf(tmp_path, ["a", "b"], [record_line(["0/1:1.7", "./.:1.7"], form="GT:DS")])
    _, _, (dosages,) = read_all(path)
    np.testing.assert_array_equal(dosages.alt_dosages, [[1.0], [1.7]])


def test_fixed_width_and_ragged_lines_agree(tmp_path):
    same_width = ["0|1:0.912", "1|1:1.999", "./.:0.250", "0|0:0.000"]
    ragged = ["0|1:0.912", "1|1:1.999", "./.:0.25", "0|0:0"]
    lines = [record_line(same_width, form="GT:DS"), record_line(ragged, form="GT:DS", pos=101)]
    path = write_vcf(tmp_path, list("abcd"), lines)
    _, _, (fixed, varied) = read_all(path)
    expected = [[1], [2], [0.25], [0]]
    np.testing.assert_array_equal(fixed.alt_dosages, expected)
    np.testing.assert_array_equal(varied.alt_dosages, expected)


def test_crlf_and_missing_final_newline(tmp_path):
    text = vcf_text(["a"], [record_line(["0/1"]), record_line(["1/1"], pos=101)])
    path = tmp_path / "in.vcf"
    path.write_bytes(text.replace("\n", "\r\n").rstrip().encode())
    _, records, dosages = read_all(path)
    assert [d.alt_dosages[0, 0] for d in dosages] == [1.0, 2.0]
    assert records[1].line_number == 4


ALLELE_TEXT = st.one_of(st.just("."), st.integers(0, 3).map(str))


@st.composite
def sample_cell(draw, n_alts: int, keys: list[str]) -> str:
    ploidy = draw(st.integers(1, 3))
    values = []
    for key in keys:
        if key == "GT":
            alleles = [draw(st.sampled_from([".", *map(str, range(n_alts + 1))]))
                       for _ in range(ploidy)]  # fmt: skip
            separators = [draw(st.sampled_from("/|")) for _ in range(ploidy - 1)]
            text = alleles[0] + "".join(s + a for s, a in zip(separators, alleles[1:], strict=True))
            values.append(text)
        elif key == "DS":
            limit = ploidy if "GT" in keys else 2
            numbers = [draw(st.one_of(
                st.just("."),
                st.integers(0, limit // max(n_alts, 1)).map(str),
                st.builds(lambda x, d: f"{x:.{d}f}", st.floats(0, limit / max(n_alts, 1)),
                          st.integers(0, 17)),
            )) for _ in range(max(n_alts, 1))]  # fmt: skip
            values.append(",".join(numbers))
        else:
            values.append(draw(st.sampled_from(["9", "0.1,0.2,0.7", "."])))
    keep = draw(st.integers(1, len(values)))  # trailing fields may be dropped
    return ":".join(values[:keep])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_vectorised_parse_equals_the_naive_parse(tmp_path_factory, data):
    n_alts = data.draw(st.integers(1, 3), label="n_alts")
    keys = data.draw(st.sampled_from([["GT"], ["GT", "DS"], ["DS"], ["GT", "GP", "DS"]]))
    n_samples = data.draw(st.integers(1, 12), label="n_samples")
    cells = [data.draw(sample_cell(n_alts, keys)) for _ in range(n_samples)]
    if data.draw(st.booleans(), label="same cell everywhere"):  # the fixed-width path
        cells = [cells[0]] * n_samples
    line = record_line(cells, alt=",".join("ACT"[:n_alts]), form=":".join(keys))
    path = write_vcf(tmp_path_factory.mktemp("vcf"), [f"s{i}" for i in range(n_samples)], [line])
    _, _, (dosages,) = read_all(path)
    assert_matches_naive(line, dosages, n_samples)


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "form", "alt", "fragments"),
    [
        (["0/1", "0/A"], "GT", "A", ["sample s1", "genotype '0/A'"]),
        (["0/1", ""], "GT", "A", ["sample s1", "genotype ''"]),
        (["0/1", "0/1 "], "GT", "A", ["sample s1", "genotype '0/1 '"]),
        (["0/1", "0-1"], "GT", "A", ["sample s1", "genotype '0-1'"]),
        (["0/2", "0/1"], "GT", "A", ["sample s0", "'0/2' refers to an allele beyond the 1 ALT"]),
        (["0/12", "0/1"], "GT", "A,T", ["sample s0", "'0/12'"]),
        (["./.:2.5", "./.:1"], "GT:DS", "A", ["sample s0", "DS '2.5' is outside 0..2"]),
        (["./.:1", ".:1.5"], "GT:DS", "A", ["sample s1", "DS '1.5' is outside 0..1"]),
        (["./.:-0.1", "./.:1"], "GT:DS", "A", ["sample s0", "'-0.1'"]),
        (["./.:abc", "./.:1"], "GT:DS", "A", ["sample s0", "DS 'abc' is not 1 number"]),
        (["./.:0.5", "./.:inf"], "GT:DS", "A", ["sample s1", "'inf'"]),
        (["./.:0.5", "./.:0.5"], "GT:DS", "A,T", ["sample s0", "DS '0.5' is not 2 number(s)"]),
    ],
)  # fmt: skip
def test_malformed_sample_values(tmp_path, cells, form, alt, fragments):
    lines = [record_line(["0/0", "0/0"]), record_line(cells, alt=alt, form=form, pos=101)]
    path = write_vcf(tmp_path, ["s0", "s1"], lines)
    with VcfReader(path) as vcf:
        first, second = list(vcf)
        first.dosages()
        with pytest.raises(InputFormatError) as caught:
            second.dosages()
    message = str(caught.value)
    assert message.startswith(f"{path}: line 4: ")
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("", ["no '#CHROM' header line"]),
        ("##fileformat=VCFv4.2\n", ["no '#CHROM' header line"]),
        ("##fileformat=VCFv4.2\n1\t100\t.\tG\tA\t.\t.\t.\tGT\t0/1\n", ["line 2", "expected the"]),
        ("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n", ["line 1", "no samples"]),
        (f"{FIXED}\n", ["line 1", "no samples"]),
        ("#CHROM\tPOS\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ta\n", ["header columns must start"]),
        (f"{FIXED}\ta\tb\ta\n", ["line 1", "repeated: a"]),
        (f"{FIXED}\ta\t\n", ["line 1", "empty"]),
        (f"{FIXED}\ta\tb\n1\t100\t.\tG\tA\t.\t.\t.\tGT\t0/1\n", ["line 2", "1 sample columns",
                                                              "names 2 samples"]),
        (f"{FIXED}\ta\n1\t100\t.\tG\tA\t.\t.\t.\tGT\t0/1\t1/1\n", ["line 2", "2 sample columns"]),
        (f"{FIXED}\ta\n1\t100\t.\tG\tA\n", ["line 2", "5 columns; expected 9 + 1 samples"]),
        (f"{FIXED}\ta\n1\tabc\t.\tG\tA\t.\t.\t.\tGT\t0/1\n", ["line 2", "POS 'abc'"]),
        (f"{FIXED}\ta\n1\t-5\t.\tG\tA\t.\t.\t.\tGT\t0/1\n", ["line 2", "POS '-5'"]),
        (f"{FIXED}\ta\njunk\n", ["line 2", "not a VCF data line"]),
        (f"{FIXED}\ta\n#CHROM again\n", ["line 2", "header line after"]),
        (f"{FIXED}\ta\n1\t100\t.\t.\tA\t.\t.\t.\tGT\t0/1\n", ["line 2", "REF '.'"]),
        (f"{FIXED}\ta\n1\t100\t.\tG\tA,\t.\t.\t.\tGT\t0/1\n", ["line 2", "ALT 'A,'"]),
        ("BCF\x02\x02binary", ["line 1", "BCF"]),
    ],
)  # fmt: skip
def test_malformed_files(tmp_path, text, fragments):
    path = tmp_path / "in.vcf"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFormatError) as caught:
        read_all(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message


def test_non_ascii_alleles(tmp_path):
    path = tmp_path / "in.vcf"
    path.write_bytes(f"{FIXED}\ta\n1\t100\t.\tG\t\xc3\xa9\t.\t.\t.\tGT\t0/1\n".encode("latin-1"))
    with pytest.raises(InputFormatError, match="line 2: CHROM, REF, ALT and FORMAT must be ASCII"):
        read_all(path)


def test_truncated_gzip_names_the_last_line_read(tmp_path):
    packed = tmp_path / "in.vcf.gz"
    packed.write_bytes(gzip.compress((DATA / "synthetic_bcac313_gt.vcf").read_bytes())[:-5000])
    with pytest.raises(InputFormatError, match=r"damaged or truncated gzip data after line \d+"):
        read_all(packed)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileAccessError, match=r"absent\.vcf: no such file"):
        read_all(tmp_path / "absent.vcf")
    with pytest.raises(FileAccessError, match="is a directory"):
        read_all(tmp_path)
