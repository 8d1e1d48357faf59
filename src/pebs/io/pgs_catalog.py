"""PGS Catalog scoring files (format 2.0), plain or gzip, and the scores shipped with pebs.

Layout (https://www.pgscatalog.org/downloads/#dl_ftp_scoring): header lines ``#key=value``
(lines starting ``##`` are section titles), then a tab-separated table with a header row. pebs
needs ``chr_name``, ``chr_position``, ``effect_allele`` and ``effect_weight``; it uses
``other_allele`` (``reference_allele`` in format 1.0 files), ``allelefrequency_effect`` and
``rsID`` when present. Variants are matched by position, so rsID-only files are refused, and so are
non-additive scores (haplotypes, diplotypes, interactions, per-genotype weights).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType
from typing import IO

import numpy as np
import pandas as pd

from pebs.io._files import open_binary
from pebs.io.errors import FileAccessError, InputFormatError, column_error
from pebs.risk.prs import PolygenicScore

PACKAGED_SCORES = ("PGS000004",)
"""Scores shipped in ``pebs/io/scores/`` (provenance: ``scores/PROVENANCE.md``)."""

REQUIRED_COLUMNS = ("chr_name", "chr_position", "effect_allele", "effect_weight")
_NON_ADDITIVE_FLAGS = ("is_haplotype", "is_diplotype", "is_interaction")
_GENOTYPE_WEIGHTS = ("dosage_0_weight", "dosage_1_weight", "dosage_2_weight")
_ALLELE = re.compile(r"^[ACGTN]+$", re.IGNORECASE)
_HEADER_ITEM = re.compile(r"^#([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class ScoringFile:
    """A scoring file: the score and its ``#key=value`` header."""

    score: PolygenicScore
    header: Mapping[str, str]
    """E.g. ``pgs_id``, ``genome_build``, ``citation`` (empty for files without a header)."""
    source: str
    """Path of the file, or ``"packaged PGS000004"``."""


