"""Batch assessment with the personalised five-year model (``pebs risk assess``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa

from pebs.io.arrow_arrays import from_codes
from pebs.io.assessment_csv import (
    INPUT_COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    empty_fields,
    parse_assessment_table,
)
from pebs.io.csv_table import CsvChunk
from pebs.io.errors import InputFormatError
from pebs.risk import personalised
from pebs.risk.levels import LEVELS, level_index
from pebs.services.batch_scoring import RowCounts, map_csv, refuse_overwrite

OUTPUT_COLUMNS = (
    "risk_5y", "risk_5y_pct", "level", "rr_classical", "rr_prs", "rr_density", "model",
    "missing", "error",
)  # fmt: skip
STRICT_REASON = "empty field(s) with --strict: not answered (write 'unknown' if she does not know)"
"""The summary's reason for rows refused by ``--strict``; their ``error`` names the fields."""


@cache
def _labels() -> tuple[str, ...]:
    """ "a;b" text of every subset of :data:`INPUT_COLUMNS`, indexed by its bit pattern."""
    names = INPUT_COLUMNS
    return tuple(
        ";".join(n for bit, n in enumerate(names) if code >> bit & 1) for code in range(1 << 7)
    )


def _bits(mask: np.ndarray) -> np.ndarray:
    """(n,) uint8: the bit pattern of each row of ``mask`` (n, 7) over :data:`INPUT_COLUMNS`."""
    return (mask.astype(np.uint8) << np.arange(len(INPUT_COLUMNS), dtype=np.uint8)).sum(
        axis=1, dtype=np.uint8
    )


@dataclass
class AssessmentSummary(RowCounts):
    """Every row is assessed or counted as rejected; unknown inputs and levels are counted."""

    country: str = ""
    unknown_by_input: dict[str, int] = field(default_factory=dict)
    """Assessed rows with each input unknown (scored by the missing-covariate rule)."""
    levels: dict[str, int] = field(default_factory=dict)
    genotypes: str = ""
    """What matching ids to VCF samples did (empty without --genotypes)."""

    @property
    def n_assessed(self) -> int:
        return self.n_rows - self.n_rejected

    @property
    def n_missing_prs(self) -> int:
        return self.unknown_by_input.get("prs_z", 0)

    @property
    def n_missing_density(self) -> int:
        return self.unknown_by_input.get("density", 0)

    def add(self, result: personalised.PersonalisedResult, levels: np.ndarray, absent) -> None:
        """Count a chunk: ``levels`` (n,) the position of each row's level in
        :data:`~pebs.risk.personalised.LEVELS` (-1: none); ``absent`` (n,) uint8 the bits of the
        empty fields refused by ``--strict`` (0: none)."""
        refused = absent != 0
        assessed = result.is_valid & ~refused
        self.count(~assessed, result.error, personalised.model.REASONS)
        self.add_reason(STRICT_REASON, int(np.count_nonzero(refused)))
        unknown = result.unknown  # (n, 7), computed on each access
        for j, name in enumerate(personalised.INPUTS):
            count = int(np.count_nonzero(unknown[:, j] & assessed))
            if count:
                self.unknown_by_input[name] = self.unknown_by_input.get(name, 0) + count
        counts = np.bincount(levels[assessed & (levels >= 0)], minlength=len(LEVELS))
        for name, count in zip(LEVELS, counts.tolist(), strict=True):
            if count:
                self.levels[name] = self.levels.get(name, 0) + count


def genotype_scores(vcf_path: Path) -> dict[str, float]:
    """PRS313 z-score per VCF sample (PGS000004, CanRisk European normalisation)."""
    from pebs.services import prs_scoring  # loads pandas: only with --genotypes

    run = prs_scoring.score_vcf(Path(vcf_path), prs_scoring.load_score("PGS000004"))
    names = run.result.sample_names
    return dict(zip(names, run.result.z_scores.tolist(), strict=True))