def _open_text(path: Path) -> IO[str]:
    raw = open_binary(path, "a scoring file")
    try:
        is_gzip = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if is_gzip:
            raw.close()  # gzip.open(path) owns (and closes) its own file
            return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    except OSError as exc:
        raw.close()
        raise FileAccessError(f"{path}: cannot be read ({exc.strerror})") from exc
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def read_scoring_file(path: Path | str) -> ScoringFile:
    """Read a PGS Catalog scoring file (plain text or gzip, detected from its first bytes).

    Raises
    ------
    FileAccessError
        The file cannot be opened or read.
    InputFormatError
        Not a usable scoring file; the message names the file, and the line where there is one.
    """
    path = Path(path)
    try:
        with _open_text(path) as stream:
            return _parse(stream, path, str(path))
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputFormatError(f"{path}: damaged gzip file ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise InputFormatError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        if isinstance(exc, FileAccessError):
            raise
        raise FileAccessError(f"{path}: cannot be read ({exc.strerror})") from exc


def load_packaged_score(name: str) -> ScoringFile:
    """One of the :data:`PACKAGED_SCORES`, e.g. ``"PGS000004"`` (PRS313).

    Raises
    ------
    InputFormatError
        ``name`` is not a packaged score.

    >>> load_packaged_score("PGS000004").score.n_variants
    313
    """
    if name not in PACKAGED_SCORES:
        raise InputFormatError(
            f"unknown score {name!r}; packaged scores: {', '.join(PACKAGED_SCORES)}"
        )
    resource = files("pebs.io").joinpath("scores", f"{name}.txt")
    with resource.open("r", encoding="utf-8", newline="") as stream:
        return _parse(stream, Path(f"{name}.txt"), f"packaged {name}")


def _read_header(stream: IO[str], path: Path) -> tuple[dict[str, str], list[str], int]:
    """``#key=value`` items, the column names, and the line number of the column header."""
    header: dict[str, str] = {}
    line_number = 0
    while line := stream.readline():  # readline, not iteration: pandas reads on from here
        line_number += 1
        text = line.rstrip("\r\n")
        if text.startswith("#"):
            match = _HEADER_ITEM.match(text)
            if match:
                header[match.group(1)] = match.group(2).strip()
            continue
        if not text.strip():
            raise InputFormatError(f"{path}: line {line_number}: empty line before the table")
        return header, text.split("\t"), line_number
    raise InputFormatError(f"{path}: no table (expected a tab-separated header after '#' lines)")


def _check_columns(header: dict[str, str], columns: list[str], path: Path) -> None:
    version = header.get("format_version", "2.0")
    if not version.startswith("2."):
        raise InputFormatError(f"{path}: format_version={version}; pebs reads format 2.0")
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise InputFormatError(f"{path}: column(s) named more than once: {', '.join(duplicated)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        hint = (
            " (variants are matched by chromosome and position: use a file with chr_name and "
            "chr_position, such as the PGS Catalog's harmonised files)"
            if "rsID" in columns
            else ""
        )
        raise InputFormatError(
            f"{path}: missing column(s) {', '.join(missing)}; the file has "
            f"{', '.join(columns)}{hint}"
        )
    if any(c in columns for c in _GENOTYPE_WEIGHTS):
        raise InputFormatError(f"{path}: per-genotype weights (dosage_*_weight) are not supported")


def _parse(stream: IO[str], path: Path, source: str) -> ScoringFile:
    header, columns, header_line = _read_header(stream, path)
    _check_columns(header, columns, path)
    try:
        table = pd.read_csv(
            stream, sep="\t", header=None, names=columns, dtype=str, keep_default_na=False,
            na_filter=False, quoting=csv.QUOTE_NONE, engine="c",
        )  # fmt: skip
    except pd.errors.ParserError as exc:
        raise InputFormatError(
            f"{path}: not a tab-separated table after line {header_line} ({str(exc).strip()})"
        ) from exc
    except pd.errors.EmptyDataError:
        table = pd.DataFrame(columns=columns)
    first_line = header_line + 1
    if table.empty:
        raise InputFormatError(f"{path}: the table has no variants")
    for flag in _NON_ADDITIVE_FLAGS:
        if flag in table and table[flag].str.upper().eq("TRUE").any():
            row = int(np.flatnonzero(table[flag].str.upper().eq("TRUE"))[0])
            raise InputFormatError(
                f"{path}: line {first_line + row}: {flag} is TRUE; only additive scores of single "
                "variants are supported"
            )
    score = PolygenicScore(
        name=header.get("pgs_id") or path.name.split(".")[0],
        chromosomes=_text(table, "chr_name", path, first_line),
        positions=_positions(table, path, first_line),
        effect_alleles=_alleles(table, "effect_allele", path, first_line, required=True),
        other_alleles=_other_alleles(table, path, first_line),
        weights=_numbers(table, "effect_weight", path, first_line, required=True),
        effect_allele_frequencies=_frequencies(table, path, first_line),
        variant_ids=table["rsID"].to_numpy(dtype=object) if "rsID" in table else None,
        genome_build=header.get("genome_build", ""),
    )
    _check_unique(score, path, first_line)
    expected = header.get("variants_number")
    if expected and expected.isdigit() and int(expected) != score.n_variants:
        raise InputFormatError(
            f"{path}: the header says variants_number={expected} but the table has "
            f"{score.n_variants} variants (truncated file?)"
        )
    return ScoringFile(score=score, header=MappingProxyType(header), source=source)


def _fail(path: Path, line: int, column: str, value: str, why: str) -> InputFormatError:
    return column_error(path, line, column, value, f", {why}")


def _text(table: pd.DataFrame, column: str, path: Path, first_line: int) -> np.ndarray:
    values = table[column].str.strip()
    empty = np.flatnonzero(values.eq("").to_numpy())
    if empty.size:
        raise _fail(path, first_line + int(empty[0]), column, "", "which is empty")
    return values.to_numpy(dtype=object)


def _positions(table: pd.DataFrame, path: Path, first_line: int) -> np.ndarray:
    values = table["chr_position"].str.strip()
    bad = np.flatnonzero(~values.str.fullmatch(r"[0-9]{1,10}").to_numpy(dtype=bool))
    if bad.size == 0:
        positions = values.to_numpy().astype(np.int64)
        bad = np.flatnonzero(positions < 1)
        if bad.size == 0:
            return positions
    row = int(bad[0])
    raise _fail(
        path, first_line + row, "chr_position", table["chr_position"].iloc[row],
        "which is not a position (a whole number >= 1)",
    )  # fmt: skip


def _alleles(
    table: pd.DataFrame, column: str, path: Path, first_line: int, *, required: bool
) -> np.ndarray:
    values = table[column].str.strip().str.upper()
    ok = values.str.fullmatch(_ALLELE.pattern) | (values.eq("") & (not required))
    bad = np.flatnonzero(~ok.to_numpy(dtype=bool))
    if bad.size:
        row = int(bad[0])
        raise _fail(
            path, first_line + row, column, table[column].iloc[row],
            "which is not an allele (letters A, C, G, T, N)",
        )  # fmt: skip
    return values.to_numpy(dtype=object)


def _other_alleles(table: pd.DataFrame, path: Path, first_line: int) -> np.ndarray:
    for column in ("other_allele", "reference_allele"):
        if column in table:
            alleles = _alleles(table, column, path, first_line, required=False)
            same = np.flatnonzero(alleles == table["effect_allele"].str.strip().str.upper())
            if same.size:
                row = int(same[0])
                raise _fail(
                    path, first_line + row, column, table[column].iloc[row],
                    "the same as the effect allele",
                )  # fmt: skip
            return alleles
    return np.full(len(table), "", dtype=object)


def _numbers(
    table: pd.DataFrame, column: str, path: Path, first_line: int, *, required: bool
) -> np.ndarray:
    text = table[column].str.strip()
    values = pd.to_numeric(text.mask(text.eq("")), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) & (text.ne("").to_numpy() | required)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise _fail(path, first_line + row, column, table[column].iloc[row], "not a number")
    return values


def _frequencies(table: pd.DataFrame, path: Path, first_line: int) -> np.ndarray | None:
    if "allelefrequency_effect" not in table:
        return None
    values = _numbers(table, "allelefrequency_effect", path, first_line, required=False)
    bad = np.flatnonzero((values < 0) | (values > 1))
    if bad.size:
        row = int(bad[0])
        raise _fail(
            path, first_line + row, "allelefrequency_effect",
            table["allelefrequency_effect"].iloc[row], "not a proportion between 0 and 1",
        )  # fmt: skip
    return values


def _check_unique(score: PolygenicScore, path: Path, first_line: int) -> None:
    seen: dict[tuple[str, int, str, str], int] = {}
    keys = zip(
        score.chromosomes, score.positions.tolist(), score.effect_alleles, score.other_alleles,
        strict=True,
    )  # fmt: skip
    for row, key in enumerate(keys):
        if key in seen:
            raise InputFormatError(
                f"{path}: lines {first_line + seen[key]} and {first_line + row}: the same variant "
                f"({key[0]}:{key[1]}, effect allele {key[2]}) twice"
            )
        seen[key] = row