def assess_csv(
    input_path: Path,
    output_path: Path | None,
    *,
    country: str,
    genotypes: Path | None = None,
    strict: bool = False,
    chunk_rows: int = 100_000,
    on_progress: Callable[[int], None] | None = None,
) -> AssessmentSummary:
    """Assess every row of an assessment file (columns in :mod:`pebs.io.assessment_csv`).

    An empty field is unknown; with ``strict`` it is absent instead: the row gets no risk and no
    level, its ``error`` names the empty fields, and it is counted as rejected (never dropped).
    The explicit spellings of unknown are unknown in both modes. ``missing`` names every input
    scored as unknown (classical factors, density, PRS; not the absent ones). A row with no
    classical factor known gets no level (the model's rule).

    With ``genotypes``, each row's PRS is the z-score of the VCF sample named like its ``id``
    (rows without a sample get an unknown PRS, counted); the file must then have no ``prs_z``
    column. The output appears only when every row has been assessed.
    """
    input_path = Path(input_path)
    refuse_overwrite(input_path, output_path)  # before the model and the VCF are read
    model = personalised.country_model(country.upper())
    scores = genotype_scores(genotypes) if genotypes is not None else None
    summary = AssessmentSummary(country=model.country)
    model_label = f"{model.id} v{model.version} {model.country}"
    n_matched = 0

    def score(chunk: CsvChunk) -> dict[str, np.ndarray]:
        nonlocal n_matched
        table = chunk.text
        inputs = parse_assessment_table(table, input_path, chunk.first_line)
        if scores is not None:
            ids = table["id"].to_pylist()
            prs = np.array([scores.get(i, np.nan) for i in ids], dtype=np.float64)
            n_matched += int(np.count_nonzero(~np.isnan(prs)))
            inputs = replace(inputs, prs_z=prs)
        result = model.assess(inputs)
        absent = _bits(empty_fields(table)) if strict else np.zeros(table.num_rows, np.uint8)
        levels = np.where(absent != 0, np.int8(-1), level_index(result.risk_5y))
        summary.add(result, levels, absent)
        return _columns(result, levels, absent, model_label)

    def check_columns(columns) -> None:
        if scores is not None and OPTIONAL_COLUMNS[0] in columns:
            raise InputFormatError(
                f"{input_path}: has a prs_z column and --genotypes was given; use one source of PRS"
            )

    map_csv(
        input_path, output_path, score, output_columns=OUTPUT_COLUMNS,
        text_columns=REQUIRED_COLUMNS, chunk_rows=chunk_rows, check_columns=check_columns,
        on_progress=on_progress,
    )  # fmt: skip
    if scores is not None:
        summary.genotypes = (
            f"{n_matched:,} of {summary.n_rows:,} rows matched a sample of {genotypes} "
            f"({len(scores):,} samples); unmatched rows have an unknown PRS"
        )
    return summary


def _columns(
    result: personalised.PersonalisedResult, levels: np.ndarray, absent: np.ndarray, label: str
) -> dict[str, np.ndarray | pa.Array]:
    """The output columns of one chunk (the text ones as labels and codes); ``levels`` as for
    :meth:`AssessmentSummary.add`; rows with ``absent`` (``--strict``) fields get no risk."""
    kept = np.where(absent != 0, np.nan, 1.0)  # NaN where --strict refused the row
    return {
        "risk_5y": result.risk_5y * kept,
        "risk_5y_pct": result.risk_5y_pct * kept,
        "level": from_codes(levels.astype(np.int32) % (len(LEVELS) + 1), (*LEVELS, "")),
        "rr_classical": result.rr_classical * kept,
        "rr_prs": result.rr_prs * kept,
        "rr_density": result.rr_density * kept,
        "model": from_codes(np.zeros(absent.size, dtype=np.int32), (label,)),
        "missing": from_codes(result.unknown_code & ~absent, _labels()),
        "error": _errors(result.error, absent),
    }


def _errors(error: np.ndarray, absent: np.ndarray) -> pa.DictionaryArray:
    """The ``error`` column: the model's reasons (``error``, flags), after the empty fields
    that ``--strict`` refused (``absent``, bits), each distinct pair described once."""
    keys = error.astype(np.int64) << len(INPUT_COLUMNS) | absent  # (n,)
    distinct = np.flatnonzero(np.bincount(keys))
    codes = np.zeros(int(distinct[-1]) + 1 if distinct.size else 1, dtype=np.int32)
    codes[distinct] = np.arange(distinct.size, dtype=np.int32)
    texts = []
    for key in distinct.tolist():
        reasons = personalised.describe(key >> len(INPUT_COLUMNS))
        empty = key & (1 << len(INPUT_COLUMNS)) - 1
        strict = f"absent (empty with --strict): {_labels()[empty]}" if empty else ""
        texts.append("; ".join(text for text in (strict, reasons) if text))
    return from_codes(codes[keys], texts)
